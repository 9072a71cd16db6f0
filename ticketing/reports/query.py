"""The monthly recap, its heavy parts computed by the database: the one production path.

``sigap laporan bulanan``, ``sigap notifikasi laporan-bulanan`` and the web board's report
page all call :func:`month_report`. Reading every SOP step of every ticket of the month as a
view (``tests/report_oracle.py``, the test oracle) turns ~1,300 tickets and ~8,500 step rows
into Python objects with 10,000 tickets (~230 of the page's ~280 ms). Here the step
compliance is one ``GROUP BY`` over ``ticket_steps`` (counts and lateness per SOP step), the
remediation outcomes another, and the per-ticket facts (opened, source, OPD, acknowledged,
resolved) one light query of ~1,300 rows; ``ticketing.reports.monthly.summarise`` then builds
the :class:`MonthlyReport`.

Why SQL rather than a cache per month: the tickets are written by other processes too
(``sigap run``, ``sigap intake``, the CLI), so an in-process cache of ``sigap web`` could not
see every change without a database-side fingerprint; and "lewat" (running past due) moves
with the clock, so even an unchanged month would expire. The aggregate is always current.

``tests/unit/test_report.py`` checks that the oracle and this path give the same report
(SQLite and PostgreSQL).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from ticketing.availability import availability
from ticketing.models import Ticket, TicketEvent, TicketStep
from ticketing.reports.monthly import (
    ACK_POSITION,
    REMEDIATION_PREFIX,
    CohortTicket,
    MonthlyReport,
    StepCompliance,
    month_bounds,
    ranked,
    summarise,
)
from ticketing.reports.outages import read_outages
from ticketing.rollups import busiest
from ticketing.states import EventKind

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session

    from ticketing.availability import Scope
    from ticketing.sop import SopRegistry
    from ticketing.store import TicketStore
    from ticketing.views import ProgramEntry

NO_SOP: Final = "-"
TOP_LINKS: Final = 10  # busiest uplinks in the recap
REMEDIATION_KINDS: Final = tuple(k for k in EventKind if k.value.startswith(REMEDIATION_PREFIX))


def month_report(
    store: TicketStore,
    sops: SopRegistry,
    program: Iterable[ProgramEntry],
    *,
    year: int,
    month: int,
    tz: ZoneInfo,
    as_of: datetime,
    scope: Scope | None = None,
) -> MonthlyReport:
    """The recap of ``year``-``month`` as of ``as_of``, in three queries (see above).

    With the inventory's ``scope`` it carries the month's availability too (two more queries,
    ``ticketing.reports.outages``).
    """
    start, end = month_bounds(year, month, tz)
    in_month = and_(Ticket.opened_at >= start, Ticket.opened_at < end)
    with store.transaction(write=False) as session:
        cohort = _cohort(session, in_month)
        compliance = _compliance(session, in_month, sops, as_of)
        remediation = _remediation(session, in_month)
    report = summarise(
        cohort, compliance, remediation, program, year=year, month=month, tz=tz, as_of=as_of
    )
    if scope is None:
        return report
    records = read_outages(store, start=start, end=end, as_of=as_of, devices=scope.devices)
    found = availability(records, scope, start=start, end=end, as_of=as_of)
    busy = busiest(store, scope.uplink_ports, start=start, end=min(end, as_of), limit=TOP_LINKS)
    return replace(report, availability=found, busiest=tuple(busy))


def _cohort(session: Session, in_month: Any) -> list[CohortTicket]:
    """Each ticket of the month with its acknowledgement (step 2 done), oldest first."""
    ack = aliased(TicketStep)
    stmt = (
        select(
            Ticket.number,
            Ticket.opened_at,
            Ticket.source,
            Ticket.opd,
            ack.completed_at,
            Ticket.resolved_at,
            Ticket.sop_done_at,
        )
        .outerjoin(ack, and_(ack.ticket_id == Ticket.id, ack.position == ACK_POSITION))
        .where(in_month)
    )
    rows = [
        CohortTicket(number, opened, source, opd, acked, resolved or sop_done)
        for number, opened, source, opd, acked, resolved, sop_done in session.execute(stmt)
    ]
    return sorted(rows, key=lambda t: (t.opened_at, t.number))


def _compliance(
    session: Session, in_month: Any, sops: SopRegistry, as_of: datetime
) -> tuple[StepCompliance, ...]:
    """Per SOP and step position: tepat, terlambat, lewat, berjalan and the total lateness."""
    step = TicketStep
    done = step.completed_at.is_not(None)
    late = and_(done, step.late_by_s > 0)
    past_due = and_(step.completed_at.is_(None), step.due_at.is_not(None), step.due_at < as_of)
    sop = func.coalesce(Ticket.sop, NO_SOP)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    stmt = (
        select(
            sop,
            step.position,
            func.min(step.label),
            count(and_(done, func.coalesce(step.late_by_s, 0) <= 0)),
            count(late),
            count(past_due),
            func.count(),
            func.sum(case((late, step.late_by_s), else_=0)),
        )
        .join(Ticket, Ticket.id == step.ticket_id)
        .where(in_month, step.started_at.is_not(None))
        .group_by(sop, step.position)
    )
    out = []
    for code, position, label, tepat, terlambat, lewat, total, late_s in session.execute(stmt):
        kegiatan = sops.get(code).step(position).kegiatan if code in sops else ""
        out.append(
            StepCompliance(
                code, position, label, kegiatan,
                tepat=int(tepat), terlambat=int(terlambat), lewat=int(lewat),
                berjalan=int(total) - int(tepat) - int(terlambat) - int(lewat),
                late_total=_seconds(late_s),
            )
        )  # fmt: skip
    return tuple(sorted(out, key=lambda c: (c.sop, c.position)))


def _seconds(value: Any) -> timedelta:
    return timedelta(seconds=int(value or 0))


def _remediation(session: Session, in_month: Any) -> tuple[tuple[str, int], ...]:
    """Remediation events of the month's tickets per kind, most first."""
    stmt = (
        select(TicketEvent.kind, func.count())
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(in_month, TicketEvent.kind.in_(REMEDIATION_KINDS))
        .group_by(TicketEvent.kind)
    )
    return ranked((EventKind(k).value, int(n)) for k, n in session.execute(stmt))
