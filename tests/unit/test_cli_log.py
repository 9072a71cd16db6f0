"""`sigap log DEVICE` and the device messages on `sigap tiket show` (issue 20), via cli.main."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from agent import cli
from ticketing import device_log
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

INVENTORY = """
office:
  name: Diskominfo Lombok Tengah
defaults:
  role: router
  platform: mikrotik_routeros
hosts:
  core-r1: {address: 10.0.0.1, opd: Diskominfo}
events:
  context_before: 5m
"""


@pytest.fixture
def sigap(tmp_path, monkeypatch, capsys):
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'sigap.db'}"
    monkeypatch.setenv("SIGAP_INVENTORY", str(inventory))
    monkeypatch.setenv("SIGAP_DB_URL", url)
    monkeypatch.setattr(cli.console, "width", 200)
    store = TicketStore(url)
    migrate(store)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sigap", *args])
        with pytest.raises(SystemExit) as info:
            cli.main()
        out, err = capsys.readouterr()
        return info.value.code, out, " ".join(err.split())

    yield run, store
    store.close()


def line(at: datetime, text: str) -> device_log.LogLine:
    return device_log.LogLine("core-r1", at, "syslog", "10.0.0.1", text, 3, "system,error")


def test_log_filters_by_time_and_text(sigap) -> None:
    run, store = sigap
    now = datetime.now(UTC)
    device_log.write(
        store,
        [
            line(now - timedelta(hours=3), "lama: login failure for user admin"),
            line(now - timedelta(minutes=10), "login failure for user admin from 103.1.2.3"),
            line(now - timedelta(minutes=5), "ether1 link down"),
        ],
    )
    code, out, err = run("log", "core-r1", "--sejak", "1h", "--cari", "LOGIN")
    assert code == 0, err
    assert "103.1.2.3" in out
    assert "lama:" not in out
    assert "link down" not in out
    code, out, _ = run("log", "core-r1", "--sejak", "4h", "--json")
    assert [m["text"][:4] for m in json.loads(out)] == ["lama", "logi", "ethe"]
    code, _out, err = run("log", "core-r1", "--sejak", "kemarin")
    assert code == 2
    assert "30m" in err
    code, _out, err = run("log", "tidak-ada")
    assert code == 1
    assert "tidak ada di inventory" in err


def test_tiket_show_lists_what_the_device_said_around_the_fault(sigap) -> None:
    run, store = sigap
    now = datetime.now(UTC)
    fault = Fault("core-r1", FaultKind.LOGIN_FAILURES, "20 kali login gagal", "Diskominfo",
                  "10.0.0.1", "103.1.2.3")  # fmt: skip
    opened = store.open_fault(fault, at=now - timedelta(minutes=2))
    device_log.write(
        store,
        [
            line(now - timedelta(minutes=30), "jauh sebelum gangguan"),
            line(now - timedelta(minutes=4), "login failure for user admin from 103.1.2.3"),
        ],
    )
    number = opened.ticket.number
    code, out, err = run("tiket", "show", number)
    assert code == 0, err
    assert "Pesan perangkat core-r1" in out
    assert "103.1.2.3" in out
    assert "jauh sebelum" not in out  # context starts events.context_before (5m) earlier
    code, out, _ = run("tiket", "show", number, "--json")
    said = json.loads(out)["device_messages"]
    assert [m["text"] for m in said] == ["login failure for user admin from 103.1.2.3"]
