"""Availability interval algebra: sigap's ``ticketing.availability`` against ``portion``.

``pip install portion`` (not a sigap dependency), then ``python -m tests.bench.intervals_bench``:
1,000 devices, a month, four own outages, three attached ones and five weekly maintenance
windows each; both compute every device's downtime (union, minus maintenance, clipped to the
period), the answers are compared, and the median CPU of seven runs of each goes to the
"Availability intervals" section of tests/bench/RESULTS.md.
"""

from __future__ import annotations

import platform
import random
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import TYPE_CHECKING

import portion

from tests.bench.results import replace_section
from ticketing.availability import Span, clip, subtract, total, union

if TYPE_CHECKING:
    from collections.abc import Callable

T0 = datetime(2026, 11, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
START, END = T0 + 60 * MINUTE, T0 + timedelta(days=30)
Device = tuple[list[Span], list[Span], list[Span]]


def devices(count: int, rng: random.Random) -> list[Device]:
    """Own outages, attached outages and maintenance windows of ``count`` devices."""

    def spans(n: int, longest: float) -> list[Span]:
        starts = [T0 + rng.uniform(0, 43_000) * MINUTE for _ in range(n)]
        return [(s, s + rng.uniform(1, longest) * MINUTE) for s in starts]

    weekly = [
        (T0 + timedelta(days=7 * w + 6, hours=1), T0 + timedelta(days=7 * w + 6, hours=3))
        for w in range(5)
    ]
    return [(spans(4, 300), spans(3, 200), weekly) for _ in range(count)]


def with_sigap(data: list[Device]) -> list[timedelta]:
    return [total(clip(subtract([*own, *att], maint), START, END)) for own, att, maint in data]


def with_portion(data: list[Device]) -> list[timedelta]:
    period = portion.closedopen(START, END)
    out = []
    for own, att, maint in data:
        down = portion.empty()
        for s, e in [*own, *att]:
            down |= portion.closedopen(s, e)
        for s, e in maint:
            down -= portion.closedopen(s, e)
        down &= period
        out.append(sum((i.upper - i.lower for i in down if not i.empty), timedelta()))
    return out


def cpu(fn: Callable[[list[Device]], object], data: list[Device], runs: int = 7) -> float:
    """Median process CPU seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        t = time.process_time()
        fn(data)
        times.append(time.process_time() - t)
    return sorted(times)[runs // 2]


def main() -> None:
    data = devices(1000, random.Random(1))
    if with_sigap(data) != with_portion(data) or union([]) != ():
        raise SystemExit("sigap and portion disagree")
    ours, theirs = cpu(with_sigap, data), cpu(with_portion, data)
    body = "\n".join([
        f"Python {platform.python_version()}, portion {version('portion')}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Same answers for every device. Produced by "
        "`python -m tests.bench.intervals_bench`.",
        "",
        "| 1,000 devices, one month: downtime per device | CPU ms (median of 7) | ratio |",
        "|---|---|---|",
        f"| sigap ticketing.availability | {ours * 1000:.1f} | 1.00 |",
        f"| portion (union, difference, intersection of Interval) | {theirs * 1000:.1f} | "
        f"{theirs / ours:.1f} |",
    ])  # fmt: skip
    replace_section("Availability intervals: sigap vs portion", body)
    print(body)


if __name__ == "__main__":
    main()
