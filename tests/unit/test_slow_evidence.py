"""Evidence for "internet lambat" complaints (issue 19): matching, verdicts, every entry path.

The verdicts are judged on real rollups and outages in SQLite and PostgreSQL (the shared
``store`` fixture), through the TicketService the CLI, the board and intake use.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from agent import cli
from agent.config.load import load_inventory
from agent.history.evidence import SlowEvidence, says_slow
from agent.wiring import ticket_service
from tests.hostile_text import CORPUS
from ticketing.faults import Fault, FaultKind
from ticketing.intake import Inbound, IntakeLedger
from ticketing.migrate import migrate
from ticketing.rollups import FINE, Rollup, write
from ticketing.states import EventKind
from ticketing.store import TicketStore
from ticketing.workflow import Source

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
INVENTORY = """
office: {name: Diskominfo Lombok Tengah}
defaults: {role: router, platform: mikrotik_routeros}
hosts:
  core-r1: {address: 10.0.0.1, opd: Diskominfo}
  rsud-r1:
    address: 10.0.1.1
    opd: RSUD Praya
    parent: core-r1
    interfaces: {ether1: {uplink: true, bandwidth: 20M}}
  rsud-sw1: {address: 10.0.1.2, opd: RSUD Praya, parent: rsud-r1, role: switch}
people:
  - {name: Baiq Kasi, role: kasi, opd: Diskominfo}
"""

SLOW_TEXTS = [
    "Internet lambat sekali sejak pagi",
    "INTERNETNYA LEMOOOOT",
    "koneksi lelet, tolong dicek",
    "wifi di poli lola",
    "the internet is slow",
    "slooow banget",
    "jaringan putus-putus",
    "putus2 terus dari tadi",
    "zoom ngelag terus",
    "video buffering",
    "Lambatnya minta ampun",
    "LAMBAN",
    "internet\u00a0lambat",  # a no-break space from a phone keyboard
    "\uff2c\uff41\uff4d\uff42\uff41\uff54",  # full-width letters
]
OTHER_TEXTS = [
    "Internet poli mati total",
    "tidak bisa login SIMRS",
    "lagi rapat, printer error",  # "lagi" is not "lag"
    "lambang daerah di website salah",
    "kabel putus di ruang server",
    "",
]


@pytest.mark.unit
@pytest.mark.parametrize("text", SLOW_TEXTS)
def test_slow_complaints_are_recognised(text):
    assert says_slow(text)


@pytest.mark.unit
@pytest.mark.parametrize("text", OTHER_TEXTS)
def test_other_complaints_are_not(text):
    assert not says_slow(text)


@pytest.mark.unit
def test_hostile_text_is_judged_without_crash():
    for h in CORPUS:
        assert says_slow(h.text) in {True, False}
    assert not says_slow("a" * 2_000_000)
    assert says_slow("lemot " + "\x00\u202e" * 50_000)
    assert not says_slow("x" * 30_000 + " lambat")  # judged on its start only


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    return load_inventory(path)


def buckets(in_bps, *, hours=24, errors=0.0, device="rsud-r1"):
    start = NOW - timedelta(hours=hours)
    return [
        Rollup(
            device,
            "ether1",
            FINE,
            start + timedelta(minutes=5 * i),
            300.0,
            in_bps,
            in_bps / 10,
            in_bps,
            in_bps / 10,
            None,
            errors,
        )
        for i in range(hours * 12)
    ]


def complain(store, inventory, text="Internet lambat sekali", device=""):
    svc = ticket_service(inventory, store, lambda: NOW)
    ticket = svc.report(source="wa", opd="RSUD Praya", reporter="dr. Ayu", description=text,
                        by="Baiq Kasi", device=device)  # fmt: skip
    return [e for e in store.events(ticket.number) if e.kind is EventKind.NOTE]


def test_a_full_uplink_is_penuh(store, inventory):
    write(store, buckets(19.5e6))
    (note,) = complain(store, inventory)
    assert note.data["verdict"] == "penuh"
    assert "PENUH" in note.detail
    assert "rsud-r1 ether1 (kontrak 20 Mb/s)" in note.detail
    assert "5 menit terakhir masuk 19.5 Mb/s, keluar 1.95 Mb/s (utilisasi 98%)" in note.detail
    assert "p95 masuk 19.5 Mb/s" in note.detail


def test_an_uplink_full_earlier_today_is_penuh_by_its_p95(store, inventory):
    rows = buckets(19e6)
    rows[-12:] = buckets(2e6, hours=1)  # quiet in the last hour
    write(store, rows)
    (note,) = complain(store, inventory)
    assert note.data["verdict"] == "penuh"
    assert "(utilisasi 10%)" in note.detail  # now
    assert "(utilisasi 95%)" in note.detail  # the day's p95


def test_an_outage_in_the_last_day_is_ada_loss(store, inventory):
    write(store, buckets(4e6))
    store.open_fault(Fault("rsud-r1", FaultKind.DEVICE_DOWN, "mati"), at=NOW - timedelta(hours=3))
    store.clear_fault("rsud-r1/device_down", at=NOW - timedelta(hours=2, minutes=48))
    (note,) = complain(store, inventory)
    assert note.data["verdict"] == "ada loss"
    assert "Padam 24 jam terakhir (rsud-r1): 1 kali (12 menit)" in note.detail


def test_interface_errors_are_ada_loss(store, inventory):
    write(store, buckets(4e6, errors=1.0))  # 288 errors in the day
    (note,) = complain(store, inventory)
    assert note.data["verdict"] == "ada loss"
    assert "288 error/discard" in note.detail


def test_a_quiet_clean_uplink_is_normal(store, inventory):
    write(store, buckets(4e6))
    (note,) = complain(store, inventory, text="lemot bgt")
    assert note.data["verdict"] == "normal"
    assert "NORMAL" in note.detail
    assert "Tiket aktif di uplink: -." in note.detail


def test_no_rollups_say_so(store, inventory):
    (note,) = complain(store, inventory)
    assert note.data["verdict"] == "tidak ada data"
    assert "tidak ada data trafik 24 jam terakhir" in note.detail


def test_a_named_device_is_judged_instead_of_the_uplink(store, inventory):
    write(store, buckets(19.5e6))
    store.open_fault(Fault("rsud-sw1", FaultKind.DEVICE_DOWN, "mati"), at=NOW - timedelta(hours=1))
    store.clear_fault("rsud-sw1/device_down", at=NOW - timedelta(minutes=55))
    (note,) = complain(store, inventory, device="rsud-sw1")
    assert note.data["verdict"] == "penuh"  # the switch keeps no traffic; its uplink is full
    assert "Padam 24 jam terakhir (rsud-sw1, rsud-r1): 1 kali (5 menit)" in note.detail


def test_other_complaints_get_no_note(store, inventory):
    write(store, buckets(19.5e6))
    assert complain(store, inventory, text="Internet poli mati") == []


def test_a_failing_evidence_loses_no_complaint(store, inventory, monkeypatch):
    def broken(self, opd, device):
        raise RuntimeError("rollups unreadable")

    monkeypatch.setattr(SlowEvidence, "gather", broken)
    assert complain(store, inventory) == []
    assert len(store.list()) == 1


@pytest.mark.unit
def test_tiket_lapor_prints_the_evidence(tmp_path, monkeypatch, capsys, inventory):
    url = f"sqlite:///{tmp_path / 'sigap.db'}"
    monkeypatch.setenv("SIGAP_INVENTORY", str(tmp_path / "inventory.yaml"))
    monkeypatch.setenv("SIGAP_DB_URL", url)
    monkeypatch.setattr(cli.console, "width", 200)
    now = datetime.now(UTC)
    store = TicketStore(url)
    try:
        migrate(store)
        rows = buckets(19.5e6)
        shift = now - NOW
        write(store, [replace(r, start=r.start + shift) for r in rows])
    finally:
        store.close()
    argv = [
        "sigap",
        "tiket",
        "lapor",
        "--sumber",
        "wa",
        "--opd",
        "RSUD Praya",
        "--pelapor",
        "dr. Ayu",
        "--uraian",
        "internet lemot",
        "--oleh",
        "Baiq Kasi",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        cli.main()
    out = capsys.readouterr().out
    assert info.value.code == 0, out
    assert "Bukti otomatis untuk keluhan internet lambat (uplink RSUD Praya): PENUH." in out


def test_a_whatsapp_complaint_through_intake_gets_the_evidence(store, inventory):
    write(store, buckets(4e6))
    ledger = IntakeLedger(store, ticket_service(inventory, store, lambda: NOW), now=lambda: NOW)
    message = Inbound(
        channel=Source.WA, message_id="wamid.1", sender="+6281234", reporter="dr. Ayu",
        opd="RSUD Praya", subject="", body="Pak, internet di poli lemot sekali", received_at=NOW,
    )  # fmt: skip
    number = ledger.accept(message).number
    notes = [e for e in store.events(number) if e.kind is EventKind.NOTE and e.data]
    assert [n.data.get("verdict") for n in notes if n.data.get("bukti")] == ["normal"]
