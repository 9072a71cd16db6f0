"""Time-series line charts as standalone SVG (traffic of a port over hours or days).

Drawn by hand like the report's bar chart (same frame: ``render.svg_open``), so the board's
device and ticket pages need no chart library, no script and no CDN. Every label goes
through ``render.html_text`` (shown, then escaped). A point that is None, or two points
further apart than ``gap``, break the line: a device that was down shows a hole, not a
straight line across the outage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ticketing.reports.render import html_text, svg_open

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

WIDTH: Final = 720
HEIGHT: Final = 260
LEFT: Final = 70  # room for the y labels
RIGHT: Final = 44  # room for the last x label
TOP: Final = 40
BOTTOM: Final = 46  # room for the x labels and the legend
X_TICKS: Final = 6
Y_TICKS: Final = 4
UNITS: Final = ((1e9, "Gb/s"), (1e6, "Mb/s"), (1e3, "kb/s"), (1.0, "b/s"))


@dataclass(frozen=True, slots=True)
class Series:
    """One line: its legend label, colour and (time, value) points in time order."""

    label: str
    colour: str
    points: Sequence[tuple[datetime, float | None]]


def rate_text(bps: float) -> str:
    """``12.5 Mb/s`` (the unit that keeps the figure readable)."""
    for scale, unit in UNITS:
        if abs(bps) >= scale:
            return f"{bps / scale:.3g} {unit}"
    return "0 b/s"


def _segments(
    points: Sequence[tuple[datetime, float | None]], gap: timedelta
) -> Iterator[list[tuple[datetime, float]]]:
    """Runs of known points no further apart than ``gap``."""
    run: list[tuple[datetime, float]] = []
    for at, value in points:
        if value is None or (run and at - run[-1][0] > gap):
            if run:
                yield run
            run = []
        if value is not None:
            run.append((at, value))
    if run:
        yield run


def _lines(
    series: Sequence[Series],
    gap: timedelta,
    x: Callable[[datetime], float],
    y: Callable[[float], float],
) -> list[str]:
    """Each series' runs as polylines (a lone point as a dot)."""
    out = []
    for s in series:
        for run in _segments(s.points, gap):
            coords = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in run)
            if len(run) == 1:
                cx, cy = coords.split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{s.colour}"/>')
            else:
                out.append(
                    f'<polyline points="{coords}" fill="none" stroke="{s.colour}" '
                    'stroke-width="1.5"/>'
                )
    return out


def line_chart_svg(
    title: str,
    series: Sequence[Series],
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    gap: timedelta,
    limit: float | None = None,
    limit_label: str = "",
    value_text: Callable[[float], str] = rate_text,
) -> str:
    """Lines of ``series`` over ``[start, end)``; a dashed ``limit`` line (the contract)."""
    e = html_text
    known = [v for s in series for _, v in s.points if v is not None]
    top = max([*known, limit or 0.0, 0.0]) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = (end - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return LEFT + plot_w * min(max((at - start).total_seconds() / span, 0.0), 1.0)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - min(max(value / top, 0.0), 1.0))

    out = svg_open(title, WIDTH, HEIGHT)
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#bbb"/>'
    )
    for i in range(Y_TICKS + 1):
        value = top * i / Y_TICKS
        out.append(
            f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="10">'
            f"{e(value_text(value))}</text>"
        )
    for i in range(X_TICKS + 1):
        at = start + (end - start) * i / X_TICKS
        label = at.astimezone(tz).strftime("%d/%m %H:%M")
        out.append(
            f'<text x="{x(at):.1f}" y="{TOP + plot_h + 14}" text-anchor="middle" '
            f'font-size="10">{e(label)}</text>'
        )
    if limit:
        out.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(limit):.1f}" y2="{y(limit):.1f}" '
            'stroke="#c53030" stroke-dasharray="6 4"/>'
            f'<text x="{LEFT + plot_w - 4}" y="{y(limit) - 4:.1f}" text-anchor="end" '
            f'font-size="10" fill="#c53030">{e(limit_label)}</text>'
        )
    out += _lines(series, gap, x, y)
    if not known:
        out.append(
            f'<text x="{LEFT + 10}" y="{TOP + 20}" fill="#555">Tidak ada data pada periode ini.'
            "</text>"
        )
    legend_x = LEFT
    for s in series:
        out.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 16}" width="12" height="4" fill="{s.colour}"/>'
            f'<text x="{legend_x + 16}" y="{HEIGHT - 11}" font-size="11">{e(s.label)}</text>'
        )
        legend_x += 24 + 7 * len(s.label)
    out.append("</svg>")
    return "\n".join(out) + "\n"
