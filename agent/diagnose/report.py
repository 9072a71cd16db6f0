"""What a diagnosis saw, per device and overall, as frozen values with a JSON form.

One concept: the diagnosis report, one frozen value type per section and its JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from datetime import datetime

    from collectors.model import HealthPoll

SCHEMA_ID: Final = "sigap.diagnose/1"


class Health(StrEnum):
    """Overall word for a device; the CLI's exit code follows it."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    DOWN = "down"
    UNREACHABLE = "unreachable"

    @property
    def exit_code(self) -> int:
        """0 healthy, 1 degraded, 2 down or unreachable (3 is the CLI's usage/config error)."""
        return {"healthy": 0, "degraded": 1}.get(self.value, 2)

    @property
    def rank(self) -> int:
        """Order from best to worst (the worst device decides an OPD's health)."""
        return list(Health).index(self)


HEALTH_LABEL: Final = {
    Health.HEALTHY: "NORMAL",
    Health.DEGRADED: "TERGANGGU",
    Health.DOWN: "MATI",
    Health.UNREACHABLE: "TIDAK TERJANGKAU",
}


class Severity(StrEnum):
    """A finding either makes the device degraded (problem) or is only worth a look (note)."""

    PROBLEM = "masalah"
    NOTE = "catatan"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that looks wrong, in Indonesian, and where it was seen."""

    severity: Severity
    section: str  # icmp, path, mtu, snmp, interface, ssh, tickets
    text: str
    interface: str | None = None


@dataclass(frozen=True, slots=True)
class PingStats:
    """One ICMP round: loss, RTT min/avg/max and jitter (seconds), ICMP or local errors."""

    sent: int
    received: int
    rtts: tuple[float, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def loss(self) -> float:
        """Ratio lost (1.0 when nothing was sent)."""
        return 1.0 - self.received / self.sent if self.sent else 1.0

    @property
    def answered(self) -> bool:
        """True when at least one echo came back."""
        return self.received > 0

    @property
    def jitter(self) -> float | None:
        """Mean absolute difference of consecutive RTTs (RFC 3550's idea), None below two."""
        if len(self.rtts) < 2:  # noqa: PLR2004 - a difference needs two
            return None
        pairs = zip(self.rtts, self.rtts[1:], strict=False)
        return sum(abs(b - a) for a, b in pairs) / (len(self.rtts) - 1)

    def to_json(self) -> dict[str, Any]:
        """JSON form (milliseconds)."""
        return {
            "sent": self.sent,
            "received": self.received,
            "loss": round(self.loss, 4),
            "min_ms": _ms(min(self.rtts) if self.rtts else None),
            "avg_ms": _ms(sum(self.rtts) / len(self.rtts) if self.rtts else None),
            "max_ms": _ms(max(self.rtts) if self.rtts else None),
            "jitter_ms": _ms(self.jitter),
            "errors": list(self.errors),
        }


@dataclass(frozen=True, slots=True)
class Hop:
    """One ancestor on the path to the core (nearest first) and how it answered."""

    name: str
    address: str
    ping: PingStats

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "address": self.address, "ping": self.ping.to_json()}


@dataclass(frozen=True, slots=True)
class MtuProbe:
    """DF echoes of one IP packet size and whether any came back."""

    size: int  # IP packet bytes (payload + 28)
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MtuReport:
    """The path MTU estimate: the largest DF packet size that got through."""

    probes: tuple[MtuProbe, ...]

    @property
    def path_mtu(self) -> int | None:
        """Largest size that answered, None when none did."""
        return max((p.size for p in self.probes if p.ok), default=None)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "path_mtu": self.path_mtu,
            "probes": [{"size": p.size, "ok": p.ok, "detail": p.detail} for p in self.probes],
        }


@dataclass(frozen=True, slots=True)
class InterfaceReport:
    """One interface: status, speed, rates over the two samples, and what looks wrong."""

    index: int
    name: str
    alias: str = ""
    admin_up: bool | None = None
    oper_up: bool | None = None
    speed_mbps: int | None = None
    in_bps: float | None = None
    out_bps: float | None = None
    utilisation: float | None = None  # 0..1, the higher of in/out
    errors_per_s: float | None = None  # in + out errors
    discards_per_s: float | None = None  # in + out discards
    issues: tuple[Finding, ...] = ()

    @property
    def worst(self) -> Severity | None:
        """PROBLEM if any issue is one, else NOTE if any, else None."""
        if any(f.severity is Severity.PROBLEM for f in self.issues):
            return Severity.PROBLEM
        return Severity.NOTE if self.issues else None

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "index": self.index,
            "name": self.name,
            "alias": self.alias,
            "admin": _updown(self.admin_up),
            "oper": _updown(self.oper_up),
            "speed_mbps": self.speed_mbps,
            "in_bps": _round(self.in_bps),
            "out_bps": _round(self.out_bps),
            "utilisation": _round(self.utilisation, 4),
            "errors_per_s": _round(self.errors_per_s, 3),
            "discards_per_s": _round(self.discards_per_s, 3),
            "status": self.worst.value if self.worst else "ok",
            "issues": [f.text for f in self.issues],
        }


@dataclass(frozen=True, slots=True)
class SnmpReport:
    """The SNMP section: system group, uptime, interfaces; or why SNMP said nothing."""

    ok: bool
    reason: str = ""
    name: str = ""
    descr: str = ""
    uptime_s: float | None = None
    sample_s: float | None = None  # seconds between the two samples (None: one sample)
    interfaces: tuple[InterfaceReport, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "sys_name": self.name,
            "sys_descr": self.descr,
            "uptime_s": _round(self.uptime_s),
            "sample_s": _round(self.sample_s, 3),
            "interfaces": [i.to_json() for i in self.interfaces],
        }


def hardware_json(poll: HealthPoll) -> dict[str, Any]:
    """JSON form of the health poll a diagnosis made (figures, or why the device gave none)."""
    return {
        "ok": poll.ok,
        "reason": poll.reason,
        "cpu_pct": poll.cpu_pct,
        "memory_pct": poll.memory_pct,
        "sensors": [
            {"kind": s.kind.value, "name": s.name, "value": s.value, "ok": s.ok}
            for s in poll.sensors
        ],
        "radios": [
            {
                "interface": r.interface,
                "peer": r.peer,
                "signal_dbm": r.signal_dbm,
                "snr_db": r.snr_db,
                "tx_ccq_pct": r.tx_ccq_pct,
                "rx_ccq_pct": r.rx_ccq_pct,
                "tx_rate_bps": r.tx_rate_bps,
                "rx_rate_bps": r.rx_rate_bps,
                "peers": r.peers,
            }
            for r in poll.radios
        ],
        "notes": list(poll.notes),
    }


@dataclass(frozen=True, slots=True)
class CommandOutput:
    """One read-only command and what the device printed (redacted, maybe tail only)."""

    command: str
    output: str
    elapsed_ms: int = 0


@dataclass(frozen=True, slots=True)
class SshReport:
    """The ``--ssh`` section: the read-only commands, or why the session failed."""

    ok: bool
    reason: str = ""
    commands: tuple[CommandOutput, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "commands": [
                {"command": c.command, "output": c.output, "elapsed_ms": c.elapsed_ms}
                for c in self.commands
            ],
        }


@dataclass(frozen=True, slots=True)
class TicketBrief:
    """One of the device's recent tickets and where its SOP stands."""

    number: str
    status: str  # TicketState value
    kind: str
    summary: str
    opened_at: datetime
    resolved_at: datetime | None
    sop: str | None = None
    step: str = ""  # the active SOP step ("" when none or done)
    affected: bool = False  # the device is attached to someone else's ticket

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "number": self.number,
            "status": self.status,
            "kind": self.kind,
            "summary": self.summary,
            "opened_at": self.opened_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "sop": self.sop,
            "step": self.step,
            "affected": self.affected,
        }


@dataclass(frozen=True, slots=True)
class TicketsReport:
    """Recent tickets of the device, or why the database could not be read."""

    ok: bool
    reason: str = ""
    items: tuple[TicketBrief, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"ok": self.ok, "reason": self.reason, "items": [t.to_json() for t in self.items]}


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """Everything seen on one device, its health and verdict (evidence in ``findings``)."""

    name: str
    address: str
    opd: str
    platform: str
    role: str
    in_inventory: bool
    health: Health
    verdict: str
    ping: PingStats
    path: tuple[Hop, ...] = ()
    broken_at: str | None = None
    findings: tuple[Finding, ...] = ()
    mtu: MtuReport | None = None
    snmp: SnmpReport | None = None
    ssh: SshReport | None = None
    tickets: TicketsReport | None = None
    hardware: HealthPoll | None = None  # the health section's one poll, as polled

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "name": self.name,
            "address": self.address,
            "opd": self.opd,
            "platform": self.platform,
            "role": self.role,
            "in_inventory": self.in_inventory,
            "health": self.health.value,
            "verdict": self.verdict,
            "findings": [
                {"severity": f.severity.value, "section": f.section, "text": f.text}
                | ({"interface": f.interface} if f.interface else {})
                for f in self.findings
            ],
            "ping": self.ping.to_json(),
            "path": [h.to_json() for h in self.path],
            "broken_at": self.broken_at,
            "mtu": self.mtu.to_json() if self.mtu else None,
            "snmp": self.snmp.to_json() if self.snmp else None,
            "ssh": self.ssh.to_json() if self.ssh else None,
            "tickets": self.tickets.to_json() if self.tickets else None,
            "hardware": hardware_json(self.hardware) if self.hardware else None,
        }


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The whole answer for one TARGET (a device, an OPD's devices, or an address)."""

    target: str
    kind: str  # device, opd, address
    at: datetime
    duration_s: float
    devices: tuple[DeviceReport, ...] = field(default=())

    @property
    def health(self) -> Health:
        """The worst device's health."""
        return max((d.health for d in self.devices), key=lambda h: h.rank, default=Health.DOWN)

    @property
    def verdict(self) -> str:
        """One line on top: the device's verdict, or a count for an OPD."""
        if len(self.devices) == 1:
            return self.devices[0].verdict
        bad = [d for d in self.devices if d.health is not Health.HEALTHY]
        if not bad:
            return f"{self.target}: semua {len(self.devices)} perangkat normal"
        names = ", ".join(f"{d.name} ({HEALTH_LABEL[d.health].lower()})" for d in bad)
        return f"{self.target}: {len(bad)} dari {len(self.devices)} perangkat bermasalah: {names}"

    def to_json(self) -> dict[str, Any]:
        """JSON form, as ``--json`` prints it (see :mod:`agent.diagnose.schema`)."""
        return {
            "schema": SCHEMA_ID,
            "target": self.target,
            "kind": self.kind,
            "at": self.at.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "health": self.health.value,
            "exit_code": self.health.exit_code,
            "verdict": self.verdict,
            "devices": [d.to_json() for d in self.devices],
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _updown(value: bool | None) -> str:
    return "unknown" if value is None else ("up" if value else "down")
