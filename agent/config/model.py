"""The resolved inventory: frozen devices, people and settings, ready for the daemon.

Built by :func:`agent.config.load.load_inventory`; nothing here reads files or validates input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config.listen import DEFAULT_LISTEN
from collectors.model import PingTarget, SnmpAuth, SnmpTarget

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from zoneinfo import ZoneInfo

    from agent.events.settings import EventsSettings
    from agent.intake.settings import IntakeSettings

CENTRAL_ZONE = "pusat"  # devices the central daemons poll; other zones have pollers (issue 23)
WEEKDAY_INDEX = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True, slots=True)
class PingSettings:
    """ICMP probe settings of one device (seconds)."""

    interval: float = 5.0
    count: int = 3
    spacing: float = 0.2
    timeout: float = 1.0
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class SnmpSettings:
    """SNMP settings of one device, secrets already read (``auth`` redacts itself in repr)."""

    auth: SnmpAuth
    interval: float = 60.0
    port: int = 161
    timeout: float = 1.0
    retries: int = 1
    max_repetitions: int = 25
    interfaces: str = "all"  # "all", "marked" or a regular expression on ifName
    traffic: str = "marked"  # ports whose rates are exported: "marked", "all" or a regex


@dataclass(frozen=True, slots=True)
class PortMark:
    """What the inventory says about one interface of a device."""

    name: str
    required_up: bool = False
    uplink: bool = False
    description: str = ""
    bandwidth_mbps: float | None = None  # contracted rate: the utilisation base (not ifHighSpeed)


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A window in which faults of a device open no ticket.

    One-off windows have ``start``/``end`` (aware datetimes); weekly ones have ``days``
    (0 = Monday) and ``start_time``/``end_time`` in the office timezone. A weekly window whose
    end is before its start runs over midnight (``sat 22:00 - 02:00`` covers Sunday 01:00).
    """

    name: str
    start: datetime | None = None
    end: datetime | None = None
    days: frozenset[int] = frozenset()
    start_time: time | None = None
    end_time: time | None = None

    def active(self, at: datetime, tz: ZoneInfo) -> bool:
        """Return True when ``at`` (aware) falls inside the window."""
        if self.start is not None and self.end is not None:
            return self.start <= at < self.end
        if self.start_time is None or self.end_time is None:
            return False
        local = at.astimezone(tz)
        now_t = local.time()
        if self.start_time <= self.end_time:
            return local.weekday() in self.days and self.start_time <= now_t < self.end_time
        # over midnight: the part after midnight belongs to the previous day's window
        if now_t >= self.start_time:
            return local.weekday() in self.days
        yesterday = (local - timedelta(days=1)).weekday()
        return now_t < self.end_time and yesterday in self.days


@dataclass(frozen=True, slots=True)
class SshSettings:
    """SSH access: user, port and the secrets read at load time (never printed)."""

    user: str = ""
    port: int = 22
    password: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)  # IOS enable secret ('' = the password)


@dataclass(frozen=True, slots=True)
class RemediationPolicy:
    """Which playbooks may run on a device (off unless the inventory enables it)."""

    enabled: bool = False
    playbooks: tuple[str, ...] = ()
    dry_run: bool = False

    def allows(self, playbook: str) -> bool:
        """Return True when ``playbook`` is on this device's allow-list and remediation is on."""
        return self.enabled and playbook in self.playbooks


@dataclass(frozen=True, slots=True)
class RemediationSettings:
    """Process-wide remediation guards and SSH timeouts (seconds)."""

    known_hosts: Path = Path("known_hosts")
    host_key_policy: str = "strict"  # or "accept-new" (trust on first use, never on change)
    max_runs_per_fault_per_day: int = 3
    max_concurrent: int = 4
    connect_timeout: float = 5.0
    auth_timeout: float = 5.0
    banner_timeout: float = 5.0
    read_timeout: float = 10.0
    session_timeout: float = 45.0
    verify_timeout: float = 30.0
    verify_interval: float = 1.0
    transcript_max_bytes: int = 32768
    playbooks_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """One monitored device, with every setting resolved (host > groups > defaults)."""

    name: str
    address: str
    opd: str
    site: str
    role: str
    platform: str
    parent: str | None
    ping: PingSettings
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    ssh: SshSettings | None = None
    remediation: RemediationPolicy = RemediationPolicy()
    snmp: SnmpSettings | None = None
    ports: Mapping[str, PortMark] = field(default_factory=dict)
    description: str = ""
    zone: str = CENTRAL_ZONE  # who polls it: the central daemons, or the zone's pollers

    def ping_target(self) -> PingTarget:
        """Return the collector's view of this device."""
        p = self.ping
        return PingTarget(self.name, self.address, p.count, p.spacing, p.timeout)

    def snmp_target(self) -> SnmpTarget | None:
        """Return the SNMP collector's view of this device (None when SNMP is off)."""
        s = self.snmp
        if s is None:
            return None
        return SnmpTarget(
            self.name, self.address, s.auth, s.port, s.timeout, s.retries, s.max_repetitions
        )

    def in_maintenance(self, at: datetime, tz: ZoneInfo) -> MaintenanceWindow | None:
        """Return the maintenance window active at ``at``, if any."""
        return next((w for w in self.maintenance if w.active(at, tz)), None)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the SOP names, with how to reach them."""

    name: str
    role: str
    jabatan: str = ""
    opd: str = ""
    email: str = ""
    phone: str = ""
    apprise: tuple[str, ...] = field(default=(), repr=False)  # URLs may carry tokens
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Office-local hours without notifications; ``start > end`` crosses midnight."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """The ``notifications:`` block (see :mod:`agent.notify.routing` for the tags)."""

    enabled: bool = True
    routes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # overrides defaults
    group_window: timedelta = timedelta(seconds=30)
    reminder_interval: timedelta | None = timedelta(hours=4)
    templates_dir: Path | None = None
    link: str = ""
    lease: timedelta = timedelta(minutes=2)
    retry_initial: timedelta = timedelta(seconds=30)
    retry_maximum: timedelta = timedelta(minutes=30)
    give_up_after: timedelta = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """Detector hysteresis, dependency and flap settings (seconds)."""

    confirm_rounds: int = 2
    reprobe_interval: float = 0.5
    recover_rounds: int = 1
    flap_window: float = 600.0
    flap_threshold: int = 6
    flap_quiet: float = 300.0
    snmp_confirm_polls: int = 2
    saturation_pct: float = 90.0
    saturation_for: float = 300.0
    error_rate: float = 1.0
    error_for: float = 300.0


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """Health and radio polling and fault thresholds (seconds, %, degrees C, volts, dBm)."""

    enabled: bool = True
    interval: float = 120.0
    cpu_pct: float = 90.0
    cpu_for: float = 300.0
    temperature_c: float = 70.0
    temperature_for: float = 300.0
    voltage_min: float = 10.0
    voltage_max: float = 57.0
    voltage_for: float = 120.0
    psu_confirm_polls: int = 2
    radio_signal_dbm: float = -75.0
    radio_ccq_pct: float = 60.0
    radio_for: float = 600.0
    radio_trend: float = 3 * 86400.0
    pppoe_flaps: int = 3
    pppoe_window: float = 1800.0


@dataclass(frozen=True, slots=True)
class TicketSettings:
    """Ticket numbering and lifecycle timing."""

    number_prefix: str = "GJ"
    hold_down: timedelta = timedelta(seconds=60)
    reopen_window: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class StandingSettings:
    """Disposisi tetap (see :class:`agent.config.schema.StandingBlock`)."""

    signer: str
    reference: str
    sifat: str = "segera"
    technician: str | None = None
    assign: bool = True


@dataclass(frozen=True, slots=True)
class SopSettings:
    """SOP choice and standing disposition for tickets."""

    agent_sop: str = "pemeliharaan"
    by_kind: Mapping[str, str] = field(default_factory=dict)
    standing: StandingSettings | None = None
    agent_all_hours: bool = False
    complaint_all_hours: bool = False
    holidays_dir: Path | None = None
    friday_break: bool = True


@dataclass(frozen=True, slots=True)
class HaSettings:
    """Active/standby: this daemon's name, its cluster (one leader each), the lease (seconds)."""

    node: str
    cluster: str = "sigap"
    lease: float = 15.0


@dataclass(frozen=True, slots=True)
class TopologySettings:
    """Re-discovery by the daemon: on or off, and how often (seconds)."""

    enabled: bool = True
    interval: float = 900.0


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """Traffic rollups kept by the daemon and the availability target (issue 19)."""

    enabled: bool = True
    fine: timedelta = timedelta(days=35)
    hourly: timedelta = timedelta(days=400)
    target: float = 99.5


@dataclass(frozen=True, slots=True)
class BackupSettings:
    """Configuration backup (issue 22): the history's directory and the night's spread."""

    directory: Path | None = None  # None: beside the SQLite database (agent.wiring)
    remote: str = field(default="", repr=False)  # may hold a token
    max_concurrent: int = 4
    night_start: time = time(1, 0)  # office time zone
    night_hours: float = 4.0
    failed_nights_ticket: int = 3
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class LabSettings:
    """Addressing of the simulated network."""

    prefixes: tuple[str, ...]
    noc_address: str


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything ``inventory.yaml`` says, resolved and validated."""

    path: Path
    office_name: str
    office_short: str
    tz: ZoneInfo
    devices: Mapping[str, Device]
    people: tuple[Person, ...] = ()
    detection: DetectionSettings = DetectionSettings()
    health: HealthSettings = HealthSettings()
    tickets: TicketSettings = TicketSettings()
    max_concurrent_probes: int = 1000
    database: str = ""
    metrics_listen: str = DEFAULT_LISTEN  # "" = no metrics endpoint
    ha: HaSettings | None = None  # active/standby on PostgreSQL; None = this daemon alone
    topology: TopologySettings = TopologySettings()
    history: HistorySettings = HistorySettings()
    backup: BackupSettings = BackupSettings()
    sop: SopSettings = SopSettings()
    notifications: NotifySettings = NotifySettings()
    remediation: RemediationSettings = RemediationSettings()
    intake: IntakeSettings | None = None  # complaints by e-mail / WhatsApp (agent.intake)
    events: EventsSettings | None = None  # traps and syslog receivers (agent.events)
    lab: LabSettings | None = None
    warnings: tuple[str, ...] = ()  # rendered like problems; `sigap check` shows them
    _children: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def children(self, name: str) -> tuple[str, ...]:
        """Return the devices whose parent is ``name``."""
        return self._children.get(name, ())

    def ancestors(self, name: str) -> Iterator[Device]:
        """Yield the parent, grandparent, ... of ``name`` up to the root (cycle-free by loading)."""
        parent = self.devices[name].parent
        while parent is not None:
            device = self.devices[parent]
            yield device
            parent = device.parent

    def descendants(self, name: str) -> Iterator[str]:
        """Yield every device below ``name``, depth-first."""
        stack = list(self.children(name))
        while stack:
            child = stack.pop()
            yield child
            stack.extend(self.children(child))

    def zone_devices(self, zone: str) -> list[Device]:
        """Return the devices of ``zone`` in inventory order."""
        return [d for d in self.devices.values() if d.zone == zone]

    def remote_zones(self) -> list[str]:
        """Return the zones polled by zone pollers (every zone but the centre's), sorted."""
        return sorted({d.zone for d in self.devices.values()} - {CENTRAL_ZONE})

    def opds(self) -> list[str]:
        """Return the OPD names in inventory order, each once."""
        return list(dict.fromkeys(d.opd for d in self.devices.values() if d.opd))
