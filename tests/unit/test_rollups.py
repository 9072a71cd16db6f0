"""Traffic rollups: time-weighted arithmetic (property: rollup x coverage = raw bits), bucket
splits, gaps, hourly p95 of the 5-minute averages, WITA hours, and the table (SQLite and
PostgreSQL): write, merge of a bucket written twice, read, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketing.migrate import migrate
from ticketing.rollups import (
    FINE,
    HOURLY,
    Rollup,
    Rollups,
    Sample,
    bucket_start,
    busiest,
    p95,
    prune,
    read,
    write,
)
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 3, 16, 0, tzinfo=UTC)  # 00:00 WITA on 4 November
S = timedelta(seconds=1)
FAR = T0 + timedelta(days=2)


def sample(start: float, end: float, rate: float | None, *, util=None, errors=None) -> Sample:
    return Sample("rtr", "ether1", T0 + start * S, T0 + end * S, rate, rate, util, errors)


def closed(samples) -> list[Rollup]:
    roll = Rollups()
    return roll.add(samples) + roll.close_due(FAR)


def of(rollups, step):
    return [r for r in rollups if r.step == step]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 120), st.one_of(st.none(), st.floats(0, 1e10)), st.booleans()),
        min_size=1, max_size=150,
    )
)  # fmt: skip
def test_rollups_keep_every_bit_and_second_that_was_measured(steps):
    at, samples, bits, seconds = 0.0, [], 0.0, 0.0
    for length, rate, gap in steps:
        if gap:  # the device was down: no sample for this stretch
            at += length
            continue
        samples.append(sample(at, at + length, rate))
        if rate is not None:
            bits += rate * length
            seconds += length
        at += length
    rollups = closed(samples)
    for step in (FINE, HOURLY):
        got = of(rollups, step)
        total = sum((r.in_avg or 0.0) * r.covered_s for r in got)
        assert total == pytest.approx(bits, rel=1e-9, abs=1e-3)
        assert sum(r.covered_s for r in got if r.in_avg is not None) == pytest.approx(seconds)
        assert all(r.start == bucket_start(r.start, step) for r in got)
        assert len({r.start for r in got}) == len(got)  # one row per bucket
    for r in of(rollups, FINE):
        assert r.covered_s <= FINE
        if r.in_avg is not None:
            assert r.in_p95 is not None
            assert r.in_avg <= max(s.in_bps or 0 for s in samples) * (1 + 1e-9)


def test_a_sample_across_a_boundary_is_split_by_time():
    fine = of(closed([sample(280, 310, 1e6, errors=2.0)]), FINE)
    assert [(r.start - T0, r.covered_s, r.in_avg) for r in fine] == [
        (timedelta(0), 20.0, 1e6), (timedelta(minutes=5), 10.0, 1e6)
    ]  # fmt: skip
    assert [r.errors for r in fine] == [40.0, 20.0]


def test_a_gap_lowers_coverage_not_the_average():
    (first, *_rest) = of(closed([sample(0, 60, 4e6), sample(180, 300, 1e6)]), FINE)
    assert first.covered_s == 180.0
    assert first.in_avg == pytest.approx((4e6 * 60 + 1e6 * 120) / 180)
    assert first.in_p95 == 4e6


def test_hourly_p95_is_the_95th_percentile_of_the_5_minute_averages():
    samples = [
        sample(i * 300, (i + 1) * 300, 1e6 * (i + 1), util=0.01 * (i + 1)) for i in range(12)
    ]
    (hour,) = of(closed(samples), HOURLY)
    assert hour.start == T0  # 00:00 WITA
    assert hour.in_p95 == 12e6  # nearest rank of 12 values: the 12th
    assert hour.in_avg == pytest.approx(6.5e6)
    assert hour.util_max == pytest.approx(0.12)
    assert hour.covered_s == 3600.0
    assert p95([1.0] * 19 + [100.0]) == 1.0  # one spike in 20 is above the 95th percentile


def test_buckets_close_on_a_later_sample_or_when_due():
    roll = Rollups(grace=timedelta(seconds=90))
    assert roll.add([sample(0, 30, 1.0)]) == []
    assert roll.close_due(T0 + 320 * S) == []  # 5 min + 20 s: still within grace
    (fine,) = roll.add([sample(300, 330, 1.0)])
    assert fine.start == T0
    assert [r.step for r in roll.close_due(T0 + timedelta(hours=1, minutes=2))] == [FINE, HOURLY]


@pytest.mark.parametrize(("start", "end"), [(10, 10), (30, 0), (0, 7201)])
def test_impossible_intervals_are_ignored(start, end):
    assert closed([sample(start, end, 1e6)]) == []


def test_wita_day_boundary_is_an_hour_boundary():
    wita = ZoneInfo("Asia/Makassar")
    midnight = datetime(2026, 11, 4, tzinfo=wita)
    assert bucket_start(midnight + timedelta(minutes=59), HOURLY) == midnight


# -- the table ------------------------------------------------------------------------------------


def test_write_read_merge_and_prune(store):
    first = closed([sample(0, 1800, 2e6, util=0.2, errors=1.0)])
    assert write(store, first) == 7  # six 5-minute buckets and their (half) hour
    again = closed([sample(1800, 3600, 4e6, util=0.4, errors=1.0)])  # after a restart
    write(store, again)
    (hour,) = read(store, "rtr", "ether1", step=HOURLY, start=T0, end=T0 + timedelta(hours=1))
    assert hour.covered_s == 3600.0
    assert hour.in_avg == pytest.approx(3e6)
    assert hour.in_p95 == 4e6
    assert hour.util_max == pytest.approx(0.4)
    assert hour.errors == pytest.approx(3600.0)
    fine = read(store, "rtr", "ether1", step=FINE, start=T0, end=FAR)
    assert len(fine) == 12
    assert fine[0].start == T0  # tz-aware UTC back from both databases
    removed = prune(
        store, T0 + timedelta(days=3), {FINE: timedelta(days=2), HOURLY: timedelta(days=400)}
    )
    assert removed == 12
    assert read(store, "rtr", "ether1", step=HOURLY, start=T0, end=FAR) != []


# -- the daemon's recorder ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


async def test_recorder_writes_closed_buckets_keeps_them_while_the_database_is_down(
    tmp_path, monkeypatch
):
    import asyncio

    from sqlalchemy.exc import OperationalError

    from agent.history.recorder import TrafficHistory
    from agent.runtime.parts import Runtime

    clock = Clock()
    with TicketStore(TicketStore.sqlite_url(tmp_path / "h.db")) as store:
        migrate(store)
        runtime = Runtime(store, asyncio.Semaphore(1), dict, now=clock)
        history = TrafficHistory(runtime, keep={FINE: timedelta(days=1), HOURLY: timedelta(days=9)})
        history.observe([sample(i * 30, (i + 1) * 30, 1e6) for i in range(20)])  # 10 minutes
        assert len(history.pending) == 1  # the first 5 minutes closed by a later sample

        def broken(*_args, **_kwargs):
            raise OperationalError("x", {}, Exception("database down"))

        with monkeypatch.context() as patch:
            patch.setattr(store, "transaction", broken)
            assert await history.flush() == 0
        assert len(history.pending) == 1  # kept for the next try
        clock.at = T0 + timedelta(hours=2)
        assert await history.flush() == 3  # two 5-minute buckets and their hour
        assert history.pending == []
        got = read(store, "rtr", "ether1", step=FINE, start=T0, end=FAR)
        assert [r.in_avg for r in got] == [1e6, 1e6]
        clock.at = T0 + timedelta(days=3)
        await history.flush()
        assert read(store, "rtr", "ether1", step=FINE, start=T0, end=FAR) == []
        assert len(read(store, "rtr", "ether1", step=HOURLY, start=T0, end=FAR)) == 1
        runtime.thread.close()


def test_busiest_links_p95_of_five_minute_averages_against_the_contract(store):
    # 20 five-minute buckets: 19 at 1 Mbit/s, one spike at 50: the p95 (19th of 20) is 1 Mbit/s
    quiet = [sample(i * 300, (i + 1) * 300, 1e6) for i in range(19)]
    spike = [sample(19 * 300, 20 * 300, 50e6)]
    busy = [Sample("rtr-b", "ether1", s.start, s.end, 9e6, 1e6) for s in quiet]
    write(store, closed(quiet + spike) + closed(busy))
    ports = {("rtr", "ether1"): ("Dinas A", 20e6), ("rtr-b", "ether1"): ("Dinas B", 10e6),
             ("rtr-c", "ether1"): ("Dinas C", None)}  # fmt: skip
    found = busiest(store, ports, start=T0, end=FAR)
    assert [(b.device, b.in_p95, b.exact) for b in found] == [
        ("rtr-b", 9e6, True), ("rtr", 1e6, True)
    ]  # fmt: skip
    assert found[0].utilisation == pytest.approx(0.9)
    # 5-minute buckets expired: the hourly p95s stand in, marked not exact
    prune(store, FAR + timedelta(days=40), {FINE: timedelta(days=35)})
    (first, *_rest) = busiest(store, ports, start=T0, end=FAR)
    assert not first.exact
