"""Ticket numbers in subjects, acknowledgement Message-IDs, and the one-mailbox address rule.

Pure text functions shared by complaint intake (threading replies to their ticket, who may
be answered) and the notification side (the acknowledgement and "selesai" mails); no
database here.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

NUMBER_RE: Final = re.compile(r"\b([A-Z]{1,6}/\d{4}/\d{4,})\b")
MESSAGE_ID_RE: Final = re.compile(r"<[^<>\s]+>")
# RFC 5322 dot-atom local part (no quoted strings: they carry commas, spaces and '@'), less
# the quote characters ' and ` that mail libraries read as a display name (Apprise does)
ATOM: Final = r"[A-Za-z0-9!#$%&*+/=?^_{|}~-]+"
LOCAL_RE: Final = re.compile(rf"{ATOM}(?:\.{ATOM})*")
# a DNS host name of at least two labels (no address literals, no trailing dot)
LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN_RE: Final = re.compile(rf"{LABEL}(?:\.{LABEL})+")
LOCAL_MAX: Final = 64  # RFC 5321 4.5.3.1.1
DOMAIN_MAX: Final = 253
ADDRESS_MAX: Final = 254  # RFC 5321 path limit less the brackets


def ticket_number_in(text: str) -> str | None:
    """The first ticket number (``GJ/2026/0042``) in a subject line, if any."""
    match = NUMBER_RE.search(text)
    return match.group(1) if match else None


def new_ack_message_id(domain: str) -> str:
    """A fresh, unguessable Message-ID for a ticket's acknowledgement (stored by the caller)."""
    return f"<sigap.{secrets.token_hex(16)}@{domain}>"


def message_ids_in(in_reply_to: str, references: str, limit: int = 20) -> tuple[str, ...]:
    """The ``<...>`` ids of In-Reply-To, then the newest of References; ``limit`` at most."""
    found = MESSAGE_ID_RE.findall(in_reply_to) + MESSAGE_ID_RE.findall(references)[-limit:]
    return tuple(dict.fromkeys(found))[:limit]


def mailbox(address: str) -> str | None:
    """``address`` lowercased when it is exactly one plain ``local@host.domain``, else None.

    Only a dot-atom local part: a quoted one (``"a@x,b@y"@allowed``) could carry separators
    that a mail library splits into more recipients.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at or len(address.strip()) > ADDRESS_MAX:
        return None
    if len(local) > LOCAL_MAX or len(domain) > DOMAIN_MAX:
        return None
    if not LOCAL_RE.fullmatch(local) or not DOMAIN_RE.fullmatch(domain):
        return None
    return f"{local}@{domain}".casefold()


def domain_of(address: str) -> str:
    """The domain of a :func:`mailbox` address ('' for anything else)."""
    valid = mailbox(address)
    return valid.rpartition("@")[2] if valid else ""
