"""Frozen views of tickets: what the store hands to the agent and the CLI instead of ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ticketing.models import (
    DeviceRole,
    ProgramKegiatan,
    ProgramStatus,
    Ticket,
    TicketDevice,
    TicketEvent,
    TicketStep,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
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
    data: Mapping[str, Any] | None = None  # e.g. escalation: position, label, level, role


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
    # SOP workflow (defaults keep older constructors working)
    source: str = "agent"
    sop: str | None = None
    sop_step: int | None = None  # position of the active step
    sop_done_at: datetime | None = None
    reporter: str = ""
    description: str = ""
    assignee: str | None = None
    complexity: str | None = None
    remediation: str | None = None  # outcome of the last remediation run (RunStatus value)
    version: int = 0  # pass back as ``expected_version`` for optimistic locking


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
    data: Mapping[str, Any] | None = None


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
        source=ticket.source,
        sop=ticket.sop,
        sop_step=ticket.sop_step,
        sop_done_at=ticket.sop_done_at,
        reporter=ticket.reporter,
        description=ticket.description,
        assignee=ticket.assignee,
        complexity=ticket.complexity,
        remediation=ticket.remediation,
        version=ticket.version,
    )


def event_view(event: TicketEvent) -> EventView:
    """Build the frozen view of an event row."""
    return EventView(
        at=event.at, kind=event.kind, actor=event.actor, detail=event.detail, data=event.data
    )


@dataclass(frozen=True, slots=True)
class StepView:
    """One SOP step of a ticket, for the timeline (``sigap tiket show``) and reports."""

    position: int
    label: str
    kegiatan: str
    role: str
    roles: tuple[str, ...]
    person: str | None
    all_hours: bool
    started_at: datetime | None
    due_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    late_by: timedelta | None  # set when completed after due (zero when on time)
    document_kind: str | None
    document: Mapping[str, Any] | None
    notes: str
    escalation_level: int
    completed_via: str = ""  # the channel of the person's action ("whatsapp"), "" = board/CLI

    @property
    def state(self) -> str:
        """State slug: menunggu (not started), berjalan (running) or selesai (done)."""
        if self.completed_at is not None:
            return "selesai"
        return "berjalan" if self.started_at is not None else "menunggu"

    def overdue(self, now: datetime) -> timedelta | None:
        """How late a running step is at ``now``; None if not running or not late."""
        if self.completed_at is not None or self.due_at is None or now <= self.due_at:
            return None
        return now - self.due_at


def step_view(row: TicketStep, kegiatan: str) -> StepView:
    """Build the frozen view of a step row (``kegiatan`` comes from the SOP)."""
    late = None if row.late_by_s is None else timedelta(seconds=row.late_by_s)
    return StepView(
        position=row.position,
        label=row.label,
        kegiatan=kegiatan,
        role=row.role,
        roles=tuple(row.roles.split(",")),
        person=row.person,
        all_hours=row.all_hours,
        started_at=row.started_at,
        due_at=row.due_at,
        completed_at=row.completed_at,
        completed_by=row.completed_by,
        late_by=late,
        document_kind=row.document_kind,
        document=row.document,
        notes=row.notes,
        escalation_level=row.escalation_level,
        completed_via=row.completed_via or "",
    )


@dataclass(frozen=True, slots=True)
class ProgramEntry:
    """One Program Kegiatan entry."""

    id: int
    ticket: str | None  # ticket number
    opd: str
    device: str
    problem: str
    proposed_action: str
    estimated_cost: int  # Rupiah
    priority: str
    budget_year: int
    status: ProgramStatus
    created_at: datetime
    updated_at: datetime | None = None


def program_entry(row: ProgramKegiatan, ticket: str | None) -> ProgramEntry:
    """Build the frozen view of a Program Kegiatan row."""
    return ProgramEntry(
        id=row.id,
        ticket=ticket,
        opd=row.opd,
        device=row.device,
        problem=row.problem,
        proposed_action=row.proposed_action,
        estimated_cost=row.estimated_cost,
        priority=row.priority,
        budget_year=row.budget_year,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@dataclass(frozen=True, slots=True)
class EscalationEvent:
    """An escalation the store recorded: for the notifier (who to tell about what)."""

    ticket: str
    position: int
    label: str
    kegiatan: str
    level: int
    role: str
    notify: tuple[str, ...]  # names of the people with ``role``
    due_at: datetime
    late_by: timedelta
    at: datetime
    extra: Mapping[str, Any] = field(default_factory=dict)
