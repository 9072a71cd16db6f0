"""Frozen views of tickets: what the store hands to the agent and the CLI instead of ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from ticketing.models import DeviceRole, Ticket, TicketDevice, TicketEvent

if TYPE_CHECKING:
    from datetime import datetime

    from ticketing.states import EventKind, TicketState


@dataclass(frozen=True, slots=True)
class AffectedView:
    """A device attached to a ticket because it sits behind the broken one."""

    device: str
    attached_at: datetime
    detached_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventView:
    """One entry of a ticket's event log."""

    at: datetime
    kind: EventKind
    actor: str
    detail: str


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as the agent and the CLI see it; ``affected`` lists attached devices first."""

    id: int
    number: str
    fault_key: str | None
    device: str
    kind: str
    opd: str
    summary: str
    status: TicketState
    opened_at: datetime
    cleared_at: datetime | None
    resolved_at: datetime | None
    reopen_count: int
    affected: tuple[AffectedView, ...]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One event of any ticket, with the ticket it belongs to (for live views)."""

    id: int
    number: str
    device: str
    at: datetime
    kind: EventKind
    actor: str
    detail: str


class OpenOutcome(StrEnum):
    """What ``TicketStore.open_fault`` did with the fault."""

    OPENED = "opened"
    REOPENED = "reopened"
    RECURRED = "recurred"
    EXISTING = "existing"


@dataclass(frozen=True, slots=True)
class OpenResult:
    """The ticket that now carries the fault, and how it got there."""

    ticket: TicketView
    outcome: OpenOutcome


def _affected_order(row: TicketDevice) -> tuple[bool, datetime, int]:
    """Sort key: currently attached first, then history; each by attach time."""
    return (row.detached_at is not None, row.attached_at, row.id or 0)


def ticket_view(ticket: Ticket) -> TicketView:
    """Build the frozen view of a ticket (its devices must be loaded)."""
    rows = sorted((d for d in ticket.devices if d.role is DeviceRole.AFFECTED), key=_affected_order)
    return TicketView(
        id=ticket.id,
        number=ticket.number,
        fault_key=ticket.fault_key,
        device=ticket.device,
        kind=ticket.kind,
        opd=ticket.opd,
        summary=ticket.summary,
        status=ticket.status,
        opened_at=ticket.opened_at,
        cleared_at=ticket.cleared_at,
        resolved_at=ticket.resolved_at,
        reopen_count=ticket.reopen_count,
        affected=tuple(AffectedView(r.device, r.attached_at, r.detached_at) for r in rows),
    )


def event_view(event: TicketEvent) -> EventView:
    """Build the frozen view of an event row."""
    return EventView(at=event.at, kind=event.kind, actor=event.actor, detail=event.detail)
