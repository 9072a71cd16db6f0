"""Host names from what devices call themselves (sysName), to the inventory's name rules.

The rules (``agent.config.schema``): lowercase letters, digits and ``-``, at most 48
characters, starting with a letter or digit. Worked examples: ``RTR-Setda.loteng.go.id`` ->
``rtr-setda``; ``Kantor Camat Praya (Lt 2)`` -> ``kantor-camat-praya-lt-2``; ``Ruang_Rapat``
-> ``ruang-rapat``; an empty or all-symbol name -> ``perangkat-10-52-11-9`` from the address.
A name already taken gets ``-2``, ``-3``... (cut so the suffix fits).
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Set

MAX_NAME: Final = 48
MAX_INPUT: Final = 255  # SnmpAdminString's own limit; longer text is cut before any work
NAME_RE: Final = re.compile(r"\A[a-z0-9][a-z0-9-]{0,47}\Z")  # as agent.config.schema
_NOT_NAME: Final = re.compile(r"[^a-z0-9]+")
_IPV4: Final = re.compile(r"\A\d{1,3}(?:\.\d{1,3}){3}\Z")
FALLBACK_PREFIX: Final = "perangkat"


def _ascii(text: str) -> str:
    """Letters with accents become plain ones (``Désa`` -> ``Desa``); other letters go."""
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _host_part(text: str) -> str:
    """A fully qualified name keeps its host part; an IPv4 literal or a phrase stays whole."""
    stripped = text.strip()
    if _IPV4.match(stripped) or "." not in stripped or any(c.isspace() for c in stripped):
        return stripped
    head = stripped.split(".", 1)[0]
    return head if head.strip() else stripped


def normalise(text: str, address: str) -> str:
    """The inventory name for a device calling itself ``text`` at ``address`` (never empty)."""
    cut = text.split("\0", 1)[0][:MAX_INPUT]
    slug = _NOT_NAME.sub("-", _ascii(_host_part(cut)).lower()).strip("-")
    slug = slug[:MAX_NAME].rstrip("-")
    if not slug:
        slug = f"{FALLBACK_PREFIX}-{address.replace('.', '-')}"
    return slug


def unique(name: str, taken: Set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... the first not in ``taken`` (within 48 chars)."""
    if name not in taken:
        return name
    n = 2
    while True:  # bounded: at most len(taken) + 1 candidates can be taken
        suffix = f"-{n}"
        candidate = name[: MAX_NAME - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


MAX_SHOWN: Final = 120


def clean(text: str, limit: int = MAX_SHOWN) -> str:
    """Outside text as one printable line: cut at NUL, control characters as spaces, cut."""
    head = text.split("\0", 1)[0][: limit * 4]
    printable = "".join(c if c.isprintable() else " " for c in head)
    return " ".join(printable.split())[:limit].strip()
