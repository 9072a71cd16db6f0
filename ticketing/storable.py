"""Outside text made storable: control characters out, lengths within the columns.

Every database accepts what these return: no NUL (PostgreSQL text and jsonb refuse it), no
lone surrogate (no encoder takes one), no C0/C1 control character except newline and tab in
bodies, and no value longer than its column (lengths read from the models, never copied).
Display safety (bidi, escapes) is :mod:`ticketing.display`'s business at the edge.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute

BODY_CONTROLS: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
LINE_CONTROLS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]+")
NEWLINES: Final = re.compile(r"\r\n?")


def length_of(column: InstrumentedAttribute[Any]) -> int | None:
    """The length of a ``String(n)`` model column, None for unbounded text."""
    length = getattr(column.property.columns[0].type, "length", None)
    return int(length) if length else None


def body(value: object, limit: int | None = None) -> str:
    """Multi-line text: CR/LF unified, control characters but newline and tab dropped."""
    text = BODY_CONTROLS.sub("", NEWLINES.sub("\n", str(value)))
    return text[:limit] if limit is not None else text


def line(value: object, limit: int | None = None) -> str:
    """One line: NUL dropped, every other control run (newlines too) one space, trimmed."""
    text = LINE_CONTROLS.sub(" ", str(value).replace("\x00", "")).strip()
    return text[:limit].rstrip() if limit is not None else text


def key(value: object, limit: int | None) -> str:
    """A dedup key on one line; one longer than ``limit`` becomes a digest of all of it."""
    text = line(value)
    if limit is None or len(text) <= limit:
        return text
    return f"<sha256-{hashlib.sha256(text.encode()).hexdigest()[:40]}@sigap>"


def document(value: Any, depth: int = 0) -> Any:
    """A JSON document with every string a :func:`body` (keys lines); nesting capped at 8."""
    if isinstance(value, str):
        return body(value)
    if depth >= 8:  # noqa: PLR2004 - our own documents are two levels deep
        return None
    if isinstance(value, dict):
        return {line(k): document(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [document(v, depth + 1) for v in value]
    return value
