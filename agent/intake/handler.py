"""Turns a received e-mail or WhatsApp message into a ticket, or counts why not (blocking).

One message never stops intake: whatever goes wrong while reading or recording it (deep MIME
recursion, a header the parser trips on, a value the database refuses) quarantines that
message (``rejected_malformed``: counted, recorded with the error in ``intake_rejections``,
flagged ``$SigapRejected`` by the watcher) and the next one is taken. Only a database that
cannot be reached (:data:`UNAVAILABLE`) leaves the message for the next round.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from agent.intake.mail import (
    Limits,
    Rejection,
    Trust,
    authenticated,
    parse,
    raw_header,
    read,
    screen,
    shape_problem,
)
from agent.intake.stats import STATS, IntakeStats
from ticketing.intake import Inbound, Quarantined, digest_of
from ticketing.workflow import Source

if TYPE_CHECKING:
    from datetime import datetime

    from agent.intake.recognise import Directory
    from ticketing.intake import IntakeLedger

logger = logging.getLogger(__name__)

# the database is away (not this message's fault): the message waits for the next round
UNAVAILABLE: Final = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
DETAIL_MAX: Final = 500


@dataclass(frozen=True, slots=True)
class WaMessage:
    """One message of a WhatsApp webhook payload."""

    wamid: str
    phone: str  # the sender's number (``from``)
    name: str  # the profile name, if the payload carried one
    text: str
    received_at: datetime
    kind: str = "text"
    reply_id: str = ""  # the id of the tapped button / list row / template quick reply
    media: str = ""  # the media id of an image (its caption is ``text``)


class IntakeHandler:
    """Screens, recognises and records messages; every result is counted in ``stats``."""

    def __init__(
        self,
        ledger: IntakeLedger,
        directory: Directory,
        limits: Limits,
        *,
        stats: IntakeStats = STATS,
        trust: Trust | None = None,
    ) -> None:
        """Record through ``ledger``; senders and OPDs from ``directory``."""
        self.ledger = ledger
        self.directory = directory
        self.limits = limits
        self.stats = stats
        self.trust = trust or Trust()

    def _reject(self, channel: str, why: Rejection, what: str) -> str:
        self.stats.count(channel, why.value)
        logger.info("%s %s: no ticket (%s)", channel, what, why.value)
        return why.value

    def _quarantine(self, q: Quarantined) -> str:
        """Record ``q`` (the database being away propagates) and count it."""
        try:
            self.ledger.reject(q)
        except UNAVAILABLE:
            raise
        except Exception:  # the record is best effort; the message is flagged anyway
            logger.exception("%s %s: quarantine not recorded", q.channel, q.message_id)
        logger.warning("%s %s from %s quarantined: %s", q.channel, q.message_id, q.sender, q.detail)
        return self._reject(q.channel.value, Rejection.REJECTED_MALFORMED, q.message_id)

    def mail_blocking(self, raw: bytes, received_at: datetime, size: int | None = None) -> str:
        """Handle one e-mail; the outcome (created/joined/duplicate) or the rejection.

        Never raises for the message's sake (see the module docstring).
        """
        try:
            return self._mail(raw, received_at, size)
        except UNAVAILABLE:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of one message quarantines it
            return self._quarantine(_mail_quarantine(raw, received_at, _detail(exc)))

    def quarantine_blocking(self, raw: bytes, received_at: datetime, detail: str) -> str:
        """Quarantine an e-mail the watcher gave up on (it kept failing while others passed)."""
        return self._quarantine(_mail_quarantine(raw, received_at, detail))

    def _mail(self, raw: bytes, received_at: datetime, size: int | None) -> str:
        problem = shape_problem(raw)
        if problem is not None:
            return self._quarantine(_mail_quarantine(raw, received_at, problem))
        msg = read(raw)
        why = screen(msg, size if size is not None else len(raw), self.limits)
        if why is not None:
            return self._reject("email", why, raw_header(msg, "Message-ID") or "?")
        mail = parse(msg, raw, self.limits)
        if mail is None:
            detail = "From is not exactly one plain mailbox"
            return self._quarantine(_mail_quarantine(raw, received_at, detail))
        if self.trust.require_authenticated and not authenticated(
            msg, mail.sender, self.trust.authserv_id
        ):
            return self._reject("email", Rejection.UNAUTHENTICATED, mail.sender)
        sender = self.directory.by_email(mail.sender, f"{mail.subject}\n{mail.body}")
        if sender is None:
            return self._reject("email", Rejection.UNKNOWN_SENDER, mail.sender)
        result = self.ledger.accept(
            Inbound(
                channel=Source.EMAIL,
                message_id=mail.message_id,
                sender=mail.sender,
                reporter=sender.name,
                opd=sender.opd,
                subject=mail.subject,
                body=mail.body,
                received_at=received_at,
                replies_to=mail.replies_to,
                devices=sender.devices,
                attachments=mail.attachments,
                headers=mail.headers,
                sender_opd=sender.own_opd,
            )
        )
        self.stats.count("email", result.outcome.value)
        return result.outcome.value

    def whatsapp_blocking(self, wa: WaMessage) -> str:
        """Handle one WhatsApp message (the webhook checked its signature); never raises for it."""
        try:
            return self._whatsapp(wa)
        except UNAVAILABLE:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of one message quarantines it
            digest = hashlib.sha256(f"{wa.wamid}\n{wa.phone}".encode()).hexdigest()
            q = Quarantined(
                Source.WA,
                digest,
                Rejection.REJECTED_MALFORMED.value,
                _detail(exc),
                wa.received_at,
                wa.wamid,
                wa.phone,
                "",
            )
            return self._quarantine(q)

    def _whatsapp(self, wa: WaMessage) -> str:
        sender = self.directory.by_phone(wa.phone, wa.name, wa.text)
        if sender is None:
            return self._reject("wa", Rejection.UNKNOWN_SENDER, wa.phone)
        result = self.ledger.accept(
            Inbound(
                channel=Source.WA,
                message_id=wa.wamid,
                sender=wa.phone,
                reporter=sender.name,
                opd=sender.opd,
                subject="",
                body=wa.text or f"(pesan {wa.kind})",
                received_at=wa.received_at,
                devices=sender.devices,
                sender_opd=sender.own_opd,
            )
        )
        self.stats.count("wa", result.outcome.value)
        return result.outcome.value


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:DETAIL_MAX]


def _mail_quarantine(raw: bytes, received_at: datetime, detail: str) -> Quarantined:
    """What can still be told of a message that failed, from its raw header lines (linear)."""
    data = raw if isinstance(raw, bytes) else b""
    head = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]
    mid, sender, subject = (_raw_line(head, name) for name in (b"message-id", b"from", b"subject"))
    reason = Rejection.REJECTED_MALFORMED.value
    return Quarantined(
        Source.EMAIL, digest_of(data), reason, detail, received_at, mid, sender, subject
    )


def _raw_line(head: bytes, name: bytes) -> str:
    match = re.search(
        rb"^" + name + rb"[ \t]*:[ \t]*(.{0,998})", head, re.IGNORECASE | re.MULTILINE
    )
    return match.group(1).decode("utf-8", "replace").strip() if match else ""
