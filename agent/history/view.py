"""The availability report on the terminal: the report's own tables as rich tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.table import Table as RichTable

from agent.present.terminal import data
from ticketing.reports.availability import (
    DEVICE_HEADERS,
    LINK_HEADERS,
    device_rows,
    link_rows,
    opd_table,
    pct_text,
)
from ticketing.reports.render import Table, when

if TYPE_CHECKING:
    from collections.abc import Iterator
    from zoneinfo import ZoneInfo

    from rich.console import RenderableType

    from ticketing.availability import AvailabilityReport

RIGHT_FROM = 2  # columns from here on are figures


def rich_table(table: Table, title: str) -> RichTable:
    """A report table as a rich table; every cell shown as data (no markup)."""
    out = RichTable(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for i, header in enumerate(table.headers):
        out.add_column(header, justify="right" if i >= RIGHT_FROM else "left")
    for row in table.rows:
        out.add_row(*(data(cell) for cell in row))
    return out


def availability_view(
    report: AvailabilityReport, *, tz: ZoneInfo, devices: bool
) -> Iterator[RenderableType]:
    """Summary line, OPD table (ranked, target line), ISP links and (``devices``) devices."""
    below = report.below_target()
    yield data(
        f"Ketersediaan {when(report.start, tz)} s.d. {when(report.end, tz)}: "
        f"{len(report.opds)} OPD, {len(below)} di bawah target {report.target:g}%"
        + (f" (terendah {below[0].name} {pct_text(below[0].percent)})" if below else "")
    )
    yield rich_table(opd_table(report), "Ketersediaan per OPD")
    yield rich_table(Table(LINK_HEADERS, tuple(link_rows(report))), "Link ISP (uplink OPD)")
    if devices:
        yield rich_table(Table(DEVICE_HEADERS, tuple(device_rows(report))), "Per perangkat")
