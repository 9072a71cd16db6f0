"""A port's traffic over a window, from the rollups: the SVG graph and its figures in words.

The board's device page (24 h from 5-minute buckets, 7 d and 30 d from hourly ones) and
ticket page (the hours around a fault) both draw through :func:`port_graph`. A window whose
wanted step has no rows yet (hourly buckets close only on the hour; the 5-minute ones expire
after 35 days) is drawn from the other step, and the caption says which one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from ticketing.reports.linechart import Series, line_chart_svg, rate_text
from ticketing.rollups import FINE, HOURLY, read

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ticketing.rollups import Rollup
    from ticketing.store import TicketStore

IN_COLOUR: Final = "#2b6cb0"
OUT_COLOUR: Final = "#2f855a"
STEP_TEXT: Final = {FINE: "rata-rata 5 menit", HOURLY: "rata-rata per jam"}


@dataclass(frozen=True, slots=True)
class PortGraph:
    """One port's graph over a window and what it shows, in Indonesian."""

    interface: str
    svg: str
    step: int  # the bucket length drawn (0: no data)
    in_avg: float | None
    out_avg: float | None
    peak: float | None  # highest bucket average, either direction (bit/s)
    util_max: float | None  # 0..1, highest utilisation seen
    errors: float | None  # errors + discards counted in the window

    @property
    def caption(self) -> str:
        """``rata-rata masuk 3.1 Mb/s, keluar 0.4 Mb/s; puncak 9.8 Mb/s; utilisasi ...``."""
        if not self.step:
            return "Belum ada data trafik pada periode ini."
        parts = [
            f"{STEP_TEXT[self.step]}: masuk {_rate(self.in_avg)}, keluar {_rate(self.out_avg)}",
            f"puncak {_rate(self.peak)}",
        ]
        if self.util_max is not None:
            parts.append(f"utilisasi tertinggi {self.util_max * 100:.0f}%")
        if self.errors:
            parts.append(f"{self.errors:.0f} error/discard")
        return "; ".join(parts)


def _rate(value: float | None) -> str:
    return "-" if value is None else rate_text(value)


def _weighted(rows: list[Rollup], name: str) -> float | None:
    known = [(v, r.covered_s) for r in rows if (v := getattr(r, name)) is not None]
    seconds = sum(s for _, s in known)
    return sum(v * s for v, s in known) / seconds if seconds else None


def port_graph(
    store: TicketStore,
    device: str,
    interface: str,
    *,
    start: datetime,
    end: datetime,
    step: int,
    tz: ZoneInfo,
    bandwidth_bps: float | None = None,
) -> PortGraph:
    """The graph of ``device``/``interface`` over ``[start, end)`` from ``step`` buckets."""
    rows: list[Rollup] = []
    for tried in (step, FINE if step == HOURLY else HOURLY):
        rows = read(store, device, interface, step=tried, start=start, end=end)
        if rows:
            step = tried
            break
    half = timedelta(seconds=step / 2)
    series = [
        Series("masuk (in)", IN_COLOUR, [(r.start + half, r.in_avg) for r in rows]),
        Series("keluar (out)", OUT_COLOUR, [(r.start + half, r.out_avg) for r in rows]),
    ]
    limit_label = f"kontrak {rate_text(bandwidth_bps)}" if bandwidth_bps else ""
    svg = line_chart_svg(
        f"{device} {interface}", series, start=start, end=end, tz=tz,
        gap=timedelta(seconds=step * 1.5), limit=bandwidth_bps, limit_label=limit_label,
    )  # fmt: skip
    peaks = [v for r in rows for v in (r.in_avg, r.out_avg) if v is not None]
    utils = [r.util_max for r in rows if r.util_max is not None]
    errors = [r.errors for r in rows if r.errors is not None]
    return PortGraph(
        interface, svg, step if rows else 0,
        in_avg=_weighted(rows, "in_avg"), out_avg=_weighted(rows, "out_avg"),
        peak=max(peaks, default=None), util_max=max(utils, default=None),
        errors=sum(errors) if errors else None,
    )  # fmt: skip
