"""The health and radio section of a diagnosis: figures, and Indonesian findings.

The thresholds are the daemon's (``health:`` in inventory.yaml) applied to this one sample, so
diagnose names what the daemon would ticket once it lasts: "CPU tinggi", "suhu tinggi",
"tegangan tidak normal", "catu daya gagal", "sinyal radio lemah". An access point with
several peers gets a note for its weak peers, not a problem (they are clients, not the link).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.detect.health import bad_voltages, hottest, ptp_links, worst_ccq
from agent.diagnose.report import Finding, Severity
from collectors.model import SensorKind

if TYPE_CHECKING:
    from agent.config.model import HealthSettings
    from collectors.model import HealthPoll, RadioLink


def findings(hw: HealthPoll, s: HealthSettings) -> list[Finding]:
    """What looks wrong in the figures, worst first."""
    if not hw.ok:
        return [
            Finding(Severity.NOTE, "hardware", f"kesehatan perangkat tidak terbaca: {hw.reason}")
        ]
    out = _device_findings(hw, s)
    out += _radio_findings(hw.radios, s)
    if hw.notes:
        text = f"{len(hw.notes)} nilai sensor diabaikan (tidak wajar): {hw.notes[0]}"
        out.append(Finding(Severity.NOTE, "hardware", text))
    return out


def _device_findings(hw: HealthPoll, s: HealthSettings) -> list[Finding]:
    out: list[Finding] = []
    problem = Severity.PROBLEM
    if hw.cpu_pct is not None and hw.cpu_pct >= s.cpu_pct:
        out.append(
            Finding(problem, "hardware", f"CPU tinggi: {hw.cpu_pct:.0f}% (batas {s.cpu_pct:.0f}%)")
        )
    hot = hottest(hw.sensors)
    if hot is not None and hot[1] >= s.temperature_c:
        text = f"suhu tinggi: {hot[0]} {hot[1]:.0f} °C (batas {s.temperature_c:.0f} °C)"
        out.append(Finding(problem, "hardware", text))
    bad = bad_voltages(hw.sensors, s)
    if bad:
        volts = ", ".join(f"{n} {v:.1f} V" for n, v in bad)
        text = f"tegangan tidak normal: {volts} (wajar {s.voltage_min:g}-{s.voltage_max:g} V)"
        out.append(Finding(problem, "hardware", text))
    for kind, word in ((SensorKind.PSU, "catu daya gagal"), (SensorKind.FAN, "kipas gagal")):
        failed = [x.name for x in hw.sensors if x.kind is kind and x.ok is False]
        if failed:
            out.append(Finding(problem, "hardware", f"{word}: {', '.join(failed)}"))
    return out


def _radio_findings(radios: tuple[RadioLink, ...], s: HealthSettings) -> list[Finding]:
    out: list[Finding] = []
    for link in ptp_links(radios):
        if link.signal_dbm is not None and link.signal_dbm < s.radio_signal_dbm:
            text = (
                f"sinyal radio lemah: {link.interface} {link.signal_dbm:.0f} dBm "
                f"(batas {s.radio_signal_dbm:.0f} dBm)"
            )
            out.append(Finding(Severity.PROBLEM, "radio", text, link.interface))
        ccq = worst_ccq(link)
        if ccq is not None and ccq < s.radio_ccq_pct:
            text = (
                f"kualitas radio (CCQ) rendah: {link.interface} {ccq:.0f}% "
                f"(batas {s.radio_ccq_pct:.0f}%)"
            )
            out.append(Finding(Severity.PROBLEM, "radio", text, link.interface))
    shared: dict[str, list[RadioLink]] = {}
    for link in radios:
        if link.peers > 1:
            shared.setdefault(link.interface, []).append(link)
    for name, peers in shared.items():
        weak = [
            p.signal_dbm
            for p in peers
            if p.signal_dbm is not None and p.signal_dbm < s.radio_signal_dbm
        ]
        if weak:
            text = (
                f"sinyal radio lemah pada {len(weak)} dari {len(peers)} klien {name} "
                f"(terlemah {min(weak):.0f} dBm)"
            )
            out.append(Finding(Severity.NOTE, "radio", text, name))
    return out
