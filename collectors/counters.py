"""Counter arithmetic for SNMP polls: wrap-aware rates, reset detection, utilisation (pure).

A rate is only as good as the two samples behind it. The rules, worked through:

* 64-bit counters (ifHC*) never wrap in practice (2**64 octets at 100 Gbit/s take 46 years),
  so ``cur < prev`` means the counter was reset: no rate.
* 32-bit counters wrap every 34 s at 1 Gbit/s, so ``cur < prev`` is read as one wrap; but if
  that wrap implies more than the interface can carry (``ceiling``), it was a reset: no rate.
  prev=4_294_967_000, cur=1_000 over 10 s is (296 + 1_000) / 10 = 129.6 octets/s; with
  prev=4_000_000_000, cur=5 on a 10 Mbit/s port it would be 29 Mo/s: a reset, None.
* When the device says it restarted (``uptime_reset``), every counter may have restarted
  from zero: no rate for that interval rather than a spike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collectors.model import SystemInfo

TICKS_PER_SECOND: Final = 100
TIMETICKS_MODULUS: Final = 2**32
# Poll-time jitter makes a measured rate overshoot the line rate a little; beyond this
# factor it is not traffic but a reset.
CEILING_SLACK: Final = 1.5
# How far (seconds) an uptime may lag the wall clock before it counts as gone backwards.
UPTIME_TOLERANCE: Final = 5.0


def counter_delta(prev: int, cur: int, bits: int) -> tuple[int, bool]:
    """Return (increase, wrapped) between two readings of a ``bits``-bit counter."""
    if cur >= prev:
        return cur - prev, False
    return cur + (1 << bits) - prev, True


def rate(
    prev: int,
    cur: int,
    dt: float,
    bits: int,
    *,
    ceiling: float | None = None,
    reset: bool = False,
) -> float | None:
    """Per-second rate of a counter between two samples ``dt`` seconds apart, or None.

    Args:
        prev: the earlier reading.
        cur: the later reading.
        dt: seconds between the readings (<= 0 gives None).
        bits: 32 or 64, the counter's width.
        ceiling: the highest believable rate (same unit per second); a wrap implying more is
            a reset.
        reset: the device restarted between the samples (see ``uptime_reset``).
    """
    if reset or dt <= 0 or prev < 0 or cur < 0:
        return None
    delta, wrapped = counter_delta(prev, cur, bits)
    if wrapped and bits >= 64:  # noqa: PLR2004 - a 64-bit counter going down is a reset
        return None
    value = delta / dt
    if wrapped and ceiling is not None and value > ceiling:
        return None
    return value


def octets_ceiling(high_speed_mbps: int | None) -> float | None:
    """Highest believable octets/s on an interface of ``high_speed_mbps`` (None: unknown)."""
    if not high_speed_mbps or high_speed_mbps <= 0:
        return None
    return high_speed_mbps * 1_000_000 / 8 * CEILING_SLACK


def utilisation(octets_per_second: float | None, high_speed_mbps: int | None) -> float | None:
    """Fraction of the line rate in use (0.0-1.0 and a little above with jitter), or None."""
    if octets_per_second is None or not high_speed_mbps or high_speed_mbps <= 0:
        return None
    return octets_per_second * 8 / (high_speed_mbps * 1_000_000)


def ticks_went_backwards(prev: int | None, cur: int | None, elapsed: float) -> bool:
    """True when a 32-bit TimeTicks uptime did not advance by about ``elapsed`` seconds.

    A wrap at 497 days is not a restart: prev + elapsed (mod 2**32) must land near cur.
    """
    if prev is None or cur is None:
        return False
    if cur >= prev:
        return False
    expected = (prev + round(elapsed * TICKS_PER_SECOND)) % TIMETICKS_MODULUS
    slack = round(UPTIME_TOLERANCE * TICKS_PER_SECOND)
    return abs(cur - expected) > slack


def uptime_reset(prev: SystemInfo, cur: SystemInfo, elapsed: float) -> bool:
    """True when the device's counters may have restarted between two polls.

    Any uptime source going backwards (sysUpTime, hrSystemUptime, snmpEngineTime within the
    same boot) or snmpEngineBoots going up says so; a 32-bit TimeTicks wrap does not.
    """
    if ticks_went_backwards(prev.sys_uptime, cur.sys_uptime, elapsed):
        return True
    if ticks_went_backwards(prev.hr_uptime, cur.hr_uptime, elapsed):
        return True
    if prev.engine_boots is not None and cur.engine_boots is not None:
        if cur.engine_boots != prev.engine_boots:
            return True
        if prev.engine_time is not None and cur.engine_time is not None:
            return cur.engine_time + UPTIME_TOLERANCE < prev.engine_time
    return False
