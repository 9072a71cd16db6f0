"""Neighbour tables over SNMP (numeric OIDs: Debian ships no MIB files) and their parsers.

- LLDP-MIB lldpRemTable (1.0.8802.1.1.2.1.4.1.1), index timeMark.localPortNum.remIndex
  (timeMark varies: rows are keyed on the rest). localPortNum is the ifIndex on lldpd and
  RouterOS, not on Huawei (GigabitEthernet0/0/1 is port 1, ifIndex 6), TP-Link (port 1,
  ifIndex 49153) or Cisco (Gi0/1 is port 1, ifIndex 10101): lldpLocPortTable names the
  interface of each port (ID or description = ifName/ifDescr), which wins when it does.
- RouterOS as recorded (``shared/devices``): v6 answers with a single-integer index (no local
  port, ``routeros_crs317``; ``routeros`` mixes it with ``0.0.N``), v7 often with
  ``0.0.N`` (local port 0 = unknown, ``routeros_rb760igs``); chassis IDs come as text
  (``B8:69:F4:7F:41:70``), port IDs as ``bridge/ether2`` or ``bridge1/server-trunk/ether6``
  (``bridge*/`` stripped for display: LibreNMS PR #7901, NAV #2015, netdisco #1495), and a
  sysName may be NUL-padded with garbage after the padding. The local port of such a row is
  the mtxrNeighborTable row with the same remIndex (its interface column), unless both
  tables give a MAC and they differ. lldpRemManAddrTable gives addresses (in the index;
  RouterOS 7 also as subtype/address columns, the address as text).
- MIKROTIK-MIB mtxrNeighborTable (1.3.6.1.4.1.14988.1.1.11.1.1): MNDP/CDP/LLDP on RouterOS,
  local ifIndex in .8, identity in .6; no remote port.
- CISCO-CDP-MIB cdpCacheTable (1.3.6.1.4.1.9.9.23.1.2.1.1), index ifIndex.deviceIndex; the
  remote port is the neighbour's ifDescr (``GigabitEthernet1/0/3``, ifName ``Gi1/0/3``).
- Text is one line: cut at the first NUL (SnmpAdminString has none), line breaks and other
  control characters (multi-line sysDescr) become one space.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Final

from agent.topology.model import Neighbour

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collectors.snmp import SnmpValue, TableColumns

IF_NAME: Final = "1.3.6.1.2.1.31.1.1.1.1"
IF_DESCR: Final = "1.3.6.1.2.1.2.2.1.2"
LLDP_LOC_PORT_ID: Final = "1.0.8802.1.1.2.1.3.7.1.3"
LLDP_LOC_PORT_DESC: Final = "1.0.8802.1.1.2.1.3.7.1.4"
LLDP_REM: Final = "1.0.8802.1.1.2.1.4.1.1"
LLDP_REM_CHASSIS: Final = LLDP_REM + ".5"
LLDP_REM_PORT_SUBTYPE: Final = LLDP_REM + ".6"
LLDP_REM_PORT: Final = LLDP_REM + ".7"
LLDP_REM_PORT_DESC: Final = LLDP_REM + ".8"
LLDP_REM_SYS_NAME: Final = LLDP_REM + ".9"
LLDP_REM_SYS_DESC: Final = LLDP_REM + ".10"
LLDP_MAN_ADDR_SUBTYPE: Final = "1.0.8802.1.1.2.1.4.2.1.1"  # an index part; RouterOS 7 serves it
LLDP_MAN_ADDR: Final = "1.0.8802.1.1.2.1.4.2.1.2"  # an index part; RouterOS 7 serves it as text
LLDP_MAN_ADDR_IF_SUBTYPE: Final = "1.0.8802.1.1.2.1.4.2.1.3"
MTXR_NEIGHBOR: Final = "1.3.6.1.4.1.14988.1.1.11.1.1"
MTXR_IP: Final = MTXR_NEIGHBOR + ".2"
MTXR_MAC: Final = MTXR_NEIGHBOR + ".3"
MTXR_PLATFORM: Final = MTXR_NEIGHBOR + ".5"
MTXR_IDENTITY: Final = MTXR_NEIGHBOR + ".6"
MTXR_INTERFACE: Final = MTXR_NEIGHBOR + ".8"
CDP_CACHE: Final = "1.3.6.1.4.1.9.9.23.1.2.1.1"
CDP_ADDRESS: Final = CDP_CACHE + ".4"
CDP_DEVICE_ID: Final = CDP_CACHE + ".6"
CDP_DEVICE_PORT: Final = CDP_CACHE + ".7"
CDP_PLATFORM: Final = CDP_CACHE + ".8"

COLUMNS: Final = (
    IF_NAME,
    IF_DESCR,
    LLDP_LOC_PORT_ID,
    LLDP_LOC_PORT_DESC,
    LLDP_REM_CHASSIS,
    LLDP_REM_PORT_SUBTYPE,
    LLDP_REM_PORT,
    LLDP_REM_PORT_DESC,
    LLDP_REM_SYS_NAME,
    LLDP_REM_SYS_DESC,
    LLDP_MAN_ADDR_SUBTYPE,
    LLDP_MAN_ADDR,
    LLDP_MAN_ADDR_IF_SUBTYPE,
    MTXR_IP,
    MTXR_MAC,
    MTXR_PLATFORM,
    MTXR_IDENTITY,
    MTXR_INTERFACE,
    CDP_ADDRESS,
    CDP_DEVICE_ID,
    CDP_DEVICE_PORT,
    CDP_PLATFORM,
)
PORT_ID_MAC: Final = 3
PORT_ID_NETWORK_ADDRESS: Final = 4
MAN_ADDR_IPV4: Final = 1
IPV4_LEN: Final = 4
THREE_PART: Final = 3
_CONTROL = re.compile(r"\s*[\x00-\x1f\x7f]+\s*")
_MAC_TEXT = re.compile(r"\A[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}\Z")


def text(value: SnmpValue) -> str:
    """Return an SNMP value as one line of text (OCTET STRING decoded, numbers and OIDs dotted).

    An OCTET STRING ends at its first NUL; line breaks and other control characters become
    one space (a multi-line sysDescr, a capture's garbage).
    """
    if isinstance(value, bytes):
        raw = value.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
        return _CONTROL.sub(" ", raw).strip()
    if isinstance(value, tuple):
        return ".".join(map(str, value))
    return "" if value is None else str(value)


def mac(value: SnmpValue) -> str:
    """Return a MAC as ``aa:bb:cc:dd:ee:ff``: 6 octets, or text as RouterOS sends it.

    Other values come back as text.
    """
    if isinstance(value, bytes) and len(value) == 6:  # noqa: PLR2004
        return ":".join(f"{b:02x}" for b in value)
    shown = text(value)
    if _MAC_TEXT.match(shown):
        return shown.replace("-", ":").lower()
    return shown


def ipv4(value: SnmpValue) -> str:
    """Return 4 octets as a dotted IPv4 address, else ''."""
    if isinstance(value, bytes) and len(value) == IPV4_LEN:
        return str(ipaddress.IPv4Address(value))
    return ""


def clean_port(port: str) -> str:
    """Return a port ID without RouterOS v7's ``bridge/`` prefix (``bridge/ether2`` -> ether2)."""
    head, sep, tail = port.partition("/")
    if sep and head.lower().startswith("bridge") and tail:
        return tail
    return port


def _by_index(columns: TableColumns, column: str) -> dict[int, str]:
    return {idx[0]: text(v) for idx, v in columns.get(column, {}).items() if len(idx) == 1}


def if_descrs(columns: TableColumns) -> dict[int, str]:
    """Return ifIndex -> ifDescr."""
    return _by_index(columns, IF_DESCR)


def if_names(columns: TableColumns) -> dict[int, str]:
    """Return ifIndex -> ifName (the ifDescr where an agent has no ifName: airOS)."""
    names = _by_index(columns, IF_NAME)
    descrs = if_descrs(columns)
    return {i: names.get(i) or descrs[i] for i in sorted(set(names) | set(descrs))}


def local_ports(columns: TableColumns) -> dict[int, int]:
    """Return lldpLocPortNum -> ifIndex for the ports whose ID or description names one interface.

    The port ID (subtype interfaceName on Huawei, Cisco, TP-Link) or else the description is
    looked up among ifName and ifDescr; a MAC (RouterOS, lldpd) names nothing.
    """
    found: dict[str, set[int]] = {}
    for table in (if_names(columns), if_descrs(columns)):
        for index, name in table.items():
            if name:
                found.setdefault(name, set()).add(index)
    out: dict[int, int] = {}
    for column in (LLDP_LOC_PORT_ID, LLDP_LOC_PORT_DESC):
        for num, value in _by_index(columns, column).items():
            hits = found.get(value, set())
            if num not in out and len(hits) == 1:
                out[num] = next(iter(hits))
    return out


def _lldp_key(index: tuple[int, ...]) -> tuple[int | None, tuple[int, ...]]:
    """Return (localPortNum or None, row key without timeMark) of an lldpRemTable index.

    Three arcs (standard, RouterOS v7): timeMark.localPortNum.remIndex, where RouterOS 7 may
    put 0 (unknown: None). One arc (RouterOS 6.38+): remIndex only. Two arcs (seen on some
    agents): localPortNum.remIndex.
    """
    if len(index) >= THREE_PART:
        return index[-2] or None, index[-2:]
    if len(index) == 2:  # noqa: PLR2004
        return index[0] or None, index
    return None, index


def _man_addresses(columns: TableColumns) -> dict[tuple[int, ...], str]:
    """Return row key -> first IPv4 management address (lldpRemManAddrTable).

    Standard agents carry the address in the row index only; RouterOS 7 also serves the
    subtype and address columns, indexed by the lldpRemTable row, the address as text.
    """
    out: dict[tuple[int, ...], str] = {}
    for index in sorted(columns.get(LLDP_MAN_ADDR_IF_SUBTYPE, {})):
        # ... . addrSubtype(1) . length(4) . a . b . c . d
        if len(index) < 6 or index[-6] != MAN_ADDR_IPV4 or index[-5] != IPV4_LEN:  # noqa: PLR2004
            continue
        _port, key = _lldp_key(index[:-6])
        out.setdefault(key, ".".join(map(str, index[-4:])))
    subtypes = columns.get(LLDP_MAN_ADDR_SUBTYPE, {})
    for index, value in sorted(columns.get(LLDP_MAN_ADDR, {}).items()):
        if subtypes.get(index) == MAN_ADDR_IPV4:
            address = ipv4(value) or _dotted(text(value))
            if address:
                out.setdefault(_lldp_key(index)[1], address)
    return out


def _dotted(value: str) -> str:
    """Return ``value`` if it is a dotted IPv4 address, else ''."""
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        return ""


def _lldp_port(subtype: SnmpValue, port: SnmpValue, desc: SnmpValue) -> str:
    """Return the remote port name: the port ID unless it is a MAC/address, then the descr."""
    if subtype in (PORT_ID_MAC, PORT_ID_NETWORK_ADDRESS):
        return text(desc) or mac(port)
    return clean_port(text(port) or text(desc))


def _mndp_port(columns: TableColumns, rem_index: int, chassis: str) -> int | None:
    """Return the local ifIndex MIKROTIK-MIB gives the neighbour ``rem_index``, if it agrees.

    RouterOS numbers its lldpRemTable rows like its mtxrNeighborTable rows; a row whose MAC
    is known on both sides and differs is another neighbour (None).
    """
    iface = columns.get(MTXR_INTERFACE, {}).get((rem_index,))
    theirs = mac(columns.get(MTXR_MAC, {}).get((rem_index,)))
    if not isinstance(iface, int) or not iface:
        return None
    if theirs and chassis and _MAC_TEXT.match(chassis) and theirs != chassis:
        return None
    return iface


def lldp(columns: TableColumns) -> list[Neighbour]:
    """Decode lldpRemTable (+ lldpRemManAddrTable) rows, every RouterOS index form.

    The local port: the interface lldpLocPortTable names for localPortNum, else
    localPortNum itself (an ifIndex on lldpd and RouterOS), else (no or 0 localPortNum) the
    interface column of RouterOS's neighbour table for the same remIndex.
    """
    names = columns.get(LLDP_REM_SYS_NAME, {})
    chassis = columns.get(LLDP_REM_CHASSIS, {})
    subtypes = columns.get(LLDP_REM_PORT_SUBTYPE, {})
    ports = columns.get(LLDP_REM_PORT, {})
    descs = columns.get(LLDP_REM_PORT_DESC, {})
    sys_descs = columns.get(LLDP_REM_SYS_DESC, {})
    addresses = _man_addresses(columns)
    numbered = local_ports(columns)
    out = []
    for index in sorted(set(names) | set(chassis) | set(ports)):
        num, key = _lldp_key(index)
        their_mac = mac(chassis.get(index))
        local = numbered.get(num, num) if num else _mndp_port(columns, index[-1], their_mac)
        out.append(
            Neighbour(
                protocol="lldp",
                local_port=local,
                remote_name=text(names.get(index)),
                remote_port=_lldp_port(subtypes.get(index), ports.get(index), descs.get(index)),
                remote_address=addresses.get(key, ""),
                remote_chassis=their_mac,
                remote_platform=text(sys_descs.get(index)),
            )
        )
    return out


def mikrotik(columns: TableColumns) -> list[Neighbour]:
    """Decode mtxrNeighborTable rows (identity, address, local ifIndex; no remote port)."""
    identities = columns.get(MTXR_IDENTITY, {})
    interfaces = columns.get(MTXR_INTERFACE, {})
    out = []
    for index in sorted(identities):
        iface = interfaces.get(index)
        out.append(
            Neighbour(
                protocol="mndp",
                local_port=iface if isinstance(iface, int) else None,
                remote_name=text(identities[index]),
                remote_address=ipv4(columns.get(MTXR_IP, {}).get(index)),
                remote_chassis=mac(columns.get(MTXR_MAC, {}).get(index)),
                remote_platform=text(columns.get(MTXR_PLATFORM, {}).get(index)),
            )
        )
    return out


def cdp(columns: TableColumns) -> list[Neighbour]:
    """Decode cdpCacheTable rows (index ifIndex.deviceIndex)."""
    ids = columns.get(CDP_DEVICE_ID, {})
    return [
        Neighbour(
            protocol="cdp",
            local_port=index[0] if len(index) == 2 else None,  # noqa: PLR2004
            remote_name=text(ids[index]),
            remote_port=text(columns.get(CDP_DEVICE_PORT, {}).get(index)),
            remote_address=ipv4(columns.get(CDP_ADDRESS, {}).get(index)),
            remote_platform=text(columns.get(CDP_PLATFORM, {}).get(index)),
        )
        for index in sorted(ids)
    ]


def neighbours(columns: Mapping[str, dict[tuple[int, ...], SnmpValue]]) -> list[Neighbour]:
    """Decode every neighbour table present in ``columns``."""
    cols = dict(columns)
    return [*lldp(cols), *mikrotik(cols), *cdp(cols)]
