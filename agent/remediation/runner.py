"""Deciding, running and verifying a remediation (async; the SSH work goes to a thread).

Guards, in the order they are checked (each refusal is a run row with its reason, so the
ticket says why nothing ran): a playbook on the device's allow-list for this fault and
platform; not inside a maintenance window; under the rate limit (runs per fault per day,
counted from the database, so restarts do not reset it); SSH credentials configured; the
interface name plain and known to the device (read over SNMP now); dry run stops here.
Then at most ``max_concurrent`` sessions overall and one per device (an in-process lock
and, across processes, the database's one-running-run-per-device index). The session has
a hard bound (``session_timeout``): past it the socket is closed under the worker thread.
A repair counts only when the device's read-only command shows it AND SNMP confirms it
within ``verify_timeout``.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from agent.remediation.playbooks import (
    PlaybookBook,
    RefusedError,
    check_interface,
    load_playbooks,
)
from agent.remediation.ssh import Session, SessionResult, SshFailure, SshOptions, SshTarget, execute
from agent.remediation.transcript import Transcript
from ticketing.faults import split_key
from ticketing.models import RunStatus
from ticketing.people import SYSTEM
from ticketing.remediation import DeviceBusyError, RemediationLog

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping
    from datetime import datetime

    from agent.config.model import Device, Inventory
    from agent.remediation.playbooks import Plan, Playbook
    from agent.runtime.parts import Runtime
    from collectors.model import InterfaceRow, SnmpPoll, SnmpTarget
    from ticketing.service import TicketService
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
DAY = timedelta(days=1)


class InterfaceReader(Protocol):
    """Reads a device's interfaces now (SNMP); None when they cannot be read."""

    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        """Return the interfaces by ifName."""
        ...


class _Poller(Protocol):
    async def poll(self, target: SnmpTarget) -> SnmpPoll: ...


class SnmpInterfaces:
    """InterfaceReader over an SNMP poller (the daemon's own, or a fresh collector)."""

    def __init__(self, poller: _Poller) -> None:
        """Use ``poller`` (already started)."""
        self._poller = poller

    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        """Poll the device once; None when SNMP is off or the poll failed."""
        target = device.snmp_target()
        if target is None:
            return None
        result = await self._poller.poll(target)
        if not result.interfaces:
            return None
        return {row.name: row for row in result.interfaces if row.name}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened; ``status`` None means no playbook applied (nothing recorded)."""

    status: RunStatus | None
    reason: str
    playbook: str = ""
    run_id: int | None = None
    lines: tuple[str, ...] = ()


def secrets_of(device: Device) -> tuple[str, ...]:
    """Every secret the inventory holds for ``device`` (for redaction)."""
    out: list[str] = []
    if device.ssh is not None:
        out += [device.ssh.password, device.ssh.secret]
    if device.snmp is not None:
        a = device.snmp.auth
        out += [a.community, a.auth_key, a.priv_key]
    return tuple(s for s in out if s)


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
    ) -> None:
        """``call`` runs a blocking database function (default: a thread of its own)."""
        self.inventory = inventory
        self.book = book
        self.log = log
        self.service = service
        self.reader = reader
        self.now = now
        self._call: Callable[[Callable[[], Any]], Awaitable[Any]] = call or asyncio.to_thread
        settings = inventory.remediation
        self._sem = asyncio.Semaphore(settings.max_concurrent)
        self._locks: dict[str, asyncio.Lock] = {}
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
        return self.book.select(device, kind, subject) is not None

    async def consider(
        self, ticket: TicketView, *, actor: str = SYSTEM, dry_run: bool | None = None
    ) -> Outcome:
        """Run the ticket's playbook if every guard allows it; return what happened."""
        device = self.inventory.devices.get(ticket.device)
        if ticket.fault_key is None or device is None:
            return Outcome(None, "bukan gangguan perangkat yang dipantau agen")
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
        lock = self._locks.setdefault(device.name, asyncio.Lock())
        if lock.locked():
            return await self._record(
                ticket,
                playbook.name,
                interface,
                actor,
                "sesi lain ke perangkat ini sedang berjalan",
            )
        async with lock, self._sem:
            return await self._run(ticket, device, plan, actor)

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
        return playbook.render(device.platform, interface)

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
            status, reason = await self._session(device, plan, transcript)
            if status is RunStatus.SUCCEEDED:
                status, reason = await self._verify_snmp(device, plan, transcript, reason)
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

    async def _session(
        self, device: Device, plan: Plan, transcript: Transcript
    ) -> tuple[RunStatus, str]:
        settings = self.inventory.remediation
        ssh = device.ssh
        assert ssh is not None  # noqa: S101 - _plan checked
        target = SshTarget(
            device.name,
            device.platform,
            device.address,
            ssh.port,
            ssh.user,
            ssh.password,
            ssh.secret,
        )
        options = SshOptions(
            settings.known_hosts,
            settings.host_key_policy,
            settings.connect_timeout,
            settings.auth_timeout,
            settings.banner_timeout,
            settings.read_timeout,
        )
        session = Session(target, options, transcript)
        future = asyncio.get_running_loop().run_in_executor(self._pool, execute, session, plan)
        try:
            result: SessionResult = await asyncio.wait_for(
                asyncio.shield(future), settings.session_timeout
            )
        except TimeoutError:
            session.abort()
            transcript.note(f"batas waktu sesi {settings.session_timeout:.0f} s terlampaui")
            return (
                RunStatus.FAILED,
                f"perangkat tidak menjawab dalam {settings.session_timeout:.0f} s",
            )
        except SshFailure as exc:
            return RunStatus.FAILED, exc.reason
        except asyncio.CancelledError:
            session.abort()
            raise
        if not result.verified:
            why = "perintah terkirim tetapi perangkat belum menunjukkan perbaikan"
            if not result.precheck_ok:
                why = "keadaan perangkat tidak sesuai prasyarat dan belum pulih"
            if result.rolled_back:
                why += "; rollback dijalankan"
            return RunStatus.FAILED, why
        if not result.sent:
            return RunStatus.SUCCEEDED, "sudah pulih sebelum perintah dikirim"
        return RunStatus.SUCCEEDED, ""

    async def _verify_snmp(
        self, device: Device, plan: Plan, transcript: Transcript, reason: str
    ) -> tuple[RunStatus, str]:
        settings = self.inventory.remediation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.verify_timeout
        want = "ifAdminStatus" if plan.probe == "admin_up" else "ifOperStatus"
        seen = "tidak terbaca"
        while True:
            rows = await self.reader.interfaces(device)
            row = rows.get(plan.interface) if rows else None
            if row is not None:
                ok = row.admin_up if plan.probe == "admin_up" else row.oper_up
                seen = "up" if ok else "down"
                if ok:
                    transcript.note(f"verifikasi SNMP: {want} {plan.interface} = up")
                    return RunStatus.SUCCEEDED, reason
            if loop.time() >= deadline:
                transcript.note(f"verifikasi SNMP: {want} {plan.interface} = {seen}")
                return RunStatus.FAILED, (
                    f"verifikasi SNMP gagal: {want} {plan.interface} {seen} "
                    f"setelah {settings.verify_timeout:.0f} s"
                )
            await asyncio.sleep(settings.verify_interval)

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


class _NoInterfaces:
    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        return None


def for_daemon(inventory: Inventory, runtime: Runtime, service: TicketService) -> Remediator:
    """Build the daemon's remediator; playbooks load now (a bad one stops start-up).

    The daemon's SNMP poller reads interfaces and its store thread does the database work.
    """
    book = load_playbooks(inventory.remediation.playbooks_dir)
    reader: InterfaceReader = (
        SnmpInterfaces(runtime.snmp) if runtime.snmp is not None else _NoInterfaces()
    )
    return Remediator(
        inventory,
        book,
        RemediationLog(runtime.store),
        service,
        reader,
        call=runtime.call,
        now=runtime.now,
    )
