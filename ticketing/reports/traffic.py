"""A port's traffic history as a day-by-day summary (``sigap laporan trafik``).

From the stored rollups (``ticketing.rollups``): per local (WITA) day the time-weighted
average in/out, the highest 5-minute p95 (or hourly p95 where only hourly buckets remain),
the peak utilisation, the errors and how much of the day had data. Pure; the caller reads
the buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import date
    from zoneinfo import ZoneInfo

    from ticketing.rollups import Rollup

DAY_SECONDS: Final = 86_400
MEGA: Final = 1_000_000
HEADERS: Final = (
    "Tanggal", "Rata-rata masuk (Mbps)", "Rata-rata keluar (Mbps)", "p95 masuk (Mbps)",
    "p95 keluar (Mbps)", "Utilisasi puncak", "Error+discard", "Data",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Day:
    """One local day of one port."""

    day: date
    in_avg: float | None  # bit/s
    out_avg: float | None
    in_p95: float | None  # the day's highest bucket p95
    out_p95: float | None
    util_max: float | None
    errors: float | None
    covered_s: float


def days(rollups: Iterable[Rollup], tz: ZoneInfo) -> list[Day]:
    """Buckets grouped by local day, oldest first; per day only its finest step.

    5-minute buckets where they are still kept, else the hourly ones: never both, so a day's
    coverage and averages count each second once.
    """
    groups: dict[date, list[Rollup]] = {}
    for r in rollups:
        groups.setdefault(r.start.astimezone(tz).date(), []).append(r)
    out = []
    for day, rs in sorted(groups.items()):
        finest = min(r.step for r in rs)
        out.append(_day(day, [r for r in rs if r.step == finest]))
    return out


def _day(day: date, rs: Sequence[Rollup]) -> Day:
    def weighted(values: Iterable[tuple[float | None, float]]) -> float | None:
        known = [(v, s) for v, s in values if v is not None and s > 0]
        seconds = sum(s for _, s in known)
        return sum(v * s for v, s in known) / seconds if seconds else None

    def top(values: Iterable[float | None]) -> float | None:
        return max((v for v in values if v is not None), default=None)

    errors = [r.errors for r in rs if r.errors is not None]
    return Day(
        day,
        weighted((r.in_avg, r.covered_s) for r in rs),
        weighted((r.out_avg, r.covered_s) for r in rs),
        top(r.in_p95 for r in rs),
        top(r.out_p95 for r in rs),
        top(r.util_max for r in rs),
        sum(errors) if errors else None,
        sum(r.covered_s for r in rs),
    )


def rows(found: Sequence[Day]) -> list[tuple[str, ...]]:
    """Table rows in Indonesian units (Mbit/s, percent)."""

    def mbps(v: float | None) -> str:
        return "-" if v is None else f"{v / MEGA:.2f}"

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v * 100:.0f}%"

    return [
        (
            d.day.isoformat(), mbps(d.in_avg), mbps(d.out_avg), mbps(d.in_p95), mbps(d.out_p95),
            pct(d.util_max), "-" if d.errors is None else f"{d.errors:.0f}",
            f"{min(d.covered_s / DAY_SECONDS, 1.0) * 100:.0f}%",
        )
        for d in found
    ]  # fmt: skip
