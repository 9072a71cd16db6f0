"""RouterOS ``print`` output read as items: number, flag set and name (table, detail, terse).

RouterOS prints an item's flags as columns between its number and its data, one column per
flag group: ``D`` dynamic; ``X`` disabled or ``R`` running; ``S`` slave (v7 may add ``P``
passthrough). A running bridge port is ``RS``, a dynamic running one ``DR`` or ``DRS``, a
disabled one ``X`` with others beside it, an enabled port without link has none. A pattern
over fixed columns (a digit, blanks, ``[R ]``, blanks, the name) therefore fails on real
devices; here the flag field is read as a set. Forms seen in real outputs
(``shared/devices/cli``):

- table (``print``): a ``#  NAME`` header gives the column where data starts; a comment is
  ``;;; text`` after the flags with the row on the next, indented line (v6), or a line of
  its own above the row (v7);
- ``detail``: ``key="value"`` pairs, a comment as in v6 tables, the item continuing on
  indented lines;
- ``terse``: one line per item, ``key=value`` unquoted (a value may hold spaces), the
  comment inline as ``comment=``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_ITEM: Final = re.compile(r"^ *(\d+) ")
_HEADER: Final = re.compile(r"^ *# +NAME\b")
_FLAGS: Final = re.compile(r"[A-Z ]*")
_DATA: Final = re.compile(r"(?P<flags>[A-Z ]*?) ?(?P<data>;;;.*|[a-z][a-z0-9-]*=.*)\Z")
# quoted (detail), or unquoted up to the next ``key=`` (terse: values may hold spaces)
_NAME: Final = re.compile(r'(?:^|\s)name=(?:"([^"]*)"|(.*?))(?=\s+[a-z][a-z0-9-]*=|\s*\Z)')


@dataclass(frozen=True, slots=True)
class Item:
    """One printed item: its number, its flags and its name ('' when none was printed)."""

    number: int
    flags: frozenset[str]
    name: str


def _name_of(data: list[str], name_col: int | None) -> str:
    """The item's name: its ``name=`` pair, or (table form) the first word in the NAME column.

    ``data`` is the first line's data (after the flags), then the item's further lines.
    """
    first, more = data[0], data[1:]
    if name_col is not None:  # rows are indented to the column; a comment is not
        rows = [first] if not first.startswith(";;;") else []
        rows += [line[name_col:] for line in more if not line[:name_col].strip()]
        words = [row.split() for row in rows if row.strip()]
        return words[0][0] if words else ""
    for line in data:
        m = _NAME.search(line) if not line.lstrip().startswith(";;;") else None
        if m:
            return m.group(1) if m.group(1) is not None else m.group(2)
    return ""


def _start(line: str, number_end: int, name_col: int | None) -> tuple[frozenset[str], str] | None:
    """Split an item's first line after its number into (flags, data), or None."""
    if name_col is not None and name_col > number_end:  # table form: fixed columns
        field, data = line[number_end + 1 : name_col], line[name_col:]
        if _FLAGS.fullmatch(field):
            return frozenset(field.replace(" ", "")), data
        return None
    m = _DATA.match(line[number_end + 1 :])
    if m is None:
        return None
    return frozenset(m.group("flags").replace(" ", "")), m.group("data")


def items(output: str) -> list[Item]:
    """Return the items of a RouterOS ``print`` output, in order."""
    name_col: int | None = None
    found: list[tuple[int, frozenset[str], list[str]]] = []
    for line in output.replace("\r\n", "\n").split("\n"):
        if _HEADER.match(line):
            name_col = line.index("NAME")
            continue
        m = _ITEM.match(line)
        start = _start(line, m.end(1), name_col) if m else None
        if m and start is not None:
            found.append((int(m.group(1)), start[0], [start[1]]))
        elif found and line.strip():
            found[-1][2].append(line)
    return [Item(n, flags, _name_of(data, name_col)) for n, flags, data in found]


@dataclass(frozen=True, slots=True)
class FlagCheck:
    """An item named one of ``names`` is printed with every flag of ``has``, none of ``lacks``."""

    names: tuple[str, ...]
    has: frozenset[str]
    lacks: frozenset[str]

    def matches(self, output: str) -> bool:
        """Return True when the output shows such an item."""
        return any(
            item.name in self.names and self.has <= item.flags and not self.lacks & item.flags
            for item in items(output)
        )
