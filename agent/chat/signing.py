"""Signed action payloads: a WhatsApp button's id, so a forged or forwarded one does nothing.

A payload names one action on one step of one ticket, at the ticket version the message was
built from, until an expiry time::

    sg1.<number>.<step>.<action>.<argument>.<version>.<expires unix s>.<mac>

``mac`` is HMAC-SHA256 (truncated to 128 bits, base64url) keyed by the server secret over
every field before it and the number of the person the message was sent to (``holder``, not
carried in the id): the same button tapped from another phone, forwarded, is forged. Fields
are percent-free: the ticket number's ``/`` and any ``.`` of the argument are escaped, so the
split is unambiguous. The whole id stays under WhatsApp's limits (button id 256 characters,
list row id 200). Pure: no I/O, the clock is an argument.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from urllib.parse import quote, unquote

PREFIX: Final = "sg1"
MAX_ID_CHARS: Final = 200  # list row ids: the smaller of WhatsApp's two limits
MAC_BYTES: Final = 16
DEFAULT_TTL: Final = timedelta(days=3)
SECRET_MIN_BYTES: Final = 16
PARTS: Final = 8
_FIELD: Final = re.compile(r"[A-Za-z0-9%_~-]{0,120}")


class Action(StrEnum):
    """What a button does (the service call behind it)."""

    MENU = "menu"  # the template's one button: send the step's real buttons (window open now)
    DISPOSISI = "disposisi"  # argument: the sifat (biasa / segera / sangat_segera)
    ISI = "isi"  # disposition with a typed isi (a short dialogue); argument: the sifat
    TUGASKAN = "tugaskan"  # argument: the technician's name
    SEDERHANA = "sederhana"  # decision step: handled, no program entry
    KOMPLEKS = "kompleks"  # decision step: starts the usulan / biaya dialogue
    SELESAI = "selesai"  # any other step of the performer (laporan, penyelesaian)


class PayloadError(ValueError):
    """A payload that must do nothing; ``reason`` is a short slug (forged, expired, malformed)."""

    def __init__(self, reason: str) -> None:
        """Keep the reason."""
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class ActionPayload:
    """One signed action: ``action`` (with ``argument``) on step ``step`` of ticket ``number``."""

    number: str
    step: int
    action: Action
    version: int
    expires: datetime
    argument: str = ""


def _esc(text: str) -> str:
    return quote(text, safe="").replace(".", "%2E")


def _fields(p: ActionPayload) -> list[str]:
    stamp = int(p.expires.timestamp())
    return [
        PREFIX,
        _esc(p.number),
        str(p.step),
        p.action.value,
        _esc(p.argument),
        str(p.version),
        str(stamp),
    ]


def _mac(secret: bytes, fields: list[str], holder: str) -> str:
    signed = ".".join([*fields, _esc(holder)]).encode()
    digest = hmac.new(secret, signed, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def check_secret(secret: bytes) -> bytes:
    """``secret`` if long enough to sign with; ValueError otherwise (a weak key forges easily)."""
    if len(secret) < SECRET_MIN_BYTES:
        raise ValueError(f"action secret must be at least {SECRET_MIN_BYTES} bytes")
    return secret


def sign(secret: bytes, payload: ActionPayload, holder: str) -> str:
    """The button id of ``payload`` for the phone ``holder``; ValueError when over the limit."""
    fields = _fields(payload)
    text = ".".join([*fields, _mac(check_secret(secret), fields, holder)])
    if len(text) > MAX_ID_CHARS:
        raise ValueError(f"action id too long ({len(text)} > {MAX_ID_CHARS})")
    return text


def is_signed(text: object) -> bool:
    """True when ``text`` looks like a payload of ours (it may still be forged)."""
    return isinstance(text, str) and text.startswith(PREFIX + ".")


def verify(secret: bytes, text: object, now: datetime, holder: str) -> ActionPayload:
    """The payload ``text`` tapped by ``holder``; PayloadError: malformed, forged, expired."""
    if not isinstance(text, str) or len(text) > MAX_ID_CHARS or not text.isascii():
        raise PayloadError("malformed")
    parts = text.split(".")
    if len(parts) != PARTS or parts[0] != PREFIX or not all(_FIELD.fullmatch(p) for p in parts):
        raise PayloadError("malformed")
    fields, mac = parts[:7], parts[7]
    if not hmac.compare_digest(_mac(check_secret(secret), fields, holder).encode(), mac.encode()):
        raise PayloadError("forged")
    _, number, step, action, argument, version, stamp = fields
    try:
        payload = ActionPayload(
            number=unquote(number, errors="strict"),
            step=int(step),
            action=Action(action),
            version=int(version),
            expires=datetime.fromtimestamp(int(stamp), now.tzinfo),
            argument=unquote(argument, errors="strict"),
        )
    except (ValueError, OverflowError, OSError) as exc:  # signed by us, so only a bug lands here
        raise PayloadError("malformed") from exc
    if now >= payload.expires:
        raise PayloadError("expired")
    return payload


def staleness(payload: ActionPayload, *, step: int | None, version: int) -> str | None:
    """Why ``payload`` no longer fits the ticket (``other_step`` / ``stale``), or None."""
    if step is None or payload.step != step:
        return "other_step"
    if payload.version != version:
        return "stale"
    return None
