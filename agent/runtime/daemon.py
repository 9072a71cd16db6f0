"""The daemon's lifecycle: start, supervise, reload on SIGHUP, stop without losing a write.

Shape (STYLE 10-12): ``Daemon.run`` migrates the schema, restores open faults from the
database, opens the collectors, then runs in one ``TaskGroup``: the poll loops and the ticker
(:mod:`agent.runtime.scheduler`), the ticket writer (:mod:`agent.runtime.writer`), the systemd
watchdog, the loop-lag gauge, the reloader and the parts it was handed (topology watcher,
notifier; remediation tasks are started by the writer through :mod:`agent.runtime.repairs`).
SIGTERM/SIGINT stop the pollers first, then the writer drains the queue, so no write in
flight is lost. Every part is built by ``agent.wiring`` and handed in.

With ``leadership`` (issue 23, :mod:`agent.runtime.leader`) the daemon first waits as a
standby (``/healthz`` and the watchdog served, nothing polled or written) until it holds the
cluster's lock; a lost lock ends ``run`` with ``LeadershipLostError`` at once, without
draining the queue (the new leader polls again and finds what was in it), and without
waiting on the database: its connections are aborted, so a call blocked on a server that
stopped answering fails (the process exits and systemd restarts it as a standby).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, Self

from agent.errors import ConfigError
from agent.runtime import systemd
from agent.runtime.httpd import HealthChecks, MetricsServer
from agent.runtime.leader import LEADER
from agent.runtime.metrics import watch_loop_lag
from ticketing.migrate import migrate

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from types import TracebackType

    from agent.config.model import Inventory
    from agent.detect.ping import Detector
    from agent.runtime.leader import Leadership
    from agent.runtime.metrics import Metrics
    from agent.runtime.parts import Deliverer, Receiver, Runtime, Watcher
    from agent.runtime.repairs import Repairs
    from agent.runtime.scheduler import Scheduler
    from agent.runtime.writer import TicketWriter

logger = logging.getLogger(__name__)

NOTIFY_GRACE_SECONDS = 10.0  # SIGTERM: how long the notifier may finish its message in flight


class Daemon:
    """``sigap run``: poll every device, detect, keep tickets in the database."""

    def __init__(
        self,
        inventory: Inventory,
        runtime: Runtime,
        scheduler: Scheduler,
        writer: TicketWriter,
        *,
        repairs: Repairs | None = None,
        notifier: Deliverer | None = None,
        topology: Watcher | None = None,
        events: Receiver | None = None,
        metrics: Metrics | None = None,
        reload: Callable[[], Inventory] | None = None,
        leadership: Leadership | None = None,
        backups: Watcher | None = None,
        zones: Watcher | None = None,
        zone_status: Callable[[], dict[str, object]] | None = None,
    ) -> None:
        """Hold the parts; nothing starts until :meth:`run`.

        ``repairs`` is the remediation dispatch the ``writer`` reports openings to;
        ``metrics`` is served on ``daemon.metrics_listen``; ``reload`` loads the inventory
        again on SIGHUP (a ConfigError keeps the running one); ``topology`` is the
        re-discovery (issue 11: ``link_lost``, stored links); ``events`` the trap and syslog
        receivers (issue 20).
        """
        self.inventory = inventory
        self.runtime = runtime
        self.scheduler = scheduler
        self.writer = writer
        self.repairs = repairs
        self.backups = backups  # issue 22: the nightly configuration backup
        self.zones = zones  # issue 23: the zone pollers' results and heartbeats (leader only)
        self._zone_status = zone_status
        self.notifier = notifier
        self.topology = topology
        self.events = events
        self.metrics = metrics
        self._reload = reload
        self.leadership = leadership
        self._hup = asyncio.Event()

    @property
    def detector(self) -> Detector:
        """The ping detector (device states)."""
        return self.scheduler.detector

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
        self.runtime.stopping.set()

    async def run(self) -> None:
        """Run until :meth:`stop` or SIGTERM/SIGINT; pending ticket writes are finished first."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self._hup.set)
        server = await self._serve_metrics()
        try:
            if not await self._lead():
                return
            await self.runtime.call(partial(migrate, self.runtime.store))
            await self._restore()
            await self.scheduler.open()
            logger.info("sigap started: %d devices", len(self.scheduler.devices))
            await self._supervise()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if server is not None:
                await server.close()
            await self.scheduler.close()
            if self.repairs is not None:
                self.repairs.close()
            if self._stepped_down():  # nothing it still does there counts: fail it at once
                aborted = self.runtime.store.abort()
                logger.info("stepped down: %d database connections aborted", aborted)
            await self.runtime.finish()
            if self.leadership is not None:
                await self.leadership.close()
            systemd.notify("STOPPING=1")
            logger.info("sigap stopped")

    def _stepped_down(self) -> bool:
        """Whether this daemon led and lost the lock (its fence refuses every write now)."""
        lead = self.leadership
        return lead is not None and lead.leader == lead.node and lead.role != LEADER

    async def _lead(self) -> bool:
        """Wait as a standby until this daemon leads (at once without HA); False if stopped."""
        if self.leadership is None:
            return True
        systemd.notify("READY=1\nSTATUS=standby: waiting for the leader lock")
        dog = asyncio.create_task(systemd.watchdog(), name="watchdog")
        try:
            return await self.leadership.acquire(self.runtime.stopping)
        finally:
            dog.cancel()
            await asyncio.gather(dog, return_exceptions=True)

    async def _serve_metrics(self) -> MetricsServer | None:
        metrics = self.metrics
        if metrics is None:
            return None
        metrics.set_devices({d.name: d.opd for d in self.inventory.devices.values()})
        if not self.inventory.metrics_listen:
            return None
        checks = HealthChecks.from_metrics(metrics)
        if self._zone_status is not None:
            checks = replace(checks, zones=self._zone_status)
        if self.leadership is not None:
            lead = self.leadership
            checks = replace(checks, cluster=lead.status)
            metrics.watch_leadership(lead.node, lambda: lead.role == LEADER, lead.lease_age)
        server = MetricsServer(metrics.registry, checks, self.inventory.metrics_listen)
        await server.start()
        return server

    async def _supervise(self) -> None:
        async with asyncio.TaskGroup() as group:
            writer = group.create_task(self.writer.run(), name="tickets")
            self.scheduler.start(group)
            helpers = self._start_helpers(group)
            notify = (
                group.create_task(self.notifier.run(self.runtime.stopping), name="notifier")
                if self.notifier is not None
                else None
            )
            await self.runtime.stopping.wait()
            repairs = self.repairs.running if self.repairs is not None else []
            tasks = [*self.scheduler.tasks(), *helpers, *repairs]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.scheduler.history is not None:  # open rollup buckets too: nothing lost
                await self.scheduler.history.close()
            await self.writer.queue.put(None)  # drain: the writer ends after the last item
            await writer
            if notify is not None:  # it stops by itself after the message in flight
                try:
                    await asyncio.wait_for(notify, NOTIFY_GRACE_SECONDS)
                except TimeoutError:
                    logger.warning(
                        "notifier still sending after %.0f s; stopped", NOTIFY_GRACE_SECONDS
                    )

    def _start_helpers(self, group: asyncio.TaskGroup) -> list[asyncio.Task[None]]:
        """Start what runs beside the pollers; cancelled at stop (the writer drains after)."""
        runs: list[tuple[str, Coroutine[Any, Any, None]]] = [("watchdog", systemd.watchdog())]
        if self.metrics is not None:
            runs.append(("loop-lag", watch_loop_lag(self.metrics)))
        if self._reload is not None:
            runs.append(("reload", self._reloader()))
        if self.topology is not None:
            runs.append(("topology", self.topology.run()))
        if self.leadership is not None:  # raises LeadershipLostError: the group stops at once
            runs.append(("leadership", self.leadership.hold()))
        if self.events is not None:
            runs.append(("events", self.events.run()))
        if self.backups is not None:
            runs.append(("config-backup", self.backups.run()))
        if self.zones is not None:  # may raise LeadershipLostError too (a fenced read)
            runs.append(("zones", self.zones.run()))
        return [group.create_task(coro, name=name) for name, coro in runs]

    async def _reloader(self) -> None:
        """On SIGHUP: load the inventory again; a broken one is refused, the old one kept."""
        load = self._reload
        assert load is not None  # noqa: S101 - only started with a loader
        await reload_on(self._hup, load, self._apply)

    def _apply(self, new: Inventory) -> None:
        """Switch to a reloaded inventory: changed devices restart their loops, others go on."""
        changed, removed = self.scheduler.reconfigure(new)
        self.inventory = new
        if self.repairs is not None:
            self.repairs.reconfigure(new)
        if self.topology is not None:
            self.topology.reconfigure(new)
        if self.events is not None:
            self.events.reconfigure(new)
        if self.backups is not None:
            self.backups.reconfigure(new)
        if self.zones is not None:
            self.zones.reconfigure(new)
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
        if self.repairs is not None:
            await self.repairs.restore()
        runtime = self.runtime
        active = await runtime.call(runtime.store.active)
        self.scheduler.restore(active, runtime.now())
        if active:
            logger.info("resuming %d active tickets from the database", len(active))


async def reload_on(
    hup: asyncio.Event, load: Callable[[], Inventory], apply: Callable[[Inventory], None]
) -> None:
    """Forever: on each ``hup``, ``load`` the inventory (in a thread) and ``apply`` it.

    A broken inventory is refused with every problem logged and the running one kept; the
    daemon and the zone poller both reload through here.
    """
    while True:
        await hup.wait()
        hup.clear()
        logger.info("SIGHUP: reloading the inventory")
        try:
            new = await asyncio.to_thread(load)
        except ConfigError as exc:
            logger.error("inventory reload refused, the running one is kept:\n%s", exc)  # noqa: TRY400 - the problems are the message
            continue
        except Exception:
            logger.exception("inventory reload failed, the running one is kept")
            continue
        apply(new)
