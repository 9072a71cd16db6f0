"""Faults: what the agent tells the ticketing layer; keyed so they deduplicate to one ticket."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """Kinds of fault the agent detects; values are stored in the database."""

    DEVICE_DOWN = "device_down"
    FLAPPING = "flapping"
    INTERFACE_DOWN = "interface_down"  # an admin-up interface went oper up -> down
    INTERFACE_DISABLED = "interface_disabled"  # a required-up interface is admin down
    DEVICE_REBOOTED = "device_rebooted"  # every uptime source went backwards (informational)
    LINK_SATURATED = "link_saturated"  # utilisation above threshold for a sustained period
    INTERFACE_ERRORS = "interface_errors"  # error/discard rate above threshold, sustained
    SNMP_UNREACHABLE = "snmp_unreachable"  # ping answers, SNMP is silent (low severity)
    LINK_LOST = "link_lost"  # a discovered link vanished while both ends answer (issue 11)
    CPU_HIGH = "cpu_high"  # CPU load above threshold, sustained (issue 18)
    DEVICE_OVERHEAT = "device_overheat"  # a temperature sensor above threshold, sustained
    VOLTAGE_ABNORMAL = "voltage_abnormal"  # a supply voltage outside its range, sustained
    PSU_FAILED = "psu_failed"  # a power supply (or its input) reports failure
    RADIO_DEGRADED = "radio_degraded"  # radio signal or CCQ below its floor, sustained
    PPPOE_DOWN = "pppoe_down"  # a PPPoE client (WAN, usually the ISP) down or flapping
    LOGIN_FAILURES = "login_failures"  # N failed logins from one address within T (syslog)
    # the configuration changed: the device said so (syslog), or its saved copy differs (backup)
    CONFIG_CHANGED = "config_changed"
    BACKUP_FAILED = "backup_failed"  # configuration backup failed nights in a row (issue 22)
    POLLER_DOWN = "poller_down"  # a zone's poller stopped reporting: its devices unmonitored


INFORMATIONAL: frozenset[FaultKind] = frozenset(
    {FaultKind.DEVICE_REBOOTED, FaultKind.LOGIN_FAILURES, FaultKind.CONFIG_CHANGED}
)


def fault_key(device: str, kind: FaultKind, subject: str = "") -> str:
    """Return the dedup key of a fault: at most one open ticket exists per key.

    ``subject`` narrows the fault to a part of the device (an interface name).
    """
    base = f"{device}/{kind.value}"
    return f"{base}/{subject}" if subject else base


def split_key(key: str) -> tuple[str, str, str]:
    """Return (device, kind, subject) of a key made by :func:`fault_key` (subject may be '')."""
    device, _, rest = key.partition("/")
    kind, _, subject = rest.partition("/")
    return device, kind, subject


@dataclass(frozen=True, slots=True)
class Fault:
    """A detected fault on one device (the root cause, not its victims)."""

    device: str
    kind: FaultKind
    summary: str
    opd: str = ""
    address: str = ""
    subject: str = ""  # interface name for per-interface kinds

    @property
    def key(self) -> str:
        """Dedup key (``device/kind`` or ``device/kind/interface``)."""
        return fault_key(self.device, self.kind, self.subject)
