"""Issue 19: a daemon restart loses no traffic, and a flapping device's downtime adds up.

SQLite and PostgreSQL (the shared ``store`` fixture).
"""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from agent.config.load import load_inventory
from agent.history.availability import device_figures
from agent.history.recorder import TrafficHistory
from agent.runtime.parts import Runtime
from ticketing.faults import Fault, FaultKind
from ticketing.rollups import FINE, HOURLY, Sample, read

T0 = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)  # 00:00 WITA on 4 November
S = timedelta(seconds=1)
END = T0 + timedelta(days=1)


def samples(start: int, end: int, rate: float, step: int = 30) -> list[Sample]:
    return [
        Sample("rtr", "ether1", T0 + t * S, T0 + min(t + step, end) * S, rate, rate / 2)
        for t in range(start, end, step)
    ]


async def run_until_stop(store, clock_at: datetime, polled: list[Sample]) -> None:
    """One daemon life: the history observes ``polled`` and is closed at stop."""
    runtime = Runtime(store, asyncio.Semaphore(1), dict, now=lambda: clock_at)
    history = TrafficHistory(runtime)
    try:
        history.observe(polled)
        await history.close()
        assert history.pending == []
    finally:
        runtime.thread.close()


async def test_a_restart_inside_a_bucket_loses_no_bit(store):
    # first life: 2.5 minutes at 1 Mbit/s, then stop inside the first 5-minute bucket
    await run_until_stop(store, T0 + 150 * S, samples(0, 150, 1e6))
    (fine,) = read(store, "rtr", "ether1", step=FINE, start=T0, end=END)
    assert fine.covered_s == 150
    (hour,) = read(store, "rtr", "ether1", step=HOURLY, start=T0, end=END)
    assert hour.covered_s == 150
    # second life: the rest of the hour at 3 Mbit/s
    await run_until_stop(store, T0 + 3600 * S, samples(150, 3600, 3e6))
    fine = read(store, "rtr", "ether1", step=FINE, start=T0, end=END)
    assert len(fine) == 12
    assert fine[0].covered_s == 300
    assert fine[0].in_avg == pytest.approx(2e6)  # half the bucket at 1, half at 3
    (hour,) = read(store, "rtr", "ether1", step=HOURLY, start=T0, end=END)
    assert hour.covered_s == 3600
    bits = 150 * 1e6 + 3450 * 3e6  # every bit polled in both lives
    assert hour.in_avg * hour.covered_s == pytest.approx(bits)
    assert sum(r.in_avg * r.covered_s for r in fine) == pytest.approx(bits)


INVENTORY = """
office: {name: T}
defaults: {role: router, platform: mikrotik_routeros}
hosts:
  rtr: {address: 10.0.0.1, opd: Dinas A}
"""


def test_a_flapping_device_counts_each_drop(store, tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    inventory = load_inventory(path)
    key = "rtr/device_down"
    store.open_fault(Fault("rtr", FaultKind.FLAPPING, "rtr naik-turun"), at=T0)  # not downtime
    for i in range(10):  # down 2 minutes every 5 minutes, as the daemon records it
        at = T0 + timedelta(minutes=5 * i)
        store.open_fault(Fault("rtr", FaultKind.DEVICE_DOWN, "rtr mati"), at=at)
        store.clear_fault(key, at=at + timedelta(minutes=2))
        if i % 2:  # sometimes resolved after the hold-down, then reopened; sometimes recurred
            store.resolve_due(now=at + timedelta(minutes=4))
    end = T0 + timedelta(hours=1)
    f = device_figures(store, inventory, "rtr", start=T0, end=end, as_of=end)
    assert f.outages == 10
    assert f.downtime == timedelta(minutes=20)
    assert f.longest == timedelta(minutes=2)
    assert f.percent == pytest.approx(100 * (1 - 20 / 60))
    assert f.mtbf == timedelta(minutes=4)  # 40 minutes up / 10 outages
