"""Notifications end to end against real receivers on 127.0.0.1: an HTTP server taking Apprise
``json://`` posts and an aiosmtpd SMTP server. Tickets are changed through the real store and
service; the worker is the real one (in process, or ``sigap notifikasi antar`` as a process
for kill -9). SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from agent.config.load import load_inventory
from agent.wiring import build_notifier, install_outbox, ticket_service
from tests.conftest import unavailable, wait_for
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import DeliveryStatus, Notification
from ticketing.outbox.enqueue import uninstall
from ticketing.outbox.queue import Outbox
from ticketing.outbox.types import ChannelCounts
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

try:
    from tests.integration.notify_receivers import JsonReceiver, SmtpReceiver
except ImportError as exc:  # aiosmtpd missing
    JsonReceiver = SmtpReceiver = None  # type: ignore[assignment,misc]
    IMPORT_ERROR = str(exc)

pytestmark = [
    pytest.mark.integration,
    # apprise's e-mail plugin imports the stdlib imghdr (deprecated in 3.11) when it loads
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parents[2]
ROOT_FAULT = Fault(
    "rtr-dist-praya", FaultKind.DEVICE_DOWN, "Router rtr-dist-praya mati", opd="RSUD Praya"
)

INVENTORY = """\
office: {{name: Dinas Komunikasi dan Informatika, short_name: Diskominfo}}
hosts:
  rtr-dist-praya: {{address: 10.52.10.1, opd: RSUD Praya, role: router, platform: linux}}
people:
  - {{name: Baiq Kasi, role: kasi, apprise: ["{kasi_json}", "{kasi_mail}"]{kasi_quiet}}}
  - {{name: Hj Kabid, role: kabid, apprise: ["{kabid_json}"],
     quiet_hours: {{start: "00:00", end: "23:59"}}}}
  - {{name: Lalu Kadis, role: kadis, apprise: ["{kadis_json}"]}}
  - {{name: Teknisi Satu, role: teknisi, apprise: ["{tek_json}"]}}
  - {{name: PJ RSUD, role: pj_opd, opd: RSUD Praya, apprise: ["{pj_mail}"]}}
sop:
  standing_disposition: {{signer: Lalu Kadis, reference: 800/17/DKI/2026, technician: Teknisi Satu}}
notifications:
  group_window: 1s
  reminder_interval: null
  lease: {lease}
  retry: {{initial: 0.3s, maximum: 1s}}
"""


@pytest.fixture
def receivers() -> Iterator[tuple[JsonReceiver, SmtpReceiver]]:
    if JsonReceiver is None:
        unavailable(f"aiosmtpd is not installed: {IMPORT_ERROR}")
    http, smtp = JsonReceiver().start(), SmtpReceiver().start()
    try:
        yield http, smtp
    finally:
        http.stop()
        smtp.stop()


def write_inventory(
    tmp_path: Path, http: JsonReceiver, smtp: SmtpReceiver, *, kasi_quiet: str = "", lease="30s"
) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        INVENTORY.format(
            kasi_json=http.url("kasi"),
            kasi_mail=smtp.url("kasi@diskominfo.test"),
            kasi_quiet=kasi_quiet,
            kabid_json=http.url("kabid"),
            kadis_json=http.url("kadis"),
            tek_json=http.url("teknisi"),
            pj_mail=smtp.url("pj.rsud@rsud.test"),
            lease=lease,
        )
    )
    return path


@pytest.fixture
def nstore(db_url: str) -> Iterator[TicketStore]:
    with TicketStore(db_url) as s:
        migrate(s)
        yield s
        uninstall(s)


def rows(store: TicketStore) -> list[Notification]:
    with store.transaction(write=False) as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


async def deliver_until(notifier, done: Callable[[], bool], limit: float = 20.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop))
    try:
        async with asyncio.timeout(limit):
            while not done():  # noqa: ASYNC110 - polls the database, nothing to wait on
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task


def all_sent(store: TicketStore) -> Callable[[], bool]:
    return lambda: all(r.status is DeliveryStatus.SENT for r in rows(store)) and bool(rows(store))


async def test_storm_gives_one_grouped_message_per_address(tmp_path, receivers, nstore):
    http, smtp = receivers
    inventory = load_inventory(write_inventory(tmp_path, http, smtp))
    notifier = build_notifier(inventory, nstore, poll=0.2)
    now = datetime.now(UTC)
    nstore.open_fault(ROOT_FAULT, at=now)
    for i in range(100):
        nstore.attach(ROOT_FAULT.key, f"sw-opd-{i:03d}", at=now)
    await deliver_until(notifier, all_sent(nstore))
    await asyncio.sleep(1.5)  # nothing else trickles in after the window

    (post,) = http.to("kasi")
    assert post.title == f"GANGGUAN GJ/{now.year}/0001: rtr-dist-praya (RSUD Praya)"
    assert "Terdampak: 100 perangkat: sw-opd-000" in post.message
    assert "dan 90 lainnya" in post.message
    assert "Ref: sigap-1" in post.message
    mails = sorted(smtp.mails, key=lambda m: m.rcpt_tos[0])
    assert [m.rcpt_tos for m in mails] == [["kasi@diskominfo.test"], ["pj.rsud@rsud.test"]]
    kasi_mail = mails[0]
    assert kasi_mail.subject.startswith("[sigap] Gangguan GJ/")
    assert "Perangkat terdampak di belakangnya (100):" in kasi_mail.body
    assert all(f"  - sw-opd-{i:03d}" in kasi_mail.body for i in range(100))
    assert "Yth. PJ RSUD" in mails[1].body  # the OPD's contact: opened only, no update
    assert http.to("kabid") == http.to("kadis") == []
    stats = Outbox(nstore).stats()
    assert stats == {
        "json": ChannelCounts(sent=1),
        "mailto": ChannelCounts(sent=2),
    }


async def test_receiver_down_then_up_is_delivered_once(tmp_path, receivers, nstore):
    http, smtp = receivers
    inventory = load_inventory(write_inventory(tmp_path, http, smtp))
    notifier = build_notifier(inventory, nstore, poll=0.2)
    http.stop()
    nstore.open_fault(ROOT_FAULT, at=datetime.now(UTC) - timedelta(seconds=5))

    def json_failed_twice() -> bool:
        return any(r.channel == "json" and r.attempts >= 2 for r in rows(nstore))

    await deliver_until(notifier, json_failed_twice)
    (row,) = [r for r in rows(nstore) if r.channel == "json"]
    assert row.status is DeliveryStatus.PENDING
    assert "Connection error" in row.last_error
    assert "127.0.0.1" not in row.last_error  # the address is redacted from the error
    assert http.posts == []

    http.start()  # the gateway is back
    await deliver_until(notifier, all_sent(nstore))
    await asyncio.sleep(1.0)
    assert len(http.to("kasi")) == 1
    assert len(smtp.mails) == 2  # the mails were never held back by the dead HTTP gateway
    (row,) = [r for r in rows(nstore) if r.channel == "json"]
    assert [r["ok"] for r in row.results][-1] is True
    assert row.attempts >= 3


async def test_escalation_reaches_kabid_even_in_quiet_hours(tmp_path, receivers, nstore):
    http, smtp = receivers
    inventory = load_inventory(write_inventory(tmp_path, http, smtp))
    notifier = build_notifier(inventory, nstore, poll=0.2)
    opened = datetime.now(UTC) - timedelta(days=30)
    result = nstore.open_fault(ROOT_FAULT, at=opened)
    clock = [opened]
    service = ticket_service(inventory, nstore, lambda: clock[0])
    service.start(result.ticket.number)
    clock[0] = datetime.now(UTC)
    escalations = service.escalate_due()
    assert {e.role for e in escalations} >= {"kasi", "kabid"}

    def kabid_told() -> bool:
        return bool(http.to("kabid"))

    await deliver_until(notifier, kabid_told)
    await deliver_until(notifier, all_sent(nstore))
    kabid = http.to("kabid")
    assert len(kabid) == 1  # level 2 only; Hj Kabid's all-day quiet hours do not hold it
    assert kabid[0].title == f"ESKALASI {result.ticket.number} ke Kabid Kominfo"
    assert "Ref: sigap-" in kabid[0].message
    assert [p.title.split()[0] for p in http.to("kadis")] == ["ESKALASI"]
    teknisi = http.to("teknisi")
    assert [p.title.split()[0] for p in teknisi] == ["TUGAS"]  # standing disposition assigned
    kasi_titles = [p.title.split()[0] for p in http.to("kasi")]
    assert kasi_titles.count("ESKALASI") == len([e for e in escalations])  # every level


async def test_quiet_hours_hold_the_message_until_they_end(tmp_path, receivers, nstore):
    http, smtp = receivers
    local = datetime.now(UTC).astimezone(load_inventory_tz())
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=1)).strftime("%H:%M")
    quiet = f', quiet_hours: {{start: "{start}", end: "{end}"}}'
    inventory = load_inventory(write_inventory(tmp_path, http, smtp, kasi_quiet=quiet))
    notifier = build_notifier(inventory, nstore, poll=0.2)
    nstore.open_fault(ROOT_FAULT, at=datetime.now(UTC))

    def pj_told() -> bool:
        return any(m.rcpt_tos == ["pj.rsud@rsud.test"] for m in smtp.mails)

    await deliver_until(notifier, pj_told)
    await asyncio.sleep(1.5)
    assert http.to("kasi") == []
    assert [m.rcpt_tos for m in smtp.mails] == [["pj.rsud@rsud.test"]]
    kasi_rows = [r for r in rows(nstore) if r.recipient == "Baiq Kasi"]
    assert {r.status for r in kasi_rows} == {DeliveryStatus.PENDING}
    expected_end = local.replace(
        hour=int(end[:2]), minute=int(end[3:]), second=0, microsecond=0
    ).astimezone(UTC)
    if expected_end < datetime.now(UTC):
        expected_end += timedelta(days=1)
    assert {r.due_at for r in kasi_rows} == {expected_end}


def load_inventory_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Makassar")


# ---------------------------------------------------------------- the standalone worker


def sigap(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "agent", *args],
            cwd=ROOT,
            stdout=out,
            stderr=out,
            start_new_session=True,
            env={**os.environ, "SIGAP_LOG_LEVEL": "INFO"},
        )


@pytest.fixture
def worker_log(request, tmp_path) -> Iterator[Path]:
    log = tmp_path / "worker.log"
    yield log
    if log.exists():
        request.node.add_report_section("call", "worker log", log.read_text()[-20000:])


def test_kill_9_during_delivery_then_restart(tmp_path, receivers, nstore, db_url, worker_log):
    """At-least-once with a dedup ref: only the message in flight at the kill is seen twice,
    with the same text and ref; every other message exactly once; nothing lost."""
    http, smtp = receivers
    # a long lease: the restart must not wait for it (the dead owner's lease is released)
    path = write_inventory(tmp_path, http, smtp, lease="10m")
    inventory = load_inventory(path)
    install_outbox(nstore, inventory)
    at = datetime.now(UTC) - timedelta(minutes=1)
    for i in range(3):
        fault = Fault(f"rtr-{i}", FaultKind.DEVICE_DOWN, f"Router rtr-{i} mati", opd="RSUD Praya")
        nstore.open_fault(fault, at=at)
    json_rows = [r for r in rows(nstore) if r.recipient == "Baiq Kasi" and r.channel == "json"]
    assert len(json_rows) == 3

    http.delay = 30.0  # the first post hangs: kill the worker while it waits for the answer
    first = sigap("notifikasi", "antar", "-i", str(path), "--db", db_url, "--poll", "0.2",
                  log=worker_log)  # fmt: skip
    try:
        assert http.arrived.wait(20), "the worker never posted"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    in_flight = [p.message for p in http.to("kasi")]
    assert len(in_flight) == 1
    http.delay = 0.0

    second = sigap("notifikasi", "antar", "-i", str(path), "--db", db_url, "--poll", "0.2",
                   log=worker_log)  # fmt: skip
    try:
        wait_for("every message sent", lambda: True if all_sent(nstore)() else None, 30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(15)
    assert second.returncode == 0
    time.sleep(0.5)

    refs = [
        line for p in http.to("kasi") for line in p.message.splitlines() if line.startswith("Ref:")
    ]
    expected = {f"Ref: sigap-{r.id}" for r in json_rows}
    assert set(refs) == expected  # nothing lost
    duplicated = {r for r in refs if refs.count(r) > 1}
    assert len(duplicated) <= 1  # only the one in flight at the kill
    assert len(refs) <= len(expected) + 1
    for ref in duplicated:  # a copy is byte-for-byte the same message: dedup by ref is safe
        copies = {p.message for p in http.to("kasi") if ref in p.message}
        assert len(copies) == 1
    assert len([m for m in smtp.mails if m.rcpt_tos == ["kasi@diskominfo.test"]]) == 3
    by_id = {r.id: r for r in rows(nstore)}
    assert by_id[json_rows[0].id].attempts == 2


def test_cli_uji_and_antrian(tmp_path, receivers, nstore, db_url):
    http, smtp = receivers
    path = write_inventory(tmp_path, http, smtp)
    base = [sys.executable, "-m", "agent", "notifikasi"]
    env = {**os.environ, "COLUMNS": "200"}
    uji = subprocess.run(
        [*base, "uji", "--kepada", "kasi", "-i", str(path)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert uji.returncode == 0, uji.stderr
    assert uji.stdout.count("terkirim") == 2
    assert "Baiq Kasi" in uji.stdout
    (post,) = http.to("kasi")
    assert post.title == "Uji notifikasi sigap"
    assert "Halo Baiq Kasi" in post.message
    assert [m.subject for m in smtp.mails] == ["[sigap] Uji notifikasi"]

    http.stop()
    failed = subprocess.run(
        [*base, "uji", "--kepada", "Hj Kabid", "-i", str(path)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert failed.returncode == 1
    assert "gagal" in failed.stdout
    assert "Connection error" in failed.stdout

    install = load_inventory(path)
    install_outbox(nstore, install)
    nstore.open_fault(ROOT_FAULT, at=datetime.now(UTC))
    antrian = subprocess.run(
        [*base, "antrian", "-i", str(path), "--db", db_url],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert antrian.returncode == 0, antrian.stderr
    assert "sigap-1" in antrian.stdout
    assert "pending" in antrian.stdout
    assert "json: 0 terkirim, 1 menunggu, 0 gagal" in antrian.stdout
    assert "mailto: 0 terkirim, 2 menunggu, 0 gagal" in antrian.stdout
