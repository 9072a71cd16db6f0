"""Escalation of overdue SOP steps: each new level is logged once and returned for notice."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from ticketing.event_log import add_event
from ticketing.models import Ticket, TicketStep
from ticketing.service.engine import SECONDS, StepEngine
from ticketing.states import EventKind
from ticketing.views import EscalationEvent
from ticketing.workflow import StepClock, due_escalations

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


class Escalation(StepEngine):
    """Walk the overdue steps and record every escalation level they reached."""

    def escalate_due(self) -> list[EscalationEvent]:
        """Record every new escalation level of overdue steps (call on every tick)."""
        now = self._clock()
        out: list[EscalationEvent] = []
        with self._store.transaction() as session:
            stmt = (
                select(TicketStep, Ticket)
                .join(Ticket, Ticket.id == TicketStep.ticket_id)
                .where(
                    TicketStep.started_at.is_not(None),
                    TicketStep.completed_at.is_(None),
                    TicketStep.due_at < now,
                )
                .order_by(TicketStep.id)
                .with_for_update(of=TicketStep, skip_locked=True)
            )
            for row, ticket in session.execute(stmt).all():
                out.extend(self._escalate_row(session, ticket, row, now))
        return out

    def _escalate_row(
        self, session: Session, ticket: Ticket, row: TicketStep, now: datetime
    ) -> list[EscalationEvent]:
        assert row.due_at is not None  # noqa: S101 - the query selects due steps
        sop = self._sop_of(ticket)
        clock = StepClock(row.position, row.due_at, row.escalation_level, row.all_hours)
        events = []
        for esc in due_escalations(sop, [clock], now, self._calendar):
            notify = tuple(p.name for p in self._people.with_role(esc.role))
            late_s = int(esc.late_by / SECONDS)
            step = sop.step(esc.position)
            add_event(
                session,
                ticket,
                EventKind.ESCALATED,
                now,
                f"Langkah {step.title} terlambat; eskalasi tingkat {esc.level} ke {esc.role.value}",
                position=esc.position,
                label=esc.label,
                level=esc.level,
                role=esc.role.value,
                notify=list(notify),
                due_at=esc.due_at.isoformat(),
                late_by_s=late_s,
            )
            row.escalation_level = esc.level
            events.append(
                EscalationEvent(
                    ticket.number,
                    esc.position,
                    esc.label,
                    step.kegiatan,
                    esc.level,
                    esc.role.value,
                    notify,
                    esc.due_at,
                    esc.late_by,
                    now,
                )
            )
            logger.warning(
                "ticket %s step %s overdue: escalated to %s (level %d)",
                ticket.number,
                esc.label,
                esc.role.value,
                esc.level,
            )
        return events
