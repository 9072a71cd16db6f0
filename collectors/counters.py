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
* :func:`port_rates` (traffic history, issue 19) also refuses a rate above the line's
  ceiling when the counter did not wrap, and any rate above :data:`ABSURD_BPS` when the line
  speed is unknown: a device that reports garbage gives no rate, never a 10 Pbit/s spike.
  Errors and discards cannot outnumber the packets the line can carry (64-byte frames): a
  32-bit error counter that went back is a reset, not 429 million errors per second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collectors.model import InterfaceRow, SystemInfo

TICKS_PER_SECOND: Final = 100
TIMETICKS_MODULUS: Final = 2**32
# Poll-time jitter makes a measured rate overshoot the line rate a little; beyond this
# factor it is not traffic but a reset.
CEILING_SLACK: Final = 1.5
# How far (seconds) an uptime may lag the wall clock before it counts as gone backwards.
UPTIME_TOLERANCE: Final = 5.0
ABSURD_BPS: Final = 1e12  # 1 Tbit/s: no port sigap polls carries more
BITS_PER_OCTET: Final = 8
MEGA: Final = 1_000_000
ERROR_COUNTER_BITS: Final = 32  # ifIn/OutErrors and Discards are Counter32
MIN_FRAME_BITS: Final = 84 * 8  # 64-byte frame + preamble + gap: the most packets a line carries


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


@dataclass(frozen=True, slots=True)
class PortRates:
    """Rates of one interface between two polls; None where unknown or not believable."""

    in_bps: float | None = None
    out_bps: float | None = None
    bandwidth_bps: float | None = None  # what utilisation is measured against
    in_errors: float | None = None  # per second
    out_errors: float | None = None
    in_discards: float | None = None
    out_discards: float | None = None
    error_rate: float | None = None  # errors + discards per second, in and out (see below)

    @property
    def in_utilisation(self) -> float | None:
        """Inbound share of the bandwidth (0.0-1.0, a little above with jitter)."""
        return _share(self.in_bps, self.bandwidth_bps)

    @property
    def out_utilisation(self) -> float | None:
        """Outbound share of the bandwidth."""
        return _share(self.out_bps, self.bandwidth_bps)

    @property
    def utilisation(self) -> float | None:
        """The higher of in/out utilisation (None when neither is known)."""
        known = [u for u in (self.in_utilisation, self.out_utilisation) if u is not None]
        return max(known) if known else None


def _share(bps: float | None, bandwidth_bps: float | None) -> float | None:
    if bps is None or not bandwidth_bps or bandwidth_bps <= 0:
        return None
    return bps / bandwidth_bps


def port_rates(
    prev: InterfaceRow,
    row: InterfaceRow,
    dt: float,
    *,
    reset: bool = False,
    bandwidth_mbps: float | None = None,
) -> PortRates:
    """Bit rates, utilisation base and error/discard rates between two samples of one port.

    ``bandwidth_mbps`` (the inventory's ``bandwidth:``, e.g. a 20 Mbit/s ISP contract on a
    100 Mbit/s port) replaces ifHighSpeed as the utilisation base; the believable ceiling
    stays the port's own speed.
    """
    ceiling = octets_ceiling(row.high_speed_mbps)
    limit = ceiling if ceiling is not None else ABSURD_BPS / BITS_PER_OCTET

    def octets(a: int | None, b: int | None) -> float | None:
        if a is None or b is None:
            return None
        value = rate(a, b, dt, row.counter_bits, ceiling=ceiling, reset=reset)
        return None if value is None or value > limit else value * BITS_PER_OCTET

    line_bps = row.high_speed_mbps * MEGA if row.high_speed_mbps else ABSURD_BPS
    packets = line_bps / MIN_FRAME_BITS * CEILING_SLACK

    def errors(a: int | None, b: int | None) -> float | None:
        if a is None or b is None:
            return None
        value = rate(a, b, dt, ERROR_COUNTER_BITS, ceiling=packets, reset=reset)
        return None if value is None or value > packets else value

    pairs = (
        (prev.in_errors, row.in_errors),
        (prev.out_errors, row.out_errors),
        (prev.in_discards, row.in_discards),
        (prev.out_discards, row.out_discards),
    )
    each = [errors(a, b) for a, b in pairs]
    known = [e for (a, b), e in zip(pairs, each, strict=True) if a is not None and b is not None]
    # a counter the device lacks is left out; one that reset makes the sum unknown
    total = None if not known or None in known else sum(e for e in known if e is not None)
    speed = bandwidth_mbps or row.high_speed_mbps
    in_errors, out_errors, in_discards, out_discards = each
    return PortRates(
        in_bps=octets(prev.in_octets, row.in_octets),
        out_bps=octets(prev.out_octets, row.out_octets),
        bandwidth_bps=speed * MEGA if speed and speed > 0 else None,
        in_errors=in_errors,
        out_errors=out_errors,
        in_discards=in_discards,
        out_discards=out_discards,
        error_rate=total,
    )
