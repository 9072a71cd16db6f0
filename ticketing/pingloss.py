"""ICMP loss history: each ping round's loss ratio -> 5-minute buckets per device, and their table.

The daemon hands :class:`LossBuckets` every ping round (device, time, loss ratio 0..1); a
bucket closes when a round of the device falls in a later bucket, at :meth:`close_due`
(``grace`` after its end) or at :meth:`close_all` (the daemon stops). A bucket written twice
(a restart inside 5 minutes) is merged: rounds and loss sums add, the worst round stays.
Rounds of a dead device count (loss 1.0): the 5-minute loss is what a user behind it lived.
Kept as long as the 5-minute traffic buckets (``history.fine``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, inspect, select, tuple_

from ticketing.models import PingRollup
from ticketing.rollups import FINE, FOREVER, bucket_start

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from ticketing.store import TicketStore


@dataclass(frozen=True, slots=True)
class Loss:
    """One device's ping rounds in one 5-minute bucket."""

    device: str
    start: datetime
    rounds: int
    loss_sum: float
    loss_max: float

    @property
    def ratio(self) -> float:
        """Average loss of the rounds, 0..1."""
        return self.loss_sum / self.rounds if self.rounds else 0.0

    def merged(self, other: Loss) -> Loss:
        """This bucket and another write of it as one."""
        return Loss(self.device, self.start, self.rounds + other.rounds,
                    self.loss_sum + other.loss_sum, max(self.loss_max, other.loss_max))  # fmt: skip


class LossBuckets:
    """Open 5-minute loss buckets per device."""

    def __init__(self, *, grace: timedelta = timedelta(seconds=90)) -> None:
        """``grace``: how long after its end a bucket waits for late rounds."""
        self.grace = grace
        self._open: dict[str, Loss] = {}

    def add(self, device: str, at: datetime, loss: float) -> list[Loss]:
        """Count one round (loss outside 0..1 is clamped); return the bucket it closed."""
        ratio = 1.0 if math.isnan(loss) else min(max(loss, 0.0), 1.0)
        start = bucket_start(at, FINE)
        current = self._open.get(device)
        closed: list[Loss] = []
        if current is not None and current.start != start:
            closed.append(self._open.pop(device))
            current = None
        round_ = Loss(device, start, 1, ratio, ratio)
        self._open[device] = round_ if current is None else current.merged(round_)
        return closed

    def close_due(self, now: datetime) -> list[Loss]:
        """Close the buckets that ended ``grace`` or more before ``now``."""
        limit = now - self.grace
        return self._close(lambda b: b.start + timedelta(seconds=FINE) <= limit)

    def close_all(self) -> list[Loss]:
        """Close every bucket as it stands (the daemon stops)."""
        return self._close(lambda b: b.start < FOREVER)

    def _close(self, due: Callable[[Loss], bool]) -> list[Loss]:
        closed = [b for b in self._open.values() if due(b)]
        for b in closed:
            del self._open[b.device]
        return closed


def write(store: TicketStore, buckets: Sequence[Loss]) -> int:
    """Store closed buckets, merged with a stored one of the same key; return how many."""
    if not buckets:
        return 0
    t = PingRollup
    with store.transaction() as session:
        keys = {(b.device, b.start) for b in buckets}
        rows = session.scalars(select(t).where(tuple_(t.device, t.start).in_(keys)))
        stored = {(r.device, r.start): r for r in rows}
        for b in buckets:
            row = stored.get((b.device, b.start))
            if row is None:
                row = PingRollup(device=b.device, start=b.start, rounds=0, loss_sum=0.0,
                                 loss_max=0.0)  # fmt: skip
                session.add(row)
                stored[(b.device, b.start)] = row
            row.rounds += b.rounds
            row.loss_sum += b.loss_sum
            row.loss_max = max(row.loss_max, b.loss_max)
    return len(buckets)


def read(store: TicketStore, device: str, *, start: datetime, end: datetime) -> list[Loss]:
    """The device's stored buckets in ``[start, end)``, oldest first (none before 0011)."""
    t = PingRollup
    stmt = select(t).where(t.device == device, t.start >= start, t.start < end).order_by(t.start)
    with store.transaction(write=False) as session:
        if not inspect(session.connection()).has_table(t.__tablename__):
            return []  # a read-only command before the daemon migrated to 0011
        return [Loss(r.device, r.start, r.rounds, r.loss_sum, r.loss_max)
                for r in session.scalars(stmt)]  # fmt: skip


def prune(store: TicketStore, now: datetime, age: timedelta) -> int:
    """Delete buckets older than ``age``."""
    with store.transaction() as session:
        result = session.execute(delete(PingRollup).where(PingRollup.start < now - age))
        return int(getattr(result, "rowcount", 0) or 0)


def summary(buckets: Sequence[Loss]) -> tuple[float | None, float | None]:
    """(average loss over every round, worst 5-minute average) of ``buckets``; None: no data."""
    rounds = sum(b.rounds for b in buckets)
    if not rounds:
        return None, None
    return sum(b.loss_sum for b in buckets) / rounds, max(b.ratio for b in buckets)


def totals(
    store: TicketStore, device: str, *, start: datetime, end: datetime
) -> tuple[int, float | None, float | None]:
    """(rounds, average loss, worst 5-minute average) in ``[start, end)``, summed by the database.

    The same figures as :func:`summary` of :func:`read` without loading a month's 8,640 rows.
    """
    t = PingRollup
    stmt = select(func.sum(t.rounds), func.sum(t.loss_sum), func.max(t.loss_sum / t.rounds)).where(
        t.device == device, t.start >= start, t.start < end, t.rounds > 0
    )
    with store.transaction(write=False) as session:
        if not inspect(session.connection()).has_table(t.__tablename__):
            return 0, None, None
        rounds, lost, worst = session.execute(stmt).one()
    if not rounds:
        return 0, None, None
    return int(rounds), float(lost) / int(rounds), float(worst)
