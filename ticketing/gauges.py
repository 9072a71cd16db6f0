"""Counts of tickets for monitoring: SOP steps in progress, overdue steps, active faults.

Read-only aggregate queries (a few grouped SELECTs, no rows loaded) that the agent turns into
Prometheus gauges. Labels are bounded by construction: SOP codes and step positions/labels come from
the bundled SOPs, kinds and statuses from enums; ticket numbers are never part of a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, func, select

from ticketing.models import Ticket, TicketStep
from ticketing.states import ACTIVE_STATES

if TYPE_CHECKING:
    from datetime import datetime

    from ticketing.store import TicketStore

NO_SOP = "none"


@dataclass(frozen=True, slots=True)
class StepCount:
    """Tickets whose active SOP step is ``step`` of ``sop``; ``overdue`` of them are past due.

    ``step`` is the position (unique within the SOP); ``label`` the printed number, which
    the seed SOPs repeat (pemeliharaan prints 1, 2, 2, 3, 4, 5, 8).
    """

    sop: str
    step: str
    label: str
    open: int
    overdue: int


@dataclass(frozen=True, slots=True)
class ActiveCount:
    """Tickets whose fault is still active (open or recovering), by fault kind and status."""

    kind: str
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class TicketGauges:
    """One consistent snapshot of the ticket counts, taken at ``at``."""

    at: datetime
    steps: tuple[StepCount, ...] = ()
    active: tuple[ActiveCount, ...] = ()


def ticket_gauges(store: TicketStore, *, now: datetime) -> TicketGauges:
    """Count SOP steps in progress (and overdue at ``now``) and active faults, in one read."""
    running = and_(
        TicketStep.ticket_id == Ticket.id,
        TicketStep.position == Ticket.sop_step,
        TicketStep.completed_at.is_(None),
    )
    late = case((TicketStep.due_at < now, 1), else_=0)
    steps_stmt = (
        select(
            Ticket.sop,
            TicketStep.position,
            TicketStep.label,
            func.count(),
            func.coalesce(func.sum(late), 0),
        )
        .join(TicketStep, running)
        .where(Ticket.sop_step.is_not(None), Ticket.sop_done_at.is_(None))
        .group_by(Ticket.sop, TicketStep.position, TicketStep.label)
    )
    active_stmt = (
        select(Ticket.kind, Ticket.status, func.count())
        .where(Ticket.status.in_(ACTIVE_STATES))
        .group_by(Ticket.kind, Ticket.status)
    )
    with store.transaction(write=False) as session:
        steps = tuple(
            StepCount(sop or NO_SOP, str(position), label, int(n), int(overdue))
            for sop, position, label, n, overdue in session.execute(steps_stmt).all()
        )
        active = tuple(
            ActiveCount(kind, status.value, int(n))
            for kind, status, n in session.execute(active_stmt).all()
        )
    return TicketGauges(at=now, steps=tuple(sorted(steps, key=_step_key)), active=active)


def _step_key(count: StepCount) -> tuple[str, int]:
    return (count.sop, int(count.step))
