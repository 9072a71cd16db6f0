"""One e-mail: screened for loops, bounces and size, then parsed with the stdlib ``email``.

:func:`screen` says why a message must not become a ticket (auto-replies and vacation notices
by ``Auto-Submitted`` / ``X-Autoreply`` / ``Precedence``, mailing lists, bounces from
MAILER-DAEMON or with an empty return path, oversized mail); :func:`parse` takes the text
part (HTML converted to text when there is no plain part) and attachments up to the caps.
A message without a Message-ID gets one derived from its bytes, so a retry has the same key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from enum import StrEnum
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Final

from ticketing.intake import Attachment

if TYPE_CHECKING:
    from email.message import EmailMessage

BLOCK_TAGS: Final = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"})
SKIP_TAGS: Final = frozenset({"script", "style", "head", "title"})
BOUNCE_SENDERS: Final = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE: Final = frozenset({"bulk", "junk", "list", "auto_reply"})
KEPT_HEADERS: Final = ("From", "To", "Date", "Message-ID", "In-Reply-To", "Subject")
BODY_MAX_CHARS: Final = 20000


class Rejection(StrEnum):
    """Why a message makes no ticket (metric label values: bounded)."""

    AUTO_REPLY = "auto_reply"
    BULK = "bulk"
    BOUNCE = "bounce"
    OVERSIZED = "oversized"
    UNKNOWN_SENDER = "unknown_sender"
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True, slots=True)
class Limits:
    """Size caps (bytes)."""

    max_message: int = 10 * 1024 * 1024
    max_attachment: int = 2 * 1024 * 1024
    max_attachments: int = 10


@dataclass(frozen=True, slots=True)
class Mail:
    """The parts of an e-mail intake needs."""

    message_id: str
    sender: str  # address, lowercased
    name: str  # display name or the address
    subject: str
    body: str
    replies_to: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    headers: dict[str, str]


def read(raw: bytes) -> EmailMessage:
    """Parse bytes into a message (the modern policy: ``get_body``, decoded headers)."""
    return BytesParser(policy=policy.default).parsebytes(raw)


def message_id_of(msg: EmailMessage, raw: bytes) -> str:
    """The Message-ID, or ``<sha256-...@sigap>`` of the bytes when the sender gave none."""
    mid = str(msg.get("Message-ID", "") or "").strip()
    return mid or f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@sigap>"


def screen(  # noqa: PLR0911 - one return per rule reads as the rule table
    msg: EmailMessage, size: int, limits: Limits
) -> Rejection | None:
    """Why ``msg`` must not become a ticket, or None (RFC 3834, RFC 2076, bounces)."""
    if size > limits.max_message:
        return Rejection.OVERSIZED
    auto = str(msg.get("Auto-Submitted", "no")).strip().casefold()
    if auto and auto != "no":
        return Rejection.AUTO_REPLY
    if msg.get("X-Autoreply") or msg.get("X-Autorespond") or msg.get("X-Auto-Response-Suppress"):
        return Rejection.AUTO_REPLY
    if str(msg.get("Precedence", "")).strip().casefold() in BULK_PRECEDENCE:
        return Rejection.BULK
    if msg.get("List-Id") or msg.get("List-Unsubscribe"):
        return Rejection.BULK
    return_path = msg.get("Return-Path")
    if return_path is not None and str(return_path).strip() in {"<>", ""}:
        return Rejection.BOUNCE
    local = parseaddr(str(msg.get("From", "")))[1].split("@", 1)[0].casefold()
    if local in BOUNCE_SENDERS or msg.get_content_type() == "multipart/report":
        return Rejection.BOUNCE
    return None


def parse(msg: EmailMessage, raw: bytes, limits: Limits) -> Mail | None:
    """The parts of ``msg``; None when it has no usable sender address."""
    name, address = parseaddr(str(msg.get("From", "")))
    if "@" not in address:
        return None
    replies = [str(msg.get("In-Reply-To", ""))]
    replies += [addr for _n, addr in getaddresses([str(msg.get("References", ""))])]
    ids = tuple(dict.fromkeys(re.findall(r"<[^<>\s]+>", " ".join(replies))))
    return Mail(
        message_id=message_id_of(msg, raw),
        sender=address.casefold(),
        name=name.strip() or address,
        subject=" ".join(str(msg.get("Subject", "")).split()),
        body=body_text(msg)[:BODY_MAX_CHARS],
        replies_to=ids,
        attachments=attachments(msg, limits),
        headers={h: str(msg[h]) for h in KEPT_HEADERS if msg[h] is not None},
    )


def body_text(msg: EmailMessage) -> str:
    """The plain-text part, or the HTML part as text, or ''."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = str(part.get_content())
    except (LookupError, ValueError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content.strip()


def attachments(msg: EmailMessage, limits: Limits) -> tuple[Attachment, ...]:
    """Attachments in order; content kept up to ``max_attachment`` bytes each."""
    out: list[Attachment] = []
    for part in msg.iter_attachments():
        if len(out) >= limits.max_attachments:
            break
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        kept = data if len(data) <= limits.max_attachment else None
        name = part.get_filename() or "lampiran"
        out.append(Attachment(name, part.get_content_type(), len(data), kept))
    return tuple(out)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            self._skip += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self._skip = max(self._skip - 1, 0)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one line per block, blank runs squeezed."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
