"""Deciding whether a remediation may run, running it and recording it on the ticket (async).

Guards, in the order they are checked (each refusal is a run row with its reason, so the
ticket says why nothing ran): a playbook on the device's allow-list for this fault and
platform; not inside a maintenance window; under the rate limit (runs per fault per day,
counted from the database, so restarts do not reset it); SSH credentials configured; the
interface name plain and known to the device (read over SNMP now, with its ifDescr, which
the checks accept as another name of the port); dry run stops here.
Then at most ``max_concurrent`` sessions overall and one per device (an in-process lock
and, across processes, the database's one-running-run-per-device index). The session has
a hard bound (``session_timeout``): past it the socket is closed under the worker thread.
A repair counts only when the device's read-only command shows it AND SNMP confirms it
within ``verify_timeout`` (the session and the check: ``agent.remediation.attempt``; reading
interfaces: ``agent.remediation.interfaces``).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from agent.remediation.attempt import run_session, verify_snmp
from agent.remediation.guard import DeviceGuard
from agent.remediation.interfaces import NoInterfaces, SnmpInterfaces, SnmpPlatforms
from agent.remediation.playbooks import (
    PlaybookBook,
    RefusedError,
    check_interface,
    load_playbooks,
)
from agent.remediation.transcript import Transcript, secrets_of
from ticketing.faults import split_key
from ticketing.models import RunStatus
from ticketing.people import SYSTEM
from ticketing.remediation import DeviceBusyError, RemediationLog

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from agent.config.model import Device, Inventory
    from agent.remediation.interfaces import ColumnWalker, InterfaceReader, PlatformReader
    from agent.remediation.playbooks import Plan, Playbook
    from agent.runtime.parts import Runtime
    from ticketing.service import TicketService
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened; ``status`` None means no playbook applied (nothing recorded)."""

    status: RunStatus | None
    reason: str
    playbook: str = ""
    run_id: int | None = None
    lines: tuple[str, ...] = ()


class Remediator:
    """Runs playbooks for tickets, with every guard; one per process."""

    def __init__(
        self,
        inventory: Inventory,
        book: PlaybookBook,
        log: RemediationLog,
        service: TicketService,
        reader: InterfaceReader,
        *,
        call: Callable[[Callable[[], _T]], Awaitable[_T]] | None = None,
        now: Callable[[], datetime],
        platforms: PlatformReader | None = None,
        guard: DeviceGuard | None = None,
        before: Callable[[Device, TicketView], Awaitable[object]] | None = None,
        after: Callable[[Device, TicketView], Awaitable[object]] | None = None,
    ) -> None:
        """``call`` runs a blocking database function (default: a thread of its own).

        ``platforms`` detects the platform of devices the inventory writes none for (issue
        18); without it such a device has no playbook. ``guard`` is shared with the
        configuration backup; ``before`` and ``after`` run with the device held, around the
        session (backups of the configuration as it was and as the run left it, issue 22).
        """
        self.inventory = inventory
        self.book = book
        self.log = log
        self.service = service
        self.reader = reader
        self.now = now
        self._call: Callable[[Callable[[], Any]], Awaitable[Any]] = call or asyncio.to_thread
        settings = inventory.remediation
        self._sem = asyncio.Semaphore(settings.max_concurrent)
        self._guard = guard or DeviceGuard()
        self._before = before
        self._after = after
        self._platforms = platforms
        self._detected: dict[str, str] = {}  # device -> detected platform (none written)
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent, thread_name_prefix="sigap-ssh"
        )

    def close(self) -> None:
        """Stop the SSH threads (waits: each is bounded by the read timeout)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory (SIGHUP); the session limits stay as started."""
        self.inventory = inventory

    async def abort_stale(self) -> int:
        """Record runs a previous process left running as aborted; return how many."""
        stale: int = await self._call(lambda: self.log.abort_stale(self.now()))
        return stale

    def wants(self, ticket: TicketView) -> bool:
        """Cheap check: could a playbook apply to this ticket at all?"""
        device = self.inventory.devices.get(ticket.device)
        if ticket.fault_key is None or device is None or not device.remediation.enabled:
            return False
        _, kind, subject = split_key(ticket.fault_key)
        if self._undetected(device):
            return True  # the platform is detected first, in consider (one SNMP walk)
        return self.book.select(self._with_detected(device), kind, subject) is not None

    def _undetected(self, device: Device) -> bool:
        """True when the inventory writes no platform and none was detected yet."""
        return (
            not device.platform
            and self._platforms is not None
            and (device.name not in self._detected)
        )

    def _with_detected(self, device: Device) -> Device:
        """``device`` with its detected platform when the inventory writes none."""
        found = self._detected.get(device.name, "")
        return replace(device, platform=found) if not device.platform and found else device

    async def _detect(self, device: Device) -> Device:
        """Detect the platform of a device the inventory writes none for (once, if told)."""
        if self._platforms is not None and self._undetected(device):
            found = await self._platforms.platform(device)
            if found:
                logger.info("remediation: %s detected as %s", device.name, found)
                self._detected[device.name] = found
        return self._with_detected(device)

    async def consider(
        self, ticket: TicketView, *, actor: str = SYSTEM, dry_run: bool | None = None
    ) -> Outcome:
        """Run the ticket's playbook if every guard allows it; return what happened."""
        device = self.inventory.devices.get(ticket.device)
        if ticket.fault_key is None or device is None:
            return Outcome(None, "bukan gangguan perangkat yang dipantau agen")
        device = await self._detect(device)
        _, kind, interface = split_key(ticket.fault_key)
        playbook = self.book.select(device, kind, interface)
        if playbook is None:
            return Outcome(None, self._why_none(device, kind))
        try:
            plan = await self._plan(ticket, device, playbook, interface)
        except RefusedError as exc:
            return await self._record(ticket, playbook.name, interface, actor, exc.reason)
        if dry_run if dry_run is not None else device.remediation.dry_run:
            lines = tuple(plan.lines())
            view = await self._call(
                lambda: self.log.begin(
                    ticket.number,
                    playbook=playbook.name,
                    interface=interface,
                    actor=actor,
                    at=self.now(),
                    status=RunStatus.DRY_RUN,
                    reason="uji kering: " + "; ".join(lines),
                    transcript=[
                        {"step": "rencana", "command": line, "output": ""} for line in lines
                    ],
                )
            )
            return Outcome(RunStatus.DRY_RUN, view.reason, playbook.name, view.id, lines)
        if self._guard.owner(device.name) == "remediation":
            return await self._record(
                ticket,
                playbook.name,
                interface,
                actor,
                "sesi lain ke perangkat ini sedang berjalan",
            )
        async with self._guard.hold(device.name, "remediation"), self._sem:
            if self._before is not None:
                await self._before(device, ticket)
            outcome = await self._run(ticket, device, plan, actor)
            if self._after is not None and outcome.status is not RunStatus.REFUSED:
                await self._after(device, ticket)
            return outcome

    def _why_none(self, device: Device, kind: str) -> str:
        if not device.remediation.enabled:
            return f"perbaikan otomatis tidak diaktifkan untuk {device.name}"
        written = self.book.candidates(device, kind)
        if not written:
            return f"tidak ada playbook untuk {kind} di platform {device.platform}"
        allowed = [p.name for p in written if device.remediation.allows(p.name)]
        if not allowed:
            names = ", ".join(p.name for p in written)
            return f"playbook {names} tidak ada di daftar izin {device.name}"
        return f"playbook {', '.join(allowed)} tidak berlaku untuk interface ini"

    async def _plan(
        self, ticket: TicketView, device: Device, playbook: Playbook, interface: str
    ) -> Plan:
        now = self.now()
        window = device.in_maintenance(now, self.inventory.tz)
        if window is not None:
            raise RefusedError(f"dalam jendela pemeliharaan {window.name!r}")
        settings = self.inventory.remediation
        key = ticket.fault_key or ""
        done = await self._call(lambda: self.log.recent(device.name, key, now - DAY))
        if done >= settings.max_runs_per_fault_per_day:
            raise RefusedError(
                f"batas {settings.max_runs_per_fault_per_day} perbaikan per gangguan per hari "
                f"tercapai ({done} dalam 24 jam terakhir)"
            )
        if device.ssh is None or not device.ssh.user or not device.ssh.password:
            raise RefusedError("kredensial SSH perangkat tidak dikonfigurasi di inventaris")
        known = await self.reader.interfaces(device)
        check_interface(interface, None if known is None else set(known))
        row = known.get(interface) if known is not None else None
        return playbook.render(device.platform, interface, (row.descr,) if row else ())

    async def _record(
        self, ticket: TicketView, playbook: str, interface: str, actor: str, reason: str
    ) -> Outcome:
        logger.warning("remediation of %s refused: %s", ticket.number, reason)
        view = await self._call(
            lambda: self.log.begin(
                ticket.number,
                playbook=playbook,
                interface=interface[:64],
                actor=actor,
                at=self.now(),
                status=RunStatus.REFUSED,
                reason=reason,
            )
        )
        return Outcome(RunStatus.REFUSED, reason, playbook, view.id)

    async def _run(self, ticket: TicketView, device: Device, plan: Plan, actor: str) -> Outcome:
        try:
            run = await self._call(
                lambda: self.log.begin(
                    ticket.number,
                    playbook=plan.playbook,
                    interface=plan.interface,
                    actor=actor,
                    at=self.now(),
                )
            )
        except DeviceBusyError:
            return await self._record(
                ticket,
                plan.playbook,
                plan.interface,
                actor,
                "sesi lain ke perangkat ini sedang berjalan",
            )
        settings = self.inventory.remediation
        transcript = Transcript(secrets_of(device), settings.transcript_max_bytes)
        logger.info(
            "remediation %s on %s: %s %s", run.id, device.name, plan.playbook, plan.interface
        )
        try:
            status, reason = await run_session(
                self._pool, device, plan, transcript, settings=settings
            )
            if status is RunStatus.SUCCEEDED:
                status, reason = await verify_snmp(
                    self.reader, device, plan, transcript, reason, settings=settings
                )
        except asyncio.CancelledError:
            transcript.note("agen berhenti di tengah perbaikan")
            await asyncio.shield(
                self._finish(
                    run.id, RunStatus.FAILED, "agen berhenti", transcript, plan=plan, device=device
                )
            )
            raise
        await self._finish(run.id, status, reason, transcript, plan=plan, device=device)
        logger.log(
            logging.INFO if status is RunStatus.SUCCEEDED else logging.WARNING,
            "remediation %s on %s %s: %s",
            run.id,
            device.name,
            status.value,
            reason,
        )
        return Outcome(status, reason, plan.playbook, run.id)

    async def _finish(
        self,
        run_id: int,
        status: RunStatus,
        reason: str,
        transcript: Transcript,
        *,
        plan: Plan,
        device: Device,
    ) -> None:
        sent = [*plan.commands, *plan.config]
        summary = (
            f"{plan.title}: {plan.interface} di {device.name}; perintah: {'; '.join(sent)}; "
            f"terverifikasi ({plan.verify.command} dan SNMP)"
        )
        entries = transcript.entries()
        await self._call(
            lambda: self.service.finish_remediation(
                run_id, status=status, reason=reason, transcript=entries, summary=summary
            )
        )


def for_daemon(
    inventory: Inventory,
    runtime: Runtime,
    service: TicketService,
    walker: ColumnWalker | None = None,
    *,
    guard: DeviceGuard | None = None,
    before: Callable[[Device, TicketView], Awaitable[object]] | None = None,
    after: Callable[[Device, TicketView], Awaitable[object]] | None = None,
) -> Remediator:
    """Build the daemon's remediator; playbooks load now (a bad one stops start-up).

    The daemon's SNMP poller reads interfaces and its store thread does the database work;
    ``walker`` (the same collector) detects platforms the inventory does not write;
    ``before``/``after`` (configuration backups, with the shared ``guard``) run around it.
    """
    book = load_playbooks(inventory.remediation.playbooks_dir)
    reader: InterfaceReader = (
        SnmpInterfaces(runtime.snmp) if runtime.snmp is not None else NoInterfaces()
    )
    return Remediator(
        inventory,
        book,
        RemediationLog(runtime.store),
        service,
        reader,
        call=runtime.call,
        now=runtime.now,
        platforms=SnmpPlatforms(walker) if walker is not None else None,
        guard=guard,
        before=before,
        after=after,
    )
