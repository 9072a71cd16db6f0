"""Traffic rollups: raw poll rates -> 5-minute buckets -> hourly buckets (pure), and their table.

One concept: the traffic rollup (its arithmetic, then its table: write and prune).

The daemon hands each poll's rates of the ports that matter (:class:`Sample`: the interval
the rates cover and the rates) to :class:`Rollups`; it returns the buckets that closed, which
:func:`write` stores and :func:`prune` expires. Rules, worked through:

* A sample covers ``[start, end)`` (two polls); its rate is taken as constant over that
  interval, so a sample across a bucket boundary is split by time (20 s in one bucket, 10 s in
  the next). Averages are time-weighted over the seconds *with data*: a gap (device down, a
  counter reset, SNMP silent) lowers ``covered_s``, not the average. ``in_avg * covered_s``
  is therefore exactly the bits counted, which is what the property tests check.
* 5-minute p95: nearest-rank 95th percentile of the sample rates in the bucket. Hourly p95:
  the 95th percentile of the hour's 5-minute averages (the "95th percentile" of ISP billing).
* A bucket closes when a later sample of the port starts at or after its end, or when
  :meth:`Rollups.close_due` is called with a time past its end plus ``grace``;
  :meth:`Rollups.close_all` closes every bucket as it stands (the daemon stops).
* Buckets are cut at UTC multiples of their length; WITA has no DST and a whole-hour offset,
  so hourly buckets are also WITA hours.
* A bucket written twice (a restart inside an hour) is merged: time-weighted averages,
  summed coverage and errors, the higher p95 and peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import bindparam, delete, func, inspect, select, tuple_

from ticketing.models import TrafficRollup

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.orm import Session

    from ticketing.store import TicketStore

FINE: Final = 300  # seconds
HOURLY: Final = 3600
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
P95: Final = 0.95
FOREVER: Final = datetime(9000, 1, 1, tzinfo=UTC)  # after every bucket


@dataclass(frozen=True, slots=True)
class Sample:
    """Rates of one port over one poll interval ``[start, end)``; None where unknown."""

    device: str
    interface: str
    start: datetime
    end: datetime
    in_bps: float | None
    out_bps: float | None
    utilisation: float | None = None
    errors_ps: float | None = None


@dataclass(frozen=True, slots=True)
class Rollup:
    """One stored bucket (see ``ticketing.models.TrafficRollup``)."""

    device: str
    interface: str
    step: int
    start: datetime
    covered_s: float
    in_avg: float | None
    out_avg: float | None
    in_p95: float | None
    out_p95: float | None
    util_max: float | None
    errors: float | None


def bucket_start(at: datetime, step: int) -> datetime:
    """The start of the ``step``-second bucket holding ``at`` (UTC-aligned)."""
    seconds = math.floor((at - EPOCH).total_seconds() / step) * step
    return EPOCH + timedelta(seconds=seconds)


def p95(values: Sequence[float]) -> float | None:
    """Nearest-rank 95th percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(P95 * len(ordered)) - 1)]


@dataclass(slots=True)
class _Direction:
    """Weighted sum and samples of one direction in one bucket."""

    bits: float = 0.0
    seconds: float = 0.0
    rates: list[float] = field(default_factory=list)

    def add(self, rate: float | None, seconds: float) -> None:
        if rate is None:
            return
        self.bits += rate * seconds
        self.seconds += seconds
        self.rates.append(rate)

    @property
    def avg(self) -> float | None:
        return self.bits / self.seconds if self.seconds > 0 else None


@dataclass(slots=True)
class _Bucket:
    """A bucket being filled."""

    start: datetime
    inbound: _Direction = field(default_factory=_Direction)
    outbound: _Direction = field(default_factory=_Direction)
    util: list[float] = field(default_factory=list)
    errors: float | None = None

    def add(self, sample: Sample, seconds: float) -> None:
        self.inbound.add(sample.in_bps, seconds)
        self.outbound.add(sample.out_bps, seconds)
        if sample.utilisation is not None:
            self.util.append(sample.utilisation)
        if sample.errors_ps is not None:
            self.errors = (self.errors or 0.0) + sample.errors_ps * seconds

    def done(self, device: str, interface: str, step: int) -> Rollup:
        return Rollup(
            device, interface, step, self.start,
            covered_s=max(self.inbound.seconds, self.outbound.seconds),
            in_avg=self.inbound.avg, out_avg=self.outbound.avg,
            in_p95=p95(self.inbound.rates), out_p95=p95(self.outbound.rates),
            util_max=max(self.util, default=None), errors=self.errors,
        )  # fmt: skip


def split(sample: Sample, step: int) -> list[tuple[datetime, float]]:
    """(bucket start, seconds of the sample in it) for each bucket the sample touches."""
    out: list[tuple[datetime, float]] = []
    at = sample.start
    while at < sample.end:
        start = bucket_start(at, step)
        end = min(start + timedelta(seconds=step), sample.end)
        out.append((start, (end - at).total_seconds()))
        at = end
    return out


MAX_SAMPLE: Final = timedelta(hours=1)  # a longer interval is a gap, not one long sample


class Rollups:
    """5-minute buckets per port from samples, hourly buckets from the 5-minute ones."""

    def __init__(self, *, grace: timedelta = timedelta(seconds=90)) -> None:
        """``grace``: how long after its end a bucket waits for late samples."""
        self.grace = grace
        self._fine: dict[tuple[str, str], dict[datetime, _Bucket]] = {}
        self._hourly: dict[tuple[str, str], dict[datetime, list[Rollup]]] = {}

    def add(self, samples: Iterable[Sample]) -> list[Rollup]:
        """Feed samples; return the buckets (5-minute and hourly) they closed."""
        closed: list[Rollup] = []
        for sample in samples:
            if not sample.start < sample.end or sample.end - sample.start > MAX_SAMPLE:
                continue  # a clock step or a long gap: no rate to spread
            port = (sample.device, sample.interface)
            open_ = self._fine.setdefault(port, {})
            for start, seconds in split(sample, FINE):
                open_.setdefault(start, _Bucket(start)).add(sample, seconds)
            closed += self._close(port, sample.start)
        return closed

    def close_due(self, now: datetime) -> list[Rollup]:
        """Close every bucket whose end is ``grace`` or more before ``now``."""
        closed: list[Rollup] = []
        for port in list(self._fine.keys() | self._hourly.keys()):
            closed += self._close(port, now - self.grace)
        return closed

    def close_all(self) -> list[Rollup]:
        """Close every bucket, partial ones too (the daemon stops; a restart merges them)."""
        closed: list[Rollup] = []
        for port in list(self._fine.keys() | self._hourly.keys()):
            closed += self._close(port, FOREVER)
        return closed

    def _close(self, port: tuple[str, str], limit: datetime) -> list[Rollup]:
        """Close the port's buckets that end at or before ``limit`` (5-minute, then hourly)."""
        fine_step, hour_step = timedelta(seconds=FINE), timedelta(seconds=HOURLY)
        buckets = self._fine.get(port, {})
        hours = self._hourly.setdefault(port, {})
        closed: list[Rollup] = []
        for start in sorted(s for s in buckets if s + fine_step <= limit):
            fine = buckets.pop(start).done(*port, FINE)
            closed.append(fine)
            hours.setdefault(bucket_start(start, HOURLY), []).append(fine)
        closed += [hourly(hours.pop(h)) for h in sorted(h for h in hours if h + hour_step <= limit)]
        if not buckets:
            self._fine.pop(port, None)
        if not hours:
            self._hourly.pop(port, None)
        return closed


def hourly(fine: Sequence[Rollup]) -> Rollup:
    """One hourly bucket from its 5-minute buckets (p95 of their averages)."""
    first = fine[0]

    def weighted(values: Iterable[tuple[float | None, float]]) -> float | None:
        known = [(v, s) for v, s in values if v is not None and s > 0]
        seconds = sum(s for _, s in known)
        return sum(v * s for v, s in known) / seconds if seconds else None

    return Rollup(
        first.device, first.interface, HOURLY, bucket_start(first.start, HOURLY),
        covered_s=sum(r.covered_s for r in fine),
        in_avg=weighted((r.in_avg, r.covered_s) for r in fine),
        out_avg=weighted((r.out_avg, r.covered_s) for r in fine),
        in_p95=p95([r.in_avg for r in fine if r.in_avg is not None]),
        out_p95=p95([r.out_avg for r in fine if r.out_avg is not None]),
        util_max=max((r.util_max for r in fine if r.util_max is not None), default=None),
        errors=_sum(r.errors for r in fine),
    )  # fmt: skip


def _sum(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def merge(a: Rollup, b: Rollup) -> Rollup:
    """Two writes of the same bucket as one (time-weighted; higher p95 and peak)."""

    def avg(x: float | None, y: float | None) -> float | None:
        if x is None or y is None:
            return x if y is None else y
        total = a.covered_s + b.covered_s
        return (x * a.covered_s + y * b.covered_s) / total if total else None

    def top(x: float | None, y: float | None) -> float | None:
        return max(v for v in (x, y) if v is not None) if x is not None or y is not None else None

    return replace(
        a,
        covered_s=a.covered_s + b.covered_s,
        in_avg=avg(a.in_avg, b.in_avg),
        out_avg=avg(a.out_avg, b.out_avg),
        in_p95=top(a.in_p95, b.in_p95),
        out_p95=top(a.out_p95, b.out_p95),
        util_max=top(a.util_max, b.util_max),
        errors=_sum((a.errors, b.errors)),
    )


# -- the table ------------------------------------------------------------------------------------

COLUMNS: Final = (
    "covered_s", "in_avg", "out_avg", "in_p95", "out_p95", "util_max", "errors",
)  # fmt: skip


def write(store: TicketStore, rollups: Sequence[Rollup]) -> int:
    """Store closed buckets (merging with a stored one of the same key); return how many."""
    if not rollups:
        return 0
    with store.transaction() as session:
        stored = _existing(session, rollups)
        for r in rollups:
            key = (r.device, r.interface, r.step, r.start)
            row = stored.get(key)
            if row is None:
                session.add(TrafficRollup(**_values(r)))
                continue
            merged = merge(_rollup(row), r)
            for name in COLUMNS:
                setattr(row, name, getattr(merged, name))
    return len(rollups)


def _existing(
    session: Session, rollups: Sequence[Rollup]
) -> Mapping[tuple[str, str, int, datetime], TrafficRollup]:
    t = TrafficRollup
    keys = {(r.device, r.interface, r.step, r.start) for r in rollups}
    starts = {(r.step, r.start) for r in rollups}
    stmt = select(t).where(tuple_(t.step, t.start).in_(starts))
    return {
        key: row
        for row in session.scalars(stmt)
        if (key := (row.device, row.interface, row.step, row.start)) in keys
    }


def _values(r: Rollup) -> dict[str, object]:
    return {
        "device": r.device, "interface": r.interface, "step": r.step, "start": r.start,
        **{name: getattr(r, name) for name in COLUMNS},
    }  # fmt: skip


def _rollup(row: TrafficRollup) -> Rollup:
    return Rollup(
        row.device, row.interface, row.step, row.start,
        *(getattr(row, name) for name in COLUMNS),
    )  # fmt: skip


def read(
    store: TicketStore, device: str, interface: str, *, step: int, start: datetime, end: datetime
) -> list[Rollup]:
    """The stored buckets of one port and step in ``[start, end)``, oldest first."""
    t = TrafficRollup
    stmt = (
        select(t)
        .where(t.device == device, t.interface == interface, t.step == step)
        .where(t.start >= start, t.start < end)
        .order_by(t.start)
    )
    with store.transaction(write=False) as session:
        return [_rollup(row) for row in session.scalars(stmt)]


def prune(store: TicketStore, now: datetime, keep: Mapping[int, timedelta]) -> int:
    """Delete buckets older than their step's retention (``{300: 35 days, 3600: 400 days}``)."""
    t = TrafficRollup
    removed = 0
    with store.transaction() as session:
        for step, age in keep.items():
            result = session.execute(delete(t).where(t.step == step, t.start < now - age))
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def stored_ports(store: TicketStore, device: str) -> list[str]:
    """The interfaces of ``device`` that have buckets, by name."""
    t = TrafficRollup
    stmt = select(t.interface).where(t.device == device).distinct().order_by(t.interface)
    with store.transaction(write=False) as session:
        return list(session.scalars(stmt)) if _migrated(session) else []


def _migrated(session: Session) -> bool:
    """Whether the database has the rollup table yet (migration 0010).

    A read-only command does not migrate: the monthly report, run before the upgraded daemon
    first started, must still come out (without traffic).
    """
    return inspect(session.connection()).has_table(TrafficRollup.__tablename__)


# -- busiest links of a period ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Busy:
    """The 95th percentile of one port's 5-minute averages over a period, against its contract."""

    device: str
    interface: str
    opd: str
    bandwidth_bps: float | None
    in_p95: float | None
    out_p95: float | None
    exact: bool  # False: 5-minute buckets expired, the hourly p95s stood in

    @property
    def utilisation(self) -> float | None:
        """The higher p95 over the bandwidth (None when either is unknown)."""
        known = [v for v in (self.in_p95, self.out_p95) if v is not None]
        if not known or not self.bandwidth_bps:
            return None
        return max(known) / self.bandwidth_bps


def busiest(
    store: TicketStore,
    ports: Mapping[tuple[str, str], tuple[str, float | None]],
    *,
    start: datetime,
    end: datetime,
    limit: int = 10,
) -> list[Busy]:
    """The ``limit`` busiest of ``ports`` ((device, interface) -> (OPD, bandwidth bit/s)).

    A month holds 8,640 five-minute averages per port, so the exact p95 is computed only for
    candidates: one GROUP BY over the hourly buckets ranks every port by its busiest hour
    (highest hourly p95 against the bandwidth), and the top ``2 x limit`` get their nearest-rank
    p95 over the period's 5-minute averages (a port whose 5-minute buckets expired keeps the
    p95 of its hourly p95s, marked not exact).
    """
    if not ports or limit <= 0:
        return []
    with store.transaction(write=False) as session:
        if not _migrated(session):
            return []
        peaks = _hourly_peaks(session, list(ports), start, end)

        def load(port: tuple[str, str]) -> float:
            bandwidth = ports[port][1]
            return max(peaks[port]) / bandwidth if bandwidth else max(peaks[port]) / 1e12

        candidates = sorted(peaks, key=lambda p: (-load(p), p))[: 2 * limit]
        out = [_busy(session, port, ports[port], start, end) for port in candidates]
    ranked = sorted(
        (b for b in out if b is not None),
        key=lambda b: (-(b.utilisation or 0.0), -max(b.in_p95 or 0, b.out_p95 or 0), b.device),
    )
    return ranked[:limit]


def _hourly_peaks(
    session: Session, ports: Sequence[tuple[str, str]], start: datetime, end: datetime
) -> dict[tuple[str, str], tuple[float, float]]:
    """Each port's busiest hour (highest hourly p95 in/out): one primary-key range per port.

    A GROUP BY over every hourly row of the month reads all ports' rows (4 per device)
    and grew to seconds at 1,000 devices; a range per wanted port reads only its ~720 rows.
    """
    t = TrafficRollup
    stmt = select(func.max(t.in_p95), func.max(t.out_p95), func.count()).where(
        t.device == bindparam("device"), t.interface == bindparam("interface"),
        t.step == HOURLY, t.start >= start, t.start < end,
    )  # fmt: skip
    out = {}
    for device, interface in ports:
        peak_in, peak_out, count = session.execute(
            stmt, {"device": device, "interface": interface}
        ).one()
        if count:
            out[(device, interface)] = (float(peak_in or 0.0), float(peak_out or 0.0))
    return out


def _busy(
    session: Session,
    port: tuple[str, str],
    meta: tuple[str, float | None],
    start: datetime,
    end: datetime,
) -> Busy | None:
    """Exact p95 of one port from its 5-minute averages, else from its hourly p95s."""
    t = TrafficRollup
    for step, columns, exact in ((FINE, (t.in_avg, t.out_avg), True),
                                 (HOURLY, (t.in_p95, t.out_p95), False)):  # fmt: skip
        stmt = select(*columns).where(
            t.device == port[0], t.interface == port[1], t.step == step,
            t.start >= start, t.start < end,
        )  # fmt: skip
        found = list(session.execute(stmt))
        if found:
            ins = [float(a) for a, _ in found if a is not None]
            outs = [float(b) for _, b in found if b is not None]
            return Busy(*port, *meta, p95(ins), p95(outs), exact=exact)
    return None
