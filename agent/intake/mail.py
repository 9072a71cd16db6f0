"""One e-mail: screened for loops, bounces and size, then parsed with the stdlib ``email``.

:func:`screen` says why a message must not become a ticket (auto-replies and vacation notices
by ``Auto-Submitted`` / ``X-Autoreply`` / ``Precedence``, mailing lists, bounces from
MAILER-DAEMON or with an empty return path, oversized mail); :func:`parse` takes the text
part (HTML converted to text when there is no plain part) and attachments up to the caps.
A message without a Message-ID gets one derived from its bytes, so a retry has the same key.

Hostile mail: header values intake keys on (Message-ID, In-Reply-To, References, the
screening headers, ``Authentication-Results``) are read raw, never through the header
registry; the sender must be exactly one plain mailbox (:func:`ticketing.mailids.mailbox`).
Anything else that fails is the handler's to quarantine.
:func:`authenticated` reads the receiving server's ``Authentication-Results`` (RFC 8601).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from enum import StrEnum
from html import unescape
from typing import TYPE_CHECKING, Any, Final

from ticketing.intake import BODY_MAX_CHARS, Attachment
from ticketing.mailids import MESSAGE_ID_RE, mailbox, message_ids_in

if TYPE_CHECKING:
    from email.message import EmailMessage

BLOCK_TAGS: Final = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "table"})
SKIP_TAGS: Final = frozenset({"script", "style", "head", "title"})
TAG_NAME_RE: Final = re.compile(r"\s*(/?)\s*([A-Za-z][A-Za-z0-9]*)")
BOUNCE_SENDERS: Final = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE: Final = frozenset({"bulk", "junk", "list", "auto_reply"})
KEPT_HEADERS: Final = ("From", "To", "Date", "Message-ID", "In-Reply-To", "Subject")
HEADER_MAX_CHARS: Final = 2000
# Headers the stdlib parses with its header registry (the parser reads Content-Type while it
# splits the parts), which is superlinear on hostile values (20,000 quotes in a Content-Type:
# 17 s): each may be one RFC 5322 line long, all of them together PARSED_TOTAL_MAX.
PARSED_HEADER_RE: Final = re.compile(
    rb"^(content-type|content-disposition|content-transfer-encoding|from|subject)[ \t]*:"
    rb"(.*(?:\r?\n[ \t].*)*)",
    re.IGNORECASE | re.MULTILINE,
)
PARSED_HEADER_MAX: Final = 998
PARSED_TOTAL_MAX: Final = 16000
PARSED_COUNT_MAX: Final = 300  # about 100 MIME parts
PASS_METHODS: Final = frozenset({"dmarc", "dkim", "spf"})
RESULT_RE: Final = re.compile(r"([a-z]+)\s*=\s*([a-z]+)")
PROPERTY_RE: Final = re.compile(r"([a-z]+\.[a-z-]+)\s*=\s*(\S+)")
COMMENT_RE: Final = re.compile(r"\([^()]*\)")


class Rejection(StrEnum):
    """Why a message makes no ticket (metric label values: bounded)."""

    AUTO_REPLY = "auto_reply"
    BULK = "bulk"
    BOUNCE = "bounce"
    OVERSIZED = "oversized"
    UNKNOWN_SENDER = "unknown_sender"
    MALFORMED = "malformed"
    REJECTED_MALFORMED = "rejected_malformed"  # quarantined: cannot be processed
    UNAUTHENTICATED = "unauthenticated"
    BAD_SIGNATURE = "bad_signature"


@dataclass(frozen=True, slots=True)
class Limits:
    """Size caps (bytes)."""

    max_message: int = 10 * 1024 * 1024
    max_attachment: int = 2 * 1024 * 1024
    max_attachments: int = 10


@dataclass(frozen=True, slots=True)
class Trust:
    """Whether a sender must be authenticated by the office's own mail server, and its id."""

    require_authenticated: bool = False
    authserv_id: str = ""  # the receiving server's authserv-id in Authentication-Results


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


def raw_header(msg: EmailMessage, name: str) -> str:
    """The first ``name`` header as written (unfolded), never parsed; '' when absent."""
    return next(iter(raw_headers(msg, name)), "")


def raw_headers(msg: EmailMessage, name: str) -> list[str]:
    """Every ``name`` header as written (unfolded), top first."""
    wanted = name.casefold()
    return [
        re.sub(r"\r?\n", "", str(v))
        for k, v in msg.raw_items()
        if isinstance(k, str) and k.casefold() == wanted
    ]


def message_id_of(msg: EmailMessage, raw: bytes) -> str:
    """The Message-ID ``<...>``, or ``<sha256-...@sigap>`` of the bytes when there is none."""
    mid = raw_header(msg, "Message-ID").strip()
    if MESSAGE_ID_RE.fullmatch(mid):
        return mid
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@sigap>"


def sender_of(msg: EmailMessage) -> tuple[str, str] | None:
    """(display name, mailbox) when exactly one From header names exactly one plain mailbox."""
    headers = msg.get_all("From") or []
    if len(headers) != 1:
        return None
    addresses: tuple[Any, ...] = tuple(getattr(headers[0], "addresses", ()))
    if len(addresses) != 1:
        return None
    address = mailbox(str(addresses[0].addr_spec))
    return (str(addresses[0].display_name or ""), address) if address else None


def shape_problem(raw: bytes) -> str | None:
    """Why ``raw`` is too costly to parse (see :data:`PARSED_HEADER_RE`), or None; linear."""
    total = count = 0
    for match in PARSED_HEADER_RE.finditer(raw):
        size = len(match.group(2))
        if size > PARSED_HEADER_MAX:
            name = match.group(1).decode("ascii")
            return f"{name} header longer than {PARSED_HEADER_MAX} characters"
        total, count = total + size, count + 1
        if total > PARSED_TOTAL_MAX or count > PARSED_COUNT_MAX:
            return f"more than {PARSED_COUNT_MAX} MIME headers or {PARSED_TOTAL_MAX} characters"
    return None


def screen(  # noqa: PLR0911 - one return per rule reads as the rule table
    msg: EmailMessage, size: int, limits: Limits
) -> Rejection | None:
    """Why ``msg`` must not become a ticket, or None (RFC 3834, RFC 2076, bounces)."""
    if size > limits.max_message:
        return Rejection.OVERSIZED
    auto = raw_header(msg, "Auto-Submitted").strip().casefold() or "no"
    if auto != "no":
        return Rejection.AUTO_REPLY
    if any(
        raw_header(msg, h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
    ):
        return Rejection.AUTO_REPLY
    if raw_header(msg, "Precedence").strip().casefold() in BULK_PRECEDENCE:
        return Rejection.BULK
    if raw_header(msg, "List-Id") or raw_header(msg, "List-Unsubscribe"):
        return Rejection.BULK
    return_path = raw_headers(msg, "Return-Path")
    if return_path and return_path[0].strip() in {"<>", ""}:
        return Rejection.BOUNCE
    local = raw_header(msg, "From").rpartition("@")[0].rpartition("<")[2].strip().casefold()
    if local in BOUNCE_SENDERS or msg.get_content_type() == "multipart/report":
        return Rejection.BOUNCE
    return None


def authenticated(msg: EmailMessage, sender: str, authserv_id: str) -> bool:
    """True when the office's own server (``authserv_id``) says SPF, DKIM or DMARC passed.

    Only the topmost ``Authentication-Results`` header naming ``authserv_id`` counts (the
    server adds it on top and must remove any such header that came with the mail); a DKIM
    or SPF pass counts only for the From domain or a parent of it (alignment).
    """
    domain = sender.rpartition("@")[2]
    ours = authserv_id.strip().casefold()
    for value in raw_headers(msg, "Authentication-Results"):
        text = COMMENT_RE.sub(" ", value).casefold()
        server, _, results = text.partition(";")
        if not ours or server.split()[:1] != [ours]:
            continue
        return any(_passes(part, domain) for part in results.split(";"))
    return False


def _passes(result: str, domain: str) -> bool:
    match = RESULT_RE.match(result.strip())
    if match is None or match.group(1) not in PASS_METHODS or match.group(2) != "pass":
        return False
    if match.group(1) == "dmarc":
        return True
    props = dict(PROPERTY_RE.findall(result))
    named = props.get("header.d") or props.get("smtp.mailfrom") or props.get("header.i") or ""
    signer = named.rpartition("@")[2].strip().rstrip(".")
    return bool(signer) and (domain == signer or domain.endswith("." + signer))


def parse(msg: EmailMessage, raw: bytes, limits: Limits) -> Mail | None:
    """The parts of ``msg``; None when it has no single plain sender mailbox."""
    sender = sender_of(msg)
    if sender is None:
        return None
    name, address = sender
    return Mail(
        message_id=message_id_of(msg, raw),
        sender=address,
        name=name.strip() or address,
        subject=" ".join(subject_of(msg).split()),
        body=body_text(msg)[:BODY_MAX_CHARS],
        replies_to=message_ids_in(raw_header(msg, "In-Reply-To"), raw_header(msg, "References")),
        attachments=attachments(msg, limits),
        headers={h: v[:HEADER_MAX_CHARS] for h in KEPT_HEADERS if (v := raw_header(msg, h))},
    )


def subject_of(msg: EmailMessage) -> str:
    """The decoded Subject; the raw one when the header registry cannot read it."""
    try:
        return str(msg.get("Subject", ""))
    except (IndexError, AttributeError, TypeError, ValueError):
        return raw_header(msg, "Subject")


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


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one line per block, blank runs squeezed; linear time.

    A scan with ``str.find``, not ``html.parser``: the stdlib parser is superlinear on
    hostile markup (``"<a " * 10_000``, 30 KB: 7 s; 120 KB: 137 s). Comments, ``script``,
    ``style``, ``head`` and ``title`` are dropped, block tags end lines, an unterminated tag
    is text, entities are decoded last.
    """
    parts: list[str] = []
    skipping, pos = "", 0  # skipping: the element whose content is dropped until its end tag
    while pos < len(html):
        lt = html.find("<", pos)
        lt = len(html) if lt < 0 else lt
        if not skipping:
            parts.append(html[pos:lt])
        pos, skipping, piece = _markup(html, lt, skipping)
        parts.append(piece)
    lines = [" ".join(line.split()) for line in unescape("".join(parts)).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _markup(html: str, lt: int, skipping: str) -> tuple[int, str, str]:
    """Past the markup at ``lt``: (next position, element being skipped, text it adds)."""
    end = len(html)
    if lt >= end:
        return end, skipping, ""
    if html.startswith("<!--", lt):
        close = html.find("-->", lt + 4)
        return (end if close < 0 else close + 3), skipping, ""
    gt = html.find(">", lt + 1)
    if gt < 0:  # no tag after all: the rest is text
        return end, skipping, "" if skipping else html[lt:]
    closing, name = _tag(html[lt + 1 : gt])
    if name in SKIP_TAGS and not closing and not skipping:
        return gt + 1, name, ""
    if closing and name == skipping:
        return gt + 1, "", ""
    return gt + 1, skipping, "\n" if name in BLOCK_TAGS and not skipping else ""


def _tag(inside: str) -> tuple[bool, str]:
    """(end tag?, lowercased name) of the text between ``<`` and ``>``."""
    match = TAG_NAME_RE.match(inside)
    return (bool(match.group(1)), match.group(2).casefold()) if match else (False, "")
