"""What the WhatsApp SOP actions keep: the wamid ledger of taps and the short dialogues.

A tap that acted is written to ``intake_messages`` (channel ``wa``, outcome ``action``) under
its wamid, like a complaint message: the API's retry of the same webhook finds it and does
nothing, and the row also keeps the performer's 24-hour reply window open. A dialogue
(``chat_dialogues``, one per phone) holds a signed action that still needs typed text (isi,
usulan, biaya) until it lapses. Plain values in and out; every call is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ticketing import storable
from ticketing.models import ChatDialogue, IntakeAttachment, IntakeMessage, Ticket, TicketStep
from ticketing.states import ACTIVE_STATES
from ticketing.workflow import Source

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from ticketing.store import TicketStore

ACTION_OUTCOME: Final = "action"
ANSWER_MAX_CHARS: Final = 2000


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A signed action waiting for ``stage``'s typed answer from ``phone``."""

    phone: str
    person: str
    number: str
    step: int
    version: int
    action: str
    argument: str
    stage: str
    expires_at: datetime
    answers: Mapping[str, str] = field(default_factory=dict)


def acted(store: TicketStore, wamid: str) -> str | None:
    """The ticket number a tap with ``wamid`` already acted on, or None."""
    with store.transaction(write=False) as session:
        stmt = (
            select(Ticket.number)
            .join(IntakeMessage, IntakeMessage.ticket_id == Ticket.id)
            .where(IntakeMessage.channel == Source.WA.value, IntakeMessage.message_id == wamid)
        )
        return session.scalars(stmt).first()


@dataclass(frozen=True, slots=True)
class Photo:
    """A picture sent with a WhatsApp action (type already checked by its magic bytes)."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)


def record_action(
    store: TicketStore,
    *,
    wamid: str,
    number: str,
    phone: str,
    at: datetime,
    what: str,
    photo: Photo | None = None,
) -> bool:
    """Write the tap ``wamid`` (and its photo) to the ledger; False when it was there already."""
    try:
        with store.transaction() as session:
            ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
            row = IntakeMessage(
                channel=Source.WA.value,
                message_id=storable.key(wamid, 255),
                ticket_id=ticket.id,
                outcome=ACTION_OUTCOME,
                sender=storable.line(phone, 200),
                subject=storable.line(what, 500),
                received_at=at,
                recorded_at=at,
            )
            session.add(row)
            session.flush()
            if photo is not None:
                session.add(
                    IntakeAttachment(
                        message_id=row.id,
                        filename=storable.line(photo.filename, 255),
                        content_type=photo.content_type,
                        size=len(photo.content),
                        content=photo.content,
                    )
                )
    except IntegrityError:
        return False
    return True


def step_photo(store: TicketStore, number: str, position: int) -> Photo | None:
    """The photo a step's document names (``foto.wamid``), if the ledger kept it."""
    with store.transaction(write=False) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None:
            return None
        step = session.scalars(
            select(TicketStep).where(
                TicketStep.ticket_id == ticket.id, TicketStep.position == position
            )
        ).first()
        foto = (step.document or {}).get("foto") if step is not None else None
        wamid = foto.get("wamid") if isinstance(foto, dict) else None
        if not isinstance(wamid, str):
            return None
        stmt = (
            select(IntakeAttachment)
            .join(IntakeMessage, IntakeMessage.id == IntakeAttachment.message_id)
            .where(
                IntakeMessage.channel == Source.WA.value,
                IntakeMessage.message_id == wamid,
                IntakeMessage.ticket_id == ticket.id,
            )
        )
        found = session.scalars(stmt).first()
        if found is None or found.content is None:
            return None
        return Photo(found.filename, found.content_type, found.content)


def dialogue(store: TicketStore, phone: str, now: datetime) -> Dialogue | None:
    """The open dialogue of ``phone`` (a lapsed one is None)."""
    with store.transaction(write=False) as session:
        row = session.scalars(select(ChatDialogue).where(ChatDialogue.phone == phone)).first()
        if row is None or row.expires_at <= now:
            return None
        return Dialogue(
            row.phone,
            row.person,
            row.number,
            row.step,
            row.version,
            row.action,
            row.argument,
            row.stage,
            row.expires_at,
            {str(k): str(v) for k, v in (row.answers or {}).items()},
        )


def put_dialogue(store: TicketStore, d: Dialogue) -> None:
    """Start or move on ``d.phone``'s dialogue (replacing any other of that phone)."""
    answers: dict[str, Any] = {k: storable.body(v, ANSWER_MAX_CHARS) for k, v in d.answers.items()}
    with store.transaction() as session:
        session.execute(delete(ChatDialogue).where(ChatDialogue.phone == d.phone))
        session.add(
            ChatDialogue(
                phone=d.phone,
                person=d.person,
                number=d.number,
                step=d.step,
                version=d.version,
                action=d.action,
                argument=d.argument,
                stage=d.stage,
                answers=answers or None,
                expires_at=d.expires_at,
            )
        )


def end_dialogue(store: TicketStore, phone: str) -> None:
    """Forget ``phone``'s dialogue (done, cancelled or refused)."""
    with store.transaction() as session:
        session.execute(delete(ChatDialogue).where(ChatDialogue.phone == phone))


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """An open ticket of an OPD with its active SOP step (for the "status" reply)."""

    number: str
    device: str
    summary: str
    step: str | None  # the active step's label, e.g. "4" (None: SOP done)
    role: str  # the role that acts on it (slug)
    due_at: datetime | None


def open_tickets(store: TicketStore, opd: str, limit: int = 20) -> list[OpenTicket]:
    """The newest ``limit`` open tickets of ``opd`` with their active steps."""
    with store.transaction(write=False) as session:
        stmt = (
            select(Ticket)
            .where(Ticket.opd == opd, Ticket.status.in_(ACTIVE_STATES))
            .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
        out = []
        for t in session.scalars(stmt):
            row = None
            if t.sop_step is not None:
                row = session.scalars(
                    select(TicketStep).where(
                        TicketStep.ticket_id == t.id, TicketStep.position == t.sop_step
                    )
                ).first()
            out.append(
                OpenTicket(
                    t.number,
                    t.device,
                    t.summary,
                    row.label if row else None,
                    row.role if row else "",
                    row.due_at if row else None,
                )
            )
        return out
