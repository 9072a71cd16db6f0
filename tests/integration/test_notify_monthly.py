"""`sigap notifikasi laporan-bulanan` end to end: the command (a process) queues the month's
report once per month and address; the real notifier delivers it to a local json:// receiver
(Kabid: the summary) and aiosmtpd (Kadis: the whole report). SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from agent.config.load import load_inventory
from agent.wiring import build_notifier
from tests.conftest import unavailable
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import DeliveryStatus, Notification
from ticketing.outbox.enqueue import uninstall
from ticketing.store import TicketStore

try:
    from tests.integration.notify_receivers import JsonReceiver, SmtpReceiver
except ImportError as exc:  # aiosmtpd missing
    JsonReceiver = SmtpReceiver = None  # type: ignore[assignment,misc]
    IMPORT_ERROR = str(exc)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
]

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = """\
office: {{name: Dinas Komunikasi dan Informatika, short_name: Diskominfo}}
hosts:
  rtr-rsud: {{address: 10.52.10.1, opd: RSUD Praya, role: router, platform: linux}}
people:
  - {{name: Baiq Kasi, role: kasi, apprise: ["{kasi}"]}}
  - {{name: Hj Kabid, role: kabid, apprise_env: SIGAP_T_KABID}}
  - {{name: Lalu Kadis, role: kadis, apprise: ["{kadis}"]}}
notifications: {{reminder_interval: null, retry: {{initial: 0.3s, maximum: 1s}}}}
"""


def sigap(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_monthly_report_reaches_kabid_and_kadis_once(tmp_path, db_url, monkeypatch):
    if JsonReceiver is None:
        unavailable(f"aiosmtpd is not installed: {IMPORT_ERROR}")
    http, smtp = JsonReceiver().start(), SmtpReceiver().start()
    try:
        await _run(tmp_path, db_url, monkeypatch, http, smtp)
    finally:
        http.stop()
        smtp.stop()


async def _run(tmp_path, db_url, monkeypatch, http, smtp):
    monkeypatch.setenv("SIGAP_T_KABID", http.url("kabid"))
    path = tmp_path / "inventory.yaml"
    path.write_text(
        INVENTORY.format(kasi=http.url("kasi"), kadis=smtp.url("kadis@diskominfo.test"))
    )
    inventory = load_inventory(path)
    now = datetime.now(UTC)
    label = f"{now.astimezone(ZoneInfo('Asia/Makassar')):%Y-%m}"
    with TicketStore(db_url) as store:
        migrate(store)
        fault = Fault("rtr-rsud", FaultKind.DEVICE_DOWN, "Router rtr-rsud mati", opd="RSUD Praya")
        store.open_fault(fault, at=now)
        env = {**os.environ, "SIGAP_T_KABID": http.url("kabid")}
        args = ("notifikasi", "laporan-bulanan", "--bulan", label, "-i", str(path), "--db", db_url)
        first = sigap(*args, env=env)
        assert first.returncode == 0, first.stderr
        assert f"Laporan bulanan {label}: 2 pesan diantrikan, 0 sudah diantrikan" in first.stdout
        assert "Hj Kabid" in first.stdout
        assert "Lalu Kadis" in first.stdout
        assert "Baiq Kasi" not in first.stdout
        assert "- Tiket dibuka 1, selesai 0" in first.stdout
        again = sigap(*args, env=env)
        assert again.returncode == 0, again.stderr
        assert "0 pesan diantrikan, 2 sudah diantrikan sebelumnya" in again.stdout

        notifier = build_notifier(inventory, store, poll=0.2)
        try:
            await _deliver(notifier, lambda: len(http.to("kabid")) + len(smtp.mails) >= 2)
            await asyncio.sleep(0.5)
        finally:
            uninstall(store)
        with store.transaction(write=False) as s:
            rows = list(
                s.scalars(select(Notification).where(Notification.kind == "laporan_bulanan"))
            )
    assert sorted((r.recipient, r.status) for r in rows) == [
        ("Hj Kabid", DeliveryStatus.SENT),
        ("Lalu Kadis", DeliveryStatus.SENT),
    ]
    assert all(r.ticket_id is None for r in rows)
    (post,) = http.to("kabid")
    assert post.title.startswith("Laporan bulanan jaringan ")
    assert "Tiket dibuka 1, selesai 0" in post.message
    assert "OPD terbanyak: RSUD Praya (1)" in post.message
    assert "Ref: sigap-" in post.message
    assert http.to("kasi") == []  # the Kasi is not on the report's route
    (mail,) = smtp.mails
    assert mail.rcpt_tos == ["kadis@diskominfo.test"]
    assert mail.subject.startswith("[sigap] Laporan bulanan gangguan jaringan ")
    assert "# Laporan Bulanan Gangguan Jaringan" in mail.body
    assert "## Ringkasan" in mail.body
    assert "RSUD Praya" in mail.body


async def _deliver(notifier, done, limit: float = 20.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop))
    try:
        async with asyncio.timeout(limit):
            while not done():  # noqa: ASYNC110 - polls the receivers
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
