"""Health polls -> sustained conditions (CPU, temperature, voltage, PSU, radio). Pure.

Each condition says whether a fault's threshold is crossed now (``over``), whether the value
is clearly back (``below``, the hysteresis band) and how long ``over`` must hold; the SNMP
detector opens and clears the faults (one per device and kind, one per radio interface).

* ``cpu_high``: CPU load >= ``cpu_pct`` for ``cpu_for``; clears 10 points below.
* ``device_overheat``: the hottest sensor >= ``temperature_c`` for ``temperature_for``;
  clears 5 degrees below.
* ``voltage_abnormal``: a supply voltage outside ``voltage_min..voltage_max`` for
  ``voltage_for``; 0 V is an input not in use (RB5009 ``2pin-voltage``), not a fault.
* ``psu_failed``: a power supply reports failure on ``psu_confirm_polls`` polls in a row.
* ``radio_degraded``: on a point-to-point link (station side, or an access point with one
  peer) signal < ``radio_signal_dbm`` or CCQ < ``radio_ccq_pct`` for ``radio_for``; clears
  3 dB / 10 points above. An access point with several peers is shown, not ticketed (one
  weak phone must not open a ticket for the office link). The ticket gives the trend over
  ``radio_trend``: "sinyal turun dari -58 ke -74 dBm dalam 3 hari".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from collectors.model import RadioLink, SensorKind
from ticketing.faults import Fault, FaultKind

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from agent.config.model import Device, HealthSettings
    from collectors.model import HealthPoll, Sensor

CPU_BAND: Final = 10.0
TEMPERATURE_BAND: Final = 5.0
VOLTAGE_BAND: Final = 0.5
SIGNAL_BAND: Final = 3.0
CCQ_BAND: Final = 10.0
TREND_SAMPLES: Final = 288  # per radio link, spread over the trend window


@dataclass(frozen=True, slots=True)
class Condition:
    """A fault whose threshold is crossed (``over``) or clearly not (``below``) now."""

    fault: Fault
    over: bool
    below: bool
    hold: float  # seconds ``over`` must last before the fault opens


@dataclass(slots=True)
class RadioTrend:
    """A bounded history of one link's signal, one sample per slot of the trend window."""

    window: float
    samples: deque[tuple[datetime, float]] = field(default_factory=deque)

    def add(self, at: datetime, signal: float) -> None:
        """Keep ``signal`` if a slot has passed since the last kept sample; drop the old."""
        slot = self.window / TREND_SAMPLES
        if not self.samples or (at - self.samples[-1][0]).total_seconds() >= slot:
            self.samples.append((at, signal))
        while self.samples and (at - self.samples[0][0]).total_seconds() > self.window:
            self.samples.popleft()
        while len(self.samples) > TREND_SAMPLES + 1:
            self.samples.popleft()

    def sentence(self, at: datetime, now: float) -> str:
        """'sinyal turun dari -58 ke -74 dBm dalam 3 hari' (or '' without a drop)."""
        if not self.samples:
            return ""
        then, first = max(self.samples, key=lambda s: s[1])  # the best signal in the window
        if first <= now:
            return ""
        span = _span((at - then).total_seconds())
        return f"sinyal turun dari {first:.0f} ke {now:.0f} dBm dalam {span}"


def conditions(
    device: Device,
    poll: HealthPoll,
    s: HealthSettings,
    trends: dict[str, RadioTrend],
) -> list[Condition]:
    """The health conditions of one answered poll (``trends``: per radio interface, kept)."""
    found = [*_cpu(device, poll, s), *_temperature(device, poll, s)]
    found += [*_voltage(device, poll, s), *_psu(device, poll, s)]
    for link in ptp_links(poll.radios):
        trend = trends.setdefault(link.interface, RadioTrend(s.radio_trend))
        if link.signal_dbm is not None:
            trend.add(poll.at, link.signal_dbm)
        found.append(_radio(device, poll.at, link, s, trend))
    return found


def ptp_links(radios: Sequence[RadioLink]) -> list[RadioLink]:
    """The links that are one office-to-office link each: station side or a single peer."""
    return [r for r in radios if r.peers == 1]


def worst_ccq(link: RadioLink) -> float | None:
    """The lower of the link's tx/rx CCQ, None when it reports neither."""
    known = [c for c in (link.tx_ccq_pct, link.rx_ccq_pct) if c is not None]
    return min(known) if known else None


def hottest(sensors: Sequence[Sensor]) -> tuple[str, float] | None:
    """The hottest temperature sensor (name, degrees), None without one."""
    temps = [(x.name, x.value) for x in sensors if x.kind is SensorKind.TEMPERATURE]
    known = [(n, v) for n, v in temps if v is not None]
    return max(known, key=lambda t: t[1]) if known else None


def bad_voltages(sensors: Sequence[Sensor], s: HealthSettings) -> list[tuple[str, float]]:
    """Voltage inputs in use (above 0 V) outside the allowed range."""
    return [
        (x.name, x.value)
        for x in sensors
        if x.kind is SensorKind.VOLTAGE
        and x.value is not None
        and x.value > 0
        and not s.voltage_min <= x.value <= s.voltage_max
    ]


def _fault(device: Device, kind: FaultKind, summary: str, subject: str = "") -> Fault:
    return Fault(device.name, kind, summary, device.opd, device.address, subject)


def _where(device: Device) -> str:
    return f"{device.name} ({device.opd or device.site})"


def _cpu(device: Device, poll: HealthPoll, s: HealthSettings) -> list[Condition]:
    cpu = poll.cpu_pct
    if cpu is None:
        return []
    summary = f"CPU {_where(device)} tinggi: {cpu:.0f}% selama {_span(s.cpu_for)}"
    fault = _fault(device, FaultKind.CPU_HIGH, summary)
    return [Condition(fault, cpu >= s.cpu_pct, cpu < s.cpu_pct - CPU_BAND, s.cpu_for)]


def _temperature(device: Device, poll: HealthPoll, s: HealthSettings) -> list[Condition]:
    hot = hottest(poll.sensors)
    if hot is None:
        return []
    name, value = hot
    summary = (
        f"Suhu {_where(device)} tinggi: {name} {value:.0f} °C "
        f"(batas {s.temperature_c:.0f} °C) selama {_span(s.temperature_for)}"
    )
    fault = _fault(device, FaultKind.DEVICE_OVERHEAT, summary)
    over, below = value >= s.temperature_c, value < s.temperature_c - TEMPERATURE_BAND
    return [Condition(fault, over, below, s.temperature_for)]


def _voltage(device: Device, poll: HealthPoll, s: HealthSettings) -> list[Condition]:
    volts = [x for x in poll.sensors if x.kind is SensorKind.VOLTAGE and x.value is not None]
    if not volts:
        return []
    bad = bad_voltages(poll.sensors, s)
    text = ", ".join(f"{n} {v:.1f} V" for n, v in bad)
    summary = (
        f"Tegangan {_where(device)} tidak normal: {text} "
        f"(wajar {s.voltage_min:g}-{s.voltage_max:g} V)"
    )
    low, high = s.voltage_min + VOLTAGE_BAND, s.voltage_max - VOLTAGE_BAND
    calm = all(x.value == 0 or low <= (x.value or 0) <= high for x in volts)
    fault = _fault(device, FaultKind.VOLTAGE_ABNORMAL, summary)
    return [Condition(fault, bool(bad), calm, s.voltage_for)]


def _psu(device: Device, poll: HealthPoll, s: HealthSettings) -> list[Condition]:
    psus = [x for x in poll.sensors if x.kind is SensorKind.PSU and x.ok is not None]
    if not psus:
        return []
    failed = [x.name for x in psus if x.ok is False]
    summary = f"Catu daya {_where(device)} gagal: {', '.join(failed)}"
    hold = (s.psu_confirm_polls - 1) * s.interval
    fault = _fault(device, FaultKind.PSU_FAILED, summary)
    return [Condition(fault, bool(failed), not failed, hold)]


def _radio(
    device: Device, at: datetime, link: RadioLink, s: HealthSettings, trend: RadioTrend
) -> Condition:
    signal, ccq = link.signal_dbm, worst_ccq(link)
    weak = signal is not None and signal < s.radio_signal_dbm
    poor = ccq is not None and ccq < s.radio_ccq_pct
    strong = signal is None or signal >= s.radio_signal_dbm + SIGNAL_BAND
    good = ccq is None or ccq >= s.radio_ccq_pct + CCQ_BAND
    parts = []
    if signal is not None:
        parts.append(f"sinyal {signal:.0f} dBm (batas {s.radio_signal_dbm:.0f})")
    if ccq is not None:
        parts.append(f"CCQ {ccq:.0f}% (batas {s.radio_ccq_pct:.0f}%)")
    change = trend.sentence(at, signal) if signal is not None else ""
    peer = f" ke {link.peer}" if link.peer else ""
    summary = f"Radio {link.interface}{peer} di {_where(device)} lemah: {', '.join(parts)}"
    if change:
        summary += f"; {change}"
    fault = _fault(device, FaultKind.RADIO_DEGRADED, summary, link.interface)
    return Condition(fault, weak or poor, strong and good, s.radio_for)


def _span(seconds: float) -> str:
    """A duration in Indonesian words, to the largest sensible unit."""
    if seconds >= 86400:  # noqa: PLR2004
        return f"{seconds / 86400:.0f} hari"
    if seconds >= 3600:  # noqa: PLR2004
        return f"{seconds / 3600:.0f} jam"
    return f"{max(seconds, 0) / 60:.0f} menit"
