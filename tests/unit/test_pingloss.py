"""ICMP loss history (issue 19): 5-minute buckets per device, their table (SQLite, PostgreSQL),
the daemon's recorder, the slow-complaint verdict and the ticket page."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from agent.config.load import load_inventory
from agent.history.evidence import SlowEvidence
from agent.history.recorder import TrafficHistory
from agent.runtime.parts import Runtime
from ticketing import pingloss
from ticketing.pingloss import Loss, LossBuckets

T0 = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.mark.unit
def test_rounds_fill_5_minute_buckets_and_close_on_the_next_one():
    buckets = LossBuckets()
    closed = []
    for i in range(20):  # a round every 30 s for 10 minutes; 1 in 4 rounds loses half
        closed += buckets.add("rtr", T0 + 30 * i * S, 0.5 if i % 4 == 0 else 0.0)
    assert [(b.start, b.rounds) for b in closed] == [(T0, 10)]
    assert closed[0].ratio == pytest.approx(0.15)  # 3 lossy rounds of 10
    assert closed[0].loss_max == 0.5
    assert buckets.close_due(T0 + 10 * 60 * S) == []  # within its grace
    (late,) = buckets.close_due(T0 + 12 * 60 * S)
    assert late.start == T0 + 300 * S
    assert buckets.close_all() == []


@pytest.mark.unit
@pytest.mark.parametrize("hostile", [float("nan"), -1.0, 7.5, float("inf"), float("-inf")])
def test_impossible_loss_values_are_clamped(hostile):
    buckets = LossBuckets()
    buckets.add("rtr", T0, hostile)
    (bucket,) = buckets.close_all()
    assert 0.0 <= bucket.ratio <= 1.0


def test_write_merges_a_bucket_written_twice_and_prunes(store):
    pingloss.write(store, [Loss("rtr", T0, 4, 1.0, 0.5), Loss("sw", T0, 2, 0.0, 0.0)])
    pingloss.write(store, [Loss("rtr", T0, 6, 0.5, 0.25)])  # the same 5 minutes after a restart
    (got,) = pingloss.read(store, "rtr", start=T0, end=T0 + 300 * S)
    assert (got.rounds, got.loss_sum, got.loss_max) == (10, 1.5, 0.5)
    assert pingloss.summary([got]) == (pytest.approx(0.15), pytest.approx(0.15))
    assert pingloss.summary([]) == (None, None)
    assert pingloss.prune(store, T0 + timedelta(days=36), timedelta(days=35)) == 2
    assert pingloss.read(store, "rtr", start=T0, end=T0 + 300 * S) == []


async def test_the_recorder_keeps_ping_loss_and_writes_it_at_stop(store):
    runtime = Runtime(store, asyncio.Semaphore(1), dict, now=lambda: T0 + 400 * S)
    history = TrafficHistory(runtime)
    try:
        for i in range(12):  # 6 minutes: one closed bucket and one open
            history.observe_ping("rtr", T0 + 30 * i * S, 1.0 if i < 2 else 0.0)
        assert len(history.loss_pending) == 1
        await history.close()
    finally:
        runtime.thread.close()
    got = pingloss.read(store, "rtr", start=T0, end=T0 + timedelta(hours=1))
    assert [(b.rounds, b.loss_sum) for b in got] == [(10, 2.0), (2, 0.0)]


INVENTORY = """
office: {name: T}
defaults: {role: router, platform: mikrotik_routeros}
hosts:
  core: {address: 10.0.0.1, opd: Diskominfo}
  rtr: {address: 10.0.1.1, opd: Dinas A, parent: core}
"""


def test_loss_on_the_uplink_makes_a_slow_complaint_ada_loss(store, tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    inventory = load_inventory(path)
    now = T0 + timedelta(hours=24)
    evidence = SlowEvidence(store, inventory, lambda: now)
    clean = [Loss("rtr", T0 + timedelta(minutes=5 * i), 10, 0.0, 0.0) for i in range(285)]
    pingloss.write(store, clean)
    text, data = evidence("Dinas A", "", "internet lemot") or ("", {})
    assert data["verdict"] == "normal"
    assert "Loss ICMP rtr: 15 menit terakhir -, 24 jam 0.0% (terburuk 5 menit 0.0%)." in text
    lossy = [Loss("rtr", now - timedelta(minutes=5 * i), 10, 1.5, 0.3) for i in range(1, 4)]
    pingloss.write(store, lossy)  # 15 % over the last quarter hour
    text, data = evidence("Dinas A", "", "internet lemot") or ("", {})
    assert data["verdict"] == "ada loss"
    assert "15 menit terakhir 15.0%" in text
    assert "terburuk 5 menit 15.0%" in text


def test_totals_by_the_database_equal_the_summary_of_the_rows(store):
    rows = [Loss("rtr", T0 + 300 * i * S, 10 - i % 3, 0.1 * (i % 5), 0.3) for i in range(50)]
    pingloss.write(store, rows)
    end = T0 + timedelta(hours=5)
    rounds, average, worst = pingloss.totals(store, "rtr", start=T0, end=end)
    read_back = pingloss.read(store, "rtr", start=T0, end=end)
    assert rounds == sum(b.rounds for b in read_back)
    assert (average, worst) == tuple(pytest.approx(v) for v in pingloss.summary(read_back))
    assert pingloss.totals(store, "sw", start=T0, end=end) == (0, None, None)
