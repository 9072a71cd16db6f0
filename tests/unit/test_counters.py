"""Counter rates: wraps give the true rate, resets never a negative or absurd one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.counters import octets_ceiling, rate, uptime_reset, utilisation
from collectors.model import SystemInfo

pytestmark = pytest.mark.unit


@given(
    bits=st.sampled_from([32, 64]),
    start=st.integers(0, 2**64 - 1),
    steps=st.lists(st.tuples(st.integers(0, 2**31), st.floats(0.5, 600)), min_size=1, max_size=30),
)
def test_any_increments_with_wraps_give_the_true_rate(bits, start, steps):
    modulus = 1 << bits
    value = start % modulus
    for increase, dt in steps:
        if bits == 64 and value + increase >= modulus:
            continue  # a 64-bit wrap is a reset by design (46 years at 100 Gbit/s)
        nxt = (value + increase) % modulus
        got = rate(value, nxt, dt, bits)
        assert got == pytest.approx(increase / dt)
        value = nxt


@given(
    prev=st.integers(0, 2**32 - 1),
    cur=st.integers(0, 2**32 - 1),
    dt=st.floats(1, 600),
    speed=st.integers(1, 100_000),
)
def test_32bit_wraps_above_line_rate_are_resets_not_spikes(prev, cur, dt, speed):
    ceiling = octets_ceiling(speed)
    got = rate(prev, cur, dt, 32, ceiling=ceiling)
    assert got is None or got >= 0
    if cur < prev and got is not None:
        assert ceiling is not None
        assert got <= ceiling


@given(prev=st.integers(0, 2**64 - 1), cur=st.integers(0, 2**64 - 1), dt=st.floats(0.1, 600))
def test_64bit_counters_going_down_are_resets(prev, cur, dt):
    got = rate(prev, cur, dt, 64)
    if cur < prev:
        assert got is None
    else:
        assert got == pytest.approx((cur - prev) / dt)


@given(
    prev=st.integers(0, 2**64 - 1), cur=st.integers(0, 2**64 - 1), bits=st.sampled_from([32, 64])
)
def test_a_known_reset_or_bad_interval_gives_no_rate(prev, cur, bits):
    assert rate(prev % (1 << bits), cur % (1 << bits), 10, bits, reset=True) is None
    assert rate(prev % (1 << bits), cur % (1 << bits), 0, bits) is None


def test_worked_examples():
    assert rate(4_294_967_000, 1_000, 10, 32) == pytest.approx(129.6)
    assert rate(4_000_000_000, 5, 10, 32, ceiling=octets_ceiling(10)) is None
    assert utilisation(125_000_000 / 2, 1000) == pytest.approx(0.5)
    assert utilisation(None, 1000) is None
    assert utilisation(10.0, 0) is None


def info(sys_uptime=None, hr_uptime=None, boots=None, engine_time=None):
    return SystemInfo(
        sys_uptime=sys_uptime, hr_uptime=hr_uptime, engine_boots=boots, engine_time=engine_time
    )


def test_uptime_reset_rules():
    # sysUpTime wraps at 497 days: not a reset when it lands where elapsed time says
    assert not uptime_reset(info(2**32 - 1000), info(2000), 30)
    assert uptime_reset(info(500_000), info(300), 30)  # agent or box restarted
    assert uptime_reset(info(hr_uptime=900_000), info(hr_uptime=100), 30)
    assert uptime_reset(info(boots=3, engine_time=10), info(boots=4, engine_time=12), 30)
    assert uptime_reset(info(boots=3, engine_time=1000), info(boots=3, engine_time=10), 30)
    assert not uptime_reset(info(100, 200, 1, 5), info(3100, 3200, 1, 35), 30)
    assert not uptime_reset(info(), info(), 30)
