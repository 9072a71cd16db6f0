"""Pydantic models of the inventory *file* as written (before groups are resolved).

Every block forbids unknown keys, so a typo is reported with its path instead of ignored.
Resolution into frozen :mod:`agent.config.model` objects happens in :mod:`agent.config.build`.
One concept: the inventory file's blocks, one model each (hence the module's length).
"""

from __future__ import annotations

import math
import re
from datetime import time, timedelta
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from agent.config.listen import DEFAULT_LISTEN, parse_listen

Platform = Literal[
    "mikrotik_routeros",
    "cisco_ios",
    "cisco_xe",
    "cisco_nxos",
    "juniper_junos",
    "huawei",
    "ruijie_os",
    "hp_procurve",
    "linux",
    "tplink_jetstream",
    "fortinet",
    "ubiquiti_edgerouter",
    "ubiquiti_edgeswitch",
]
Role = Literal["router", "switch", "ap", "server", "firewall"]
PersonRole = Literal["kadis", "kabid", "kasi", "admin", "teknisi", "pj_opd"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PLATFORMS: tuple[str, ...] = get_args(Platform)
ROLES: tuple[str, ...] = get_args(Role)
PERSON_ROLES: tuple[str, ...] = get_args(PersonRole)
WEEKDAYS: tuple[str, ...] = get_args(Weekday)

ZONE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"  # a device's zone (issue 23); "pusat" = the centre
_NAME_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,47}\Z")
_DURATION_RE = re.compile(r"\A\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*\Z")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_LONGEST_S = 3650 * 86400.0  # ten years: anything longer is a typo (and overflows timedelta)


def _seconds(value: float) -> timedelta:
    """``value`` seconds, refused when not finite or longer than ten years."""
    if not math.isfinite(value) or abs(value) > _LONGEST_S:
        raise ValueError("must be a finite duration of at most 3650d")
    return timedelta(seconds=value)


def _parse_duration(value: object) -> object:
    """Accept ``5``, ``"5s"``, ``"250ms"``, ``"2m"``, ``"1h"``, ``"1d"`` as seconds."""
    if isinstance(value, bool):  # YAML `true` is not a duration (pydantic would take it as 1)
        raise ValueError(  # noqa: TRY004 - pydantic turns ValueError into a located problem
            "expected a duration such as 5s, 250ms, 2m, 1h or 1d, not true/false"
        )
    if isinstance(value, int | float):
        return _seconds(float(value))
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match is None:
            raise ValueError("expected a duration such as 5s, 250ms, 2m, 1h or 1d")
        return _seconds(float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(
            "expected a name of lowercase letters, digits and '-' (max 48, starting with a "
            "letter or digit)"
        )
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration), AfterValidator(_positive)]


_BANDWIDTH_RE = re.compile(r"\A\s*([0-9]+(?:\.[0-9]+)?)\s*([kmg])?(?:bps|bit/s|b)?\s*\Z", re.I)
_UNIT_MBPS = {"k": 0.001, "m": 1.0, "g": 1000.0, None: 1.0}
MAX_MBPS = 1_000_000.0  # 1 Tbit/s


def _parse_bandwidth(value: object) -> object:
    """Accept ``20`` (Mbit/s), ``"20M"``, ``"20 Mbps"``, ``"1G"``, ``"512k"`` as Mbit/s."""
    if isinstance(value, bool):
        raise ValueError(  # noqa: TRY004 - pydantic turns ValueError into a located problem
            "expected a bandwidth such as 20M, 512k or 1G, not true/false"
        )
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _BANDWIDTH_RE.match(value)
        if match is None:
            raise ValueError("expected a bandwidth such as 20M, 512k or 1G")
        unit = match.group(2).lower() if match.group(2) else None
        return float(match.group(1)) * _UNIT_MBPS[unit]
    return value


def _sane_bandwidth(value: float) -> float:
    if not 0 < value <= MAX_MBPS:  # NaN fails too
        raise ValueError(f"must be above 0 and at most {MAX_MBPS:.0f} Mbit/s (1T)")
    return value


Bandwidth = Annotated[float, BeforeValidator(_parse_bandwidth), AfterValidator(_sane_bandwidth)]


def _one_or_many(value: object) -> object:
    """``NAME`` is ``[NAME]``."""
    return [value] if isinstance(value, str) else value


Names = Annotated[list[str], BeforeValidator(_one_or_many)]
Name = Annotated[str, AfterValidator(_check_name)]


class Strict(BaseModel):
    """Base: unknown keys are errors, values are not coerced from unrelated types."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PingBlock(Strict):
    """ICMP probe settings; every key optional so that levels can be merged."""

    interval: Duration | None = None
    count: Annotated[int, Field(ge=1, le=20, strict=True)] | None = None
    spacing: Duration | None = None
    timeout: Duration | None = None
    enabled: bool | None = None


class WeeklySpec(Strict):
    """A weekly recurring window in office local time."""

    days: list[Weekday] = Field(min_length=1)
    start: time
    end: time


class MaintenanceBlock(Strict):
    """Either a one-off window (start/end, with timezone) or a weekly one."""

    name: str = Field(min_length=1)
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    weekly: WeeklySpec | None = None


class SecretRef(Strict):
    """A secret given by environment variable or file, never inline."""

    password_env: str | None = None
    password_file: str | None = None


class SshBlock(SecretRef):
    """SSH access for remediation and diagnostics; ``secret_*`` is the IOS enable secret."""

    user: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    secret_env: str | None = None
    secret_file: str | None = None


class RemediationBlock(Strict):
    """Per device (merged key by key): which playbooks may run on it. Off unless enabled."""

    enabled: bool | None = None
    playbooks: list[Name] | None = None  # the allow-list, by playbook name
    dry_run: bool | None = None  # record what would run, send nothing


class RemediationSettingsBlock(Strict):
    """Process-wide remediation guards and SSH timeouts (top-level ``remediation:``)."""

    known_hosts: str = "known_hosts"  # relative to the inventory's folder
    host_key_policy: Literal["strict", "accept-new"] = "strict"
    max_runs_per_fault_per_day: Annotated[int, Field(ge=1, le=100)] = 3
    max_concurrent: Annotated[int, Field(ge=1, le=64)] = 4
    connect_timeout: Duration = timedelta(seconds=5)
    auth_timeout: Duration = timedelta(seconds=5)
    banner_timeout: Duration = timedelta(seconds=5)
    read_timeout: Duration = timedelta(seconds=10)
    session_timeout: Duration = timedelta(seconds=45)  # whole SSH session, hard bound
    verify_timeout: Duration = timedelta(seconds=30)
    verify_interval: Duration = timedelta(seconds=1)
    transcript_max_bytes: Annotated[int, Field(ge=1024, le=1048576)] = 32768
    playbooks_dir: str | None = None  # extra playbooks (relative to the inventory's folder)


class SnmpBlock(Strict):
    """SNMP polling; every key optional so that levels merge key by key.

    Secrets only by reference: ``community_env``/``community_file`` (v2c), ``auth_key_*`` and
    ``priv_key_*`` (v3). Relative secret files are resolved against the inventory's folder.
    """

    enabled: bool | None = None
    version: Literal["2c", "3"] | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    retries: Annotated[int, Field(ge=0, le=5, strict=True)] | None = None
    max_repetitions: Annotated[int, Field(ge=1, le=200, strict=True)] | None = None
    community_env: str | None = None
    community_file: str | None = None
    user: str | None = None
    auth_protocol: Literal["sha", "sha256"] | None = None
    auth_key_env: str | None = None
    auth_key_file: str | None = None
    priv_protocol: Literal["aes128", "aes256"] | None = None
    priv_key_env: str | None = None
    priv_key_file: str | None = None
    interfaces: str | None = None  # "all" (default), "marked", or a regular expression on ifName
    traffic: str | None = None  # rates exported: "marked" (default), "all", or a regex on ifName


class PortBlock(Strict):
    """Marks on one interface of a host (by its ifName)."""

    required_up: bool = False  # admin-down here is a fault (interface_disabled), not a choice
    uplink: bool = False
    description: str = ""
    bandwidth: Bandwidth | None = None  # e.g. 20M: the ISP contract, utilisation's base


class NodeBlock(Strict):
    """What a host, a group and the defaults may all set (merged host > groups > defaults)."""

    opd: str | None = None
    site: str | None = None
    role: Role | None = None
    platform: Platform | None = None
    parent: Name | None = None
    # which poller polls the device (issue 23): "pusat" = the central daemons
    zone: Annotated[str, Field(pattern=ZONE_PATTERN)] | None = None
    ping: PingBlock | None = None
    snmp: SnmpBlock | None = None
    ssh: SshBlock | None = None
    remediation: RemediationBlock | None = None
    interfaces: dict[str, PortBlock] = Field(default_factory=dict)  # marks by ifName
    maintenance: list[MaintenanceBlock] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class GroupBlock(NodeBlock):
    """A group; it may itself belong to groups (resolved depth-first, in listed order)."""

    groups: list[Name] = Field(default_factory=list)
    description: str = ""


class HostBlock(NodeBlock):
    """A device."""

    address: IPv4Address
    groups: list[Name] = Field(default_factory=list)
    description: str = ""


class QuietHoursBlock(Strict):
    """Office-local hours without notifications (``start`` > ``end`` crosses midnight)."""

    start: time
    end: time


class PersonBlock(Strict):
    """Someone the SOP names: Kepala Dinas, Kabid, Kasi, teknisi, penanggung jawab OPD."""

    name: str = Field(min_length=1)
    role: PersonRole
    jabatan: str = ""
    opd: str = ""
    email: str = ""
    phone: str = ""
    apprise: list[str] = Field(default_factory=list)  # inline URLs: `sigap check` warns
    apprise_env: Names = Field(default_factory=list)  # variables holding Apprise URLs
    apprise_file: Names = Field(default_factory=list)  # files of URLs (relative: inventory)
    quiet_hours: QuietHoursBlock | None = None  # no messages then, except escalations


class OfficeBlock(Strict):
    """The office that runs sigap."""

    name: str
    short_name: str = "Diskominfo"
    timezone: str = "Asia/Makassar"


class DetectionBlock(Strict):
    """Hysteresis, dependency and flap settings of the detector."""

    confirm_rounds: Annotated[int, Field(ge=1, le=10)] = 2
    reprobe_interval: Duration = timedelta(seconds=0.5)
    recover_rounds: Annotated[int, Field(ge=1, le=10)] = 1
    flap_window: Duration = timedelta(minutes=10)
    flap_threshold: Annotated[int, Field(ge=2, le=100)] = 6
    flap_quiet: Duration = timedelta(minutes=5)
    snmp_confirm_polls: Annotated[int, Field(ge=1, le=10)] = 2  # silent polls -> snmp_unreachable
    saturation_pct: Annotated[float, Field(gt=0, le=100)] = 90.0
    saturation_for: Duration = timedelta(minutes=5)
    error_rate: Annotated[float, Field(gt=0)] = 1.0  # errors+discards per second on an interface
    error_for: Duration = timedelta(minutes=5)


class HealthBlock(Strict):
    """Device health and radio polling (issue 18): interval, thresholds, how long they hold.

    Defaults and where they come from are in README ("Health and radio").
    """

    enabled: bool = True
    interval: Duration = timedelta(minutes=2)
    cpu_pct: Annotated[float, Field(gt=0, le=100)] = 90.0
    cpu_for: Duration = timedelta(minutes=5)
    temperature_c: Annotated[float, Field(gt=0, le=150)] = 70.0
    temperature_for: Duration = timedelta(minutes=5)
    voltage_min: Annotated[float, Field(ge=0, le=400)] = 10.0
    voltage_max: Annotated[float, Field(gt=0, le=400)] = 57.0
    voltage_for: Duration = timedelta(minutes=2)
    psu_confirm_polls: Annotated[int, Field(ge=1, le=10)] = 2
    radio_signal_dbm: Annotated[float, Field(ge=-120, le=0)] = -75.0
    radio_ccq_pct: Annotated[float, Field(ge=0, le=100)] = 60.0
    radio_for: Duration = timedelta(minutes=10)
    radio_trend: Duration = timedelta(days=3)
    pppoe_flaps: Annotated[int, Field(ge=2, le=100)] = 3  # PPPoE drops within pppoe_window
    pppoe_window: Duration = timedelta(minutes=30)

    @model_validator(mode="after")
    def _voltage_range(self) -> HealthBlock:
        if self.voltage_min >= self.voltage_max:
            raise ValueError(
                f"voltage_min ({self.voltage_min}) harus lebih kecil dari "
                f"voltage_max ({self.voltage_max})"
            )
        return self


class TicketsBlock(Strict):
    """Ticket numbering and lifecycle timing."""

    number_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,6}$")] = "GJ"
    hold_down: Duration = timedelta(seconds=60)
    reopen_window: Duration = timedelta(minutes=30)


def _metrics_listen(value: str) -> str:
    """Check ``host:port`` the way the metrics server will parse it ("" = no endpoint)."""
    if value:
        parse_listen(value)
    return value


class HaBlock(Strict):
    """Active/standby on PostgreSQL (issue 23): the daemons of one cluster elect one leader."""

    enabled: bool = True
    # how this daemon names itself to the others; default: the host name (must differ per node)
    node: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$")] | None = None
    cluster: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")] = "sigap"
    lease: Duration = timedelta(seconds=15)

    @model_validator(mode="after")
    def _lease_range(self) -> HaBlock:
        if not timedelta(seconds=3) <= self.lease <= timedelta(minutes=2):
            raise ValueError(f"lease {self.lease.total_seconds():g}s is outside 3s..2m")
        return self


class DaemonBlock(Strict):
    """Process-wide limits of the daemon."""

    max_concurrent_probes: Annotated[int, Field(ge=1, le=10000)] = 1000
    database: str = ""
    # /metrics and /healthz; "" turns the endpoint off; a wildcard must be written out
    metrics_listen: Annotated[str, AfterValidator(_metrics_listen)] = DEFAULT_LISTEN
    ha: HaBlock | None = None  # several daemons on one PostgreSQL, one of them leading

    @model_validator(mode="after")
    def _ha_needs_postgresql(self) -> DaemonBlock:
        if self.ha is not None and self.ha.enabled and self.database.startswith("sqlite"):
            raise ValueError("ha needs PostgreSQL in database (SQLite is single-node)")
        return self


class TopologyBlock(Strict):
    """Re-discovery by the daemon (issue 11): neighbour tables walked every ``interval``."""

    enabled: bool = True
    interval: Duration = timedelta(minutes=15)


class HistoryBlock(Strict):
    """Network history (issue 19): traffic rollups kept, and the availability target."""

    enabled: bool = True
    fine: Duration = timedelta(days=35)  # 5-minute buckets kept this long
    hourly: Duration = timedelta(days=400)  # hourly buckets kept this long
    target: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] = 99.5  # percent


class BackupBlock(Strict):
    """Configuration backup (issue 22): where the history lives, when the night runs."""

    enabled: bool = True
    directory: str = ""  # relative: to the inventory file; "": beside the SQLite database
    remote: str = ""  # git remote the office controls; pushed after each change
    max_concurrent: Annotated[int, Field(ge=1, le=64)] = 4
    night_start: time = time(1, 0)  # office time zone
    night_hours: Annotated[float, Field(gt=0, le=12, allow_inf_nan=False)] = 4.0
    failed_nights_ticket: Annotated[int, Field(ge=1, le=30)] = 3


class StandingBlock(Strict):
    """Disposisi tetap: the standing order under which agent tickets skip paper dispositions."""

    signer: str = Field(min_length=1)  # a person of the people list (usually the Kepala Dinas)
    reference: str = Field(min_length=1)  # e.g. "800/123/Diskominfo/2026"
    sifat: Literal["biasa", "segera", "sangat_segera"] = "segera"
    technician: str | None = None  # the technician on duty (a teknisi); None: first by name
    assign: bool = True


class SopSettingsBlock(Strict):
    """Which SOP tickets walk, and the standing disposition for agent tickets."""

    agent_sop: str = "pemeliharaan"
    by_kind: dict[str, str] = Field(default_factory=dict)  # fault kind -> SOP code
    standing_disposition: StandingBlock | None = None
    agent_all_hours: bool = False  # steps marked boleh_24x7 count around the clock
    complaint_all_hours: bool = False


class CalendarBlock(Strict):
    """Office calendar: holiday files (relative to the inventory) and the Friday break."""

    holidays_dir: str | None = None
    friday_break: bool = True


class LabBlock(Strict):
    """The simulated network built from this inventory (``sigap lab``)."""

    prefixes: list[IPv4Network] = Field(min_length=1)
    noc_address: IPv4Address


class NotifyRetryBlock(Strict):
    """Backoff between delivery attempts of one message, and when to give up."""

    initial: Duration = timedelta(seconds=30)
    maximum: Duration = timedelta(minutes=30)
    give_up_after: Duration = timedelta(days=3)


class NotificationsBlock(Strict):
    """Who hears about which ticket event, and when (see ``agent.notify.routing``)."""

    enabled: bool = True
    routes: dict[str, list[str]] = Field(default_factory=dict)  # event kind -> role tags
    group_window: Duration = timedelta(seconds=30)
    reminder_interval: Duration | None = timedelta(hours=4)
    templates_dir: str | None = None  # relative to the inventory; overrides bundled files
    link: str = ""  # e.g. "https://sigap.example/tiket/{nomor}"; empty: the CLI command
    lease: Duration = timedelta(minutes=2)
    retry: NotifyRetryBlock = NotifyRetryBlock()


class ImapBlock(Strict):
    """The mailbox complaints arrive in (``intake.imap``); plain IMAP only to localhost."""

    host: str = Field(min_length=1)
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # default 993 (tls) / 143
    tls: Literal["tls", "starttls", "none"] = "tls"
    user: str = Field(min_length=1)
    password_env: str | None = None
    password_file: str | None = None
    folder: str = "INBOX"
    poll_interval: Annotated[Duration, AfterValidator(_positive)] = timedelta(seconds=60)
    idle_timeout: Annotated[Duration, AfterValidator(_positive)] = timedelta(minutes=10)
    allowed_domains: list[str] = Field(default_factory=list)  # senders outside people accepted
    reply_url_env: str | None = None  # Apprise mailto URL (a secret) for replies to reporters
    reply_domain: str = "sigap.local"  # Message-ID domain of acknowledgements
    # take mail only when the office's server (authserv_id) says SPF, DKIM or DMARC passed
    require_authenticated: bool = False
    authserv_id: str | None = None  # the authserv-id in that server's Authentication-Results


class WhatsAppBlock(Strict):
    """The WhatsApp Business Cloud API webhook (``intake.whatsapp``)."""

    verify_token_env: str = Field(min_length=1)
    app_secret_env: str = Field(min_length=1)
    access_token_env: str | None = None  # for replies; none: no replies by WhatsApp
    phone_number_id: str = Field(min_length=1)
    api_base: str = "https://graph.facebook.com/v21.0"
    reply_template: str = "sigap_pengaduan"  # approved template, outside the 24-hour window
    template_language: str = "id"
    # SOP actions from WhatsApp (issue 24): the HMAC key of the buttons; none: no actions
    action_secret_env: str | None = None
    action_secret_file: str | None = None
    action_template: str = "sigap_aksi"  # approved template with one quick-reply button
    listen: Annotated[str, AfterValidator(_metrics_listen)] = "127.0.0.1:8470"
    path: str = Field(default="/intake/whatsapp", pattern=r"^/[A-Za-z0-9/_-]*$")


class IntakeBlock(Strict):
    """Complaints by e-mail and WhatsApp (issue 12); absent blocks: nothing listens."""

    imap: ImapBlock | None = None
    whatsapp: WhatsAppBlock | None = None
    max_message_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    max_attachment_bytes: Annotated[int, Field(ge=0)] = 2 * 1024 * 1024
    max_attachments: Annotated[int, Field(ge=0, le=100)] = 10
    # /metrics and /healthz of ``sigap intake`` (its counters live in that process); "" = off
    metrics_listen: Annotated[str, AfterValidator(_metrics_listen)] = ""


class LoginFailuresBlock(Strict):
    """N failed logins from one address within T open one ``login_failures`` ticket."""

    count: Annotated[int, Field(ge=2, le=10000)] = 10
    window: Duration = timedelta(minutes=5)


Listen = Annotated[str, AfterValidator(_metrics_listen), Field(min_length=1)]


class EventsBlock(Strict):
    """Traps and syslog (issue 20, ``agent.events.settings``): listeners, limits, keeping."""

    syslog_listen: list[Listen] = Field(default_factory=list, max_length=8)
    syslog_tcp: bool = True
    trap_listen: list[Listen] = Field(default_factory=list, max_length=8)
    trap_communities: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=16
    )
    rate: Annotated[float, Field(gt=0, le=100000, allow_inf_nan=False)] = 50.0  # per source/s
    burst: Annotated[int, Field(ge=1, le=1000000)] = 200
    queue: Annotated[int, Field(ge=10, le=1000000)] = 10000
    max_line: Annotated[int, Field(ge=256, le=1048576)] = 8192
    retention: Duration = timedelta(days=30)
    context_before: Duration = timedelta(minutes=10)
    rules: str | None = None  # rule file relative to the inventory; bundled rules when absent
    login_failures: LoginFailuresBlock = LoginFailuresBlock()


class InventoryFile(Strict):
    """The whole ``inventory.yaml``."""

    office: OfficeBlock
    defaults: NodeBlock = NodeBlock()
    groups: dict[Name, GroupBlock] = Field(default_factory=dict)
    hosts: dict[Name, HostBlock]
    people: list[PersonBlock] = Field(default_factory=list)
    detection: DetectionBlock = DetectionBlock()
    health: HealthBlock = HealthBlock()
    tickets: TicketsBlock = TicketsBlock()
    daemon: DaemonBlock = DaemonBlock()
    topology: TopologyBlock = TopologyBlock()
    history: HistoryBlock = HistoryBlock()
    backup: BackupBlock = BackupBlock()
    sop: SopSettingsBlock = SopSettingsBlock()
    calendar: CalendarBlock = CalendarBlock()
    notifications: NotificationsBlock = NotificationsBlock()
    remediation: RemediationSettingsBlock = RemediationSettingsBlock()
    intake: IntakeBlock | None = None
    events: EventsBlock | None = None
    lab: LabBlock | None = None
