"""What was seen -> findings, a health word and a plain-Indonesian verdict (pure).

The interface rules follow the daemon's (:mod:`agent.detect.snmp`) so that diagnose and the
tickets agree: a port the inventory marks ``required_up`` (or ``uplink``) being admin-down is
a problem, any other admin-down port is a choice (shown, not counted); an admin-up port of
the watched set (``snmp.interfaces``) that is not oper-up is a problem; errors + discards at
or above ``detection.error_rate`` per second and utilisation at or above ``saturation_pct``
are problems *now* (the daemon waits ``error_for``/``saturation_for`` before a ticket).

The path verdict, worked through for core <- dist <- rtr (nearest ancestor first): rtr silent,
dist silent, core answers -> UNREACHABLE, "putus di dist" (the first silent hop walking down
from the core); rtr silent, both ancestors answer -> DOWN, the device or its link to dist.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from agent.diagnose.report import (
    Finding,
    Health,
    Hop,
    InterfaceReport,
    PingStats,
    Severity,
    SnmpReport,
)
from collectors import counters

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agent.config.model import DetectionSettings, Device
    from collectors.model import InterfaceRow, SnmpPoll

RECENT_REBOOT_S: Final = 3600.0
ERROR_COUNTER_BITS: Final = 32  # ifIn/OutErrors and Discards are Counter32
LOSS_NOTE: Final = 0.0  # any loss on a diagnosis round is worth saying


def watched(device: Device, name: str) -> bool:
    """True when the daemon watches this interface (``snmp.interfaces``: all, marked, regex)."""
    mode = device.snmp.interfaces if device.snmp is not None else "all"
    if mode == "all":
        return True
    if mode == "marked":
        return name in device.ports
    return re.search(mode, name) is not None


def _rate(
    prev: int | None,
    cur: int | None,
    dt: float,
    bits: int,
    *,
    reset: bool,
    ceiling: float | None = None,
) -> float | None:
    if prev is None or cur is None:
        return None
    return counters.rate(prev, cur, dt, bits, ceiling=ceiling, reset=reset)


def _sum(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known and len(known) == len(values) else None


def _rates(
    prev: InterfaceRow | None, row: InterfaceRow, dt: float, *, reset: bool
) -> tuple[float | None, float | None, float | None, float | None]:
    """(in bit/s, out bit/s, errors/s, discards/s) between the two samples, None if unknown."""
    if prev is None:
        return None, None, None, None
    ceiling = counters.octets_ceiling(row.high_speed_mbps)
    octets = [
        _rate(a, b, dt, row.counter_bits, ceiling=ceiling, reset=reset)
        for a, b in ((prev.in_octets, row.in_octets), (prev.out_octets, row.out_octets))
    ]
    bits = [None if o is None else o * 8 for o in octets]
    errors = _sum(
        [
            _rate(prev.in_errors, row.in_errors, dt, ERROR_COUNTER_BITS, reset=reset),
            _rate(prev.out_errors, row.out_errors, dt, ERROR_COUNTER_BITS, reset=reset),
        ]
    )
    discards = _sum(
        [
            _rate(prev.in_discards, row.in_discards, dt, ERROR_COUNTER_BITS, reset=reset),
            _rate(prev.out_discards, row.out_discards, dt, ERROR_COUNTER_BITS, reset=reset),
        ]
    )
    return bits[0], bits[1], errors, discards


def interface_report(
    device: Device,
    row: InterfaceRow,
    prev: InterfaceRow | None,
    dt: float,
    settings: DetectionSettings,
    *,
    reset: bool = False,
) -> InterfaceReport:
    """One interface's status, rates and issues (``prev``: the first sample, if any)."""
    in_bps, out_bps, errors, discards = _rates(prev, row, dt, reset=reset)
    known = [b for b in (in_bps, out_bps) if b is not None]
    util = max(known) / (row.high_speed_mbps * 1_000_000) if known and row.high_speed_mbps else None
    name = row.name or str(row.index)
    issues = _status_issues(device, row, name)
    bad_rate = (errors or 0.0) + (discards or 0.0)
    if (errors is not None or discards is not None) and bad_rate >= settings.error_rate:
        issues.append(
            Finding(
                Severity.PROBLEM,
                "interface",
                f"{name}: error/discard {bad_rate:.1f} per detik",
                name,
            )
        )
    if util is not None and util * 100 >= settings.saturation_pct:
        issues.append(
            Finding(
                Severity.PROBLEM,
                "interface",
                f"{name}: link penuh {util * 100:.0f}% dari {row.high_speed_mbps} Mbps",
                name,
            )
        )
    return InterfaceReport(
        index=row.index,
        name=name,
        alias=row.alias,
        admin_up=row.admin_up,
        oper_up=row.oper_up,
        speed_mbps=row.high_speed_mbps,
        in_bps=in_bps,
        out_bps=out_bps,
        utilisation=util,
        errors_per_s=errors,
        discards_per_s=discards,
        issues=tuple(issues),
    )


def _status_issues(device: Device, row: InterfaceRow, name: str) -> list[Finding]:
    mark = device.ports.get(row.name)
    needed = mark is not None and (mark.required_up or mark.uplink)
    label = f"{name} ({row.alias})" if row.alias and row.alias != name else name
    if row.admin_up is False:
        if needed:
            text = f"interface {label} dinonaktifkan (admin down), padahal wajib aktif"
            return [Finding(Severity.PROBLEM, "interface", text, name)]
        text = f"interface {label} dinonaktifkan (admin down)"
        return [Finding(Severity.NOTE, "interface", text, name)]
    if row.admin_up and row.oper_up is False and (needed or watched(device, row.name)):
        text = f"interface {label} putus (admin up, oper down)"
        return [Finding(Severity.PROBLEM, "interface", text, name)]
    return []


def snmp_report(
    device: Device,
    first: SnmpPoll,
    second: SnmpPoll | None,
    settings: DetectionSettings,
) -> SnmpReport:
    """The SNMP section from one or two polls (rates need both)."""
    last = second if second is not None and second.ok else first
    if not last.ok or last.system is None:
        return SnmpReport(ok=False, reason=first.reason or last.reason or "tidak ada data")
    dt = (last.at - first.at).total_seconds() if last is not first else 0.0
    reset = (
        last is not first
        and first.system is not None
        and counters.uptime_reset(first.system, last.system, dt)
    )
    before = {r.index: r for r in first.interfaces} if last is not first else {}
    rows = tuple(
        interface_report(device, r, before.get(r.index), dt, settings, reset=reset)
        for r in last.interfaces
    )
    system = last.system
    ticks = system.hr_uptime if system.hr_uptime is not None else system.sys_uptime
    return SnmpReport(
        ok=True,
        name=system.name,
        descr=system.descr,
        uptime_s=None if ticks is None else ticks / counters.TICKS_PER_SECOND,
        sample_s=dt if last is not first else None,
        interfaces=rows,
    )


def broken_hop(path: Sequence[Hop]) -> Hop | None:
    """The first silent ancestor walking down from the core (``path`` is nearest first)."""
    return next((hop for hop in reversed(path) if not hop.ping.answered), None)


def judge(
    device: Device,
    ping: PingStats,
    path: Sequence[Hop],
    snmp: SnmpReport | None,
    extra: Sequence[Finding] = (),
) -> tuple[Health, str, tuple[Finding, ...]]:
    """Return the device's health, its verdict line and every finding (worst first)."""
    findings = [*_ping_findings(ping, path), *_snmp_findings(snmp), *extra]
    findings.sort(key=lambda f: f.severity is not Severity.PROBLEM)
    if not ping.answered:
        return (*_dead_verdict(device, ping, path), tuple(findings))
    problems = [f for f in findings if f.severity is Severity.PROBLEM]
    if problems:
        more = f" (+{len(problems) - 1} lainnya)" if len(problems) > 1 else ""
        verdict = f"Perangkat merespons ping, tetapi {problems[0].text}{more}"
        return Health.DEGRADED, verdict, tuple(findings)
    avg = sum(ping.rtts) / len(ping.rtts) * 1000
    verdict = f"Perangkat normal: ping {ping.received}/{ping.sent} dijawab, rata-rata {avg:.1f} ms"
    if snmp is not None and snmp.ok:
        up = sum(1 for i in snmp.interfaces if i.oper_up)
        verdict += f"; SNMP menjawab, {up} dari {len(snmp.interfaces)} interface aktif"
    return Health.HEALTHY, verdict, tuple(findings)


def _dead_verdict(device: Device, ping: PingStats, path: Sequence[Hop]) -> tuple[Health, str]:
    why = f" ({ping.errors[-1]})" if ping.errors else ""
    hop = broken_hop(path)
    if hop is not None:
        return Health.UNREACHABLE, (
            f"Perangkat tidak merespons ping; router induk {hop.name} ({hop.address}) juga "
            f"mati — masalah di hulu, jalur putus di {hop.name}"
        )
    if path:
        return Health.DOWN, (
            f"Perangkat tidak merespons ping{why}, padahal jalur sampai {path[0].name} normal "
            f"— masalah di perangkat ini atau link-nya ke {path[0].name}"
        )
    return Health.DOWN, f"Perangkat tidak merespons ping{why}"


def _ping_findings(ping: PingStats, path: Sequence[Hop]) -> list[Finding]:
    out: list[Finding] = []
    if not ping.answered:
        text = f"ping: 0 dari {ping.sent} dijawab"
        if ping.errors:
            text += f" ({ping.errors[-1]})"
        out.append(Finding(Severity.PROBLEM, "icmp", text))
    elif ping.loss > LOSS_NOTE:
        text = f"kehilangan paket {ping.loss * 100:.0f}% ({ping.received}/{ping.sent} dijawab)"
        out.append(Finding(Severity.PROBLEM, "icmp", text))
    for hop in path:
        if not hop.ping.answered and not ping.answered:
            out.append(Finding(Severity.PROBLEM, "path", f"{hop.name} ({hop.address}) mati"))
        elif not hop.ping.answered:  # the device answers through it: ICMP filtered, or the
            # inventory's parent is not really on the path
            text = f"{hop.name} ({hop.address}) tidak menjawab ping, padahal perangkat menjawab"
            out.append(Finding(Severity.NOTE, "path", text))
        elif hop.ping.loss > LOSS_NOTE:
            text = f"{hop.name}: kehilangan paket {hop.ping.loss * 100:.0f}%"
            out.append(Finding(Severity.NOTE, "path", text))
    return out


def _snmp_findings(snmp: SnmpReport | None) -> list[Finding]:
    if snmp is None:
        return []
    if not snmp.ok:
        return [Finding(Severity.PROBLEM, "snmp", f"SNMP tidak menjawab: {snmp.reason}")]
    out = [f for i in snmp.interfaces for f in i.issues]
    if snmp.uptime_s is not None and snmp.uptime_s < RECENT_REBOOT_S:
        minutes = snmp.uptime_s / 60
        out.append(Finding(Severity.NOTE, "snmp", f"baru menyala ulang {minutes:.0f} menit lalu"))
    return out
