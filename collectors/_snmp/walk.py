"""GETBULK walks over a few IF-MIB columns, shared by the v2c fast path and the pysnmp path.

A walk asks, in one GetBulk, for the scalars as non-repeaters (GETNEXT semantics: ask for
``sysUpTime`` to get ``sysUpTime.0``) and for the next row of every column still open as
repeaters; it repeats with the columns still inside their subtree until none is. OIDs are
BER content octets (see ``collectors._snmp.ber``): a column is done at the first value whose
OID does not start with the column's bytes, at endOfMibView, or when the index stops growing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from collectors._snmp.ber import (
    END_OF_MIB_VIEW,
    ERROR_STATUS,
    EXCEPTIONS,
    Pdu,
    Value,
    encode_oid_content,
    parse_oid,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_REQUESTS: Final = 256  # per walk; a well-behaved 10,000-interface agent needs far fewer
MALFORMED: Final = "malformed response"


def _oid(text: str) -> bytes:
    return encode_oid_content(parse_oid(text))


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar asked as a non-repeater: the object's OID, its instance (``.0``) expected."""

    field: str
    request: bytes
    instance: bytes


def _scalar(name: str, text: str) -> Scalar:
    return Scalar(name, _oid(text), _oid(text + ".0"))


@dataclass(frozen=True, slots=True)
class Column:
    """A table column walked as a repeater, stored in ``InterfaceRow.<field>``."""

    field: str
    prefix: bytes


HOT_SCALARS: Final = (
    _scalar("sys_uptime", "1.3.6.1.2.1.1.3"),
    _scalar("hr_uptime", "1.3.6.1.2.1.25.1.1"),
    _scalar("engine_boots", "1.3.6.1.6.3.10.2.1.2"),
    _scalar("engine_time", "1.3.6.1.6.3.10.2.1.3"),
    _scalar("if_number", "1.3.6.1.2.1.2.1"),
    _scalar("if_table_last_change", "1.3.6.1.2.1.31.1.5"),
)
INFO_SCALARS: Final = (
    _scalar("name", "1.3.6.1.2.1.1.5"),
    _scalar("descr", "1.3.6.1.2.1.1.1"),
    _scalar("object_id", "1.3.6.1.2.1.1.2"),
)
_IF: Final = "1.3.6.1.2.1.2.2.1."
_IFX: Final = "1.3.6.1.2.1.31.1.1.1."
STATUS_COLUMNS: Final = (
    Column("admin_status", _oid(_IF + "7")),
    Column("oper_status", _oid(_IF + "8")),
    Column("high_speed_mbps", _oid(_IFX + "15")),
)
HC_COLUMNS: Final = (Column("in_octets", _oid(_IFX + "6")), Column("out_octets", _oid(_IFX + "10")))
C32_COLUMNS: Final = (Column("in_octets", _oid(_IF + "10")), Column("out_octets", _oid(_IF + "16")))
ERROR_COLUMNS: Final = (
    Column("in_errors", _oid(_IF + "14")),
    Column("out_errors", _oid(_IF + "20")),
    Column("in_discards", _oid(_IF + "13")),
    Column("out_discards", _oid(_IF + "19")),
)
NAME_COLUMNS: Final = (
    Column("name", _oid(_IFX + "1")),
    Column("alias", _oid(_IFX + "18")),
    Column("descr", _oid(_IF + "2")),
    Column("if_type", _oid(_IF + "3")),
)


def columns(hc: bool) -> tuple[Column, ...]:
    """The nine counter/status columns, with 64-bit or 32-bit octet counters."""
    return (*STATUS_COLUMNS, *(HC_COLUMNS if hc else C32_COLUMNS), *ERROR_COLUMNS)


BulkFn = Callable[  # (non-repeater OIDs, repeater OIDs, max-repetitions) -> Response
    [list[bytes], list[bytes], int], Awaitable[Pdu | str]
]


@dataclass(slots=True)
class _Cursor:
    """A column being walked: where to ask next and what it returned so far."""

    column: Column
    next_oid: bytes
    last_index: int = -1
    done: bool = False
    values: dict[int, Value] = field(default_factory=dict)


@dataclass(slots=True)
class WalkResult:
    """What a walk returned: scalar values by field, column values by field then ifIndex."""

    scalars: dict[str, Value]
    table: dict[str, dict[int, Value]]
    requests: int
    budget: int  # varbinds per response the agent allowed (learned)


def _index(oid: bytes, prefix_len: int) -> int | None:
    """Decode a one-arc index after the column prefix; None for anything else."""
    suffix = oid[prefix_len:]
    if not suffix or suffix[0] == 0x80:  # noqa: PLR2004 - non-minimal arc
        return None
    value = 0
    for pos, byte in enumerate(suffix):
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value if pos == len(suffix) - 1 else None
    return None


def _absorb(cursor: _Cursor, oid: bytes, tag: int, value: Value) -> bool:
    """Take one repeater value for ``cursor``; return True if the column advanced."""
    prefix = cursor.column.prefix
    if tag == END_OF_MIB_VIEW or not oid.startswith(prefix):
        cursor.done = True
        return False
    index = _index(oid, len(prefix))
    if index is None or index <= cursor.last_index:
        cursor.done = True  # multi-arc or non-increasing index: not a table we can walk
        return False
    cursor.last_index = index
    cursor.next_oid = oid
    if tag not in EXCEPTIONS:
        cursor.values[index] = value
    return True


def _take_scalars(scalars: Sequence[Scalar], pdu: Pdu, out: dict[str, Value]) -> None:
    for scalar, (oid, tag, value) in zip(scalars, pdu.varbinds, strict=False):
        if oid == scalar.instance and tag not in EXCEPTIONS:
            out[scalar.field] = value


def _check(pdu: Pdu, asked: int) -> str:
    """Return why a Response cannot be used, empty if it can."""
    if pdu.error_status:
        status = pdu.error_status
        name = ERROR_STATUS[status] if 0 <= status < len(ERROR_STATUS) else str(status)
        return f"error-status {name} at {pdu.error_index}"
    if len(pdu.varbinds) > asked:
        return f"{MALFORMED}: {len(pdu.varbinds)} varbinds, asked for at most {asked}"
    return ""


async def walk(
    bulk: BulkFn,
    scalars: Sequence[Scalar],
    table: Sequence[Column],
    budget: int,
) -> WalkResult | str:
    """Walk ``table`` (and get ``scalars`` on the first request); a failure is a reason.

    ``budget`` is the most varbinds one response may hold; a truncated answer lowers it.
    """
    cursors = [_Cursor(column, column.prefix) for column in table]
    values: dict[str, Value] = {}
    first = True
    for requests in range(1, MAX_REQUESTS + 1):
        open_ = [c for c in cursors if not c.done]
        nonrep = list(scalars) if first else []
        if not open_ and not nonrep:
            return WalkResult(values, _table(cursors), requests - 1, budget)
        width = len(open_)
        max_rep = max(1, (budget - len(nonrep)) // width) if width else 0
        asked = len(nonrep) + max_rep * width
        pdu = await bulk([s.request for s in nonrep], [c.next_oid for c in open_], max_rep)
        if isinstance(pdu, str):
            return pdu
        problem = _check(pdu, asked)
        if problem:
            return problem
        _take_scalars(nonrep, pdu, values)
        rows = pdu.varbinds[len(nonrep) :]
        advanced = False
        for k, (oid, tag, value) in enumerate(rows):
            cursor = open_[k % width]
            if not cursor.done:
                advanced = _absorb(cursor, oid, tag, value) or advanced
        truncated = len(pdu.varbinds) < asked and all(
            tag != END_OF_MIB_VIEW for _o, tag, _v in rows
        )
        if truncated and any(not c.done for c in open_):
            budget = max(len(nonrep) + width, len(pdu.varbinds))  # the agent's cap
        if width and not advanced and any(not c.done for c in open_):
            return f"{MALFORMED}: the walk made no progress"
        first = False
    return f"{MALFORMED}: the walk did not end after {MAX_REQUESTS} requests"


def _table(cursors: list[_Cursor]) -> dict[str, dict[int, Value]]:
    return {cursor.column.field: cursor.values for cursor in cursors}


def decode_arcs(suffix: bytes) -> tuple[int, ...] | None:
    """Decode BER OID content octets after a prefix into arcs; None if malformed."""
    arcs: list[int] = []
    value = 0
    start = True
    for byte in suffix:
        if start and byte == 0x80:  # noqa: PLR2004 - non-minimal arc
            return None
        value = (value << 7) | (byte & 0x7F)
        start = not byte & 0x80
        if start:
            arcs.append(value)
            value = 0
    return tuple(arcs) if start else None


@dataclass(slots=True)
class _TableCursor:
    """A column of a table with multi-arc indexes being walked."""

    prefix: bytes
    next_oid: bytes
    done: bool = False
    values: dict[tuple[int, ...], Value] = field(default_factory=dict)


def _absorb_row(cursor: _TableCursor, oid: bytes, tag: int, value: Value) -> bool:
    """Take one value for a multi-arc column; True if the column advanced."""
    # BER content octets of OIDs sort like the OIDs themselves (base-128, minimal arcs)
    if tag == END_OF_MIB_VIEW or not oid.startswith(cursor.prefix) or oid <= cursor.next_oid:
        cursor.done = True
        return False
    index = decode_arcs(oid[len(cursor.prefix) :])
    if not index:
        cursor.done = True
        return False
    cursor.next_oid = oid
    if tag not in EXCEPTIONS:
        cursor.values[index] = value
    return True


async def walk_table(
    bulk: BulkFn, prefixes: Sequence[bytes], budget: int
) -> tuple[list[dict[tuple[int, ...], Value]], int] | str:
    """Walk columns whose rows have any index (LLDP-MIB's timeMark.port.remIndex, ...).

    Returns (values by index for each column, in ``prefixes`` order; the learned budget)
    or why the walk failed. Each column ends at the first OID outside it, at endOfMibView,
    or when the agent stops going forward.
    """
    cursors = [_TableCursor(p, p) for p in prefixes]
    for _request in range(MAX_REQUESTS):
        open_ = [c for c in cursors if not c.done]
        if not open_:
            return [c.values for c in cursors], budget
        width = len(open_)
        max_rep = max(1, budget // width)
        pdu = await bulk([], [c.next_oid for c in open_], max_rep)
        if isinstance(pdu, str):
            return pdu
        problem = _check(pdu, max_rep * width)
        if problem:
            return problem
        advanced = False
        for k, (oid, tag, value) in enumerate(pdu.varbinds):
            cursor = open_[k % width]
            if not cursor.done:
                advanced = _absorb_row(cursor, oid, tag, value) or advanced
        truncated = len(pdu.varbinds) < max_rep * width and all(
            tag != END_OF_MIB_VIEW for _o, tag, _v in pdu.varbinds
        )
        if truncated and any(not c.done for c in open_):
            budget = max(width, len(pdu.varbinds))
        if not advanced and any(not c.done for c in open_):
            return f"{MALFORMED}: the walk made no progress"
    return f"{MALFORMED}: the walk did not end after {MAX_REQUESTS} requests"
