"""Outage intervals read from the ticket database, for ``ticketing.availability``.

Two queries, both limited to the period: the state changes of ``device_down`` tickets
(opened, recurred, reopened start an outage of the ticket's device; cleared or resolved end
it) and the *affected* links of devices attached to such a ticket (attached -> detached).
A span still open at ``as_of`` ends there. Rows whose end is not after their start (a clock
that went back) give no span; ``ticketing.availability.union`` drops them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy import or_, select

from ticketing.availability import OutageRecords, Span
from ticketing.faults import FaultKind
from ticketing.models import DeviceRole, Ticket, TicketDevice, TicketEvent
from ticketing.states import EventKind

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable
    from datetime import datetime

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from ticketing.store import TicketStore

STARTS: Final = frozenset({EventKind.OPENED, EventKind.RECURRED, EventKind.REOPENED})
ENDS: Final = frozenset({EventKind.CLEARED, EventKind.RESOLVED})
DOWN: Final = FaultKind.DEVICE_DOWN.value


def read_outages(
    store: TicketStore,
    *,
    start: datetime,
    end: datetime,
    as_of: datetime,
    devices: Collection[str] | None = None,
) -> OutageRecords:
    """Outage spans touching ``[start, end)`` of ``devices`` (None: every device)."""
    with store.transaction(write=False) as session:
        own = _own(session, start, end, as_of)
        attached = _attached(session, start, end, as_of)
    keep = (lambda _d: True) if devices is None else set(devices).__contains__
    return OutageRecords(
        own={d: tuple(s) for d, s in own.items() if keep(d)},
        attached={d: tuple(s) for d, s in attached.items() if keep(d)},
    )


def _touching(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    """Tickets that were open at some instant of ``[start, end)``."""
    return (
        Ticket.kind == DOWN,
        Ticket.opened_at < end,
        or_(Ticket.resolved_at.is_(None), Ticket.resolved_at > start),
    )


def _own(
    session: Session, start: datetime, end: datetime, as_of: datetime
) -> dict[str, list[Span]]:
    """Per device, the down spans of its own ``device_down`` tickets."""
    stmt = (
        select(Ticket.id, Ticket.device, TicketEvent.at, TicketEvent.kind)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(*_touching(start, end), TicketEvent.kind.in_(STARTS | ENDS))
        .order_by(Ticket.id, TicketEvent.at, TicketEvent.id)
    )
    return walk(session.execute(stmt), as_of)


def walk(
    rows: Iterable[tuple[int, str, datetime, EventKind]], as_of: datetime
) -> dict[str, list[Span]]:
    """Turn each ticket's ordered state events into down spans (open at the end: ``as_of``)."""
    out: dict[str, list[Span]] = {}
    current: int | None = None
    device = ""
    since: datetime | None = None
    for ticket, name, at, kind in rows:
        if ticket != current:
            if since is not None:
                out.setdefault(device, []).append((since, as_of))
            current, device, since = ticket, name, None
        if kind in STARTS and since is None:
            since = at
        elif kind in ENDS and since is not None:
            out.setdefault(device, []).append((since, at))
            since = None
    if since is not None:
        out.setdefault(device, []).append((since, as_of))
    return out


def _attached(
    session: Session, start: datetime, end: datetime, as_of: datetime
) -> dict[str, list[Span]]:
    """Per device, the spans it was attached as affected to a ``device_down`` ticket."""
    link = TicketDevice
    stmt = (
        select(link.device, link.attached_at, link.detached_at)
        .join(Ticket, Ticket.id == link.ticket_id)
        .where(
            Ticket.kind == DOWN,
            link.role == DeviceRole.AFFECTED,
            link.attached_at < end,
            or_(link.detached_at.is_(None), link.detached_at > start),
        )
    )
    out: dict[str, list[Span]] = {}
    for device, attached_at, detached_at in session.execute(stmt):
        out.setdefault(device, []).append((attached_at, detached_at or as_of))
    return out
