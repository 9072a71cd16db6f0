"""The leader's side of the zone pollers: their results into its detector, their heartbeats.

:class:`ZoneIngest` runs among the leader's duties (the daemon starts it only once it leads):

* results: woken by ``LISTEN sigap_zone_<cluster>`` (the pollers ``NOTIFY`` in the transaction
  that inserts a batch) or once a second anyway, it *takes* batches in id order: read and
  delete in one fenced transaction on the store thread (:func:`ticketing.zones.take`). A
  batch is handed over at most once, and a leader that takes over starts with whatever its
  predecessor had not taken: no result is fed twice, none is skipped by a cursor that a late
  commit of a lower id would jump (bigserial ids commit out of order across pollers). Each
  result goes to ``feed``, the very path of a local probe's result
  (``Scheduler.ingest_any``: a ping to metrics, history and the detector; an SNMP or health
  poll to metrics, the SNMP detector and the traffic history), so parent dependencies across
  zones are decided by one detector that sees the whole tree. A device's results of one kind
  are fed in time order only: one at or before the last one fed is a repeat (a poller whose
  commit was lost in a cut writes its batch again) and is skipped.
* re-polls: a device of a zone that the leader's detector wants confirmed now, or that a
  trap or syslog line named, is sent to the zone's pollers (:meth:`ZoneIngest.forward`, a
  NOTIFY), which poll it at once as the leader does its own.
* heartbeats: every lease/3 the ``zone_pollers`` rows go through :class:`Liveness`, whose
  ``poller_down`` events go to the ticket writer like any detector event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from agent.config.model import CENTRAL_ZONE
from agent.runtime.leader import LeadershipLostError
from agent.zones.codec import decode
from agent.zones.listen import listen
from ticketing.faults import FaultKind
from ticketing.states import TicketState
from ticketing.zones import channel, pollers, request_repoll, take

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.config.model import Inventory
    from agent.runtime.parts import Runtime
    from agent.zones.codec import Result
    from agent.zones.liveness import Liveness
    from ticketing.zones import Batch

logger = logging.getLogger(__name__)

POLL_SECONDS: Final = 1.0  # without a NOTIFY (or LISTEN down) the table is read this often
TAKE_LIMIT: Final = 200  # batches per transaction (a replay of 100,000 results: 50 batches)


class ZoneIngest:
    """Feed the pollers' results to the leader's detector; watch their heartbeats."""

    def __init__(
        self,
        inventory: Inventory,
        runtime: Runtime,
        feed: Callable[[Result], None],
        liveness: Liveness,
        *,
        cluster: str,
        lease: float,
        listen: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``listen`` opens a psycopg connection (autocommit) for LISTEN; None: poll only."""
        self.inventory = inventory
        self.runtime = runtime
        self.feed = feed
        self.liveness = liveness
        self.cluster = cluster
        self.every = lease / 3
        self.listen = listen
        self.clock = clock
        self.fed = 0
        self.refused = 0
        self.repeated = 0
        self._last: dict[tuple[str, type], datetime] = {}  # (device, kind) -> last result fed
        self.forwarded = 0
        self._wake = asyncio.Event()
        self._repolls: set[str] = set()
        self._repoll_wake = asyncio.Event()

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory (zones and devices may have changed)."""
        self.inventory = inventory
        self.liveness.reconfigure(inventory)

    async def run(self) -> None:
        """Ingest and watch until cancelled (the start-up grace counts from here: leading)."""
        self.liveness.started, self.liveness.started_at = self.clock(), self.runtime.now()
        active = await self.runtime.call(self.runtime.store.active)
        self.liveness.restore(
            t.device
            for t in active
            if t.kind == FaultKind.POLLER_DOWN and t.status is TicketState.OPEN
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(self._heartbeats(), name="zones:liveness")
            group.create_task(self._forward(), name="zones:repoll")
            if self.listen is not None:
                wake = listen(self.listen, channel(self.cluster), lambda _: self._wake.set())
                group.create_task(wake, name="zones:listen")
            await self._ingest()

    async def _ingest(self) -> None:
        failing = False
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()
            self._wake.clear()
            while True:
                try:
                    batches = await self.runtime.call(
                        partial(take, self.runtime.store, self.cluster, TAKE_LIMIT)
                    )
                except LeadershipLostError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the database is away: next second
                    if not failing:
                        logger.warning("zone results not read: %s", exc.__class__.__name__)
                    failing = True
                    break
                failing = False
                for batch in batches:
                    self._feed(batch)
                if len(batches) < TAKE_LIMIT:
                    break

    def take_now(self) -> None:
        """Read the table now (the LISTEN thread's wake-up; tests)."""
        self._wake.set()

    def _feed(self, batch: Batch) -> None:
        items = batch.payload if isinstance(batch.payload, list) else [batch.payload]
        refused = 0
        for item in items:
            obs = decode(item)
            device = self.inventory.devices.get(obs.device) if obs is not None else None
            if obs is None or device is None or device.zone == CENTRAL_ZONE:
                refused += 1  # malformed, unknown, or a central device: never trusted
                continue
            key = (obs.device, type(obs))
            last = self._last.get(key)
            if last is not None and obs.at <= last:
                self.repeated += 1  # a batch written twice (its commit was lost in a cut)
                continue
            self._last[key] = obs.at
            self.feed(obs)
            self.fed += 1
        if refused:
            self.refused += refused
            logger.warning(
                "zone batch %d from %s: %d of %d results refused (malformed or not a zone device)",
                batch.id,
                batch.node[:48],
                refused,
                len(items),
            )

    async def _heartbeats(self) -> None:
        store = self.runtime.store
        while True:
            try:
                beats = await self.runtime.call(partial(pollers, store, self.cluster))
            except Exception as exc:  # noqa: BLE001 - the database is away: no verdict now
                logger.debug("poller heartbeats not read: %s", exc.__class__.__name__)
            else:
                for event in self.liveness.update(beats, self.clock(), self.runtime.now()):
                    self.runtime.submit(event)
            await asyncio.sleep(self.every)

    def forward(self, device: str) -> None:
        """Ask the zone's pollers to poll ``device`` now (a trap, a suspect; zone devices only)."""
        known = self.inventory.devices.get(device)
        if known is not None and known.zone != CENTRAL_ZONE:
            self._repolls.add(device)
            self._repoll_wake.set()

    async def _forward(self) -> None:
        """Send the re-poll requests, a NOTIFY each (lost while the database is away)."""
        while True:
            await self._repoll_wake.wait()
            self._repoll_wake.clear()
            devices, self._repolls = sorted(self._repolls), set()
            try:
                await self.runtime.call(
                    partial(request_repoll, self.runtime.store, self.cluster, devices)
                )
            except LeadershipLostError:
                raise
            except Exception as exc:  # noqa: BLE001 - the pollers re-poll on their schedule
                logger.debug("re-poll of %s not sent: %s", devices, exc.__class__.__name__)
            else:
                self.forwarded += len(devices)
