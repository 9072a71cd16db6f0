"""A zone poller's results as JSON payload items, and back (hostile input -> None, never raises).

One concept: the wire form of the three results a poller ships (issue 23).

* a ping :class:`Observation` is ``[device, epoch seconds, status, rtt_ms | null, loss | null,
  detail]`` (the compact form: most results are pings);
* an SNMP poll (:class:`SnmpPoll`) is ``{"k": "snmp", "d": device, "t": epoch, "s": status,
  ...}`` with its system group under ``"sys"`` and one object per interface under ``"if"``;
* a health poll (:class:`HealthPoll`) is ``{"k": "health", ...}`` with ``"sensors"``,
  ``"radios"`` and ``"notes"``.

Nested objects carry their dataclass's field names, defaults left out. Decoding checks every
value's type against the dataclass's annotation (an ``int`` is never a ``bool``; a float is
finite; a number is within 64 bits), cuts strings at :data:`TEXT_MAX` and refuses more than
:data:`ROWS_MAX` rows: the leader reads what any process with the database password wrote.
"""

from __future__ import annotations

import math
import types
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, TypeAlias, TypeVar, get_type_hints

from collectors.model import HealthPoll, Observation, ProbeStatus, SnmpPoll, SystemInfo

if TYPE_CHECKING:
    from collections.abc import Callable

Result: TypeAlias = Observation | SnmpPoll | HealthPoll

DETAIL_MAX: Final = 200
DEVICE_MAX: Final = 128
TEXT_MAX: Final = 1024  # sysDescr, ifAlias, reasons, notes
ROWS_MAX: Final = 10_000  # interfaces, sensors, radios or notes of one poll
INT_MAX: Final = 2**64
_D = TypeVar("_D")


class _RefusedError(ValueError):
    """A payload value that is not what its field says (caught in :func:`decode`)."""


def weight(result: Result) -> int:
    """How much a result costs to buffer and send: 1, plus one per row it carries."""
    if isinstance(result, SnmpPoll):
        return 1 + len(result.interfaces)
    if isinstance(result, HealthPoll):
        return 1 + len(result.sensors) + len(result.radios)
    return 1


def encode(result: Result) -> Any:
    """One result as a JSON-able payload item."""
    if isinstance(result, Observation):
        rtt = None if result.value is None else round(result.value * 1000, 3)
        return [result.device, round(result.at.timestamp(), 3), result.status.value, rtt,
                result.loss, result.detail[:DETAIL_MAX]]  # fmt: skip
    item: dict[str, Any] = {
        "k": "snmp" if isinstance(result, SnmpPoll) else "health",
        "d": result.device,
        "t": round(result.at.timestamp(), 3),
        "s": result.status.value,
        **_fields(result, skip=("device", "at", "status")),
    }
    return item


def _fields(obj: object, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """``obj``'s fields that differ from their defaults, nested dataclasses as dicts."""
    out: dict[str, Any] = {}
    for name, default in _defaults(type(obj)):
        value = getattr(obj, name)
        if value is default or value == default or name in skip:
            continue
        if isinstance(value, tuple):
            value = [_fields(v) if is_dataclass(v) else v for v in value]
        elif is_dataclass(value):
            value = _fields(value)
        elif isinstance(value, Enum):
            value = value.value
        out[name] = value
    return out


_DEFAULTS: dict[type, tuple[tuple[str, object], ...]] = {}


def _defaults(cls: type) -> tuple[tuple[str, object], ...]:
    """``cls``'s field names with their defaults (built once per dataclass)."""
    known = _DEFAULTS.get(cls)
    if known is None:
        known = _DEFAULTS[cls] = tuple((f.name, f.default) for f in fields(cls))
    return known


def decode(item: object) -> Result | None:
    """A payload item back into its result; None when it is not one."""
    try:
        if isinstance(item, list):
            return _ping(item)
        if isinstance(item, dict):
            return _poll(item)
    except (_RefusedError, KeyError, ValueError, OverflowError, OSError, TypeError):
        return None
    return None


def _ping(item: list[Any]) -> Observation | None:
    if len(item) != 6:  # noqa: PLR2004 - the item's fields
        return None
    device, epoch, status, rtt, loss, detail = item
    return Observation(
        _device(device), "ping", ProbeStatus(status), _at(epoch), value=_number(rtt, 1000),
        loss=_number(loss, 1), detail=detail[:DETAIL_MAX] if isinstance(detail, str) else "",
    )  # fmt: skip


def _number(value: object, scale: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value / scale if math.isfinite(value) and value >= 0 else None


def _poll(item: dict[str, Any]) -> SnmpPoll | HealthPoll | None:
    kind = item.get("k")
    cls: type[SnmpPoll] | type[HealthPoll]
    if kind == "snmp":
        cls = SnmpPoll
    elif kind == "health":
        cls = HealthPoll
    else:
        return None
    rest = {k: v for k, v in item.items() if k not in ("k", "d", "t", "s")}
    head = {"device": _device(item.get("d")), "at": _at(item.get("t")),
            "status": ProbeStatus(item["s"])}  # fmt: skip
    return _build(cls, rest, head)


def _device(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= DEVICE_MAX:
        raise _RefusedError("device")
    return value


def _at(epoch: object) -> datetime:
    if isinstance(epoch, bool) or not isinstance(epoch, int | float) or not math.isfinite(epoch):
        raise _RefusedError("time")
    return datetime.fromtimestamp(epoch, UTC)


def _build(cls: type[_D], data: object, given: dict[str, Any] | None = None) -> _D:
    """``cls`` from ``data``'s fields (unknown keys ignored, missing ones default)."""
    if not isinstance(data, dict):
        raise _RefusedError(cls.__name__)
    checks = _CHECKS.get(cls)
    if checks is None:
        checks = _CHECKS[cls] = {n: _check(h) for n, h in get_type_hints(cls).items()}
    values = {name: checks[name](raw) for name, raw in data.items() if name in checks}
    if given:
        values.update(given)
    return cls(**values)


_CHECKS: dict[type, dict[str, Callable[[object], object]]] = {}


def _check(hint: Any) -> Callable[[object], object]:
    """The checker of one field's annotation ``hint`` (built once per dataclass)."""
    if isinstance(hint, types.UnionType):  # X | None
        (arg,) = (a for a in hint.__args__ if a is not type(None))
        inner = _check(arg)
        return lambda raw: None if raw is None else inner(raw)
    if hint in _SCALARS:
        return _SCALARS[hint]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if hint is SystemInfo:
        return lambda raw: _build(SystemInfo, raw)
    if getattr(hint, "__origin__", None) is tuple:  # tuple[Row, ...] or tuple[str, ...]
        row: type = hint.__args__[0]
        each = (lambda r: _build(row, r)) if is_dataclass(row) else _check(row)
        return lambda raw: _rows(raw, each)
    return _not_on_the_wire  # device, at, status: given by the item's head, never a payload key


def _not_on_the_wire(raw: object) -> object:
    raise _RefusedError("a field that is not sent as a value")


def _rows(raw: object, each: Callable[[object], object]) -> tuple[object, ...]:
    if not isinstance(raw, list) or len(raw) > ROWS_MAX:
        raise _RefusedError("rows")
    return tuple(map(each, raw))


def _bool(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise _RefusedError("bool")
    return raw


def _int(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not -INT_MAX <= raw <= INT_MAX:
        raise _RefusedError("int")
    return raw


def _float(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise _RefusedError("float")
    return float(raw)


def _str(raw: object) -> str:
    if not isinstance(raw, str):
        raise _RefusedError("str")
    return raw[:TEXT_MAX]


_SCALARS: Final[dict[Any, Callable[[object], object]]] = {
    bool: _bool, int: _int, float: _float, str: _str,
}  # fmt: skip
