"""Platform detection: what a device is (vendor, model, OS and version, netmiko device type).

Pure: :func:`detect` reads the columns of :data:`COLUMNS` as ``SnmpCollector.walk_columns``
returns them (column OID -> index arcs -> value). The system group says little on its own:
RouterOS puts no version in sysDescr (``RouterOS RB760iGS``, or just ``router``), so the
version comes from entPhysicalDescr (``RouterOS 7.1.1 (stable) on RB760iGS``) or
``mtxrLicVersion``; a UniFi AP answers with net-snmp's Linux sysObjectID; Cisco and Huawei
sysDescr span several lines (CR/LF, sometimes quoted). :data:`FAMILIES` is the data table,
first match wins; a family names where its model and version come from, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collectors._snmp.ber import Value

    Columns: TypeAlias = Mapping[str, Mapping[tuple[int, ...], Value]]

SYS_DESCR: Final = "1.3.6.1.2.1.1.1"
SYS_OBJECT_ID: Final = "1.3.6.1.2.1.1.2"
_ENT: Final = "1.3.6.1.2.1.47.1.1.1.1."
ENT_DESCR: Final = _ENT + "2"
ENT_CLASS: Final = _ENT + "5"
ENT_SOFTWARE: Final = _ENT + "10"
ENT_MODEL: Final = _ENT + "13"
MTXR_LIC_VERSION: Final = "1.3.6.1.4.1.14988.1.1.4.4"  # MIKROTIK-MIB mtxrLicVersion
MTXR_FIRMWARE: Final = "1.3.6.1.4.1.14988.1.1.7.4"  # mtxrFirmwareVersion (RouterBOOT)
FG_SYS_VERSION: Final = "1.3.6.1.4.1.12356.101.4.1.1"  # FORTINET-FORTIGATE-MIB fgSysVersion
TP_HW_VERSION: Final = "1.3.6.1.4.1.11863.6.1.1.5"  # TPLINK-SYSINFO-MIB tpSysInfoHwVersion
TP_SW_VERSION: Final = "1.3.6.1.4.1.11863.6.1.1.6"  # tpSysInfoSwVersion
RMON_PROBE_SW: Final = "1.3.6.1.2.1.16.19.2"  # RMON2-MIB probeSoftwareRev
RMON_PROBE_HW: Final = "1.3.6.1.2.1.16.19.3"  # probeHardwareRev
UNIFI_MODEL: Final = "1.3.6.1.4.1.41112.1.6.3.3"  # UBNT-UniFi-MIB unifiApSystemModel
UNIFI_VERSION: Final = "1.3.6.1.4.1.41112.1.6.3.6"  # unifiApSystemVersion
DOT11_PRODUCT: Final = "1.2.840.10036.3.1.2.1.3"  # IEEE802dot11-MIB manufacturerProductName
DOT11_VERSION: Final = "1.2.840.10036.3.1.2.1.4"  # dot11manufacturerProductVersion

COLUMNS: Final = (
    SYS_DESCR,
    SYS_OBJECT_ID,
    ENT_DESCR,
    ENT_CLASS,
    ENT_SOFTWARE,
    ENT_MODEL,
    MTXR_LIC_VERSION,
    MTXR_FIRMWARE,
    FG_SYS_VERSION,
    TP_HW_VERSION,
    TP_SW_VERSION,
    RMON_PROBE_SW,
    RMON_PROBE_HW,
    UNIFI_MODEL,
    UNIFI_VERSION,
    DOT11_PRODUCT,
    DOT11_VERSION,
)
CHASSIS: Final = 3  # entPhysicalClass chassis(3)
MAX_TEXT: Final = 64  # a model or version longer than this is cut (hostile agents)


@dataclass(frozen=True, slots=True)
class Platform:
    """What a device says it is; empty strings where it does not say."""

    vendor: str = ""
    model: str = ""
    os: str = ""
    version: str = ""
    device_type: str = ""  # netmiko device type (the inventory's ``platform``)

    @property
    def known(self) -> bool:
        """True when the device type was recognised."""
        return bool(self.device_type)

    def summary(self) -> str:
        """One line: ``MikroTik RB760iGS, RouterOS 7.1.1 [mikrotik_routeros]``."""
        head = " ".join(x for x in (self.vendor, self.model) if x) or "tidak dikenal"
        system = " ".join(x for x in (self.os, self.version) if x)
        kind = f" [{self.device_type}]" if self.device_type else ""
        return f"{head}, {system}{kind}" if system else f"{head}{kind}"


@dataclass(frozen=True, slots=True)
class Source:
    """Where a model or version is read: a column (first row) or the sysDescr, via ``pattern``.

    ``column`` ``sysDescr`` reads sysDescr; ``chassis:<column>`` reads the entPhysical row
    of class chassis (else the lowest-indexed row with a value). ``pattern`` must match; its
    group ``v`` (or the whole match) is the value.
    """

    column: str
    pattern: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Family:
    """One row of the table: how to recognise a device family and read its model/version."""

    vendor: str
    os: str
    device_type: str
    object_ids: tuple[str, ...] = ()  # sysObjectID prefixes (dotted, no leading dot)
    descr: re.Pattern[str] | None = None  # sysDescr pattern
    evidence: tuple[Source, ...] = ()  # any of these present also recognises the family
    model: tuple[Source, ...] = ()
    version: tuple[Source, ...] = ()


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_CISCO_VERSION = Source(SYS_DESCR, _re(r"Version (?P<v>[^\s,]+)"))
_CISCO_MODEL = (Source("chassis:" + ENT_MODEL), Source("chassis:" + ENT_DESCR))

FAMILIES: Final = (
    Family(
        "MikroTik",
        "RouterOS",
        "mikrotik_routeros",
        object_ids=("1.3.6.1.4.1.14988.1",),
        descr=_re(r"^RouterOS\b"),
        model=(
            Source(SYS_DESCR, _re(r"^RouterOS (?P<v>\S+)")),
            Source("chassis:" + ENT_DESCR, _re(r"^RouterOS \S+(?: \(\w+\))? on (?P<v>\S+)")),
        ),
        version=(
            Source("chassis:" + ENT_DESCR, _re(r"^RouterOS (?P<v>\d\S*)")),
            Source(MTXR_LIC_VERSION, _re(r"^(?P<v>\d\S*)")),
            Source(SYS_DESCR, _re(r"^RouterOS \S+ (?P<v>\d\S*)")),
            Source(MTXR_FIRMWARE, _re(r"^(?P<v>\d\S*)")),
        ),
    ),
    Family(
        "Cisco",
        "NX-OS",
        "cisco_nxos",
        descr=_re(r"\bNX-OS\b"),
        model=_CISCO_MODEL,
        version=(_CISCO_VERSION,),
    ),
    Family(
        "Cisco",
        "IOS-XE",
        "cisco_xe",
        descr=_re(r"IOS[- ]XE|LINUX_IOSD"),
        model=_CISCO_MODEL,
        version=(_CISCO_VERSION,),
    ),
    Family(
        "Cisco",
        "IOS",
        "cisco_ios",
        descr=_re(r"Cisco IOS Software|Cisco Internetwork Operating System|\bIOS \("),
        model=_CISCO_MODEL,
        version=(_CISCO_VERSION,),
    ),
    Family(  # ASA, WLC, ...: a Cisco, but no CLI sigap knows
        "Cisco", "", "", object_ids=("1.3.6.1.4.1.9.",), model=_CISCO_MODEL
    ),
    Family(
        "Huawei",
        "VRP",
        "huawei",
        object_ids=("1.3.6.1.4.1.2011.",),
        descr=_re(r"Huawei Versatile Routing Platform"),
        model=(
            Source(SYS_DESCR, _re(r"^(?:Huawei\s+)?(?!Huawei|Versatile)(?P<v>[A-Z0-9][\w-]*)\s")),
            Source("chassis:" + ENT_MODEL),
        ),
        version=(
            Source(SYS_DESCR, _re(r"Version (?P<v>\d+\.\d+ \([^)]*\))")),
            Source("chassis:" + ENT_SOFTWARE),
        ),
    ),
    Family(
        "Ruijie",
        "RGOS",
        "ruijie_os",
        object_ids=("1.3.6.1.4.1.4881.",),
        descr=_re(r"\bRuijie\b"),
        model=(Source("chassis:" + ENT_MODEL), Source(SYS_DESCR, _re(r"\((?P<v>[^)\s]+)\)"))),
        version=(
            Source(SYS_DESCR, _re(r"RGOS (?P<v>[\d.()A-Za-z-]+)")),
            Source("chassis:" + ENT_SOFTWARE),
        ),
    ),
    Family(
        "TP-Link",
        "JetStream",
        "tplink_jetstream",
        object_ids=("1.3.6.1.4.1.11863.",),
        model=(
            Source(TP_HW_VERSION, _re(r"^(?P<v>\S+)")),
            Source(RMON_PROBE_HW, _re(r"^(?P<v>\S+)")),
        ),
        version=(Source(TP_SW_VERSION), Source(RMON_PROBE_SW)),
    ),
    Family(
        "Fortinet",
        "FortiOS",
        "fortinet",
        object_ids=("1.3.6.1.4.1.12356.",),
        model=(Source("chassis:" + ENT_MODEL),),
        version=(Source(FG_SYS_VERSION, _re(r"^v?(?P<v>\d[\d.]*)")),),
    ),
    Family(
        "Ubiquiti",
        "UniFi",
        "linux",
        evidence=(Source(UNIFI_MODEL),),
        descr=_re(r"^U(?:AP|6)-"),
        model=(Source(UNIFI_MODEL), Source(SYS_DESCR, _re(r"^(?P<v>\S+)"))),
        version=(Source(UNIFI_VERSION), Source(SYS_DESCR, _re(r"^\S+ (?P<v>\d[\d.]+)"))),
    ),
    Family(
        "Ubiquiti",
        "airOS",
        "linux",
        evidence=(Source(DOT11_VERSION, _re(r"^[A-Z]{2}\.\w+\.v\d")),),
        model=(Source(DOT11_PRODUCT),),
        version=(Source(DOT11_VERSION, _re(r"\.v(?P<v>\d+\.\d+(?:\.\d+)?)")),),
    ),
    Family("Ubiquiti", "EdgeOS", "ubiquiti_edgerouter", descr=_re(r"^EdgeOS|EdgeRouter")),
    Family("Ubiquiti", "EdgeSwitch", "ubiquiti_edgeswitch", descr=_re(r"^EdgeSwitch")),
    Family(
        "",
        "Linux",
        "linux",
        object_ids=("1.3.6.1.4.1.8072.3.2.10",),
        descr=_re(r"^Linux "),
        version=(Source(SYS_DESCR, _re(r"^Linux \S+ (?P<v>\d\S*)")),),
    ),
)


def text(value: Value) -> str:
    """An SNMP value as one clean line: NULs cut, quotes and blanks trimmed, first line only."""
    if isinstance(value, bytes):
        raw = value.split(b"\0", 1)[0].decode("utf-8", errors="replace")
    elif isinstance(value, tuple):
        raw = ".".join(map(str, value))
    elif isinstance(value, int) and not isinstance(value, bool):
        raw = str(value)
    else:
        return ""
    return raw.strip().strip('"').strip()


def _descr(columns: Columns) -> str:
    """The whole sysDescr (several lines kept: patterns may look past the first)."""
    value = next(iter(columns.get(SYS_DESCR, {}).values()), None)
    if not isinstance(value, bytes):
        return ""
    raw = value.split(b"\0", 1)[0].decode("utf-8", errors="replace")
    return raw.replace("\r", "").strip().strip('"').strip()


def _object_id(columns: Columns) -> str:
    value = next(iter(columns.get(SYS_OBJECT_ID, {}).values()), None)
    return ".".join(map(str, value)) if isinstance(value, tuple) else ""


def _chassis_value(columns: Columns, column: str) -> str:
    """The value of ``column`` in the chassis row, else in the lowest-indexed row having one."""
    rows = columns.get(column, {})
    classes = columns.get(ENT_CLASS, {})
    for index, cls in sorted(classes.items()):
        if cls == CHASSIS and text(rows.get(index)):
            return text(rows.get(index))
    return next((t for _, v in sorted(rows.items()) if (t := text(v))), "")


def _read(columns: Columns, descr: str, source: Source) -> str:
    """One source's value (``pattern`` applied), or empty."""
    if source.column == SYS_DESCR:
        found = descr
    elif source.column.startswith("chassis:"):
        found = _chassis_value(columns, source.column.removeprefix("chassis:"))
    else:
        found = next(
            (t for _, v in sorted(columns.get(source.column, {}).items()) if (t := text(v))), ""
        )
    if found and source.pattern is not None:
        match = source.pattern.search(found)
        found = "" if match is None else (match.groupdict().get("v") or match.group(0))
    return found.splitlines()[0].strip()[:MAX_TEXT] if found.strip() else ""


def _first(columns: Columns, descr: str, sources: tuple[Source, ...]) -> str:
    return next((v for s in sources if (v := _read(columns, descr, s))), "")


def family_of(columns: Columns) -> Family | None:
    """The first family of :data:`FAMILIES` the device's answers match, or None."""
    descr, oid = _descr(columns), _object_id(columns)
    for family in FAMILIES:
        if any(
            oid == p.rstrip(".") or oid.startswith(p if p.endswith(".") else p + ".")
            for p in family.object_ids
        ):
            return family
        if family.descr is not None and family.descr.search(descr):
            return family
        if any(_read(columns, descr, e) for e in family.evidence):
            return family
    return None


def detect(columns: Columns) -> Platform:
    """What the device is, from the columns of :data:`COLUMNS`; unknown parts stay empty."""
    family = family_of(columns)
    if family is None:
        return Platform()
    descr = _descr(columns)
    return Platform(
        vendor=family.vendor,
        model=_first(columns, descr, family.model),
        os=family.os,
        version=_first(columns, descr, family.version),
        device_type=family.device_type,
    )
