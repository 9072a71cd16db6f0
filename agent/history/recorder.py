"""The daemon's traffic history: rollups of each SNMP poll, written and expired on a timer.

Each ping round's loss goes the same way into 5-minute loss buckets (``ticketing.pingloss``).

The scheduler hands :meth:`TrafficHistory.observe` the last interval of the ports kept in
history (``SnmpDetector.rollup_samples``); closed buckets wait in memory and
:meth:`TrafficHistory.run` writes them every ``flush_every`` on the store thread, and once an
hour deletes buckets past their retention. A database that is down keeps the buckets queued
(bounded: the oldest are dropped past ``max_pending``, logged). When the daemon stops,
:meth:`TrafficHistory.close` writes every bucket as it stands, the open 5-minute and hourly
ones too: after the restart the same buckets are written again and merged with these
(``ticketing.rollups.merge``: time-weighted), so a restart loses nothing of what was polled.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy.exc import SQLAlchemyError

from ticketing import pingloss
from ticketing.rollups import FINE, HOURLY, Rollup, Rollups, prune, write

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from agent.runtime.parts import Runtime
    from ticketing.rollups import Sample

logger = logging.getLogger(__name__)

RETENTION: Final = {FINE: timedelta(days=35), HOURLY: timedelta(days=400)}
MAX_PENDING: Final = 200_000  # about 8 h of 5-minute buckets for 4,000 ports


class TrafficHistory:
    """Rollups in memory, written by one task on the daemon's store thread."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        keep: Mapping[int, timedelta] = RETENTION,
        flush_every: float = 60.0,
        prune_every: timedelta = timedelta(hours=1),
        max_pending: int = MAX_PENDING,
    ) -> None:
        """Write through ``runtime`` (its store and thread); keep buckets for ``keep``."""
        self.runtime = runtime
        self.keep = dict(keep)
        self.flush_every = flush_every
        self.prune_every = prune_every
        self.max_pending = max_pending
        self.rollups = Rollups()
        self.pending: list[Rollup] = []
        self.losses = pingloss.LossBuckets()
        self.loss_pending: list[pingloss.Loss] = []
        self._pruned_at: datetime | None = None

    def observe(self, samples: Iterable[Sample]) -> None:
        """Take one poll's samples (closing the buckets they finish)."""
        self._queue(self.rollups.add(samples))

    def observe_ping(self, device: str, at: datetime, loss: float) -> None:
        """Take one ping round's loss ratio (closing the device's previous 5 minutes)."""
        self._queue_loss(self.losses.add(device, at, loss))

    def _queue_loss(self, closed: list[pingloss.Loss]) -> None:
        self.loss_pending += closed
        excess = len(self.loss_pending) - self.max_pending
        if excess > 0:
            logger.warning("ping loss history: %d buckets dropped", excess)
            del self.loss_pending[:excess]

    def _queue(self, closed: list[Rollup]) -> None:
        self.pending += closed
        excess = len(self.pending) - self.max_pending
        if excess > 0:
            logger.warning("traffic history: %d buckets dropped (database unreachable)", excess)
            del self.pending[:excess]

    async def flush(self) -> int:
        """Close due buckets, write what is pending, expire old rows when due; rows written."""
        now = self.runtime.now()
        self._queue(self.rollups.close_due(now))
        self._queue_loss(self.losses.close_due(now))
        batch, self.pending, store = self.pending, [], self.runtime.store
        losses, self.loss_pending = self.loss_pending, []
        written = 0
        try:
            if losses:
                await self.runtime.call(lambda: pingloss.write(store, losses))
                losses = []
            if batch:
                written = await self.runtime.call(lambda: write(store, batch))
                batch = []
            if self._pruned_at is None or now - self._pruned_at >= self.prune_every:
                removed = await self.runtime.call(lambda: self._prune(now))
                self._pruned_at = now
                if removed:
                    logger.info("traffic history: %d old buckets deleted", removed)
        except SQLAlchemyError as exc:
            logger.warning("traffic history not written (%s); kept for the next try", exc)
        finally:
            if batch:  # not written: back in front of what arrived meanwhile
                pending, self.pending = self.pending, []
                self._queue(batch + pending)
            if losses:
                later, self.loss_pending = self.loss_pending, []
                self._queue_loss(losses + later)
        return written

    def _prune(self, now: datetime) -> int:
        """Expire traffic buckets and the ping loss (kept as long as the 5-minute traffic)."""
        store = self.runtime.store
        removed = prune(store, now, self.keep)
        return removed + pingloss.prune(store, now, self.keep.get(FINE, RETENTION[FINE]))

    async def close(self) -> int:
        """Write every bucket, open ones too (the daemon stops); rows written.

        A database that is away at that moment loses them (logged): the daemon is stopping.
        """
        self._queue(self.rollups.close_all())
        self._queue_loss(self.losses.close_all())
        written = await self.flush()
        if self.pending:
            logger.warning("traffic history: %d buckets not written at stop", len(self.pending))
        return written

    async def run(self) -> None:
        """Flush every ``flush_every`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.flush_every)
            await self.flush()
