"""Walked values into the collector's records: ``SystemInfo`` and one ``InterfaceRow`` per ifIndex.

The hot walk (status, counters, uptimes) is joined with the cached labels (:class:`Names`:
ifName/ifAlias/ifDescr and sysName/sysDescr/sysObjectID), which the collector walks again
only when :func:`names_stale` says they may no longer describe the interfaces polled now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from collectors.model import InterfaceRow, SystemInfo

if TYPE_CHECKING:
    from collectors._snmp.ber import Value
    from collectors._snmp.walk import WalkResult

IF_UP: Final = 1


@dataclass(slots=True)
class Names:
    """Cached per-device labels, and what they were valid for."""

    rows: dict[int, tuple[str, str, str]]  # ifIndex -> (ifName, ifAlias, ifDescr)
    info: tuple[str, str, str]  # sysName, sysDescr, sysObjectID (dotted)
    if_number: Value
    last_change: Value
    types: dict[int, int] = field(default_factory=dict)  # ifIndex -> ifType (23 = ppp)


def as_int(value: Value) -> int | None:
    """The value if it is an integer, else None."""
    return value if isinstance(value, int) else None


def _text(value: Value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, tuple):
        return ".".join(map(str, value))
    return "" if value is None else str(value)


def names_of(names: WalkResult, hot: WalkResult) -> Names:
    """The labels of the names walk, valid for the ifNumber/ifTableLastChange of ``hot``."""
    table = names.table
    indexes = set(table["name"]) | set(table["alias"]) | set(table["descr"])
    return Names(
        rows={
            i: (
                _text(table["name"].get(i)),
                _text(table["alias"].get(i)),
                _text(table["descr"].get(i)),
            )
            for i in indexes
        },
        info=(
            _text(names.scalars.get("name")),
            _text(names.scalars.get("descr")),
            _text(names.scalars.get("object_id")),
        ),
        if_number=hot.scalars.get("if_number"),
        last_change=hot.scalars.get("if_table_last_change"),
        types={i: t for i, t in table.get("if_type", {}).items() if isinstance(t, int)},
    )


def names_stale(names: Names | None, hot: WalkResult, last_uptime: int | None) -> bool:
    """True when the cached labels may not describe the interfaces polled now."""
    if names is None:
        return True
    uptime = as_int(hot.scalars.get("sys_uptime"))
    if uptime is not None and last_uptime is not None and uptime < last_uptime:
        return True
    if names.if_number != hot.scalars.get("if_number"):
        return True
    if names.last_change != hot.scalars.get("if_table_last_change"):
        return True
    return not set(hot.table["admin_status"]) <= names.rows.keys()


def system_info(hot: WalkResult, names: Names) -> SystemInfo:
    """The system group: uptimes and table markers from ``hot``, labels from ``names``."""
    get = hot.scalars.get
    return SystemInfo(
        sys_uptime=as_int(get("sys_uptime")),
        hr_uptime=as_int(get("hr_uptime")),
        engine_time=as_int(get("engine_time")),
        engine_boots=as_int(get("engine_boots")),
        name=names.info[0],
        descr=names.info[1],
        object_id=names.info[2],
        if_number=as_int(get("if_number")),
        if_table_last_change=as_int(get("if_table_last_change")),
    )


def interface_rows(hot: WalkResult, names: Names, *, bits: int) -> tuple[InterfaceRow, ...]:
    """One row per ifIndex seen in the status columns, ordered by ifIndex."""
    table = hot.table
    indexes = sorted(set(table["admin_status"]) | set(table["oper_status"]))
    rows = []
    for i in indexes:
        admin = as_int(table["admin_status"].get(i))
        oper = as_int(table["oper_status"].get(i))
        name, alias, descr = names.rows.get(i, ("", "", ""))
        rows.append(
            InterfaceRow(
                index=i,
                name=name,
                alias=alias,
                descr=descr,
                admin_up=None if admin is None else admin == IF_UP,
                oper_up=None if oper is None else oper == IF_UP,
                oper_status=oper,
                high_speed_mbps=as_int(table["high_speed_mbps"].get(i)),
                in_octets=as_int(table["in_octets"].get(i)),
                out_octets=as_int(table["out_octets"].get(i)),
                counter_bits=bits,
                in_errors=as_int(table["in_errors"].get(i)),
                out_errors=as_int(table["out_errors"].get(i)),
                in_discards=as_int(table["in_discards"].get(i)),
                out_discards=as_int(table["out_discards"].get(i)),
                if_type=names.types.get(i),
            )
        )
    return tuple(rows)
