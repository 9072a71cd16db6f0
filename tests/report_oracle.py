"""The monthly recap computed in Python from whole ticket records: the test oracle.

Production computes the recap with SQL aggregates (``ticketing.reports.query.month_report``:
the CLI, the web page and the monthly message). This is the straightforward reading of the
definitions in ``ticketing.reports.monthly`` over every ticket's steps and events, kept so
that ``tests/unit/test_report.py`` can check that both give the same report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from ticketing.reports.monthly import (
    ACK_POSITION,
    REMEDIATION_PREFIX,
    CohortTicket,
    StepCompliance,
    month_bounds,
    ranked,
    summarise,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ticketing.reports.monthly import MonthlyReport
    from ticketing.service import TicketService
    from ticketing.store import TicketStore
    from ticketing.views import EventView, ProgramEntry, StepView, TicketView


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """One ticket with its SOP steps and event log: the oracle's input unit."""

    ticket: TicketView
    steps: Sequence[StepView] = ()
    events: Sequence[EventView] = ()


def records(store: TicketStore, svc: TicketService, *, limit: int = 100) -> list[TicketRecord]:
    """Every ticket of ``store`` (newest ``limit``) with its steps and events."""
    return [
        TicketRecord(t, svc.steps(t.number), store.events(t.number))
        for t in store.list(limit=limit)
    ]


def acknowledged_at(record: TicketRecord) -> datetime | None:
    """When the ticket was first taken on: completion of the step after intake."""
    step = next((s for s in record.steps if s.position == ACK_POSITION), None)
    return step.completed_at if step is not None else None


def resolved_at(ticket: TicketView) -> datetime | None:
    """When the ticket counts as resolved: ``resolved_at``, else the SOP's end."""
    return ticket.resolved_at or ticket.sop_done_at


def cohort_ticket(record: TicketRecord) -> CohortTicket:
    """The recap's facts of one ticket record."""
    t = record.ticket
    return CohortTicket(
        t.number, t.opened_at, t.source, t.opd, acknowledged_at(record), resolved_at(t)
    )


def _compliance(records: Iterable[TicketRecord], as_of: datetime) -> tuple[StepCompliance, ...]:
    table: dict[tuple[str, int], StepCompliance] = {}
    for record in records:
        for s in record.steps:
            if s.started_at is None:
                continue
            key = (record.ticket.sop or "-", s.position)
            c = table.get(key) or StepCompliance(key[0], s.position, s.label, s.kegiatan)
            table[key] = _judge(c, s, as_of)
    return tuple(table[k] for k in sorted(table))


def _judge(c: StepCompliance, s: StepView, as_of: datetime) -> StepCompliance:
    """``c`` with step ``s`` counted in the right column."""
    if s.completed_at is not None:
        late = s.late_by or timedelta()
        if late > timedelta():
            return replace(c, terlambat=c.terlambat + 1, late_total=c.late_total + late)
        return replace(c, tepat=c.tepat + 1)
    if s.due_at is not None and as_of > s.due_at:
        return replace(c, lewat=c.lewat + 1)
    return replace(c, berjalan=c.berjalan + 1)


def monthly(
    records: Iterable[TicketRecord],
    program: Iterable[ProgramEntry],
    *,
    year: int,
    month: int,
    tz: ZoneInfo,
    as_of: datetime,
) -> MonthlyReport:
    """The recap of ``year``-``month`` from whole records (the definitions, read literally)."""
    start, end = month_bounds(year, month, tz)
    cohort = sorted(
        (r for r in records if start <= r.ticket.opened_at < end),
        key=lambda r: (r.ticket.opened_at, r.ticket.number),
    )
    remediation = ranked(
        Counter(
            e.kind.value
            for r in cohort
            for e in r.events
            if e.kind.value.startswith(REMEDIATION_PREFIX)
        ).items()
    )
    return summarise(
        [cohort_ticket(r) for r in cohort],
        _compliance(cohort, as_of),
        remediation,
        program,
        year=year,
        month=month,
        tz=tz,
        as_of=as_of,
    )
