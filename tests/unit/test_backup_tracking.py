"""Configuration changes on tickets (issue 22), SQLite and PostgreSQL: the change with its
diff on the device's open ticket; without one a low ``config_changed`` ticket that later
changes join; a change seen after a remediation run is attributed to it; the third failed
night opens a ``backup_failed`` ticket."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from agent.backup.service import BackupResult
from agent.backup.tracking import MAX_DIFF_CHARS, TicketSink, changed_lines
from agent.config.model import Device, PingSettings
from ticketing.config_changes import CHANGED
from ticketing.faults import Fault, FaultKind
from ticketing.states import EventKind

if TYPE_CHECKING:
    from collections.abc import Callable

    from ticketing.store import TicketStore

T0 = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
DIFF = (
    "--- a/ros.cfg\n+++ b/ros.cfg\n@@ -3,1 +3,1 @@\n"
    '-/interface ethernet set [ find default-name=ether2 ] comment="LAN"\n'
    '+/interface ethernet set [ find default-name=ether2 ] comment="LAN" disabled=yes\n'
)
ROS = Device(
    name="ros", address="10.0.0.1", opd="Dinas Uji", site="", role="router",
    platform="mikrotik_routeros", parent=None, ping=PingSettings(),
)  # fmt: skip


async def inline(fn: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(fn)


def notes(store: TicketStore, number: str) -> list[Any]:
    return [
        e for e in store.events(number)
        if e.kind is EventKind.NOTE and (e.data or {}).get("jenis") == CHANGED
    ]  # fmt: skip


async def test_a_change_lands_on_the_open_ticket_with_the_exact_line(store: TicketStore) -> None:
    opened = store.open_fault(
        Fault("ros", FaultKind.INTERFACE_DISABLED, "ether2 mati", subject="ether2"), at=T0
    ).ticket
    sink = TicketSink(store, call=inline, now=lambda: T0 + timedelta(hours=8))
    await sink.changed(ROS, BackupResult("ros", "jadwal", rev="a" * 40, diff=DIFF))
    [note] = notes(store, opened.number)
    assert "+/interface ethernet set [ find default-name=ether2 ]" in note.data["diff"]
    assert note.detail.startswith("konfigurasi berubah ditemukan saat pencadangan (jadwal): +1 -1")
    assert [t.number for t in store.active()] == [opened.number]  # no second ticket


async def test_without_a_ticket_one_low_ticket_collects_the_changes(store: TicketStore) -> None:
    sink = TicketSink(store, call=inline, now=lambda: T0)
    await sink.changed(ROS, BackupResult("ros", "pengguna Kasi", rev="b" * 40, diff=DIFF))
    await sink.changed(
        ROS, BackupResult("ros", "remediasi GJ/2026/0001 (sesudah)", rev="c" * 40, diff=DIFF)
    )
    [ticket] = store.active()
    assert (ticket.device, ticket.kind) == ("ros", FaultKind.CONFIG_CHANGED.value)
    first, second = notes(store, ticket.number)
    assert "ditemukan saat pencadangan (pengguna Kasi)" in first.detail
    assert second.detail.startswith("konfigurasi berubah oleh remediasi GJ/2026/0001:")


async def test_a_huge_diff_is_capped_on_the_ticket(store: TicketStore) -> None:
    sink = TicketSink(store, call=inline, now=lambda: T0)
    huge = DIFF + "+x\n" * 100_000
    await sink.changed(ROS, BackupResult("ros", "jadwal", rev="d" * 40, diff=huge))
    [note] = notes(store, store.active()[0].number)
    assert len(note.data["diff"]) < MAX_DIFF_CHARS + 100
    assert "dipotong" in note.data["diff"]


async def test_the_third_failed_night_opens_a_ticket(store: TicketStore) -> None:
    sink = TicketSink(store, call=inline, now=lambda: T0)
    failed = BackupResult("ros", "jadwal", "host_key", "kunci host SSH BERUBAH", failed_nights=3)
    await sink.failing(ROS, failed)
    [ticket] = store.active()
    assert ticket.kind == FaultKind.BACKUP_FAILED.value
    assert "3 malam" in ticket.summary
    assert "kunci host SSH BERUBAH" in ticket.summary


@pytest.mark.unit
def test_changed_lines_counts_only_the_body() -> None:
    assert changed_lines(DIFF) == (1, 1)
    assert changed_lines("") == (0, 0)


async def test_a_remediation_running_in_another_process_holds_the_backup_off(
    store: TicketStore, tmp_path
) -> None:
    from agent.backup.service import SCHEDULE, BackupService
    from agent.config.model import BackupSettings, RemediationSettings
    from agent.remediation.guard import DeviceGuard
    from ticketing.remediation import RemediationLog

    ticket = store.open_fault(
        Fault("ros", FaultKind.INTERFACE_DISABLED, "ether2 mati", subject="ether2"), at=T0
    ).ticket
    log = RemediationLog(store)
    fetched: list[str] = []

    async def fetch(device: Device) -> str:
        fetched.append(device.name)
        return "/system identity set name=ros\n"

    service = BackupService(
        BackupSettings(tmp_path / "k"), RemediationSettings(), DeviceGuard(),
        now=lambda: T0, fetch=fetch, busy=log.running_on,
    )  # fmt: skip
    run = log.begin(ticket.number, playbook="aktifkan-port", interface="ether2", actor="x", at=T0)
    refused = await service.backup(ROS, SCHEDULE)
    assert (refused.kind, fetched) == ("busy", [])
    log.abort_stale(T0 + timedelta(hours=1))
    assert not log.running_on("ros")
    assert (await service.backup(ROS, SCHEDULE)).ok
    assert fetched == ["ros"]
    assert run.id
