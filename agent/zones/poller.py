"""``sigap run --zona NAME``: a zone poller's process (issue 23).

It polls the devices it holds (on PostgreSQL its :class:`agent.zones.leases.LeaseKeeper`
shares a zone's devices among the zone's live pollers and hands a dead one's over), runs the
detector on them only to drive its own confirmation re-polls (its fault events are dropped:
the leader's detector decides), and ships every result through
:class:`agent.zones.ship.Shipper`. No singleton duty runs here: no ticket writes,
notifications, remediation, backup, topology, events or web. It starts and polls while the
database is away (nothing is read from it at start-up). The leader can ask it to poll one of
its devices now (a trap, a suspect parent: :meth:`Poller.repoll`, LISTEN on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agent.runtime import systemd
from agent.runtime.daemon import reload_on
from agent.runtime.httpd import HealthChecks, MetricsServer
from agent.runtime.metrics import watch_loop_lag
from agent.runtime.metrics.zones import PollerView, ZonesView
from agent.zones.listen import listen
from agent.zones.ship import inventory_sha
from ticketing.zones import repoll_channel

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from agent.config.model import Device, Inventory
    from agent.runtime.metrics import Metrics
    from agent.runtime.parts import Runtime
    from agent.runtime.scheduler import Scheduler
    from agent.zones.leases import LeaseKeeper
    from agent.zones.settings import PollerSettings
    from agent.zones.ship import Shipper

logger = logging.getLogger(__name__)


def owned_devices(inventory: Inventory, zones: Collection[str]) -> list[Device]:
    """Every device of the poller's zones (its device leases narrow what it polls)."""
    return [d for d in inventory.devices.values() if d.zone in zones]


def zone_inventory(inventory: Inventory, devices: Collection[Device]) -> Inventory:
    """``inventory`` cut down to ``devices``; a parent outside them is dropped.

    The poller's detector sees only what it polls: a device whose parent is polled elsewhere
    is a root here (its verdict is the leader's, whose detector knows the whole tree).
    """
    names = {d.name for d in devices}
    kept = {
        d.name: d if d.parent in names or d.parent is None else replace(d, parent=None)
        for d in inventory.devices.values()
        if d.name in names
    }
    children: dict[str, list[str]] = {}
    for d in kept.values():
        if d.parent is not None:
            children.setdefault(d.parent, []).append(d.name)
    return replace(inventory, devices=kept, _children={k: tuple(v) for k, v in children.items()})


class Poller:
    """The zone poller's lifecycle: poll and ship until SIGTERM, then a last write."""

    def __init__(
        self,
        settings: PollerSettings,
        inventory: Inventory,
        runtime: Runtime,
        scheduler: Scheduler,
        shipper: Shipper,
        *,
        metrics: Metrics | None = None,
        reload: Callable[[], Inventory] | None = None,
        full: Inventory | None = None,
    ) -> None:
        """Hold the parts (built by ``agent.wiring.build_poller``); nothing starts yet.

        ``reload`` loads the inventory again on SIGHUP (a broken one keeps the running one).
        ``full`` is the whole inventory (``inventory`` is the part polled now); with a
        :attr:`keeper` (device leases, set by the wiring) the polled part follows the leases.
        """
        self.settings = settings
        self.inventory = inventory
        self.full = full if full is not None else inventory
        self.keeper: LeaseKeeper | None = None
        self.listen: Callable[[], Any] | None = None  # a psycopg session for the leader's re-polls
        self.repolled = 0
        self.held: frozenset[str] | None = None  # the keeper's devices; None: the whole zone
        self.runtime = runtime
        self.scheduler = scheduler
        self.shipper = shipper
        self.metrics = metrics
        self._reload = reload
        self._hup = asyncio.Event()

    def stop(self) -> None:
        """Ask the poller to finish (safe from a signal handler)."""
        self.runtime.stopping.set()

    def view(self) -> ZonesView:
        """This poller's series for /metrics."""
        counts: dict[str, int] = dict.fromkeys(self.settings.zones, 0)
        for d in self.scheduler.devices:
            counts[d.zone] = counts.get(d.zone, 0) + 1
        p = PollerView(
            self.settings.node,
            self.settings.zones,
            buffered=self.shipper.buffered,
            dropped=self.shipper.dropped,
            devices=counts,
        )
        return ZonesView((p,))

    async def run(self) -> None:
        """Poll and ship until stopped; then one last write of the buffer (bounded wait)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self._hup.set)
        server = await self._serve_metrics()
        try:
            await self.scheduler.open()
            s = self.settings
            logger.info(
                "zone poller %s started: zones %s, %d devices (cluster %s)",
                s.node,
                ",".join(s.zones),
                len(self.scheduler.devices),
                s.cluster,
            )
            async with asyncio.TaskGroup() as group:
                self.scheduler.start(group)
                helpers = [
                    group.create_task(self.shipper.run(), name="ship"),
                    group.create_task(self._drop_events(), name="events"),
                    group.create_task(systemd.watchdog(), name="watchdog"),
                    group.create_task(self._reloader(), name="reload"),
                ]
                if self.metrics is not None:
                    helpers.append(group.create_task(watch_loop_lag(self.metrics), name="lag"))
                if self.keeper is not None:
                    keeper = self.keeper.run(self.runtime.stopping)
                    helpers.append(group.create_task(keeper, name="leases"))
                if self.listen is not None:
                    asked = listen(self.listen, repoll_channel(s.cluster), self.repoll)
                    helpers.append(group.create_task(asked, name="repolls"))
                await self.runtime.stopping.wait()
                tasks = [*self.scheduler.tasks(), *helpers]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            if self.keeper is not None:
                await self.keeper.close()  # the others take the devices at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.shipper.flush(), self.settings.lease)
            if self.shipper.buffered:
                logger.warning("stopping with %d results not sent", self.shipper.buffered)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if server is not None:
                await server.close()
            await self.scheduler.close()
            await self.runtime.finish()  # bounded: a hung database is aborted
            systemd.notify("STOPPING=1")
            logger.info("zone poller stopped")

    async def _reloader(self) -> None:
        """On SIGHUP: the zone's devices of the reloaded inventory (a broken one is refused)."""
        if self._reload is not None:
            await reload_on(self._hup, self._reload, self._apply)
            return
        while True:
            await self._hup.wait()
            self._hup.clear()
            logger.warning("SIGHUP: this poller cannot reload; restart it")

    def _apply(self, fresh: Inventory) -> None:
        """Poll the reloaded inventory's zone devices; its sha256 goes in the heartbeat."""
        self.full = fresh
        self.shipper.sha = inventory_sha(fresh.path)
        local, changed, removed = self._poll_now()
        logger.info(
            "inventory reloaded: %d devices of zones %s, %d new or changed, %d removed",
            len(local.devices),
            ",".join(self.settings.zones),
            len(changed),
            len(removed),
        )

    def zone_devices(self) -> dict[str, list[str]]:
        """Zone -> device names of this poller's zones (what the lease keeper shares out)."""
        out: dict[str, list[str]] = {z: [] for z in self.settings.zones}
        for d in owned_devices(self.full, self.settings.zones):
            out[d.zone].append(d.name)
        return out

    def hold(self, devices: frozenset[str]) -> None:
        """The lease keeper's devices: poll exactly these from now on."""
        self.held = devices
        local, changed, removed = self._poll_now()
        logger.info(
            "leases: %s polls %d devices of zones %s (%d new, %d handed over)",
            self.settings.node,
            len(local.devices),
            ",".join(self.settings.zones),
            len(changed),
            len(removed),
        )

    def _poll_now(self) -> tuple[Inventory, list[Device], list[str]]:
        mine = owned_devices(self.full, self.settings.zones)
        if self.held is not None:
            mine = [d for d in mine if d.name in self.held]
        local = zone_inventory(self.full, mine)
        changed, removed = self.scheduler.reconfigure(local)
        self.inventory = local
        if self.metrics is not None:
            self.metrics.set_devices({d.name: d.opd for d in self.scheduler.devices})
        return local, changed, removed

    def repoll(self, device: str) -> None:
        """The leader asks for a poll of ``device`` now: done if this poller polls it."""
        if device in self.inventory.devices:  # any other payload is ignored
            self.repolled += 1
            self.scheduler.repoll(device)

    async def _drop_events(self) -> None:
        """The local detector's events and ticks: the leader decides, so they end here."""
        while True:
            await self.runtime.tickets.get()

    async def _serve_metrics(self) -> MetricsServer | None:
        metrics = self.metrics
        if metrics is None:
            return None
        metrics.set_devices({d.name: d.opd for d in self.scheduler.devices})
        metrics.watch_zones(self.view)
        if not self.inventory.metrics_listen:
            return None
        online = self.shipper
        checks = replace(
            HealthChecks.from_metrics(metrics),
            database=lambda: online.online,
            zones=lambda: {
                "role": "poller",
                "node": self.settings.node,
                "zones": list(self.settings.zones),
                "buffered": online.buffered,
                "dropped": online.dropped,
            },
        )
        server = MetricsServer(metrics.registry, checks, self.inventory.metrics_listen)
        await server.start()
        return server
