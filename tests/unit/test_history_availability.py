"""Availability from the inventory's side: uplinks, maintenance windows as intervals, the
period given on the command line (hostile dates) and ``sigap laporan ketersediaan``."""

from __future__ import annotations

import csv
import sys
import textwrap
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent import cli
from agent.config.load import load_inventory
from agent.config.model import MaintenanceWindow
from agent.errors import ConfigError
from agent.history.availability import parse_day, period, uplinks, window_spans
from tests.hostile_text import CORPUS, unsafe
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 1, tzinfo=WITA)  # a Sunday
END = START + timedelta(days=15)


def inside(spans, point: datetime) -> bool:
    return any(s <= point < e for s, e in spans)


# -- uplinks ------------------------------------------------------------------------------------


def test_the_uplink_of_an_opd_is_its_device_under_another_opd():
    found = uplinks(load_inventory(ROOT / "inventory.yaml"))
    assert found["Sekretariat Daerah"] == ("rtr-setda",)  # sw-setda hangs under rtr-setda
    assert found["Dinas Komunikasi dan Informatika"] == ("rtr-core-diskominfo",)  # no parent


# -- maintenance windows --------------------------------------------------------------------------

times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@given(st.frozensets(st.integers(0, 6)), times, times, st.integers(0, 15 * 24 * 4))
def test_weekly_window_spans_agree_with_the_detector_rule(days, begin, finish, quarter):
    window = MaintenanceWindow("w", days=days, start_time=begin, end_time=finish)
    spans = window_spans(window, START, END, WITA)
    point = START + quarter * timedelta(minutes=15) + timedelta(minutes=7)
    if point < END:
        assert inside(spans, point) == window.active(point, WITA)
    for at in (START + timedelta(hours=h) for h in range(0, 15 * 24, 5)):
        assert inside(spans, at) == window.active(at, WITA)


def test_window_over_midnight_reaches_into_the_period_from_the_day_before():
    # Saturday 22:00 - 02:00: the period starting Sunday 00:00 begins inside it
    window = MaintenanceWindow("w", days=frozenset({5}), start_time=time(22), end_time=time(2))
    spans = window_spans(window, START, START + timedelta(days=1), WITA)
    assert spans == ((START, START + timedelta(hours=2)),)


def test_one_off_window_is_clipped_to_the_period():
    window = MaintenanceWindow(
        "w", start=START - timedelta(hours=1), end=START + timedelta(hours=1)
    )
    assert window_spans(window, START, END, WITA) == ((START, START + timedelta(hours=1)),)


# -- dates from the command line ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "2026-13-01", "2026-02-30", "26-11-01", "2026/11/01", "2026-11-01T00:00",
     "\uff12\uff10\uff12\uff16-\uff11\uff11-\uff10\uff11", "2026-11-01\x00", "1999-12-31",
     "x" * 100_000, "-2026-11-01"],
)  # fmt: skip
def test_bad_dates_are_refused_in_indonesian(text):
    with pytest.raises(ValueError, match="--dari"):
        parse_day(text, "--dari")


@pytest.mark.parametrize("hostile", CORPUS, ids=lambda h: h.marker[:12])
def test_hostile_text_is_refused_without_acting_characters(hostile):
    with pytest.raises(ValueError, match="tidak terbaca") as info:
        parse_day(hostile.text, "--dari")
    assert unsafe(str(info.value)) == []
    assert len(str(info.value)) < 200


def test_period_takes_whole_local_days_and_refuses_reversed_or_endless_ones():
    start, end = period("2026-11-01", "2026-11-30", WITA)
    assert start.astimezone(UTC) == datetime(2026, 10, 31, 16, tzinfo=UTC)  # WITA midnight
    assert end - start == timedelta(days=30)
    with pytest.raises(ValueError, match="sebelum"):
        period("2026-11-30", "2026-11-01", WITA)
    with pytest.raises(ValueError, match="terlalu"):
        period("2000-01-01", "2099-12-31", WITA)
    with pytest.raises(ValueError, match="terlalu"):
        period("9990-01-01", "9999-12-31", WITA)
    assert parse_day(" 2026-11-01 ", "--dari") == date(2026, 11, 1)


# -- the command ------------------------------------------------------------------------------

INVENTORY = """
office:
  name: Diskominfo Lombok Tengah
defaults:
  role: router
  platform: mikrotik_routeros
hosts:
  core-r1: {address: 10.0.0.1, opd: Diskominfo}
  rsud-r1:
    address: 10.0.1.1
    opd: RSUD Praya
    parent: core-r1
    interfaces: {ether1: {uplink: true, bandwidth: 20M}}
  rsud-sw: {address: 10.0.1.2, opd: RSUD Praya, parent: rsud-r1}
"""


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=WITA)


@pytest.fixture
def sigap(tmp_path, monkeypatch, capsys):
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'sigap.db'}"
    monkeypatch.setenv("SIGAP_INVENTORY", str(inventory))
    monkeypatch.setenv("SIGAP_DB_URL", url)
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.chdir(tmp_path)
    with TicketStore(url, hold_down=timedelta(minutes=5)) as store:
        migrate(store)
        core = Fault("core-r1", FaultKind.DEVICE_DOWN, "core-r1 mati", "Diskominfo")
        rsud = Fault("rsud-r1", FaultKind.DEVICE_DOWN, "rsud-r1 mati", "RSUD Praya")
        store.open_fault(rsud, at=local(3, 9))  # 42 minutes, RSUD's own (the ISP link's) fault
        store.clear_fault(rsud.key, at=local(3, 9, 42))
        store.open_fault(core, at=local(30, 23))  # over the month's end: 60 of 120 minutes
        store.attach(core.key, "rsud-r1", at=local(30, 23, 1))
        store.clear_fault(core.key, at=local(30, 23) + timedelta(hours=2))
        store.detach("rsud-r1", at=local(30, 23) + timedelta(hours=2))
        store.resolve_due(now=local(30, 23) + timedelta(hours=3))

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sigap", *args])
        with pytest.raises(SystemExit) as info:
            cli.main()
        out, err = capsys.readouterr()
        return info.value.code, out, " ".join(err.split())

    return run


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_ketersediaan_prints_opd_link_and_device_minutes(sigap, tmp_path):
    code, out, err = sigap("laporan", "ketersediaan", "--dari", "2026-11-01", "--sampai",
                           "2026-11-30", "--opd", "RSUD Praya", "--csv", "k.csv", "--xlsx",
                           "k.xlsx")  # fmt: skip
    assert code == 0, err
    assert "Ketersediaan per OPD" in out
    assert "Link ISP" in out
    rows = {r["perangkat"]: r for r in read_csv(tmp_path / "k-perangkat.csv")}
    assert float(rows["rsud-r1"]["gangguan_menit"]) == 42 + 59  # own + behind core until 24:00
    assert rows["rsud-r1"]["jumlah_gangguan"] == "2"
    assert float(rows["rsud-sw"]["gangguan_menit"]) == 0
    (link,) = read_csv(tmp_path / "k-link.csv")
    assert float(link["gangguan_menit"]) == 42  # the core's fault is not the ISP's
    book = openpyxl.load_workbook(tmp_path / "k.xlsx")
    assert book.sheetnames == ["OPD", "Link ISP", "Perangkat"]
    assert book["OPD"]["F3"].value == 101  # minutes as a number, title in row 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--dari", "2026-11-31", "--sampai", "2026-12-01"), "tidak terbaca"),
        (("--dari", "2026-12-01", "--sampai", "2026-11-01"), "sebelum"),
        (
            ("--dari", "2026-11-01", "--sampai", "2026-11-30", "--opd", "RSUD"),
            "mungkin: RSUD Praya",
        ),
        (("--dari", "2026-11-01", "--sampai", "2026-11-30", "--target", "nan"), "bukan persen"),
        (("--dari", "2026-11-01", "--sampai", "2026-11-30", "--target", "101"), "bukan persen"),
    ],
)
def test_ketersediaan_refuses_bad_options_with_exit_2(sigap, args, message):
    code, _out, err = sigap("laporan", "ketersediaan", *args)
    assert code == 2
    assert message in err


def test_history_settings_from_the_inventory(tmp_path):
    path = tmp_path / "h.yaml"
    base = "office: {name: T}\ndefaults: {platform: mikrotik_routeros, role: router}\n"
    hosts = "hosts:\n  a: {address: 10.52.0.1, opd: X}\n"
    path.write_text(base + "history: {fine: 10d, hourly: 90d, target: 99.9}\n" + hosts)
    history = load_inventory(path).history
    assert (history.fine, history.hourly, history.target) == (
        timedelta(days=10), timedelta(days=90), 99.9
    )  # fmt: skip
    for bad in ("{target: 150}", "{target: .nan}", "{fine: 0s}", "{hourly: sebentar}"):
        path.write_text(base + f"history: {bad}\n" + hosts)
        with pytest.raises(ConfigError) as info:
            load_inventory(path)
        assert any("history" in str(p.path) for p in info.value.problems), bad


def test_ketersediaan_takes_the_inventory_target(sigap, tmp_path):
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(inventory.read_text() + "history: {target: 99.99}\n")
    code, out, err = sigap("laporan", "ketersediaan", "--dari", "2026-11-01", "--sampai",
                           "2026-11-30")  # fmt: skip
    assert code == 0, err
    assert "di bawah target 99.99%" in out
    assert "--- target 99.99% ---" in out  # RSUD's 101 minutes put it under the line


def test_trafik_shows_a_port_day_by_day_from_the_rollups(sigap, tmp_path):
    from ticketing.rollups import Rollups, Sample, write

    start = local(3, 8).astimezone(UTC)
    samples = [
        Sample("rsud-r1", "ether1", start + timedelta(seconds=30 * i),
               start + timedelta(seconds=30 * (i + 1)), 8e6, 2e6, 0.4, 0.0)
        for i in range(240)  # two hours at 8 Mbit/s in, 2 out
    ]  # fmt: skip
    roll = Rollups()
    closed = roll.add(samples) + roll.close_due(start + timedelta(days=1))
    with TicketStore(f"sqlite:///{tmp_path / 'sigap.db'}") as store:
        write(store, closed)
    code, out, err = sigap("laporan", "trafik", "--perangkat", "rsud-r1", "--dari", "2026-11-03",
                           "--sampai", "2026-11-04", "--csv", "t.csv")  # fmt: skip
    assert code == 0, err
    assert "rsud-r1 ether1, bandwidth 20 Mbps" in out
    (row,) = read_csv(tmp_path / "t.csv")
    assert row["Tanggal"] == "2026-11-03"  # WITA day
    assert (row["Rata-rata masuk (Mbps)"], row["p95 keluar (Mbps)"]) == ("8.00", "2.00")
    assert row["Utilisasi puncak"] == "40%"
    assert row["Data"] == "8%"  # two hours of the day
    code, _out, err = sigap("laporan", "trafik", "--perangkat", "rsud-r2")
    assert code == 2
    assert "mungkin: rsud-r1" in err
