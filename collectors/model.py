"""Value objects shared by every collector: what is probed and what was observed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


def utc_now() -> datetime:
    """Return the current time, tz-aware UTC: sigap's one clock (injected as ``now`` elsewhere)."""
    return datetime.now(UTC)


class ProbeStatus(StrEnum):
    """Outcome of one probe round; stored and compared as lowercase slugs."""

    OK = "ok"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PingTarget:
    """One device to ping, with its per-device probe settings (already resolved)."""

    name: str
    address: str
    count: int = 3
    interval: float = 0.2
    timeout: float = 1.0


@dataclass(frozen=True, slots=True)
class Observation:
    """What one probe round saw on one device; a dead device is data, not an exception.

    ``value`` is the probe's main number (for ping: average RTT in seconds) and ``loss``
    the ratio of probes lost in the round (ping only).
    """

    device: str
    probe: str
    status: ProbeStatus
    at: datetime
    value: float | None = None
    loss: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the probe got an answer."""
        return self.status is ProbeStatus.OK

    @property
    def failed(self) -> bool:
        """True when the probe got no usable answer."""
        return self.status is not ProbeStatus.OK


class SnmpVersion(StrEnum):
    """SNMP protocol versions sigap speaks."""

    V2C = "2c"
    V3 = "3"


@dataclass(frozen=True, slots=True)
class SnmpAuth:
    """Credentials, already resolved from env/files (never logged: see ``__repr__``).

    v2c uses ``community``. v3 uses ``user``; ``auth_protocol`` is ``sha`` or ``sha256`` (empty =
    noAuthNoPriv), ``priv_protocol`` is ``aes128`` or ``aes256`` (empty = authNoPriv).
    """

    version: SnmpVersion
    community: str = ""
    user: str = ""
    auth_protocol: str = ""
    auth_key: str = ""
    priv_protocol: str = ""
    priv_key: str = ""

    def __repr__(self) -> str:
        """Show the shape, never the secrets."""
        if self.version is SnmpVersion.V2C:
            return "SnmpAuth(v2c, community=***)"
        level = (
            "authPriv" if self.priv_protocol else ("authNoPriv" if self.auth_protocol else "noAuth")
        )
        return (
            f"SnmpAuth(v3, user={self.user!r}, {level}, {self.auth_protocol}/{self.priv_protocol})"
        )


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """One device to poll over SNMP, with its resolved settings."""

    name: str
    address: str
    auth: SnmpAuth
    port: int = 161
    timeout: float = 1.0
    retries: int = 1
    max_repetitions: int = 25


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """SNMPv2-MIB system group plus the other uptime sources (hundredths of a second)."""

    sys_uptime: int | None = None  # sysUpTime.0 (the SNMP agent's uptime; 32-bit, wraps at 497 d)
    hr_uptime: int | None = None  # HOST-RESOURCES-MIB hrSystemUptime.0 (the host's)
    engine_time: int | None = None  # SNMP-FRAMEWORK-MIB snmpEngineTime.0 (seconds; v3)
    engine_boots: int | None = None  # snmpEngineBoots.0 (v3)
    name: str = ""
    descr: str = ""
    object_id: str = ""
    if_number: int | None = None
    if_table_last_change: int | None = None


@dataclass(frozen=True, slots=True)
class InterfaceRow:
    """One IF-MIB row as polled; counters are raw (rates are computed by the caller)."""

    index: int
    name: str = ""
    alias: str = ""
    descr: str = ""
    admin_up: bool | None = None  # ifAdminStatus == up(1)
    oper_up: bool | None = None  # ifOperStatus == up(1)
    oper_status: int | None = (
        None  # raw ifOperStatus (1 up, 2 down, 5 dormant, 7 lowerLayerDown...)
    )
    high_speed_mbps: int | None = None
    in_octets: int | None = None
    out_octets: int | None = None
    counter_bits: int = 64  # 64 for ifHC*Octets, 32 when only ifIn/OutOctets exist
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None
    if_type: int | None = None  # IANAifType (6 ethernetCsmacd, 23 ppp, 71 ieee80211...)


@dataclass(frozen=True, slots=True)
class SnmpPoll:
    """The result of one SNMP poll of one device: data, or a status with a reason."""

    device: str
    at: datetime
    status: ProbeStatus
    reason: str = (
        ""  # e.g. "timeout", "unknown user", "wrong digest (auth key)", "decryption error"
    )
    system: SystemInfo | None = None
    interfaces: tuple[InterfaceRow, ...] = ()
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the device answered with usable data."""
        return self.status is ProbeStatus.OK


class SensorKind(StrEnum):
    """What a health sensor measures; a bounded label value for metrics."""

    TEMPERATURE = "temperature"  # degrees Celsius
    VOLTAGE = "voltage"  # volts
    FAN = "fan"  # rpm, or a state
    PSU = "psu"  # a power supply's state
    POWER = "power"  # watts
    CURRENT = "current"  # amperes


@dataclass(frozen=True, slots=True)
class Sensor:
    """One health reading: a value in the kind's unit, or a state (``ok`` False = failed)."""

    kind: SensorKind
    name: str
    value: float | None = None
    ok: bool | None = None  # for state sensors (fan/PSU): True working, False failed


@dataclass(frozen=True, slots=True)
class RadioLink:
    """One radio link as the device reports it: its own station stats or one registered peer."""

    interface: str
    peer: str = ""  # the peer's MAC (aa:bb:..) or name; "" when the device does not say
    signal_dbm: float | None = None
    snr_db: float | None = None
    tx_ccq_pct: float | None = None
    rx_ccq_pct: float | None = None
    tx_rate_bps: int | None = None
    rx_rate_bps: int | None = None
    peers: int = 1  # registered peers on the interface (an access point serving several)


@dataclass(frozen=True, slots=True)
class HealthPoll:
    """One health poll of one device: CPU, memory, sensors and radio links, or why not.

    ``notes`` says why values were left out (absurd, wrong type, missing): data, never a crash.
    """

    device: str
    at: datetime
    status: ProbeStatus
    reason: str = ""
    cpu_pct: float | None = None
    memory_pct: float | None = None
    sensors: tuple[Sensor, ...] = ()
    radios: tuple[RadioLink, ...] = ()
    notes: tuple[str, ...] = ()
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the device answered."""
        return self.status is ProbeStatus.OK
