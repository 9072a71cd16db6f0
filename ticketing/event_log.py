"""Appending to a ticket's event log: one helper for the store and the SOP service.

The log is append-only (rows are never updated or deleted); every change of a ticket writes
its event in the same transaction, and the notification outbox plans its messages from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ticketing.models import TicketEvent
from ticketing.people import SYSTEM

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from ticketing.models import Ticket
    from ticketing.states import EventKind


def add_event(
    session: Session, ticket: Ticket, kind: EventKind, at: datetime, detail: str, /, **extra: Any
) -> None:
    """Append one row to the log of ``ticket``: ``actor`` (default "sistem"), the rest as data."""
    actor = str(extra.pop("actor", SYSTEM))
    session.add(
        TicketEvent(
            ticket_id=ticket.id, at=at, kind=kind, actor=actor, detail=detail, data=extra or None
        )
    )
