"""Neighbour tables over SNMP (numeric OIDs: Debian ships no MIB files) and their parsers.

- LLDP-MIB lldpRemTable (1.0.8802.1.1.2.1.4.1.1), index timeMark.localPortNum.remIndex
  (localPortNum = ifIndex on lldpd, RouterOS and most switches; timeMark varies: rows are
  keyed on the rest). RouterOS >= 6.38 answers with a single-integer index (no local port)
  and v7 may report port IDs like ``bridge/ether2``: both accepted, ``bridge*/`` stripped
  (LibreNMS PR #7901, NAV #2015, netdisco #1495). lldpRemManAddrTable gives addresses.
- MIKROTIK-MIB mtxrNeighborTable (1.3.6.1.4.1.14988.1.1.11.1.1): MNDP/CDP/LLDP on RouterOS,
  local ifIndex in .8, identity in .6; no remote port.
- CISCO-CDP-MIB cdpCacheTable (1.3.6.1.4.1.9.9.23.1.2.1.1), index ifIndex.deviceIndex.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Final

from agent.topology.model import Neighbour

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collectors.snmp import SnmpValue, TableColumns

IF_NAME: Final = "1.3.6.1.2.1.31.1.1.1.1"
LLDP_REM: Final = "1.0.8802.1.1.2.1.4.1.1"
LLDP_REM_CHASSIS: Final = LLDP_REM + ".5"
LLDP_REM_PORT_SUBTYPE: Final = LLDP_REM + ".6"
LLDP_REM_PORT: Final = LLDP_REM + ".7"
LLDP_REM_PORT_DESC: Final = LLDP_REM + ".8"
LLDP_REM_SYS_NAME: Final = LLDP_REM + ".9"
LLDP_REM_SYS_DESC: Final = LLDP_REM + ".10"
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
    LLDP_REM_CHASSIS,
    LLDP_REM_PORT_SUBTYPE,
    LLDP_REM_PORT,
    LLDP_REM_PORT_DESC,
    LLDP_REM_SYS_NAME,
    LLDP_REM_SYS_DESC,
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


def text(value: SnmpValue) -> str:
    """Return an SNMP value as text (OCTET STRING decoded, numbers and OIDs dotted)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip("\x00").strip()
    if isinstance(value, tuple):
        return ".".join(map(str, value))
    return "" if value is None else str(value)


def mac(value: SnmpValue) -> str:
    """Return 6 octets as ``aa:bb:cc:dd:ee:ff`` (other values as text)."""
    if isinstance(value, bytes) and len(value) == 6:  # noqa: PLR2004
        return ":".join(f"{b:02x}" for b in value)
    return text(value)


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


def if_names(columns: TableColumns) -> dict[int, str]:
    """Return ifIndex -> ifName."""
    return {idx[0]: text(v) for idx, v in columns.get(IF_NAME, {}).items() if len(idx) == 1}


def _lldp_key(index: tuple[int, ...]) -> tuple[int | None, tuple[int, ...]]:
    """Return (local port or None, row key without timeMark) of an lldpRemTable index.

    Three arcs (standard, RouterOS v7): timeMark.localPortNum.remIndex. One arc (RouterOS
    6.38+): remIndex only. Two arcs (seen on some agents): localPortNum.remIndex.
    """
    if len(index) >= THREE_PART:
        return index[-2], index[-2:]
    if len(index) == 2:  # noqa: PLR2004
        return index[0], index
    return None, index


def _man_addresses(columns: TableColumns) -> dict[tuple[int, ...], str]:
    """Return row key -> first IPv4 management address (lldpRemManAddrTable index)."""
    out: dict[tuple[int, ...], str] = {}
    for index in sorted(columns.get(LLDP_MAN_ADDR_IF_SUBTYPE, {})):
        # ... . addrSubtype(1) . length(4) . a . b . c . d
        if len(index) < 6 or index[-6] != MAN_ADDR_IPV4 or index[-5] != IPV4_LEN:  # noqa: PLR2004
            continue
        _port, key = _lldp_key(index[:-6])
        out.setdefault(key, ".".join(map(str, index[-4:])))
    return out


def _lldp_port(subtype: SnmpValue, port: SnmpValue, desc: SnmpValue) -> str:
    """Return the remote port name: the port ID unless it is a MAC/address, then the descr."""
    if subtype in (PORT_ID_MAC, PORT_ID_NETWORK_ADDRESS):
        return text(desc) or mac(port)
    return clean_port(text(port) or text(desc))


def lldp(columns: TableColumns) -> list[Neighbour]:
    """Decode lldpRemTable (+ lldpRemManAddrTable) rows, both RouterOS index forms."""
    names = columns.get(LLDP_REM_SYS_NAME, {})
    chassis = columns.get(LLDP_REM_CHASSIS, {})
    subtypes = columns.get(LLDP_REM_PORT_SUBTYPE, {})
    ports = columns.get(LLDP_REM_PORT, {})
    descs = columns.get(LLDP_REM_PORT_DESC, {})
    sys_descs = columns.get(LLDP_REM_SYS_DESC, {})
    addresses = _man_addresses(columns)
    out = []
    for index in sorted(set(names) | set(chassis) | set(ports)):
        local, key = _lldp_key(index)
        out.append(
            Neighbour(
                protocol="lldp",
                local_port=local,
                remote_name=text(names.get(index)),
                remote_port=_lldp_port(subtypes.get(index), ports.get(index), descs.get(index)),
                remote_address=addresses.get(key, ""),
                remote_chassis=mac(chassis.get(index)),
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
