"""E-mail intake against a real dovecot on 127.0.0.1: ticket within 5 s, reply joins, loops
make no ticket, kill -9 between fetch and commit gives exactly one ticket, correlation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime

import pytest

from agent.config.load import load_inventory
from agent.intake.runner import watcher
from agent.intake.stats import IntakeStats
from agent.wiring import build_intake_handler
from tests.conftest import wait_for
from tests.integration import dovecot_server
from ticketing.faults import Fault, FaultKind
from ticketing.intake import IntakeLedger, ack_message_id
from ticketing.migrate import migrate
from ticketing.store import TicketStore

pytestmark = pytest.mark.integration

INVENTORY = """\
office: {{name: Dinas Komunikasi dan Informatika, timezone: Asia/Makassar}}
defaults: {{platform: mikrotik_routeros, role: router}}
hosts:
  rtr-kominfo: {{address: 10.52.30.9, opd: Dinas Komunikasi dan Informatika}}
  rtr-dinkes: {{address: 10.52.30.1, opd: Dinas Kesehatan}}
  rtr-bpkad: {{address: 10.52.30.2, opd: BPKAD}}
people:
  - {{name: Kasi Jaringan, role: kasi, opd: Dinas Komunikasi dan Informatika}}
  - {{name: Budi Dinkes, role: pj_opd, opd: Dinas Kesehatan, email: budi@dinkes.test}}
  - {{name: Sari BPKAD, role: pj_opd, opd: BPKAD, email: sari@bpkad.test}}
intake:
  imap: {{host: 127.0.0.1, port: {port}, tls: none, user: {user},
         password_env: SIGAP_TEST_IMAP, poll_interval: 1s, idle_timeout: 30s}}
"""


def mail(mid: str, sender: str, subject: str, body: str, **headers: str) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return (
        f"From: {sender}\r\nTo: pengaduan@diskominfo.test\r\nSubject: {subject}\r\n"
        f"Message-ID: {mid}\r\nDate: Thu, 26 Nov 2026 09:00:00 +0800\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


@pytest.fixture
def setup(tmp_path, dovecot, db_url, monkeypatch):
    monkeypatch.setenv("SIGAP_TEST_IMAP", dovecot_server.PASSWORD)
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.format(port=dovecot.port, user=dovecot_server.USER))
    inventory = load_inventory(path)
    store = TicketStore(db_url, tz="Asia/Makassar")
    migrate(store)
    yield inventory, store, path
    store.close()


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def running(setup):
    inventory, store, _path = setup
    handler = build_intake_handler(inventory, store, _now)
    handler.stats = IntakeStats()
    stop = threading.Event()
    w = watcher(inventory.intake, handler, stop)
    thread = threading.Thread(target=w.run_blocking, name="imap-test", daemon=True)
    thread.start()
    yield inventory, store, handler, w
    stop.set()
    thread.join(timeout=10)


def _tickets(store):
    return store.list(limit=100)


def test_mail_from_known_opd_becomes_ticket_within_5s_and_reply_joins(running, dovecot):
    _inventory, store, handler, w = running
    wait_for("the watcher to log in", lambda: w.idle_used, 10, 0.05)
    delivered = datetime.now(UTC)
    dovecot.deliver(
        mail("<c1@dinkes.test>", "Budi <budi@dinkes.test>", "Internet mati", "Sejak pagi mati.")
    )
    ticket = wait_for("a ticket", lambda: next(iter(_tickets(store)), None), 5, 0.05)
    took = (datetime.now(UTC) - delivered).total_seconds()
    assert took < 5
    assert w.idle_used is True  # dovecot offers IDLE
    assert ticket.opd == "Dinas Kesehatan"
    assert ticket.source == "email"
    steps = _service_steps(running, ticket.number)
    assert steps[0].started_at is not None
    assert steps[0].completed_at is not None
    assert abs((steps[0].started_at - delivered).total_seconds()) < 5
    assert steps[0].completed_by == "sistem"
    # the reply to sigap's acknowledgement joins the same ticket
    dovecot.deliver(
        mail(
            "<c2@dinkes.test>",
            "budi@dinkes.test",
            f"Re: [sigap] Pengaduan {ticket.number} diterima",
            "Masih mati.",
            In_Reply_To=ack_message_id(store, ticket.number, domain="sigap.local", now=_now),
        )
    )
    wait_for("the reply", lambda: handler.stats.get("email", "joined") or None, 5, 0.05)
    assert len(_tickets(store)) == 1
    notes = [e for e in store.events(ticket.number) if e.kind == "note"]
    assert any("Masih mati." in e.detail for e in notes)


def _service_steps(running, number):
    from agent.wiring import ticket_service

    inventory, store, _h, _w = running
    return ticket_service(inventory, store, _now).steps(number)


def test_auto_reply_bounce_and_unknown_sender_make_no_ticket(running, dovecot):
    _inventory, store, handler, w = running
    wait_for("the watcher to log in", lambda: w.idle_used, 10, 0.05)
    dovecot.deliver(
        mail(
            "<a1@dinkes.test>",
            "budi@dinkes.test",
            "Cuti",
            "Saya cuti.",
            Auto_Submitted="auto-replied",
        )
    )
    dovecot.deliver(mail("<a2@x.test>", "MAILER-DAEMON@dinkes.test", "Undelivered", "bounce"))
    dovecot.deliver(mail("<a3@x.test>", "budi@dinkes.test", "Digest", "x", Precedence="bulk"))
    dovecot.deliver(mail("<a4@x.test>", "orang@luar.test", "Halo", "spam"))
    wait_for(
        "four rejections", lambda: sum(handler.stats.snapshot().values()) >= 4 or None, 10, 0.05
    )
    assert handler.stats.get("email", "auto_reply") == 1
    assert handler.stats.get("email", "bounce") == 1
    assert handler.stats.get("email", "bulk") == 1
    assert handler.stats.get("email", "unknown_sender") == 1
    assert _tickets(store) == []


def test_complaint_about_device_already_down_is_linked(running, dovecot):
    _inventory, store, handler, w = running
    fault = Fault(
        "rtr-bpkad",
        FaultKind.DEVICE_DOWN,
        "Router rtr-bpkad mati",
        opd="BPKAD",
        address="10.52.30.2",
    )
    monitor = store.open_fault(fault, at=_now()).ticket
    wait_for("the watcher to log in", lambda: w.idle_used, 10, 0.05)
    dovecot.deliver(mail("<l1@bpkad.test>", "sari@bpkad.test", "Internet BPKAD mati", "Tolong."))
    wait_for("the complaint", lambda: handler.stats.get("email", "created") or None, 5, 0.05)
    complaint = next(t for t in _tickets(store) if t.source == "email")
    ledger = handler.ledger
    assert ledger.links(complaint.number) == [monitor.number]
    assert ledger.links(monitor.number) == [complaint.number]
    assert any("Sudah terdeteksi oleh sistem" in e.detail for e in store.events(complaint.number))
    assert any(complaint.number in e.detail for e in store.events(monitor.number))


CHILD = """
import sys, threading, time
from datetime import UTC, datetime
from pathlib import Path
from agent.config.load import load_inventory
from agent.intake.runner import watcher
from agent.wiring import build_intake_handler
from ticketing.store import TicketStore

inventory = load_inventory(sys.argv[1])
store = TicketStore(sys.argv[2], tz="Asia/Makassar")
handler = build_intake_handler(inventory, store, lambda: datetime.now(UTC))
marker = Path(sys.argv[3])
if marker.name == "pause":
    accept = handler.ledger.accept
    def slow(msg):
        marker.write_text(msg.message_id)  # fetched and parsed; the commit has not happened
        time.sleep(60)
        return accept(msg)
    handler.ledger.accept = slow
stop = threading.Event()
watcher(inventory.intake, handler, stop).run_blocking()
"""


def test_kill_9_between_fetch_and_commit_gives_exactly_one_ticket(setup, dovecot, db_url, tmp_path):
    _inventory, store, path = setup
    env = {**os.environ, "SIGAP_TEST_IMAP": dovecot_server.PASSWORD}
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    pause = tmp_path / "pause"
    dovecot.deliver(mail("<k1@dinkes.test>", "budi@dinkes.test", "Mati", "Internet mati."))
    child = subprocess.Popen([sys.executable, str(script), str(path), db_url, str(pause)], env=env)
    try:
        wait_for("the child to fetch the mail", lambda: pause.exists() or None, 15, 0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        assert _tickets(store) == []
        again = subprocess.Popen(
            [sys.executable, str(script), str(path), db_url, str(tmp_path / "go")], env=env
        )
        try:
            wait_for("the ticket after restart", lambda: _tickets(store) or None, 15, 0.1)
            time.sleep(1.5)  # a second round (polling or IDLE) must not add another
        finally:
            again.terminate()
            again.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    tickets = _tickets(store)
    assert len(tickets) == 1
    ledger_rows = IntakeLedger(store, None, now=_now).messages(tickets[0].number)  # type: ignore[arg-type]
    assert [r[1] for r in ledger_rows] == ["<k1@dinkes.test>"]
