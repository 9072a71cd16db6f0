"""Availability from outage intervals: union, clipping, maintenance and the figures (pure).

No I/O, no clock: ``ticketing.reports.outages`` reads the intervals from the ticket database
and the caller (``agent.history.availability``) passes what only the inventory knows: which
devices belong to which OPD, each OPD's uplink and the maintenance windows as intervals.

Definitions (a *span* is a half-open interval ``[start, end)`` of aware instants):

* **Device outage**: the union of the device's own ``device_down`` intervals (opened,
  recurred or reopened -> cleared or resolved; a ticket still open runs to ``as_of``) and of
  the intervals it was attached as *affected* to a parent's ``device_down`` ticket (the
  user's experience: unreachable behind a dead parent), minus the device's maintenance
  windows, clipped to the period. Overlapping or touching spans merge into one outage.
* **Judged time**: the period (ending at ``as_of`` at the latest) minus maintenance.
  Availability = 1 - downtime / judged time; MTBF = (judged time - downtime) / outages.
* **OPD**: the OPD is disrupted while any of its devices is out (union of the devices'
  outages); its judged time excludes only the time when every device of the OPD was in
  maintenance.
* **ISP link**: the OPD's uplink device (the caller names it; see
  ``agent.history.availability``) counted on its *own* ``device_down`` intervals only: time it
  sat behind a dead parent on the Diskominfo side is not the link's fault, so not counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

Span = tuple[datetime, datetime]
Spans = tuple[Span, ...]

DEFAULT_TARGET: Final = 99.5  # percent: the usual ISP contract figure
ZERO: Final = timedelta()


# -- interval algebra ---------------------------------------------------------------------------


def union(spans: Iterable[Span]) -> Spans:
    """Sorted, disjoint spans covering the same instants; empty or reversed spans dropped."""
    merged: list[list[datetime]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def clip(spans: Iterable[Span], start: datetime, end: datetime) -> Spans:
    """The union of ``spans`` cut to ``[start, end)``."""
    return union((max(s, start), min(e, end)) for s, e in spans)


def intersect(a: Iterable[Span], b: Iterable[Span]) -> Spans:
    """Instants in both ``a`` and ``b``."""
    left, right = union(a), union(b)
    out: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(spans: Iterable[Span], holes: Iterable[Span]) -> Spans:
    """Instants in ``spans`` and not in ``holes``."""
    out: list[Span] = []
    cut = union(holes)
    for start, end in union(spans):
        at = start
        for h_start, h_end in cut:
            if h_end <= at or h_start >= end:
                continue
            if h_start > at:
                out.append((at, h_start))
            at = max(at, h_end)
        if at < end:
            out.append((at, end))
    return tuple(out)


def total(spans: Iterable[Span]) -> timedelta:
    """Length of the union of ``spans``."""
    return sum((e - s for s, e in union(spans)), ZERO)


# -- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    """Availability of one device, OPD or link over a period."""

    name: str
    judged: timedelta  # period minus maintenance
    downtime: timedelta
    outages: int
    longest: timedelta
    opd: str = ""

    @property
    def percent(self) -> float | None:
        """Available share 0-100 (None when nothing was judged)."""
        if self.judged <= ZERO:
            return None
        return 100.0 * (1 - self.downtime / self.judged)

    @property
    def mtbf(self) -> timedelta | None:
        """Mean time between failures: up time per outage (None without outages)."""
        if not self.outages:
            return None
        return (self.judged - self.downtime) / self.outages

    def meets(self, target: float) -> bool:
        """Whether the availability reaches ``target`` percent (nothing judged: yes)."""
        pct = self.percent
        return pct is None or pct >= target


def figures(name: str, down: Spans, excluded: Spans, start: datetime, end: datetime) -> Figures:
    """Figures of disjoint ``down`` spans (maintenance already removed) over ``[start, end)``."""
    down = clip(down, start, end)
    judged = max(end - start, ZERO) - total(clip(excluded, start, end))
    longest = max((e - s for s, e in down), default=ZERO)
    return Figures(name, judged, total(down), len(down), longest)


# -- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutageRecords:
    """Outage spans per device as the ticket database holds them (not yet clipped)."""

    own: Mapping[str, Spans] = field(default_factory=dict)  # device_down tickets of the device
    attached: Mapping[str, Spans] = field(default_factory=dict)  # behind a parent's ticket


@dataclass(frozen=True, slots=True)
class Scope:
    """What the inventory says, handed down by the caller (ticketing does not read it)."""

    devices: Mapping[str, str]  # device -> its OPD ('' = none); only these are judged
    uplinks: Mapping[str, tuple[str, ...]]  # OPD -> its uplink devices (the ISP links)
    maintenance: Mapping[str, Spans] = field(default_factory=dict)  # device -> windows
    target: float = DEFAULT_TARGET
    # (device, interface) of each uplink port -> (OPD, contracted bandwidth bit/s or None)
    uplink_ports: Mapping[tuple[str, str], tuple[str, float | None]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AvailabilityReport:
    """Availability per OPD and device (best first) and ISP link (most downtime first)."""

    start: datetime
    end: datetime  # the period's end, or ``as_of`` when earlier
    target: float
    opds: tuple[Figures, ...]
    links: tuple[Figures, ...]
    devices: tuple[Figures, ...]

    def below_target(self) -> tuple[Figures, ...]:
        """The OPDs under the target, worst first."""
        return tuple(reversed([f for f in self.opds if not f.meets(self.target)]))


def ranked(items: Iterable[Figures]) -> tuple[Figures, ...]:
    """Best availability first (nothing judged last), then least downtime, then by name."""

    def key(f: Figures) -> tuple[bool, float, timedelta, str]:
        pct = f.percent
        return (pct is None, -(pct or 0.0), f.downtime, f.name)

    return tuple(sorted(items, key=key))


def device_down(records: OutageRecords, device: str, maintenance: Spans) -> Spans:
    """The device's outages as the user lived them (own or behind a parent), minus maintenance."""
    spans = (*records.own.get(device, ()), *records.attached.get(device, ()))
    return subtract(spans, maintenance)


def availability(
    records: OutageRecords, scope: Scope, *, start: datetime, end: datetime, as_of: datetime
) -> AvailabilityReport:
    """Figures per device, OPD and ISP link over ``[start, min(end, as_of))``."""
    end = max(start, min(end, as_of))
    windows = {d: clip(scope.maintenance.get(d, ()), start, end) for d in scope.devices}
    down = {d: device_down(records, d, windows[d]) for d in scope.devices}
    devices = []
    for name, opd in scope.devices.items():
        devices.append(replace(figures(name, down[name], windows[name], start, end), opd=opd))
    members: dict[str, list[str]] = {}
    for name, opd in scope.devices.items():
        members.setdefault(opd, []).append(name)
    opds = [
        figures(opd, union(s for d in names for s in down[d]), _common(windows, names), start, end)
        for opd, names in members.items()
        if opd
    ]
    links = [
        replace(_link(records, d, windows[d], start, end), opd=opd)
        for opd, uplinks in scope.uplinks.items()
        for d in uplinks
        if d in scope.devices
    ]
    worst_links = sorted(links, key=lambda f: (-f.downtime, f.opd, f.name))
    return AvailabilityReport(
        start, end, scope.target, ranked(opds), tuple(worst_links), ranked(devices)
    )


def _link(records: OutageRecords, device: str, windows: Spans, s: datetime, e: datetime) -> Figures:
    own = subtract(records.own.get(device, ()), windows)
    return figures(device, own, windows, s, e)


def _common(windows: Mapping[str, Spans], names: Sequence[str]) -> Spans:
    """Time when every one of ``names`` was in maintenance."""
    common = windows[names[0]]
    for name in names[1:]:
        common = intersect(common, windows[name])
    return common
