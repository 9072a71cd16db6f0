"""The daemon's re-discovery (issue 11): neighbour tables walked slowly, ``link_lost`` ticketed.

Every ``topology.interval`` (first after ``FIRST_DELAY_S`` or the interval if shorter, so
the first ping round has set who answers) the daemon's SNMP collector walks every SNMP
device's neighbour tables, each walk inside the daemon's probe semaphore (``Runtime.slots``)
and at most ``MAX_WALKS`` at once. ``LinkWatch`` compares with what was seen: a lost link
becomes a ``FaultOpened`` and a restored one a ``FaultCleared`` on the ticket writer's queue,
so they are written in order with the pollers' events and retried through a database outage
like them. A new unknown neighbour is logged at INFO and recorded (``network_neighbours``);
the remembered links are stored (``network_links``) for the map and ``sigap peta``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from agent.detect.ping import FaultCleared, FaultOpened
from agent.topology.changes import LinkWatch
from agent.topology.graph import discover
from agent.topology.model import DeviceScan, Link
from agent.topology.scan import known_devices, scan_device
from ticketing.faults import FaultKind
from ticketing.states import TicketState
from ticketing.topology import NeighbourRecord, TopologyStore

if TYPE_CHECKING:
    from datetime import datetime

    from agent.config.model import Device, Inventory
    from agent.runtime.parts import Runtime
    from agent.topology.changes import LinkEvents
    from agent.topology.model import Discovery
    from agent.topology.scan import Walker

logger = logging.getLogger(__name__)

FIRST_DELAY_S: Final = 30.0
MAX_WALKS: Final = 16  # neighbour walks at once, inside the daemon's probe semaphore


def _watch(inventory: Inventory) -> LinkWatch:
    devices = inventory.devices.values()
    return LinkWatch({d.name: d.parent for d in devices}, {d.name: d.opd for d in devices})


def _shape(inventory: Inventory) -> dict[str, tuple[str, str | None, str]]:
    """What a LinkWatch depends on: names, addresses (neighbour matching), parents, OPDs."""
    return {d.name: (d.address, d.parent, d.opd) for d in inventory.devices.values()}


class TopologyWatcher:
    """Re-discovers the network for the daemon and feeds its ticket writer."""

    def __init__(self, inventory: Inventory, walker: Walker, runtime: Runtime) -> None:
        """Walk with ``walker`` inside ``runtime.slots``; events go to the ticket queue.

        A link counts as lost only while both ends answer pings (``runtime.answering``).
        """
        self.inventory = inventory
        self.walker = walker
        self.runtime = runtime
        self.watch = _watch(inventory)
        self._walks = asyncio.Semaphore(MAX_WALKS)
        self._platform_reported: dict[str, tuple[str, str]] = {}  # device -> (written, found)

    def reconfigure(self, inventory: Inventory) -> None:
        """After SIGHUP: a new baseline when devices, addresses or parents changed.

        Links still lost are carried over with their ticket's fault key, so those tickets
        clear when the cable is back.
        """
        changed = _shape(inventory) != _shape(self.inventory)
        self.inventory = inventory
        if changed:
            old, self.watch = self.watch, _watch(inventory)
            self.watch.resume(old.still_lost())
            logger.info("topology: inventory changed, the next discovery is a new baseline")

    async def run(self) -> None:
        """Discover every ``topology.interval`` until cancelled (a failed round is logged)."""
        await self._resume()
        delay = min(self.inventory.topology.interval, FIRST_DELAY_S)
        while True:
            await asyncio.sleep(delay)
            delay = self.inventory.topology.interval
            if not self.inventory.topology.enabled:
                continue
            try:
                await self.round()
            except (OperationalError, InterfaceError, DisconnectionError) as exc:
                logger.warning("topology not stored, database unreachable (%s)", type(exc).__name__)
            except Exception:  # a bug in one round must not stop the daemon
                logger.exception("topology discovery failed; retrying next interval")

    async def round(self) -> LinkEvents:
        """Scan, compare, queue fault events, store links and unknown neighbours."""
        inventory = self.inventory
        devices = [d for d in inventory.devices.values() if d.snmp is not None]
        scans = await asyncio.gather(*(self._scan(d) for d in devices))
        found = discover(scans, known_devices(inventory))
        events = self.watch.update(found, self.runtime.answering())
        at = self.runtime.now()
        for fault in events.lost:
            logger.warning("link lost while both ends answer: %s", fault.summary)
            self.runtime.submit(FaultOpened(fault, at))
        for key in events.restored:
            logger.info("link %s seen again (or an end is down)", key)
            self.runtime.submit(FaultCleared(key, at, "link seen again"))
        for u in events.new_unknown:
            logger.info(
                "new unknown neighbour %s (%s) seen by %s port %s [%s]",
                u.name, u.address or "-", u.seen_by, u.port, u.protocol,
            )  # fmt: skip
        self._report_platforms(found)
        logger.debug(
            "topology: %d links, %d unknown neighbours, %d devices silent",
            len(found.links), len(found.unknown), len(found.silent),
        )  # fmt: skip
        await self._store(found, at)
        return events

    def _report_platforms(self, found: Discovery) -> None:
        """Log once per device a written platform that differs from the detected one."""
        for p in found.platforms:
            seen = (p.current, p.found.device_type)
            if p.status != "conflict" or self._platform_reported.get(p.device) == seen:
                continue
            self._platform_reported[p.device] = seen
            logger.warning(
                "platform of %s: inventory says %s, the device reports %s (%s); the inventory's "
                "is used",
                p.device, p.current, p.found.device_type, p.found.summary(),
            )  # fmt: skip

    async def _scan(self, device: Device) -> DeviceScan:
        async with self._walks, self.runtime.slots:
            try:
                return await scan_device(self.walker, device)
            except Exception as exc:  # one device's bug must not stop the round
                logger.exception("neighbour walk of %s failed", device.name)
                return DeviceScan(device.name, {}, (), error=f"{type(exc).__name__}: {exc}")

    async def _store(self, found: Discovery, at: datetime) -> None:
        topo = TopologyStore(self.runtime.store)
        links = {link.key: link.protocols for link in self.watch.links}
        seen = [link.key for link in found.links]
        lost = self.watch.lost
        unknown = [
            NeighbourRecord(
                u.seen_by, u.port, u.name, u.address, u.remote_port, u.protocol, u.platform, at, at
            )
            for u in found.unknown
        ]

        def write() -> None:
            topo.save_links(links, seen=seen, lost=lost, at=at)
            topo.record_neighbours(unknown, at=at)

        await self.runtime.call(write)

    async def _resume(self) -> None:
        """Links lost with a still-open ticket (previous process) stay lost until seen."""
        store = self.runtime.store

        def load() -> list[tuple[Link, str]]:
            open_keys = {
                t.fault_key
                for t in store.active()
                if t.kind == FaultKind.LINK_LOST.value and t.status is TicketState.OPEN
            }
            return [
                (Link(r.a, r.a_port, r.b, r.b_port, r.protocols), r.fault_key)
                for r in TopologyStore(store).links()
                if r.fault_key is not None and r.fault_key in open_keys
            ]

        try:
            lost = await self.runtime.call(load)
        except (OperationalError, InterfaceError, DisconnectionError):
            logger.warning("topology: database unreachable, lost links not resumed")
            return
        if lost:
            logger.info("topology: %d links still lost from before", len(lost))
        self.watch.resume(lost)
