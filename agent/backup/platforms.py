"""What to send each platform to read its configuration, and what to strip from the answer.

The commands are exact strings (data), never built from inventory or device text, and are
checked again just before they are sent (:func:`allowed`). RouterOS ``/export`` hides
secrets by default since 7.x; ``show-sensitive`` would print them and is refused outright.

Normalisation removes what changes without anyone changing the device, so an unchanged
device gives no diff: the export header's timestamp, IOS/Ruijie ``Building configuration``
and byte counts, "last change" comments, the NTP drift value (``ntp clock-period``), Huawei's
"last updated/saved" comments, linux address lifetimes; line endings and trailing blanks.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

# platform -> the commands whose outputs make up the saved configuration, in order
COMMANDS: Final[Mapping[str, tuple[str, ...]]] = {
    "mikrotik_routeros": ("/export terse",),
    "cisco_ios": ("show running-config",),
    "cisco_xe": ("show running-config",),
    "ruijie_os": ("show running-config",),
    "huawei": ("display current-configuration",),
    "linux": ("ip addr show", "ip route show"),
}
FORBIDDEN: Final = re.compile(r"show-sensitive|[;|&`$<>\n\r]")

_IOS: Final = (
    re.compile(r"^Building configuration\.\.\.\Z"),
    re.compile(r"^Current configuration ?: ?\d+ bytes\Z"),
    re.compile(r"^! (Last configuration change|NVRAM config last updated) at .*\Z"),
    re.compile(r"^! No configuration change since last restart\Z"),
    re.compile(r"^ntp clock-period \d+\Z"),
)
VOLATILE: Final[Mapping[str, tuple[re.Pattern[str], ...]]] = {
    # "# 2026-12-03 14:00:01 by RouterOS 7.14.3" / "# dec/03/2026 14:00:01 by RouterOS 6.49"
    "mikrotik_routeros": (re.compile(r"^# \S+ \d{1,2}:\d{2}:\d{2} by RouterOS .*\Z"),),
    "cisco_ios": _IOS,
    "cisco_xe": _IOS,
    "ruijie_os": _IOS,
    "huawei": (
        re.compile(r"^!Last configuration was (updated|saved) at .*\Z"),
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2})?\Z"),
    ),
    "linux": (re.compile(r"^\s+valid_lft \S+ preferred_lft \S+\Z"),),
}


def commands_for(platform: str) -> tuple[str, ...]:
    """The export commands of ``platform`` (empty: no backup for it)."""
    return COMMANDS.get(platform, ())


def allowed(platform: str, command: str) -> bool:
    """True when ``command`` is exactly one of ``platform``'s export commands (the guard)."""
    return command in COMMANDS.get(platform, ()) and FORBIDDEN.search(command) is None


_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with control characters and lone surrogates written as escapes (``x00``).

    Device output is outside text: a NUL would make git call the file binary (no diff), an
    escape sequence would act on the terminal of whoever reads ``riwayat``/``diff``.
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def normalise(platform: str, text: str) -> str:
    """``text`` without volatile lines, with LF endings, no trailing blanks, one final newline."""
    drop = VOLATILE.get(platform, ())
    flat = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [printable(line.rstrip()) for line in flat.split("\n")]
    kept = [line for line in lines if not any(p.match(line) for p in drop)]
    while kept and not kept[0]:
        kept.pop(0)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""


def joined(platform: str, outputs: Mapping[str, str]) -> str:
    """The saved file of a device: each command's normalised output (more than one: headed)."""
    commands = commands_for(platform)
    if len(commands) == 1:
        return normalise(platform, outputs.get(commands[0], ""))
    parts = [f"# {c}\n{normalise(platform, outputs.get(c, ''))}" for c in commands]
    return "\n".join(parts)
