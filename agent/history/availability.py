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

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ticketing.availability import DEFAULT_TARGET, Scope, Span, Spans, clip, union

if TYPE_CHECKING:
    from collections.abc import Iterator
    from zoneinfo import ZoneInfo

    from agent.config.model import Inventory, MaintenanceWindow

DAY = timedelta(days=1)


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
    maintenance = {
        name: union(
            s
            for w in inventory.devices[name].maintenance
            for s in window_spans(w, start, end, inventory.tz)
        )
        for name in devices
    }
    links = {o: names for o, names in uplinks(inventory).items() if opd is None or o == opd}
    return Scope(devices, links, maintenance, target)
