"""Read-only queries for the web board (issue 10): filtered pages, dashboard counts, history.

Each function is one read transaction with a bounded number of statements (no query per
ticket), so that pages stay fast with 10,000 tickets; everything returned is a frozen view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from sqlalchemy import and_, func, or_, select

from ticketing.models import (
    DeviceRole,
    Notification,
    RemediationRun,
    Ticket,
    TicketDevice,
    TicketStep,
)
from ticketing.states import ACTIVE_STATES, RunStatus, TicketState
from ticketing.views import TicketView, ticket_view

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Select

    from ticketing.states import DeliveryStatus
    from ticketing.store import TicketStore

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")
DOWN_KINDS: Final = ("device_down", "flapping")
MAX_PER_PAGE: Final = 200


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """What the ticket list shows; empty fields do not filter."""

    opd: str = ""
    status: TicketState | None = None
    sop: str = ""
    step: int | None = None  # position of the active step
    overdue: bool = False
    device: str = ""
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One line of the ticket list: the ticket and its active step."""

    ticket: TicketView
    step_label: str | None
    step_role: str | None
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class BoardPage:
    """A page of the ticket list and how many tickets match in all."""

    rows: tuple[BoardRow, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True, slots=True)
class DownDevice:
    """A device currently down (root of an active ticket) or unreachable behind one."""

    device: str
    opd: str  # the ticket's OPD; callers map victims to their own OPD
    ticket: str
    root: bool
    since: datetime


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A remediation run for the dashboard."""

    ticket: str
    device: str
    playbook: str
    status: RunStatus
    started_at: datetime


@dataclass(frozen=True, slots=True)
class NotificationView:
    """One outbox row of a ticket, without its address."""

    recipient: str
    channel: str
    kind: str
    status: DeliveryStatus
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str


def _running_step() -> Any:
    return and_(TicketStep.ticket_id == Ticket.id, TicketStep.position == Ticket.sop_step)


def _filtered(stmt: S, f: TicketFilter, now: datetime) -> S:
    if f.opd:
        stmt = stmt.where(Ticket.opd == f.opd)
    if f.status is not None:
        stmt = stmt.where(Ticket.status == f.status)
    if f.sop:
        stmt = stmt.where(Ticket.sop == f.sop)
    if f.step is not None:
        stmt = stmt.where(Ticket.sop_step == f.step)
    if f.device:
        stmt = stmt.where(Ticket.device == f.device)
    if f.overdue:
        stmt = stmt.where(TicketStep.completed_at.is_(None), TicketStep.due_at < now)
    return stmt


def tickets(store: TicketStore, f: TicketFilter, *, now: datetime) -> BoardPage:
    """Tickets matching ``f``, newest first, one page; overdue is judged at ``now``."""
    per_page = max(1, min(f.per_page, MAX_PER_PAGE))
    page = max(1, f.page)
    base = select(Ticket, TicketStep).outerjoin(TicketStep, _running_step())
    count = _filtered(
        select(func.count(Ticket.id)).select_from(Ticket).outerjoin(TicketStep, _running_step()),
        f,
        now,
    )
    stmt = (
        _filtered(base, f, now)
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    with store.transaction(write=False) as session:
        total = int(session.scalar(count) or 0)
        rows = tuple(
            BoardRow(
                ticket_view(t),
                s.label if s is not None else None,
                s.role if s is not None else None,
                s.due_at if s is not None else None,
                s is not None
                and s.completed_at is None
                and s.due_at is not None
                and s.due_at < now,
            )
            for t, s in session.execute(stmt).all()
        )
    return BoardPage(rows, total, page, per_page)


def down_devices(store: TicketStore) -> list[DownDevice]:
    """Devices down now: roots of active down/flapping tickets and the devices behind them."""
    roots = select(Ticket.device, Ticket.opd, Ticket.number, Ticket.opened_at).where(
        Ticket.status == TicketState.OPEN, Ticket.kind.in_(DOWN_KINDS)
    )
    victims = (
        select(TicketDevice.device, Ticket.opd, Ticket.number, TicketDevice.attached_at)
        .join(Ticket, Ticket.id == TicketDevice.ticket_id)
        .where(
            TicketDevice.role == DeviceRole.AFFECTED,
            TicketDevice.detached_at.is_(None),
            Ticket.status.in_(ACTIVE_STATES),
        )
    )
    with store.transaction(write=False) as session:
        out = [DownDevice(d, o, n, True, at) for d, o, n, at in session.execute(roots).all()]
        out += [DownDevice(d, o, n, False, at) for d, o, n, at in session.execute(victims).all()]
    return out


def overdue_steps(store: TicketStore, *, now: datetime, limit: int = 50) -> list[BoardRow]:
    """Tickets whose running step is past due at ``now``, most overdue first."""
    stmt = (
        select(Ticket, TicketStep)
        .join(TicketStep, _running_step())
        .where(TicketStep.completed_at.is_(None), TicketStep.due_at < now)
        .order_by(TicketStep.due_at)
        .limit(limit)
    )
    with store.transaction(write=False) as session:
        return [
            BoardRow(ticket_view(t), s.label, s.role, s.due_at, True)
            for t, s in session.execute(stmt).all()
        ]


def remediation_since(store: TicketStore, since: datetime) -> list[RunSummary]:
    """Remediation runs started at or after ``since``, newest first."""
    stmt = (
        select(RemediationRun, Ticket.number)
        .join(Ticket, Ticket.id == RemediationRun.ticket_id)
        .where(RemediationRun.started_at >= since)
        .order_by(RemediationRun.id.desc())
    )
    with store.transaction(write=False) as session:
        return [
            RunSummary(number, r.device, r.playbook, r.status, r.started_at)
            for r, number in session.execute(stmt).all()
        ]


def notifications(store: TicketStore, number: str) -> list[NotificationView]:
    """The notification outbox rows of a ticket, oldest first."""
    stmt = (
        select(Notification)
        .join(Ticket, Ticket.id == Notification.ticket_id)
        .where(Ticket.number == number)
        .order_by(Notification.id)
    )
    with store.transaction(write=False) as session:
        return [
            NotificationView(
                n.recipient,
                n.channel,
                n.kind,
                n.status,
                n.created_at,
                n.sent_at,
                n.attempts,
                n.last_error,
            )
            for n in session.scalars(stmt)
        ]


def device_tickets(store: TicketStore, device: str, *, limit: int = 100) -> list[TicketView]:
    """Tickets of a device, newest first: its own faults and outages it sat behind."""
    linked = select(TicketDevice.ticket_id).where(TicketDevice.device == device)
    stmt = (
        select(Ticket)
        .where(or_(Ticket.device == device, Ticket.id.in_(linked)))
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    with store.transaction(write=False) as session:
        return [ticket_view(t) for t in session.scalars(stmt)]
