"""Syslog messages as devices send them: RFC 5424, RFC 3164 and what RouterOS/IOS/VRP write.

Pure: bytes in, a :class:`SyslogLine` out; never raises on what a device (or anyone) sends.
The text is decoded as UTF-8 with replacement, control and format characters (escape
sequences, bidi overrides) become spaces, and a line
longer than :data:`MAX_TEXT` is cut (``truncated``). The sender's own timestamp is kept as
text only: devices' clocks are often wrong, the receive time is the truth.

TCP framing (RFC 6587): octet counting (``LEN SP MSG``) when a frame starts with a digit,
else one message per line (LF, a trailing CR dropped). :class:`Framer` bounds what it holds:
a line longer than ``limit`` is cut and the rest skipped up to the next LF; an octet count
above ``limit`` is a broken stream (the connection is closed).

Seen in the wild (forms the tests use):

* RouterOS: ``<30>Dec  3 14:00:01 MikroTik system,error,critical login failure for user
  admin from 103.1.2.3 via ssh`` (topics, no tag colon; hostname optional)
* Cisco IOS: ``<189>123: *Mar  1 00:01:02.345: %LINK-3-UPDOWN: Interface Gi0/1, changed
  state to down`` (sequence number, ``*`` for an unsynchronised clock)
* Huawei VRP: ``<188>Dec  3 2026 14:00:00 HUAWEI %%01SHELL/5/CMDRECORD(s)[0]:Recorded ...``
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

MAX_TEXT: Final = 4096  # characters of message text kept
DEFAULT_PRI: Final = 13  # user.notice (RFC 3164 4.3.3) when there is no PRI
SEVERITY: Final = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_PRI: Final = re.compile(r"<(\d{1,3})>")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f\u0080-\u009f\u2028\u2029]")
_ACTING: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})  # act, not show
_MONTHS: Final = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# "*Mar  1 00:01:02.345:", "Dec  3 14:00:01", "Dec  3 2026 14:00:00" (VRP)
_BSD_STAMP: Final = re.compile(
    rf"[*.]?(?:{_MONTHS}) {{1,2}}\d{{1,2}}(?: \d{{4}})? \d\d:\d\d:\d\d(?:\.\d+)?"
    r"(?: [A-Z]{2,5}(?=:))?:? ?"
)
_SEQUENCE: Final = re.compile(r"\d{1,10}: ")  # Cisco's "service sequence-numbers"
_HOST: Final = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{0,62}) ")
_TAG: Final = re.compile(r"([A-Za-z0-9_.,/-]{1,48})(?:\[\d{1,10}\])?: ")
_ROUTEROS_TOPICS: Final = re.compile(r"[a-z0-9-]+(?:,[a-z0-9-]+)+ ")
_5424: Final = re.compile(
    r"1 (\S{1,64}) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) (-|(?:\[(?:[^]\\]|\\.)*\])+) ?"
)


@dataclass(frozen=True, slots=True)
class SyslogLine:
    """One syslog message: priority parts, who says they sent it, what they said."""

    facility: int
    severity: int
    host: str  # as written by the sender ("" if none): informative, the source address decides
    app: str  # tag / APP-NAME / RouterOS topics ("" if none)
    text: str  # the message, cleaned and bounded
    stamp: str = ""  # the sender's timestamp text
    truncated: bool = False

    @property
    def severity_name(self) -> str:
        """``err``, ``warning``, ``info``..."""
        return SEVERITY[self.severity]


def clean(raw: bytes, limit: int = MAX_TEXT) -> tuple[str, bool]:
    """Decode ``raw`` (UTF-8, replacement), control characters to spaces, cut to ``limit``."""
    cut = len(raw) > limit * 4
    text = raw[: limit * 4].decode("utf-8", "replace")
    text = _CONTROL.sub(" ", text)
    if not text.isprintable():  # rare: format characters (bidi overrides, zero widths)
        text = "".join(" " if unicodedata.category(c) in _ACTING else c for c in text)
    text = text.strip()
    if len(text) > limit:
        text, cut = text[:limit], True
    return text, cut


def parse(raw: bytes) -> SyslogLine:
    """Parse one message; anything unparsable is kept whole as text at the default priority."""
    text, truncated = clean(raw)
    pri, rest = DEFAULT_PRI, text
    match = _PRI.match(text)
    if match and int(match.group(1)) <= 191:  # noqa: PLR2004 - 23 facilities x 8 severities
        pri, rest = int(match.group(1)), text[match.end() :]
    facility, severity = divmod(pri, 8)
    if m5424 := _5424.match(rest):
        stamp, host, app = (g if g != "-" else "" for g in m5424.group(1, 2, 3))
        body = rest[m5424.end() :].removeprefix("\ufeff").lstrip()  # the BOM became a space
        return SyslogLine(facility, severity, host, app, body, stamp, truncated)
    return _bsd(facility, severity, rest, truncated)


def _bsd(facility: int, severity: int, rest: str, truncated: bool) -> SyslogLine:
    """RFC 3164 and the vendor variants: [seq:] [stamp] [host] [tag:|topics] text."""
    if seq := _SEQUENCE.match(rest):
        rest = rest[seq.end() :]
    stamp = ""
    if m := _BSD_STAMP.match(rest):
        stamp, rest = m.group(0).strip(" :"), rest[m.end() :]
    host = ""
    app = ""
    if stamp and (h := _HOST.match(rest)) and not _ROUTEROS_TOPICS.match(rest):
        host, rest = h.group(1), rest[h.end() :]
    if t := _TAG.match(rest):
        app, rest = t.group(1), rest[t.end() :]
    elif r := _ROUTEROS_TOPICS.match(rest):
        app, rest = r.group(0).strip(), rest[r.end() :]
    return SyslogLine(facility, severity, host, app, rest, stamp, truncated)


class FramingError(ValueError):
    """The TCP stream cannot be framed any more (an octet count above the limit)."""


class Framer:
    """RFC 6587 framing of one TCP connection, holding at most ``limit`` bytes per message."""

    def __init__(self, limit: int) -> None:
        """Start with an empty buffer."""
        self.limit = limit
        self._buf = bytearray()
        self._skipping = False  # inside an over-long LF-framed line: drop up to the next LF
        self.cut = 0  # over-long lines cut so far

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete messages.

        Raises:
            FramingError: an octet count larger than ``limit``.
        """
        self._buf += data
        out: list[bytes] = []
        while self._buf:
            frame = self._next()
            if frame is None:
                break
            if frame:
                out.append(frame)
        return out

    def _next(self) -> bytes | None:
        buf = self._buf
        if self._skipping:
            end = buf.find(b"\n")
            if end < 0:
                buf.clear()
                return None
            del buf[: end + 1]
            self._skipping = False
            return b""
        if buf[:1].isdigit():
            return self._counted()
        return self._line()

    def _line(self) -> bytes | None:
        buf = self._buf
        end = buf.find(b"\n")
        if end < 0:
            if len(buf) > self.limit:
                frame = bytes(buf[: self.limit])
                buf.clear()
                self._skipping, self.cut = True, self.cut + 1
                return frame
            return None
        frame = bytes(buf[:end]).rstrip(b"\r")
        del buf[: end + 1]
        if len(frame) > self.limit:
            self.cut += 1
            return frame[: self.limit]
        return frame

    def _counted(self) -> bytes | None:
        buf = self._buf
        space = buf.find(b" ", 0, 12)
        if space < 0:
            if len(buf) >= 12 or not buf.isdigit():  # noqa: PLR2004 - 10 digits + space
                raise FramingError("octet count without a space")
            return None
        digits = bytes(buf[:space])
        if not digits.isdigit():
            raise FramingError("octet count is not a number")
        size = int(digits)
        if size > self.limit:
            raise FramingError(f"octet count {size} above the limit {self.limit}")
        if len(buf) < space + 1 + size:
            return None
        frame = bytes(buf[space + 1 : space + 1 + size])
        del buf[: space + 1 + size]
        return frame.rstrip(b"\r\n")
