"""The daemon: one event loop, a poll task per device, one ordered ticket writer.

Shape (STYLE 10-12): ``Daemon.run`` opens the ping socket, restores open faults from the
database, then runs in one ``TaskGroup``: a poll task per device (random first offset, a
semaphore bounding probes in flight), a ticker (maintenance/flap timers, hold-down
resolution) and the ticket writer. Ticket writes go, in order, through one queue to one
worker thread (SQLAlchemy is synchronous; one writer also suits SQLite). SIGTERM/SIGINT stop
the pollers first, then the writer drains the queue, so no write in flight is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Protocol, Self, TypeVar

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from agent.detect.ping import (
    Attached,
    Detached,
    Detector,
    DeviceState,
    Event,
    FaultCleared,
    FaultOpened,
    StateChanged,
)
from agent.detect.snmp import SnmpDetector
from agent.errors import ConfigError
from agent.runtime import systemd
from agent.runtime.httpd import HealthChecks, MetricsServer
from agent.runtime.metrics import watch_loop_lag
from collectors.model import utc_now
from ticketing.faults import FaultKind
from ticketing.outbox import Outbox
from ticketing.states import TicketState
from ticketing.views import OpenOutcome

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import TracebackType

    from agent.config.model import Device, Inventory
    from agent.notify.worker import Notifier
    from agent.remediation.runner import Remediator
    from agent.runtime.metrics import Metrics
    from agent.topology.watcher import TopologyWatcher
    from collectors.model import Observation, PingTarget, SnmpPoll, SnmpTarget
    from ticketing.service import TicketService
    from ticketing.store import TicketStore
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)

TICK_SECONDS = 1.0
RETRY_FIRST_SECONDS = 0.5  # database outage: first retry of a ticket write, doubling
RETRY_MAX_SECONDS = 10.0
SHUTDOWN_RETRY_SECONDS = 15.0  # after SIGTERM, how long queued writes keep retrying
NOTIFY_GRACE_SECONDS = 10.0  # SIGTERM: how long the notifier may finish its message in flight
REFRESH_SECONDS = 15.0  # ticket gauges and the notification backlog, read from the database
_T = TypeVar("_T")


class SnmpPoller(Protocol):
    """What the daemon needs from an SNMP collector (the real one or a fake)."""

    async def start(self) -> None:
        """Open sockets and the SNMP engine."""

    async def close(self) -> None:
        """Release them."""

    async def poll(self, target: SnmpTarget) -> SnmpPoll:
        """Poll one device; failures come back as a SnmpPoll with a reason."""
        ...


class Prober(Protocol):
    """What the daemon needs from a ping collector (the real one or a fake)."""

    async def start(self) -> None:
        """Open sockets; raise a CollectorError subclass if impossible."""

    async def close(self) -> None:
        """Release sockets."""

    async def probe(self, target: PingTarget) -> Observation:
        """Run one probe round."""
        ...


class TicketWriter:
    """Applies detector events to the store, in order, on one worker thread."""

    def __init__(
        self, store: TicketStore, now: Callable[[], datetime], service: TicketService | None = None
    ) -> None:
        """Own a single-thread executor: every store call is serialised."""
        self.store = store
        self.now = now
        self.service = service
        self.queue: asyncio.Queue[Event | datetime | None] = asyncio.Queue()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigap-store")
        self.on_opened: Callable[[TicketView], None] | None = None  # e.g. remediation
        self.metrics: Metrics | None = None
        self._refreshed: datetime | None = None
        self._db_up = True
        self._give_up: float | None = None  # loop time after which shutdown stops retrying
        self.stopping = asyncio.Event()  # the daemon's stop request (bounds retries)

    async def call(self, fn: Callable[[], _T]) -> _T:
        """Run a blocking store call on the writer thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def run(self) -> None:
        """Consume the queue until ``None`` arrives (sent at shutdown, after the pollers stop).

        A database outage stops the queue, not the pollers: the item is retried with backoff
        (events queue up behind it, in order) until the database answers again; writes are
        idempotent by fault key, so a retried open never makes a second ticket. Clock ticks are
        not retried (the next one does the same work). After a stop request the retries end
        at ``SHUTDOWN_RETRY_SECONDS``, so SIGTERM stays bounded; what is left is logged.
        """
        while (item := await self.queue.get()) is not None:
            opened = await self._write(item)
            if opened is not None and self.on_opened is not None:
                self.on_opened(opened)

    async def _write(self, item: Event | datetime) -> TicketView | None:
        delay = RETRY_FIRST_SECONDS
        loop = asyncio.get_running_loop()
        while True:
            try:
                opened = await self.call(partial(self._apply_blocking, item))
            except (OperationalError, InterfaceError, DisconnectionError) as exc:
                if isinstance(item, datetime):
                    return None
                self._database(up=False, error=exc)
                if self.stopping.is_set():
                    self._give_up = self._give_up or loop.time() + SHUTDOWN_RETRY_SECONDS
                    if loop.time() >= self._give_up:
                        logger.error(  # noqa: TRY400 - a count, not a traceback
                            "database unreachable at shutdown: ticket change not written: %r",
                            item,
                        )
                        return None
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            except Exception:
                logger.exception("ticket write failed for %r", item)
                return None
            self._database(up=True)
            return opened

    def _database(self, *, up: bool, error: Exception | None = None) -> None:
        if up == self._db_up:
            return
        self._db_up = up
        if up:
            logger.info("ticket database reachable again; %d changes queued", self.queue.qsize())
        else:
            logger.warning(
                "ticket database unreachable (%s); polling goes on, changes are queued",
                type(error).__name__,
            )
        if self.metrics is not None:
            self.metrics.set_database_up(up=up)

    def close(self) -> None:
        """Wait for the thread to finish its last write."""
        self._pool.shutdown(wait=True)

    def _apply_blocking(self, item: Event | datetime) -> TicketView | None:
        """Apply one item; return the ticket when a fault opened (or reopened) one."""
        store = self.store
        if isinstance(item, datetime):
            self._tick_blocking(item)
        elif isinstance(item, FaultOpened):
            return self._open_blocking(item)
        elif isinstance(item, FaultCleared):
            cleared = store.clear_fault(item.key, at=item.at)
            if cleared is not None:
                logger.info("ticket %s cleared (%s), hold-down", cleared.number, item.reason)
        elif isinstance(item, Attached):
            store.attach(item.root_key, item.device, at=item.at)
        elif isinstance(item, Detached):
            store.detach(item.device, at=item.at)
        return None

    def _open_blocking(self, item: FaultOpened) -> TicketView | None:
        result = self.store.open_fault(item.fault, at=item.at)
        number = result.ticket.number
        if self.metrics is not None:
            self.metrics.ticket_opened(item.fault.kind.value, result.outcome.value)
        logger.warning("ticket %s %s: %s", number, result.outcome, item.fault.summary)
        if self.service is not None and result.outcome is OpenOutcome.OPENED:
            steps = self.service.start(number)  # standing disposition: a technician at once
            logger.info("ticket %s: SOP started, %d steps", number, len(steps))
        if result.outcome in (OpenOutcome.OPENED, OpenOutcome.REOPENED):
            return self.store.get(number)
        return None

    def _tick_blocking(self, now: datetime) -> None:
        for ticket in self.store.resolve_due(now=now):
            logger.info("ticket %s resolved (%s)", ticket.number, ticket.device)
            if self.metrics is not None:
                self.metrics.ticket_resolved(ticket.kind)
        if self.service is not None:
            for escalation in self.service.escalate_due():
                logger.warning("escalation: %s", escalation)
        metrics = self.metrics
        if metrics is not None and (
            self._refreshed is None or (now - self._refreshed).total_seconds() >= REFRESH_SECONDS
        ):
            self._refreshed = now
            if metrics.refresh_tickets_blocking(self.store, now):
                metrics.set_outbox("notifications", Outbox(self.store).backlog())
            metrics.set_outbox("tickets", self.queue.qsize())


class Daemon:
    """``sigap run``: poll every device, detect, keep tickets in the database."""

    def __init__(
        self,
        inventory: Inventory,
        store: TicketStore,
        prober: Prober,
        *,
        now: Callable[[], datetime] = utc_now,
        ready_file: Path | None = None,
        rng: random.Random | None = None,
        snmp: SnmpPoller | None = None,
        service: TicketService | None = None,
        remediator: Callable[[Daemon], Remediator] | None = None,
        notifier: Callable[[Daemon], Notifier] | None = None,
        metrics: Metrics | None = None,
        reload: Callable[[], Inventory] | None = None,
        topology: Callable[[Daemon], TopologyWatcher] | None = None,
    ) -> None:
        """Wire the parts; nothing starts until :meth:`run`.

        ``remediator`` builds the remediation runner once the daemon exists (it needs the
        daemon's SNMP poller and database thread); ``notifier`` likewise builds the
        notification worker. ``metrics`` receives every observation; ``reload`` loads the
        inventory again on SIGHUP (a ConfigError keeps the running one); ``topology``
        builds the re-discovery (issue 11: ``link_lost``, stored links).
        """
        self.inventory = inventory
        self.prober = prober
        self.now = now
        self.ready_file = ready_file
        self.detector = Detector(inventory)
        self.snmp = snmp
        self.snmp_detector = SnmpDetector(inventory)
        self.snmp_devices = [d for d in inventory.devices.values() if d.snmp is not None]
        self.writer = TicketWriter(store, now, service)
        self.devices = [d for d in inventory.devices.values() if d.ping.enabled]
        self._sem = asyncio.Semaphore(inventory.max_concurrent_probes)
        self._wake = {d.name: asyncio.Event() for d in self.devices}
        self._seen: set[str] = set()
        self._stopping = asyncio.Event()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self.metrics = metrics
        self.writer.metrics = metrics
        self.writer.stopping = self._stopping
        self._reload = reload
        self._hup = asyncio.Event()
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self.remediator = remediator(self) if remediator is not None else None
        self._repairs: set[asyncio.Task[object]] = set()
        self._tried: set[tuple[str, int]] = set()
        if self.remediator is not None:
            self.writer.on_opened = self._remediate
        self.notifier = notifier(self) if notifier is not None else None
        if self.notifier is not None and metrics is not None:
            self.notifier.on_result = metrics.notification_sent
        self.topology = topology(self) if topology is not None else None

    @property
    def probe_slots(self) -> asyncio.Semaphore:
        """The semaphore bounding probes in flight (pings, SNMP polls, topology walks)."""
        return self._sem

    async def __aenter__(self) -> Self:
        """Return self (the daemon is started by :meth:`run`)."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop if still running."""
        self.stop()

    def stop(self) -> None:
        """Ask the daemon to finish (idempotent; safe from a signal handler)."""
        self._stopping.set()

    async def run(self) -> None:
        """Run until :meth:`stop` or SIGTERM/SIGINT; pending ticket writes are finished first."""
        store = self.writer.store
        await self.writer.call(store.migrate)
        await self._restore()
        await self.prober.start()
        if self.snmp is not None:
            await self.snmp.start()
        server = await self._serve_metrics()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self._hup.set)
        logger.info("sigap started: %d devices", len(self.devices))
        try:
            await self._supervise()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if server is not None:
                await server.close()
            await self.prober.close()
            if self.snmp is not None:
                await self.snmp.close()
            if self.remediator is not None:
                self.remediator.close()
            self.writer.close()
            systemd.notify("STOPPING=1")
            logger.info("sigap stopped")

    async def _serve_metrics(self) -> MetricsServer | None:
        metrics = self.metrics
        if metrics is None:
            return None
        metrics.set_devices({d.name: d.opd for d in self.inventory.devices.values()})
        if not self.inventory.metrics_listen:
            return None
        server = MetricsServer(
            metrics.registry, HealthChecks.from_metrics(metrics), self.inventory.metrics_listen
        )
        await server.start()
        return server

    async def _supervise(self) -> None:
        async with asyncio.TaskGroup() as group:
            self._group = group
            writer = group.create_task(self.writer.run(), name="tickets")
            for device in self.inventory.devices.values():
                self._start_loops(device)
            ticker = group.create_task(self._ticker(), name="ticker")
            helpers = [group.create_task(systemd.watchdog(), name="watchdog")]
            if self.metrics is not None:
                helpers.append(group.create_task(watch_loop_lag(self.metrics), name="loop-lag"))
            if self._reload is not None:
                helpers.append(group.create_task(self._reloader(), name="reload"))
            if self.topology is not None:
                helpers.append(group.create_task(self.topology.run(), name="topology"))
            notify = (
                group.create_task(self.notifier.run(self._stopping), name="notifier")
                if self.notifier is not None
                else None
            )
            await self._stopping.wait()
            loops = list(self._loops.values())
            for task in [*loops, ticker, *helpers, *self._repairs]:
                task.cancel()
            await asyncio.gather(*loops, ticker, *helpers, *self._repairs, return_exceptions=True)
            await self.writer.queue.put(None)  # drain: the writer ends after the last item
            await writer
            if notify is not None:  # it stops by itself after the message in flight
                try:
                    await asyncio.wait_for(notify, NOTIFY_GRACE_SECONDS)
                except TimeoutError:
                    logger.warning(
                        "notifier still sending after %.0f s; stopped", NOTIFY_GRACE_SECONDS
                    )

    def _start_loops(self, device: Device) -> None:
        """Start the ping (and SNMP) loop of ``device`` in the running task group."""
        group = self._group
        assert group is not None  # noqa: S101 - only called from _supervise and reloads
        self._wake.setdefault(device.name, asyncio.Event())
        if device.ping.enabled:
            self._loops[f"poll:{device.name}"] = group.create_task(
                self._poll(device), name=f"poll:{device.name}"
            )
        if self.snmp is not None and device.snmp is not None:
            self._loops[f"snmp:{device.name}"] = group.create_task(
                self._snmp_poll(self.snmp, device), name=f"snmp:{device.name}"
            )

    async def _reloader(self) -> None:
        """On SIGHUP: load the inventory again; a broken one is refused, the old one kept."""
        load = self._reload
        assert load is not None  # noqa: S101 - only started with a loader
        while True:
            await self._hup.wait()
            self._hup.clear()
            logger.info("SIGHUP: reloading the inventory")
            try:
                new = await asyncio.to_thread(load)
            except ConfigError as exc:
                logger.error("inventory reload refused, the running one is kept:\n%s", exc)  # noqa: TRY400 - the problems are the message
                continue
            except Exception:
                logger.exception("inventory reload failed, the running one is kept")
                continue
            self._apply(new)

    def _apply(self, new: Inventory) -> None:
        """Switch to a reloaded inventory: changed devices restart their loops, others go on."""
        old = self.inventory
        changed = [d for n, d in new.devices.items() if old.devices.get(n) != d]
        removed = [n for n in old.devices if n not in new.devices]
        for name in [*removed, *(d.name for d in changed)]:
            for key in (f"poll:{name}", f"snmp:{name}"):
                task = self._loops.pop(key, None)
                if task is not None:
                    task.cancel()
            self._seen.discard(name)
        self.inventory = new
        self.detector.reconfigure(new)
        self.snmp_detector.reconfigure(new)
        self.devices = [d for d in new.devices.values() if d.ping.enabled]
        self.snmp_devices = [d for d in new.devices.values() if d.snmp is not None]
        for device in changed:
            self._start_loops(device)
        if self.remediator is not None:
            self.remediator.inventory = new
        if self.topology is not None:
            self.topology.reconfigure(new)
        if self.metrics is not None:
            self.metrics.set_devices({d.name: d.opd for d in new.devices.values()})
        logger.info(
            "inventory reloaded: %d devices, %d new or changed, %d removed%s",
            len(new.devices),
            len(changed),
            len(removed),
            " (open tickets of removed devices stay for a person to close)" if removed else "",
        )

    async def _restore(self) -> None:
        if self.remediator is not None:
            log = self.remediator.log
            stale = await self.writer.call(lambda: log.abort_stale(self.now()))
            if stale:
                logger.warning("%d remediation runs were left running by a previous process", stale)
        active = await self.writer.call(self.writer.store.active)
        faults = [(t.device, FaultKind(t.kind)) for t in active if t.status is TicketState.OPEN]
        self.detector.restore(faults, self.now())
        self.snmp_detector.restore(t.fault_key for t in active if t.fault_key)
        if active:
            logger.info("resuming %d active tickets from the database", len(active))

    async def _poll(self, device: Device) -> None:
        target = device.ping_target()
        wake = self._wake[device.name]
        # spread the first round over one interval so 1,000 devices don't start together
        await self._sleep(wake, self._rng.uniform(0, device.ping.interval))
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                async with self._sem:
                    observation = await self.prober.probe(target)
            except Exception:  # a bug probing one device must not stop the others
                logger.exception("probe of %s failed; retrying next interval", device.name)
                await self._sleep(wake, device.ping.interval)
                continue
            if self.metrics is not None:
                self.metrics.observe_ping(observation)
                self.metrics.poll_finished("ping", loop.time() - started, device.ping.interval)
            self._handle(self.detector.observe(observation))
            self._mark_seen(device.name)
            retry = self.detector.wants_reprobe(device.name)
            interval = self.inventory.detection.reprobe_interval if retry else device.ping.interval
            await self._sleep(wake, interval)

    async def _snmp_poll(self, snmp: SnmpPoller, device: Device) -> None:
        target = device.snmp_target()
        settings = device.snmp
        if target is None or settings is None:
            return
        await asyncio.sleep(self._rng.uniform(0, settings.interval))
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                async with self._sem:
                    result = await snmp.poll(target)
            except Exception:  # a bug polling one device must not stop the others
                logger.exception("SNMP poll of %s failed; retrying next interval", device.name)
            else:
                if self.metrics is not None:
                    self.metrics.observe_snmp(result)
                    self.metrics.poll_finished("snmp", loop.time() - started, settings.interval)
                state = self.detector.state(device.name)
                self._handle(self.snmp_detector.observe(result, state))
            await asyncio.sleep(settings.interval)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = self.now()
            self._handle(self.detector.tick(now))
            self.writer.queue.put_nowait(now)  # hold-down resolution, in order with the rest

    def _remediate(self, ticket: TicketView) -> None:
        """Start the remediation of a newly opened ticket, if a playbook may apply."""
        remediator = self.remediator
        if remediator is None or self._stopping.is_set() or not remediator.wants(ticket):
            return
        episode = (ticket.number, ticket.reopen_count)  # once per opening, never in a loop
        if episode in self._tried:
            logger.warning("remediation of %s already tried for this opening", ticket.number)
            return
        self._tried.add(episode)

        async def attempt() -> None:
            try:
                outcome = await remediator.consider(ticket)
            except Exception:  # one failed repair must not stop the daemon
                logger.exception("remediation of %s failed", ticket.number)
                return
            if self.metrics is not None and outcome.status is not None:
                self.metrics.remediation_finished(outcome.playbook, outcome.status.value)

        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(
            attempt(), name=f"remediate:{ticket.number}"
        )
        self._repairs.add(task)
        task.add_done_callback(self._repairs.discard)

    @staticmethod
    async def _sleep(wake: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await wake.wait()
        wake.clear()

    def _handle(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, StateChanged):
                _log_state(event)
                if self.metrics is not None:
                    self.metrics.device_state(event.device, event.new)
            else:
                self.writer.queue.put_nowait(event)
        for name in self.detector.take_requests():
            wake = self._wake.get(name)
            if wake is not None:
                wake.set()

    def _mark_seen(self, name: str) -> None:
        if len(self._seen) == len(self.devices):
            return
        self._seen.add(name)
        if len(self._seen) == len(self.devices):
            states = self.detector.states().values()
            up = sum(1 for s in states if s is DeviceState.UP)
            logger.info("first round done: %d of %d devices up", up, len(self.devices))
            systemd.notify("READY=1")
            if self.ready_file is not None:
                self.ready_file.write_text(f"{up} {len(self.devices)}\n", encoding="utf-8")


def _log_state(event: StateChanged) -> None:
    """Log transitions, not polls: bad news at WARNING, recoveries at INFO."""
    bad = event.new in (DeviceState.DOWN, DeviceState.UNREACHABLE)
    if event.new is DeviceState.SUSPECT or (event.old is DeviceState.UNKNOWN and not bad):
        logger.debug("%s %s -> %s (%s)", event.device, event.old, event.new, event.reason)
        return
    level = logging.WARNING if bad else logging.INFO
    logger.log(level, "%s %s -> %s (%s)", event.device, event.old, event.new, event.reason)
