"""Backing up configurations from the event loop: guard, bounds, the night, what changed.

One :class:`BackupService` per process. A backup holds the device in the
:class:`~agent.remediation.guard.DeviceGuard` it shares with remediation (so a backup and a
repair never talk to one device at once), takes one of ``max_concurrent`` slots, reads the
configuration on a worker thread under remediation's hard session bound, redacts it, and
commits it if it changed. Failures are data: a :class:`BackupResult` with the kind
(``auth``, ``timeout``, ``host_key`` ...) and an Indonesian reason, kept per device in
``status.json`` and in the metrics. What to do with a change or a third failed night is the
``sink``'s business (tickets: :mod:`agent.backup.tracking`).

The night: devices sorted by name are spread evenly over ``night_hours`` from ``night_start``
(office time zone), so 1,000 devices over 4 hours start one every 14 s, at most
``max_concurrent`` at a time. The clock and the sleep are injected.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from agent.backup.fetch import fetch_blocking
from agent.backup.platforms import commands_for, printable
from agent.backup.redact import redact_config
from agent.backup.repo import ConfigRepo, RepoError
from agent.backup.status import StatusFile
from agent.redaction import redact
from agent.remediation.ssh import Session, SshFailure, SshOptions, SshTarget
from agent.remediation.transcript import Transcript, secrets_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from zoneinfo import ZoneInfo

    from agent.config.model import BackupSettings, Device, Inventory, RemediationSettings
    from agent.remediation.guard import DeviceGuard
    from agent.runtime.metrics.backup import BackupMetrics
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)

SCHEDULE: Final = "jadwal"
# faults that a configuration change makes: their ticket triggers a backup at once, so the
# changed line is on the ticket while it is open (issue 22: "a port shut by hand")
ON_TICKET: Final = frozenset({"interface_disabled"})
TRANSCRIPT_BYTES: Final = 4096  # a failure's record; the configuration itself is not kept there


def by_remediation(number: str, *, after: bool) -> str:
    """The trigger of a backup taken before or after the remediation run of ticket ``number``."""
    return f"remediasi {number} ({'sesudah' if after else 'sebelum'})"


def by_ticket(number: str) -> str:
    """The trigger of a backup taken when ticket ``number`` opened (a port shut by hand)."""
    return f"tiket {number}"


def by_user(name: str) -> str:
    """The trigger of a backup a person asked for."""
    return f"pengguna {name}"


@dataclass(frozen=True, slots=True)
class BackupResult:
    """One backup attempt: worked or why not; the new commit and its diff when it changed."""

    device: str
    trigger: str
    kind: str = ""  # "" = it worked
    reason: str = ""
    rev: str | None = None
    diff: str = ""
    failed_nights: int = 0

    @property
    def ok(self) -> bool:
        """True when the configuration was read and saved (changed or not)."""
        return not self.kind


class ChangeSink(Protocol):
    """Where changes and repeated failures go (tickets, notifications)."""

    async def changed(self, device: Device, result: BackupResult) -> None:
        """The saved configuration of ``device`` changed."""

    async def failing(self, device: Device, result: BackupResult) -> None:
        """``device`` failed its scheduled backup ``failed_nights_ticket`` nights in a row."""


class BackupService:
    """Backs up device configurations into a :class:`ConfigRepo`."""

    def __init__(
        self,
        settings: BackupSettings,
        ssh: RemediationSettings,
        guard: DeviceGuard,
        *,
        now: Callable[[], datetime],
        sink: ChangeSink | None = None,
        metrics: BackupMetrics | None = None,
        fetch: Callable[[Device], Awaitable[str]] | None = None,
        busy: Callable[[str], bool] | None = None,
    ) -> None:
        """Nothing is opened until the first backup; ``fetch`` reads one device (SSH).

        ``busy(device)`` (blocking, run in a thread) says whether another process has a
        session on the device (a remediation run recorded as running): the backup is refused.
        """
        self.settings = settings
        self.ssh = ssh
        self.guard = guard
        self.now = now
        self.sink = sink
        self.metrics = metrics
        if settings.directory is None:  # agent.wiring.backup_directory resolves it
            raise ValueError("backup directory not resolved")
        self.repo = ConfigRepo(settings.directory / "repo")
        self.status = StatusFile(settings.directory / "status.json")
        self._sem = asyncio.Semaphore(settings.max_concurrent)
        self._fetch = fetch or self.read
        self._busy = busy

    async def backup(self, device: Device, trigger: str, *, nightly: bool = False) -> BackupResult:
        """Hold the device (waiting for any session on it), then back it up."""
        async with self.guard.hold(device.name, "backup"):
            return await self.backup_held(device, trigger, nightly=nightly)

    async def backup_held(
        self, device: Device, trigger: str, *, nightly: bool = False
    ) -> BackupResult:
        """Back up ``device``; the caller holds it in the guard (remediation does)."""
        async with self._sem:
            if self._busy is not None and await asyncio.to_thread(self._busy, device.name):
                why = "perbaikan otomatis sedang berjalan di perangkat ini (proses lain)"
                result = BackupResult(device.name, trigger, "busy", why)
            else:
                result = await self._attempt(device, trigger)
        at = self.now()
        try:
            state = await asyncio.to_thread(
                self.status.update_blocking, device.name, result.kind, result.reason, at,
                nightly=nightly,
            )  # fmt: skip
            nights = state.failed_nights
        except OSError:  # a full disk must not stop a repair waiting for this backup
            logger.exception("config backup state of %s not written", device.name)
            nights = 0
        result = replace(result, failed_nights=nights)
        if self.metrics is not None:
            self.metrics.finished(device.name, result.kind, at, nights)
        await self._report(device, result, nightly=nightly)
        return result

    async def backup_many(
        self, devices: Sequence[Device], trigger: str, *, nightly: bool = False
    ) -> list[BackupResult]:
        """Back up every device, ``max_concurrent`` at a time; results in the given order."""
        return list(
            await asyncio.gather(*(self.backup(d, trigger, nightly=nightly) for d in devices))
        )

    def night_plan(
        self, devices: Sequence[Device], after: datetime, tz: ZoneInfo
    ) -> list[tuple[datetime, Device]]:
        """When each device is backed up in the first night starting after ``after``."""
        local = after.astimezone(tz)
        start = datetime.combine(local.date(), self.settings.night_start, tzinfo=tz)
        if start <= local:
            start += timedelta(days=1)
        ordered = sorted(devices, key=lambda d: d.name)
        step = timedelta(hours=self.settings.night_hours) / max(1, len(ordered))
        return [(start + i * step, d) for i, d in enumerate(ordered)]

    async def run_night(
        self,
        plan: Sequence[tuple[datetime, Device]],
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> list[BackupResult]:
        """Start each planned backup at its time (``sleep`` waits); wait for them all."""
        tasks: list[asyncio.Task[BackupResult]] = []
        async with asyncio.TaskGroup() as group:
            for when, device in plan:
                wait = (when - self.now()).total_seconds()
                if wait > 0:
                    await sleep(wait)
                tasks.append(
                    group.create_task(
                        self.backup(device, SCHEDULE, nightly=True), name=f"backup:{device.name}"
                    )
                )
        return [t.result() for t in tasks]

    async def nightly(
        self,
        devices: Callable[[], Sequence[Device]],
        tz: ZoneInfo,
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        """Every night, forever (the daemon's task); ``devices`` read anew each night."""
        while True:
            plan = self.night_plan(devices(), self.now(), tz)
            if not plan:
                await sleep(timedelta(days=1).total_seconds())
                continue
            results = await self.run_night(plan, sleep=sleep)
            failed = [r.device for r in results if not r.ok]
            logger.info("config backup night: %d devices, %d failed", len(results), len(failed))

    async def before_remediation(self, device: Device, ticket: TicketView) -> BackupResult:
        """The remediator's ``before`` hook (it holds the device): the configuration as it was."""
        return await self.backup_held(device, by_remediation(ticket.number, after=False))

    async def after_remediation(self, device: Device, ticket: TicketView) -> BackupResult:
        """The remediator's ``after`` hook: what the run changed, attributed to it."""
        return await self.backup_held(device, by_remediation(ticket.number, after=True))

    async def read(self, device: Device) -> str:
        """Read ``device``'s normalised configuration over SSH; raises SshFailure."""
        ssh = device.ssh
        if ssh is None or not ssh.user or not ssh.password:
            raise SshFailure("refused", "kredensial SSH perangkat tidak dikonfigurasi")
        secrets = secrets_of(device)
        session = Session(
            SshTarget.of(device, ssh),
            SshOptions.of(self.ssh),
            Transcript(secrets, TRANSCRIPT_BYTES),
        )
        work = asyncio.ensure_future(asyncio.to_thread(fetch_blocking, session))
        try:
            return await asyncio.wait_for(asyncio.shield(work), self.ssh.session_timeout)
        except TimeoutError as exc:
            session.abort()
            why = f"perangkat tidak menjawab dalam {self.ssh.session_timeout:.0f} s"
            raise SshFailure("timeout", why) from exc
        except asyncio.CancelledError:
            session.abort()
            raise

    async def _attempt(self, device: Device, trigger: str) -> BackupResult:
        secrets = secrets_of(device)
        try:
            text = await self._fetch(device)
        except SshFailure as exc:
            return BackupResult(device.name, trigger, exc.kind, exc.reason)
        if not text.strip():
            return BackupResult(
                device.name, trigger, "protocol", "perangkat mengirim konfigurasi kosong"
            )
        return await asyncio.to_thread(self._save_blocking, device.name, trigger, text, secrets)

    def _save_blocking(
        self, device: str, trigger: str, text: str, secrets: tuple[str, ...]
    ) -> BackupResult:
        try:
            rev = self.repo.save_blocking(
                device, redact_config(printable(text), secrets), at=self.now(), trigger=trigger
            )
            diff = self.repo.diff_blocking(device) if rev is not None else ""
        except RepoError as exc:
            return BackupResult(device, trigger, "repo", self._redacted(exc, secrets))
        note = ""
        if rev is not None and self.settings.remote:
            try:  # a remote that is down costs the push, never the change or its event
                self.repo.push_blocking(self.settings.remote)
            except RepoError as exc:
                note = f"push gagal: {self._redacted(exc, secrets)}"
                logger.warning("config history of %s not pushed: %s", device, note)
        return BackupResult(device, trigger, reason=note, rev=rev, diff=diff)

    def _redacted(self, exc: Exception, secrets: tuple[str, ...]) -> str:
        return redact(
            str(exc), secrets, urls=(self.settings.remote,) if self.settings.remote else ()
        )

    async def _report(self, device: Device, result: BackupResult, *, nightly: bool) -> None:
        if result.ok:
            if result.rev is not None:
                logger.info(
                    "config of %s changed (%s): %s", device.name, result.trigger, result.rev[:10]
                )
                if self.metrics is not None:
                    self.metrics.changed(result.trigger)
                if self.sink is not None:
                    await self.sink.changed(device, result)
            return
        logger.warning("config backup of %s failed: %s", device.name, result.reason)
        threshold = self.settings.failed_nights_ticket
        if self.sink is not None and nightly and result.failed_nights == threshold:
            await self.sink.failing(device, result)


def backed_up(inventory: Inventory) -> list[Device]:
    """The devices a backup reads: SSH credentials and a platform with an export command."""
    return [
        d
        for d in inventory.devices.values()
        if d.ssh is not None and d.ssh.user and d.ssh.password and commands_for(d.platform)
    ]


class NightlyBackups:
    """The daemon's backup duty: every night, and at once when a ticket says a port was shut."""

    def __init__(self, service: BackupService, inventory: Inventory) -> None:
        """Nothing runs until :meth:`run`."""
        self.service = service
        self.inventory = inventory
        self._tasks: set[asyncio.Task[BackupResult]] = set()

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory (SIGHUP): the next night backs up its devices."""
        self.inventory = inventory

    def on_ticket(self, ticket: TicketView) -> None:
        """A ticket opened (the writer's hook, on the loop): back up its device if it says so."""
        device = self.inventory.devices.get(ticket.device)
        if (
            ticket.kind not in ON_TICKET
            or device is None
            or device not in backed_up(self.inventory)
        ):
            return
        work = self.service.backup(device, by_ticket(ticket.number))
        task = asyncio.get_running_loop().create_task(work, name=f"backup:{ticket.number}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        """Every night until cancelled (then the backups a ticket started are cancelled too)."""
        try:
            await self.service.nightly(lambda: backed_up(self.inventory), self.inventory.tz)
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
