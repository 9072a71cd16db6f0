"""Ticket numbers in subjects and the Message-IDs sigap gives its acknowledgements.

Pure text functions shared by complaint intake (threading replies to their ticket) and the
notification side (the acknowledgement and "selesai" mails); no database here.
"""

from __future__ import annotations

import re
from typing import Final

NUMBER_RE: Final = re.compile(r"\b([A-Z]{1,6}/\d{4}/\d{4,})\b")


def ticket_number_in(text: str) -> str | None:
    """The first ticket number (``GJ/2026/0042``) in a subject line, if any."""
    match = NUMBER_RE.search(text)
    return match.group(1) if match else None


def ack_message_id(number: str, domain: str) -> str:
    """The Message-ID sigap gives its acknowledgement of ticket ``number`` (replies thread)."""
    return f"<sigap.{number.replace('/', '.')}@{domain}>"


def number_of_ack(message_id: str) -> str | None:
    """The ticket number an acknowledgement Message-ID (see :func:`ack_message_id`) names."""
    match = re.fullmatch(r"<sigap\.([A-Z]{1,6})\.(\d{4})\.(\d{4,})@[^>]+>", message_id.strip())
    return "/".join(match.groups()) if match else None
