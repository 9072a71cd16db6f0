"""Complaint intake ledger: a message taken in by e-mail or WhatsApp becomes or joins a ticket.

One concept: the intake ledger (accepting a message, and the reads of what it recorded:
quarantine, acknowledgement and thread ids).

:meth:`IntakeLedger.accept` is one transaction that (1) returns at once when the message's
(channel, message id) is already in ``intake_messages`` (a redelivery, or a restart after a
crash between the commit and marking the mail processed); (2) finds the thread the message
belongs to: a message it replies to, a ticket number it names, or (WhatsApp) the sender's
still-open complaint; (3) joins that ticket with a ``note`` event, or opens a new complaint
on the manual-complaint SOP with step 1 stamped at the message's arrival and completed by
"sistem"; (4) links a new complaint to an active monitoring ticket of the same OPD or
devices (``ticket_links`` kind ``detected`` plus a ``note`` on both tickets, "sudah
terdeteksi oleh sistem"); (5) writes the ledger row and the kept attachments. A crash
anywhere before the commit leaves nothing, so the message is simply taken again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ticketing import storable
from ticketing.mailids import new_ack_message_id, ticket_number_in
from ticketing.models import (
    IntakeAttachment,
    IntakeMessage,
    IntakeRejection,
    MailThreadId,
    Ticket,
    TicketEvent,
    TicketLink,
)
from ticketing.people import SYSTEM
from ticketing.states import ACTIVE_STATES, EventKind
from ticketing.workflow import AGENT_SOURCE, COMPLAINT_KIND, Source

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from sqlalchemy.orm import Session

    from ticketing.service import TicketService
    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

UNKNOWN_OPD: Final = "OPD tidak dikenal"
LINK_DETECTED: Final = "detected"
NOTE_MAX_CHARS: Final = 2000
BODY_MAX_CHARS: Final = 20000
SUBJECT_MAX_CHARS: Final = 1000
REPLIES_MAX: Final = 20
WA_THREAD: Final = timedelta(hours=24)  # a WhatsApp message joins the sender's open complaint


class Outcome(StrEnum):
    """What :meth:`IntakeLedger.accept` did with a message."""

    CREATED = "created"
    JOINED = "joined"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attachment as received; ``content`` None when it was over the size cap."""

    filename: str
    content_type: str
    size: int
    content: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One complaint message, parsed and recognised by the agent (no I/O left)."""

    channel: Source  # EMAIL or WA
    message_id: str  # Message-ID / wamid: the dedup key
    sender: str  # e-mail address or phone number (the reply goes there)
    reporter: str  # display name
    opd: str  # recognised OPD, or UNKNOWN_OPD for the Kasi to assign
    subject: str
    body: str
    received_at: datetime
    replies_to: tuple[str, ...] = ()  # In-Reply-To and References message ids
    devices: tuple[str, ...] = ()  # the OPD's devices (correlation with monitoring tickets)
    attachments: tuple[Attachment, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    sender_opd: str = ""  # the OPD the inventory gives the sender: it may join that OPD's tickets


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A message that cannot be processed, and why (see :meth:`IntakeLedger.reject`)."""

    channel: Source
    digest: str  # sha256 hex of the raw message (or of the channel's id)
    reason: str  # a bounded slug (the agent's ``Rejection`` value)
    detail: str  # what went wrong, for the operator
    received_at: datetime
    message_id: str = ""
    sender: str = ""
    subject: str = ""


def digest_of(raw: bytes) -> str:
    """The quarantine key of a raw message."""
    return hashlib.sha256(raw).hexdigest()


def _column(attr: object) -> int | None:
    return storable.length_of(attr)  # type: ignore[arg-type]


def normalised(msg: Inbound) -> Inbound:
    """``msg`` with every text storable: no control characters, no value over its column."""
    contact = min(n for n in (_column(IntakeMessage.sender), _column(Ticket.reporter_contact)) if n)
    id_max = _column(IntakeMessage.message_id)
    return replace(
        msg,
        message_id=storable.key(msg.message_id, id_max),
        sender=storable.line(msg.sender, contact),
        reporter=storable.line(msg.reporter, _column(Ticket.reporter)),
        opd=storable.line(msg.opd, _column(Ticket.opd)),
        sender_opd=storable.line(msg.sender_opd, _column(Ticket.opd)),
        subject=storable.line(msg.subject, SUBJECT_MAX_CHARS),
        body=storable.body(msg.body, BODY_MAX_CHARS),
        replies_to=tuple(storable.key(r, id_max) for r in msg.replies_to[:REPLIES_MAX]),
        devices=tuple(storable.line(d) for d in msg.devices),
        attachments=tuple(
            replace(
                a,
                filename=storable.line(a.filename, _column(IntakeAttachment.filename)),
                content_type=storable.line(a.content_type, _column(IntakeAttachment.content_type)),
            )
            for a in msg.attachments
        ),
        headers=storable.document(msg.headers),
    )


def may_join(ticket: Ticket, msg: Inbound) -> bool:
    """A sender joins only a complaint they reported or one of their own OPD."""
    if ticket.kind != COMPLAINT_KIND:
        return False
    if ticket.reporter_contact and ticket.reporter_contact.casefold() == msg.sender.casefold():
        return True
    own = msg.sender_opd.strip()
    return bool(own) and own != UNKNOWN_OPD and ticket.opd.casefold() == own.casefold()


@dataclass(frozen=True, slots=True)
class Accepted:
    """The ticket a message created or joined, and the monitoring ticket it was linked to."""

    outcome: Outcome
    number: str
    linked: str | None = None


class IntakeLedger:
    """Turns :class:`Inbound` messages into tickets exactly once (see the module docstring)."""

    def __init__(
        self, store: TicketStore, service: TicketService, *, now: Callable[[], datetime]
    ) -> None:
        """Record in ``store``; new complaints start their SOP through ``service``."""
        self._store = store
        self._service = service
        self._now = now

    def seen(self, channel: Source, message_ids: Sequence[str]) -> set[str]:
        """Which of ``message_ids`` are already recorded (a cheap pre-check before parsing)."""
        if not message_ids:
            return set()
        with self._store.transaction(write=False) as session:
            stmt = select(IntakeMessage.message_id).where(
                IntakeMessage.channel == channel.value,
                IntakeMessage.message_id.in_(list(message_ids)),
            )
            return set(session.scalars(stmt))

    def accept(self, msg: Inbound) -> Accepted:
        """Create or join the ticket of ``msg`` and record it, in one transaction.

        Two takers of one message (two intake processes): the loser's insert hits the unique
        (channel, message_id), its transaction rolls back, and the retry reads the winner's.
        """
        msg = normalised(msg)
        try:
            return self._accept_once(msg)
        except IntegrityError:
            logger.info("%s message %s raced with another taker", msg.channel, msg.message_id)
        return self._accept_once(msg)

    def reject(self, q: Quarantined) -> bool:
        """Record a quarantined message once (keyed by channel and digest); False if known."""
        row = IntakeRejection(
            channel=q.channel.value,
            digest=storable.line(q.digest, _column(IntakeRejection.digest)),
            message_id=storable.key(q.message_id, _column(IntakeRejection.message_id)),
            sender=storable.line(q.sender, _column(IntakeRejection.sender)),
            subject=storable.line(q.subject, SUBJECT_MAX_CHARS),
            reason=storable.line(q.reason, _column(IntakeRejection.reason)),
            detail=storable.body(q.detail, NOTE_MAX_CHARS),
            received_at=q.received_at,
            recorded_at=self._now(),
        )
        try:
            with self._store.transaction() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    def rejections(self, channel: Source) -> list[tuple[str, str, str]]:
        """(message id, reason, detail) of every quarantined message of ``channel``."""
        with self._store.transaction(write=False) as session:
            stmt = (
                select(IntakeRejection)
                .where(IntakeRejection.channel == channel.value)
                .order_by(IntakeRejection.id)
            )
            return [(r.message_id, r.reason, r.detail) for r in session.scalars(stmt)]

    def _accept_once(self, msg: Inbound) -> Accepted:
        with self._store.transaction() as session:
            done = session.execute(
                select(IntakeMessage, Ticket.number)
                .join(Ticket, Ticket.id == IntakeMessage.ticket_id)
                .where(
                    IntakeMessage.channel == msg.channel.value,
                    IntakeMessage.message_id == msg.message_id,
                )
            ).first()
            if done is not None:
                return Accepted(Outcome.DUPLICATE, done[1])
            now = self._now()
            ticket = self._thread(session, msg)
            linked = None
            if ticket is not None:
                self._join(session, ticket, msg, now)
                outcome = Outcome.JOINED
            else:
                ticket = self._open(session, msg)
                linked = self._correlate(session, ticket, msg, now)
                outcome = Outcome.CREATED
            self._record(session, ticket, msg, outcome, now)
            number = ticket.number
        logger.info(
            "%s message %s from %s: %s %s", msg.channel, msg.message_id, msg.sender, outcome, number
        )
        return Accepted(outcome, number, linked)

    # -- threading ---------------------------------------------------------------------

    def _thread(self, session: Session, msg: Inbound) -> Ticket | None:
        """The complaint ``msg`` continues, or None for a new one.

        Every path (acknowledgement id, a message it replies to, the number in the subject,
        WhatsApp's open complaint) joins only a ticket the sender may join (:func:`may_join`).
        """
        for ticket in self._candidates(session, msg):
            if ticket is not None and may_join(ticket, msg):
                return ticket
        return None

    def _candidates(self, session: Session, msg: Inbound) -> Iterator[Ticket | None]:
        ids = [m for m in msg.replies_to if m]
        if ids:
            acked = (
                select(Ticket)
                .join(MailThreadId, MailThreadId.ticket_id == Ticket.id)
                .where(MailThreadId.message_id.in_(ids))
            )
            yield from session.scalars(acked)
            replied = (
                select(Ticket)
                .join(IntakeMessage, IntakeMessage.ticket_id == Ticket.id)
                .where(IntakeMessage.message_id.in_(ids))
                .order_by(IntakeMessage.id.desc())
            )
            yield from session.scalars(replied)
        number = ticket_number_in(msg.subject)
        if number is not None:
            yield _complaint(session, number)
        if msg.channel is Source.WA:
            yield self._open_of_sender(session, msg)

    @staticmethod
    def _open_of_sender(session: Session, msg: Inbound) -> Ticket | None:
        stmt = (
            select(Ticket)
            .where(
                Ticket.kind == COMPLAINT_KIND,
                Ticket.source == msg.channel.value,
                Ticket.reporter_contact == msg.sender,
                Ticket.status.in_(ACTIVE_STATES),
                Ticket.opened_at >= msg.received_at - WA_THREAD,
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return session.scalars(stmt).first()

    def _join(self, session: Session, ticket: Ticket, msg: Inbound, at: datetime) -> None:
        text = msg.body.strip()[:NOTE_MAX_CHARS]
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=at,
                kind=EventKind.NOTE,
                actor=msg.reporter[: _column(TicketEvent.actor)] or SYSTEM,
                detail=f"Pesan lanjutan dari {msg.reporter} lewat {msg.channel.value}: {text}",
                data={"intake": msg.channel.value, "message_id": msg.message_id},
            )
        )

    # -- new complaint -----------------------------------------------------------------

    def _open(self, session: Session, msg: Inbound) -> Ticket:
        subject = msg.subject.strip()
        body = msg.body.strip()
        description = f"{subject}\n\n{body}".strip() if subject else body
        return self._service.open_complaint(
            session,
            source=msg.channel,
            opd=msg.opd or UNKNOWN_OPD,
            reporter=msg.reporter,
            description=description or "(pesan kosong)",
            by=None,
            received_at=msg.received_at,
            contact=msg.sender,
        )

    def _correlate(
        self, session: Session, ticket: Ticket, msg: Inbound, at: datetime
    ) -> str | None:
        """Link to an active monitoring ticket of the OPD's devices (or OPD); return its number."""
        if msg.opd in {"", UNKNOWN_OPD} and not msg.devices:
            return None
        active = select(Ticket).where(
            Ticket.source == AGENT_SOURCE, Ticket.status.in_(ACTIVE_STATES)
        )
        match = Ticket.opd == msg.opd
        if msg.devices:
            match = match | Ticket.device.in_(list(msg.devices))
        monitor = session.scalars(active.where(match).order_by(Ticket.id).limit(1)).first()
        if monitor is None:
            return None
        session.add(
            TicketLink(ticket_id=ticket.id, linked_id=monitor.id, kind=LINK_DETECTED, created_at=at)
        )
        note = (
            f"Sudah terdeteksi oleh sistem: gangguan {monitor.device} ({monitor.summary}) "
            f"sejak tiket {monitor.number}"
        )
        data = {"link": LINK_DETECTED, "ticket": monitor.number}
        session.add(_note(ticket, at, note, data))
        back = f"Pengaduan {ticket.number} dari {msg.reporter} ({msg.opd}) tertaut ke tiket ini"
        session.add(_note(monitor, at, back, {"link": LINK_DETECTED, "ticket": ticket.number}))
        logger.info("complaint %s linked to monitoring ticket %s", ticket.number, monitor.number)
        return monitor.number

    # -- ledger ------------------------------------------------------------------------

    @staticmethod
    def _record(
        session: Session, ticket: Ticket, msg: Inbound, outcome: Outcome, at: datetime
    ) -> None:
        kept = [
            {"filename": a.filename, "size": a.size, "kept": a.content is not None}
            for a in msg.attachments
        ]
        row = IntakeMessage(
            channel=msg.channel.value,
            message_id=msg.message_id,
            ticket_id=ticket.id,
            outcome=outcome.value,
            sender=msg.sender,
            subject=msg.subject,
            received_at=msg.received_at,
            recorded_at=at,
            data={"headers": msg.headers, "attachments": kept} if kept or msg.headers else None,
        )
        session.add(row)
        session.flush()  # the unique (channel, message_id) speaks here if another taker won
        session.add_all(
            IntakeAttachment(
                message_id=row.id,
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                content=a.content,
            )
            for a in msg.attachments
        )

    # -- reads -------------------------------------------------------------------------

    def last_inbound(self, channel: Source, sender: str) -> datetime | None:
        """When ``sender`` last wrote on ``channel`` (WhatsApp's 24-hour reply window)."""
        return last_inbound(self._store, channel, sender)

    def links(self, number: str) -> list[str]:
        """Numbers of the tickets linked to ticket ``number`` (either direction)."""
        with self._store.transaction(write=False) as session:
            ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
            out = []
            for link in session.scalars(
                select(TicketLink).where(
                    (TicketLink.ticket_id == ticket.id) | (TicketLink.linked_id == ticket.id)
                )
            ):
                other = link.linked_id if link.ticket_id == ticket.id else link.ticket_id
                out.append(session.get_one(Ticket, other).number)
            return out

    def messages(self, number: str) -> list[tuple[str, str, str, datetime]]:
        """(channel, message id, outcome, received) of every message of ticket ``number``."""
        with self._store.transaction(write=False) as session:
            stmt = (
                select(IntakeMessage)
                .join(Ticket, Ticket.id == IntakeMessage.ticket_id)
                .where(Ticket.number == number)
                .order_by(IntakeMessage.id)
            )
            return [
                (m.channel, m.message_id, m.outcome, m.received_at) for m in session.scalars(stmt)
            ]


def last_inbound(store: TicketStore, channel: Source, sender: str) -> datetime | None:
    """When ``sender`` last wrote on ``channel`` (WhatsApp's 24-hour reply window)."""
    with store.transaction(write=False) as session:
        stmt = (
            select(IntakeMessage.received_at)
            .where(IntakeMessage.channel == channel.value, IntakeMessage.sender == sender)
            .order_by(IntakeMessage.received_at.desc())
            .limit(1)
        )
        return session.scalars(stmt).first()


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    """One quarantined message as recorded (see :meth:`IntakeLedger.reject`)."""

    channel: str
    message_id: str
    sender: str
    subject: str
    reason: str
    detail: str
    received_at: datetime


def quarantined(store: TicketStore, limit: int = 100) -> list[QuarantineRow]:
    """The newest ``limit`` quarantined messages, newest first."""
    with store.transaction(write=False) as session:
        stmt = select(IntakeRejection).order_by(IntakeRejection.id.desc()).limit(limit)
        return [
            QuarantineRow(
                r.channel, r.message_id, r.sender, r.subject, r.reason, r.detail, r.received_at
            )
            for r in session.scalars(stmt)
        ]


def first_message_id(store: TicketStore, number: str) -> str | None:
    """The message id that opened complaint ``number`` (e-mail threading of the replies)."""
    with store.transaction(write=False) as session:
        stmt = (
            select(IntakeMessage.message_id)
            .join(Ticket, Ticket.id == IntakeMessage.ticket_id)
            .where(Ticket.number == number, IntakeMessage.outcome == Outcome.CREATED.value)
            .order_by(IntakeMessage.id)
            .limit(1)
        )
        return session.scalars(stmt).first()


def ack_message_id(
    store: TicketStore, number: str, *, domain: str, now: Callable[[], datetime]
) -> str | None:
    """The acknowledgement Message-ID of ticket ``number``: made (random) once, then stored.

    None when there is no such ticket. Two senders at once: the loser's insert hits the
    unique ticket_id and reads the winner's.
    """
    for _attempt in range(2):
        try:
            with store.transaction() as session:
                ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
                if ticket is None:
                    return None
                known = session.scalars(
                    select(MailThreadId.message_id).where(MailThreadId.ticket_id == ticket.id)
                ).first()
                if known is not None:
                    return known
                mid = new_ack_message_id(domain)
                session.add(MailThreadId(ticket_id=ticket.id, message_id=mid, created_at=now()))
                return mid
        except IntegrityError:
            logger.info("acknowledgement id of %s raced with another sender", number)
    return None


def _complaint(session: Session, number: str) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.number == number, Ticket.kind == COMPLAINT_KIND)
    return session.scalars(stmt).first()


def _note(ticket: Ticket, at: datetime, detail: str, data: dict[str, str]) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket.id, at=at, kind=EventKind.NOTE, actor=SYSTEM, detail=detail, data=data
    )
