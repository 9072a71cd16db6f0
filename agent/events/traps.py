"""What a trap means: its name, the action it asks for, and a one-line text for people.

A trap is a hint, never proof (DESIGN 14): link, restart and PPPoE traps ask for an
immediate re-poll of the device, and the poll decides; the rest are attached to the device's
open ticket as context. Names are a small table of raw OIDs (no MIB loading at run time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collectors._snmp.trap import Notification, oid_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collectors._snmp.ber import Varbind

__all__ = ["Notification", "describe", "name_of"]

_SNMP_TRAPS: Final = "1.3.6.1.6.3.1.1.5."
TRAP_NAMES: Final[Mapping[str, str]] = {
    _SNMP_TRAPS + "1": "coldStart",
    _SNMP_TRAPS + "2": "warmStart",
    _SNMP_TRAPS + "3": "linkDown",
    _SNMP_TRAPS + "4": "linkUp",
    _SNMP_TRAPS + "5": "authenticationFailure",
    "1.3.6.1.4.1.9.9.43.2.0.1": "ciscoConfigManEvent",
    "1.3.6.1.4.1.9.0.1": "ciscoReload",
    "1.3.6.1.4.1.14988.1.1.17.0.1": "mtxrTrapTemperatureException",
    "1.3.6.1.4.1.2011.5.25.191.3.1": "hwCfgManEventlog",
}
REPOLL: Final = frozenset({"coldStart", "warmStart", "linkDown", "linkUp", "ciscoReload"})
CONFIG: Final = frozenset({"ciscoConfigManEvent", "hwCfgManEventlog"})
# payload columns worth naming (IF-MIB, SNMPv2-MIB); instance suffixes are kept
COLUMNS: Final[Mapping[str, str]] = {
    "1.3.6.1.2.1.2.2.1.1": "ifIndex",
    "1.3.6.1.2.1.2.2.1.2": "ifDescr",
    "1.3.6.1.2.1.2.2.1.7": "ifAdminStatus",
    "1.3.6.1.2.1.2.2.1.8": "ifOperStatus",
    "1.3.6.1.2.1.31.1.1.1.1": "ifName",
    "1.3.6.1.6.3.18.1.3.0": "snmpTrapAddress",
    "1.3.6.1.6.3.1.1.4.3.0": "snmpTrapEnterprise",
}
MAX_SHOWN: Final = 12  # varbinds written into the text
MAX_VALUE: Final = 120  # characters of one value


def name_of(trap_oid: tuple[int, ...]) -> str:
    """``linkDown`` for a known trap, else its dotted OID."""
    dotted = oid_text(trap_oid)
    return TRAP_NAMES.get(dotted, dotted)[:64]


def _column(dotted: str) -> str:
    for prefix, name in COLUMNS.items():
        if dotted == prefix or dotted.startswith(prefix + "."):
            return name + dotted[len(prefix) :]
    return dotted


def _value(value: object) -> str:
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace") if value.isascii() else value.hex(":")
        text = "".join(c if c.isprintable() else " " for c in text)
    elif isinstance(value, tuple):
        text = ".".join(map(str, value))
    else:
        text = str(value)
    return text[:MAX_VALUE]


def _pairs(varbinds: tuple[Varbind, ...]) -> list[tuple[str, str]]:
    return [(_column(oid_text(oid)), _value(value)) for oid, _tag, value in varbinds]


def describe(note: Notification) -> tuple[str, str, dict[str, str]]:
    """(action, text, groups) for one notification; groups may name the ``interface``."""
    name = name_of(note.trap_oid)
    pairs = _pairs(note.varbinds)
    shown = " ".join(f"{k}={v}" for k, v in pairs[:MAX_SHOWN])
    more = f" (+{len(pairs) - MAX_SHOWN})" if len(pairs) > MAX_SHOWN else ""
    groups: dict[str, str] = {}
    for key, value in pairs:
        if key.startswith(("ifName", "ifDescr")) and value and "interface" not in groups:
            groups["interface"] = value
    if name in REPOLL:
        action = "repoll"
    elif name in CONFIG:
        action = "config_changed"
    else:
        action = "attach"
    text = f"{name} {shown}{more}".strip()
    return action, text, groups
