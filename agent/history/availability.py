"""What the availability report needs from the inventory: OPDs, uplinks and maintenance.

``ticketing.availability`` computes the figures and never reads the inventory; here the
inventory becomes a :class:`ticketing.availability.Scope`:

* **Uplink of an OPD** (its "ISP link"): each device of the OPD whose parent is outside the
  OPD (or that has no parent): the OPD's edge router, where its link to the Diskominfo core or
  to the ISP ends. In the shipped inventory that is ``rtr-<opd>`` under ``rtr-dist-praya``.
* **Maintenance**: each device's windows (one-off and weekly, ``MaintenanceWindow``) expanded
  into intervals over the period, in the office zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from ticketing.availability import (
    DEFAULT_TARGET,
    AvailabilityReport,
    Figures,
    Scope,
    Span,
    Spans,
    availability,
    clip,
    union,
)
from ticketing.display import shown
from ticketing.reports.monthly import month_bounds
from ticketing.reports.outages import read_outages

if TYPE_CHECKING:
    from collections.abc import Iterator
    from zoneinfo import ZoneInfo

    from agent.config.model import Inventory, MaintenanceWindow
    from ticketing.store import TicketStore

DAY: Final = timedelta(days=1)
MIN_YEAR: Final = 2000
MEGA: Final = 1_000_000


def uplinks(inventory: Inventory) -> dict[str, tuple[str, ...]]:
    """OPD -> its devices whose parent is outside the OPD (or that have no parent)."""
    devices = inventory.devices
    out: dict[str, list[str]] = {}
    for name, device in devices.items():
        parent = devices.get(device.parent) if device.parent else None
        if device.opd and (parent is None or parent.opd != device.opd):
            out.setdefault(device.opd, []).append(name)
    return {opd: tuple(names) for opd, names in out.items()}


def window_spans(window: MaintenanceWindow, start: datetime, end: datetime, tz: ZoneInfo) -> Spans:
    """The instants of ``[start, end)`` in ``window`` (same rule as ``window.active``)."""
    if window.start is not None and window.end is not None:
        return clip([(window.start, window.end)], start, end)
    return clip(_weekly(window, start, end, tz), start, end)


def _weekly(
    window: MaintenanceWindow, start: datetime, end: datetime, tz: ZoneInfo
) -> Iterator[Span]:
    begin, finish = window.start_time, window.end_time
    if begin is None or finish is None or begin == finish:
        return
    day = start.astimezone(tz).date() - DAY  # a window over midnight reaches into the period
    last = end.astimezone(tz).date()
    while day <= last:
        if day.weekday() in window.days:
            opens = datetime.combine(day, begin, tzinfo=tz)
            closes = datetime.combine(
                day + (DAY if finish < begin else timedelta()), finish, tzinfo=tz
            )
            yield opens, closes
        day += DAY


def _maintenance(inventory: Inventory, name: str, start: datetime, end: datetime) -> Spans:
    """The device's maintenance windows over ``[start, end)`` as disjoint spans."""
    windows = inventory.devices[name].maintenance
    return union(s for w in windows for s in window_spans(w, start, end, inventory.tz))


def scope(
    inventory: Inventory,
    start: datetime,
    end: datetime,
    *,
    opd: str | None = None,
    target: float = DEFAULT_TARGET,
) -> Scope:
    """The devices (of ``opd``, or all), uplinks and maintenance intervals of the period."""
    devices = {name: d.opd for name, d in inventory.devices.items() if opd is None or d.opd == opd}
    maintenance = {name: _maintenance(inventory, name, start, end) for name in devices}
    links = {o: names for o, names in uplinks(inventory).items() if opd is None or o == opd}
    ports = {
        (name, port): (device.opd, mark.bandwidth_mbps * MEGA if mark.bandwidth_mbps else None)
        for name in devices
        for device in (inventory.devices[name],)
        for port, mark in device.ports.items()
        if mark.uplink
    }
    return Scope(devices, links, maintenance, target, ports)


MAX_DAYS: Final = 3700  # about ten years: a longer period is a typo, not a question
DAY_TEXT: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
SAMPLE_CHARS: Final = 40


def parse_day(text: str, option: str) -> date:
    """``YYYY-MM-DD`` as a date; ValueError in Indonesian naming the option otherwise."""
    problem = f"{option}: tanggal {shown(text[:SAMPLE_CHARS])!r} tidak terbaca (contoh: 2026-11-01)"
    if DAY_TEXT.match(text.strip()) is None:
        raise ValueError(problem)
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(problem) from exc
    if day.year < MIN_YEAR:
        raise ValueError(f"{option}: tahun {day.year} terlalu awal (sejak {MIN_YEAR})")
    return day


def period(dari: str, sampai: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of ``dari`` and of the day after ``sampai`` (both days included)."""
    first, last = parse_day(dari, "--dari"), parse_day(sampai, "--sampai")
    if last < first:
        raise ValueError(f"--sampai {last} sebelum --dari {first}")
    if (last - first).days >= MAX_DAYS:
        raise ValueError(
            f"periode {first} s.d. {last} terlalu panjang (paling lama {MAX_DAYS} hari)"
        )
    if last == date.max:
        raise ValueError(f"--sampai {last}: tanggal terlalu jauh")
    return (
        datetime.combine(first, time(), tzinfo=tz),
        datetime.combine(last + DAY, time(), tzinfo=tz),
    )


def report(
    store: TicketStore,
    inventory: Inventory,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    opd: str | None = None,
    target: float = DEFAULT_TARGET,
) -> AvailabilityReport:
    """Availability of the inventory's devices (of ``opd``) over ``[start, end)``."""
    judged = scope(inventory, start, end, opd=opd, target=target)
    records = read_outages(store, start=start, end=end, as_of=as_of, devices=judged.devices)
    return availability(records, judged, start=start, end=end, as_of=as_of)


def month_scope(inventory: Inventory, year: int, month: int) -> Scope:
    """The scope of a calendar month in the office zone (the monthly recap, its target)."""
    start, end = month_bounds(year, month, inventory.tz)
    return scope(inventory, start, end, target=inventory.history.target)


def default_days(now: datetime, tz: ZoneInfo, days: int = 7) -> tuple[str, str]:
    """``--dari``/``--sampai`` of the last ``days`` local days, today included."""
    today = now.astimezone(tz).date()
    return (today - (days - 1) * DAY).isoformat(), today.isoformat()


def device_figures(
    store: TicketStore, inventory: Inventory, name: str, *, start: datetime, end: datetime,
    as_of: datetime,
) -> Figures:  # fmt: skip
    """Availability of one device over ``[start, end)`` (its outages as the user lived them)."""
    device = inventory.devices[name]
    windows = union(
        s for w in device.maintenance for s in window_spans(w, start, end, inventory.tz)
    )
    judged = Scope({name: device.opd}, {}, {name: windows}, inventory.history.target)
    records = read_outages(store, start=start, end=end, as_of=as_of, devices=(name,))
    return availability(records, judged, start=start, end=end, as_of=as_of).devices[0]
