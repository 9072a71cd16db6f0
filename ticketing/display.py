r"""Text from outside, made safe where people read it: terminals, messages, reports, spreadsheets.

Mail, WhatsApp, SNMP agents, SSH devices and web forms may send any character. Shown as they
are, an ESC sequence retitles, clears or hides a terminal, a bidi override reorders what is
read, a NUL breaks an XLSX file, and a cell starting with ``=`` becomes a live formula.
:func:`shown` is the one sanitiser every view applies to such text: each control, format and
separator character becomes its visible escape (``\x1b``, ``\u202e``), so nothing acts and
nothing is lost. Spreadsheets add the OWASP CSV-injection rule (:func:`sheet_text`,
:func:`write_csv`; ``ticketing.program`` marks its XLSX text cells the same way).

It lives in ``ticketing`` because that is the lowest package both the reports
(``ticketing.reports``, ``ticketing.program``) and the agent's views may import: ``collectors``
and ``ticketing`` never import each other, and nothing below ``agent`` may import ``agent``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

# Cc controls (C0, DEL, C1), Cf format characters (bidi overrides and isolates, zero-width
# space, soft hyphen, BOM, tags...), Cs lone surrogates (not encodable), Zl/Zp separators
HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
JOINERS: Final = frozenset("\u200c\u200d")  # ZWNJ and ZWJ: emoji sequences and scripts need them
LINE_BREAKS: Final = frozenset("\n\t")  # kept in multi-line text
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection
FORMULA_QUOTE: Final = "'"
PLAIN_NUMBER: Final = re.compile(r"[+-]?(\d+([.,]\d+)?)?")  # "-", "+62812...", "-1.5": values


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:  # noqa: PLR2004 - one byte: \x1b
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"  # noqa: PLR2004


def hidden(ch: str) -> bool:
    """Whether ``ch`` acts or hides instead of showing (escaped by :func:`shown`)."""
    return unicodedata.category(ch) in HIDDEN_CATEGORIES and ch not in JOINERS


def shown(text: str, *, one_line: bool = False) -> str:
    r"""``text`` with every hidden character as its visible escape (``\x1b``, ``\u202e``).

    Newline and tab stay unless ``one_line``. Idempotent: the result is printable.
    """
    if text.isprintable():  # the common case, at C speed
        return text
    keep = frozenset() if one_line else LINE_BREAKS
    return "".join(_escape(ch) if ch not in keep and hidden(ch) else ch for ch in text)


def formula_like(text: str) -> bool:
    """Whether a spreadsheet may read ``text`` as a formula (OWASP: ``= + - @``, tab, CR).

    A lone sign or a plain signed number (``-``, ``+6281234``) is a value, not a formula.
    """
    return text.startswith(FORMULA_START) and PLAIN_NUMBER.fullmatch(text) is None


def sheet_text(text: str) -> str:
    """A CSV cell: :func:`shown`, and ``'`` before a formula-like start (then it stays text)."""
    safe = shown(text)
    return FORMULA_QUOTE + safe if formula_like(safe) else safe


def write_csv(
    path: Path, headers: Sequence[str], rows: Iterable[Sequence[str | int | float]]
) -> int:
    """Write a CSV for Excel (UTF-8 with BOM), text cells through :func:`sheet_text`; count rows."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([sheet_text(h) for h in headers])
        for row in rows:
            writer.writerow([sheet_text(c) if isinstance(c, str) else c for c in row])
            count += 1
    return count
