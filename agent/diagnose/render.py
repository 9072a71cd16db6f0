"""Terminal view of a diagnosis: verdict on top, evidence, then each section (rich).

Names, descriptions, aliases, reasons and SSH output come from the device (sysName, ifAlias,
LLDP names with NULs, CLI output): every such line is :func:`agent.present.terminal.data`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from agent.diagnose.report import HEALTH_LABEL, Health, Severity
from agent.present.labels import KIND_LABEL, SENSOR_LABEL, STATUS_LABEL
from agent.present.render import local
from agent.present.terminal import data

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from rich.console import RenderableType

    from agent.diagnose.report import (
        DeviceReport,
        Diagnosis,
        InterfaceReport,
        PingStats,
        SnmpReport,
        SshReport,
        TicketsReport,
    )
    from collectors.model import HealthPoll, RadioLink

HEALTH_STYLE: Final = {
    Health.HEALTHY: "bold green",
    Health.DEGRADED: "bold yellow",
    Health.DOWN: "bold red",
    Health.UNREACHABLE: "bold red",
}
SEVERITY_MARK: Final = {Severity.PROBLEM: ("!", "red"), Severity.NOTE: ("-", "yellow")}


def diagnosis(result: Diagnosis, tz: ZoneInfo) -> RenderableType:
    """The whole report."""
    parts: list[RenderableType] = []
    if len(result.devices) > 1:
        head = Text(f"{HEALTH_LABEL[result.health]}  ", style=HEALTH_STYLE[result.health])
        head.append_text(data(result.verdict, style="bold"))
        parts += [head, Text("")]
    for report in result.devices:
        parts += [device(report, tz), Text("")]
    parts.append(Text(f"selesai dalam {result.duration_s:.1f} detik", style="dim"))
    return Group(*parts)


def device(report: DeviceReport, tz: ZoneInfo) -> RenderableType:
    """One device: verdict, evidence, sections."""
    where = ", ".join(x for x in (report.address, report.opd, report.platform) if x)
    title = data(f"{report.name} ({where})", style="bold")
    verdict = Text(f"{HEALTH_LABEL[report.health]}  ", style=HEALTH_STYLE[report.health])
    verdict.append_text(data(report.verdict))
    parts: list[RenderableType] = [title, verdict]
    if report.findings:
        parts.append(Text("Bukti:"))
        for finding in report.findings:
            mark, style = SEVERITY_MARK[finding.severity]
            parts.append(data(f"  {mark} {finding.text}", style=style))
    parts.append(_ping_line("ICMP ", report.ping))
    if report.path:
        parts.append(_path(report))
    if report.mtu is not None:
        mtu = report.mtu.path_mtu
        parts.append(Text(f"MTU   {mtu} byte (ping DF)" if mtu else "MTU   tidak terukur"))
    if report.snmp is not None:
        parts.append(_snmp(report.snmp))
    if report.hardware is not None:
        parts.append(_hardware(report.hardware))
    if report.ssh is not None:
        parts.append(_ssh(report.ssh))
    if report.tickets is not None:
        parts.append(_tickets(report.tickets, tz))
    return Group(*parts)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f}"


def _ping_line(label: str, ping: PingStats) -> Text:
    line = Text(f"{label} {ping.received}/{ping.sent} dijawab, hilang {ping.loss * 100:.0f}%")
    if ping.rtts:
        avg = sum(ping.rtts) / len(ping.rtts)
        line.append(
            f", rtt min/avg/max {_ms(min(ping.rtts))}/{_ms(avg)}/{_ms(max(ping.rtts))} ms, "
            f"jitter {_ms(ping.jitter)} ms"
        )
    elif ping.errors:
        line.append_text(data(f" ({ping.errors[-1]})"))
    return line


def _path(report: DeviceReport) -> Text:
    line = Text("Jalur ")
    for i, hop in enumerate(report.path):
        if i:
            line.append(" -> ")
        ok = hop.ping.answered
        line.append_text(data(f"{hop.name} ({hop.address}) "))
        line.append("OK" if ok else "MATI", style="green" if ok else "bold red")
    if report.broken_at:
        line.append_text(data(f"  putus di {report.broken_at}", style="bold red"))
    return line


def _bps(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} bit/s"


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days} hari {clock}" if days else clock


def _updown(value: bool | None) -> Text:
    if value is None:
        return Text("?")
    return Text("up", style="green") if value else Text("down", style="red")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _interface_row(row: InterfaceReport) -> list[RenderableType]:
    worst = row.worst
    style = "" if worst is None else ("bold red" if worst is Severity.PROBLEM else "yellow")
    mark = "" if worst is None else SEVERITY_MARK[worst][0]
    note = "; ".join(f.text.split(": ", 1)[-1] for f in row.issues)
    return [
        data(f"{mark} {row.name}".strip(), style=style),
        data(row.alias),
        _updown(row.admin_up),
        _updown(row.oper_up),
        "-" if row.speed_mbps is None else str(row.speed_mbps),
        _bps(row.in_bps),
        _bps(row.out_bps),
        _rate(row.errors_per_s),
        _rate(row.discards_per_s),
        data(note, style=style),
    ]


def _snmp(snmp: SnmpReport) -> RenderableType:
    if not snmp.ok:
        return data(f"SNMP  tidak menjawab: {snmp.reason}", style="red")
    head = data(f"SNMP  {snmp.name or '-'}: {snmp.descr or '-'}; uptime {_uptime(snmp.uptime_s)}")
    if snmp.sample_s is not None:
        head.append(f"; laju dari 2 sampel berjarak {snmp.sample_s:.1f} s", style="dim")
    table = Table(
        "Interface",
        "Alias",
        "Admin",
        "Oper",
        "Mbps",
        "Masuk",
        "Keluar",
        "Err/s",
        "Disc/s",
        "Catatan",
        box=box.SIMPLE,
        pad_edge=False,
    )
    for row in snmp.interfaces:
        table.add_row(*_interface_row(row))
    return Group(head, table)


SENSOR_UNIT: Final = {
    "temperature": "°C",
    "voltage": "V",
    "fan": "rpm",
    "power": "W",
    "current": "A",
}


def _hardware(hw: HealthPoll) -> RenderableType:
    """Health figures on one line, then one line per radio interface."""
    if not hw.ok:
        return data(f"KESEHATAN  tidak terbaca: {hw.reason}", style="yellow")
    figures = []
    if hw.cpu_pct is not None:
        figures.append(f"CPU {hw.cpu_pct:.0f}%")
    if hw.memory_pct is not None:
        figures.append(f"memori {hw.memory_pct:.0f}%")
    for s in hw.sensors:
        label = SENSOR_LABEL[s.kind]
        if s.ok is not None:
            figures.append(f"{label} {s.name} {'normal' if s.ok else 'GAGAL'}")
        elif s.value is not None:
            figures.append(f"{label} {s.name} {s.value:g} {SENSOR_UNIT.get(s.kind.value, '')}")
    parts: list[RenderableType] = [
        data("KESEHATAN  " + (" · ".join(figures) if figures else "perangkat tidak melaporkan"))
    ]
    by_iface: dict[str, list[RadioLink]] = {}
    for link in hw.radios:
        by_iface.setdefault(link.interface, []).append(link)
    for name, links in by_iface.items():
        parts.append(data(f"RADIO  {name}: {_radio_line(links)}"))
    return Group(*parts)


def _radio_line(links: list[RadioLink]) -> str:
    signals = [x.signal_dbm for x in links if x.signal_dbm is not None]
    ccqs = [c for x in links for c in (x.tx_ccq_pct, x.rx_ccq_pct) if c is not None]
    bits = []
    if len(links) > 1 or links[0].peers > 1:
        bits.append(f"{len(links)} klien")
        if signals:
            bits.append(f"sinyal {min(signals):.0f}..{max(signals):.0f} dBm")
    elif signals:
        bits.append(f"sinyal {signals[0]:.0f} dBm")
    snr = [x.snr_db for x in links if x.snr_db is not None]
    if snr and len(links) == 1:
        bits.append(f"SNR {snr[0]:.0f} dB")
    if ccqs:
        bits.append(f"CCQ {min(ccqs):.0f}%")
    one = links[0]
    if len(links) == 1 and one.tx_rate_bps is not None:
        rx = f"/{one.rx_rate_bps / 1e6:.0f}" if one.rx_rate_bps is not None else ""
        bits.append(f"laju {one.tx_rate_bps / 1e6:.0f}{rx} Mbps")
    return ", ".join(bits) or "tanpa angka"


def _ssh(ssh: SshReport) -> RenderableType:
    parts: list[RenderableType] = [
        data("SSH   perintah baca saja" if ssh.ok else f"SSH   gagal: {ssh.reason}")
    ]
    for command in ssh.commands:
        parts.append(data(f"  > {command.command}  ({command.elapsed_ms} ms)", style="bold"))
        parts.extend(data(f"    {line}") for line in command.output.splitlines())
    return Group(*parts)


def _tickets(tickets: TicketsReport, tz: ZoneInfo) -> RenderableType:
    if not tickets.ok:
        return data(f"Tiket {tickets.reason}", style="yellow")
    if not tickets.items:
        return Text("Tiket tidak ada tiket untuk perangkat ini")
    table = Table(
        "Nomor", "Status", "Gangguan", "Dibuka", "Langkah SOP", box=box.SIMPLE, pad_edge=False
    )
    for t in tickets.items:
        kind = KIND_LABEL.get(t.kind, t.kind) + (" (terdampak)" if t.affected else "")
        table.add_row(
            data(t.number),
            data(STATUS_LABEL.get(t.status, t.status)),
            data(kind),
            local(t.opened_at, tz, "%d/%m %H:%M"),
            data(t.step or "-"),
        )
    return Group(Text("Tiket terbaru"), table)
