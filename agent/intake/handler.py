"""Turns a received e-mail or WhatsApp message into a ticket, or counts why not (blocking)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.intake.mail import Limits, Rejection, parse, read, screen
from agent.intake.stats import STATS, IntakeStats
from ticketing.intake import Inbound
from ticketing.workflow import Source

if TYPE_CHECKING:
    from datetime import datetime

    from agent.intake.recognise import Directory
    from ticketing.intake import IntakeLedger

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WaMessage:
    """One message of a WhatsApp webhook payload."""

    wamid: str
    phone: str  # the sender's number (``from``)
    name: str  # the profile name, if the payload carried one
    text: str
    received_at: datetime
    kind: str = "text"


class IntakeHandler:
    """Screens, recognises and records messages; every result is counted in ``stats``."""

    def __init__(
        self,
        ledger: IntakeLedger,
        directory: Directory,
        limits: Limits,
        *,
        stats: IntakeStats = STATS,
    ) -> None:
        """Record through ``ledger``; senders and OPDs from ``directory``."""
        self.ledger = ledger
        self.directory = directory
        self.limits = limits
        self.stats = stats

    def _reject(self, channel: str, why: Rejection, what: str) -> str:
        self.stats.count(channel, why.value)
        logger.info("%s %s: no ticket (%s)", channel, what, why.value)
        return why.value

    def mail_blocking(self, raw: bytes, received_at: datetime, size: int | None = None) -> str:
        """Handle one e-mail; return the outcome (created/joined/duplicate) or the rejection."""
        msg = read(raw)
        why = screen(msg, size if size is not None else len(raw), self.limits)
        if why is not None:
            return self._reject("email", why, str(msg.get("Message-ID", "?")))
        mail = parse(msg, raw, self.limits)
        if mail is None:
            return self._reject("email", Rejection.MALFORMED, str(msg.get("Message-ID", "?")))
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
            )
        )
        self.stats.count("email", result.outcome.value)
        return result.outcome.value

    def whatsapp_blocking(self, wa: WaMessage) -> str:
        """Handle one WhatsApp message (the webhook checked its signature)."""
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
            )
        )
        self.stats.count("wa", result.outcome.value)
        return result.outcome.value
