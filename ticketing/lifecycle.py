"""The row changes of a fault ticket's life, made inside the transactions of ``TicketStore``.

The store opens each transaction, retries a lost race, allocates numbers and holds the
timings (hold-down, reopen window); the functions here change the rows: a state transition
with its event (``ticketing.states.TRANSITIONS``), bringing the latest ticket of a fault key
back (recurred, reopened), creating one, resolving one, and the links of affected devices
(attach, move, detach). Each change writes its event to the ticket's log.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from ticketing.errors import InvalidTransitionError
from ticketing.event_log import add_event
from ticketing.models import DeviceRole, Ticket, TicketDevice
from ticketing.states import ACTIVE_STATES, TRANSITIONS, EventKind, TicketState
from ticketing.views import OpenOutcome

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from sqlalchemy.orm import Session

    from ticketing.faults import Fault

logger = logging.getLogger(__name__)


def transition(
    session: Session, ticket: Ticket, to: TicketState, event: tuple[EventKind, str], at: datetime
) -> None:
    """Move ``ticket`` to ``to`` if TRANSITIONS allows it, and log ``event``."""
    if to not in TRANSITIONS[ticket.status]:
        raise InvalidTransitionError(ticket.number, ticket.status.value, to.value)
    kind, detail = event
    add_event(session, ticket, kind, at, detail, **{"from": ticket.status.value, "to": to.value})
    ticket.status = to


# -- open / clear / resolve ------------------------------------------------------------------


def latest_for_key(session: Session, key: str) -> Ticket | None:
    """The newest ticket of a fault key, whatever its state, locked for update."""
    stmt = (
        select(Ticket)
        .where(Ticket.fault_key == key)
        .order_by(Ticket.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.scalars(stmt).first()


def active_for_key(session: Session, key: str) -> Ticket | None:
    """The active ticket of a fault key, locked for update."""
    stmt = (
        select(Ticket)
        .where(Ticket.fault_key == key, Ticket.status.in_(ACTIVE_STATES))
        .with_for_update()
    )
    return session.scalars(stmt).first()


def revive(
    session: Session, ticket: Ticket, at: datetime, *, reopen_window: timedelta
) -> OpenOutcome | None:
    """Bring the latest ticket of a key back if the rules say so; None means a new one."""
    if ticket.status is TicketState.OPEN:
        return OpenOutcome.EXISTING
    if ticket.status is TicketState.RECOVERING:
        detail = "Gangguan muncul lagi selama masa tahan; tiket tetap terbuka"
        transition(session, ticket, TicketState.OPEN, (EventKind.RECURRED, detail), at)
        ticket.cleared_at = None
        logger.warning(
            "ticket %s: fault %s recurred during hold-down", ticket.number, ticket.fault_key
        )
        return OpenOutcome.RECURRED
    if ticket.resolved_at is None or at - ticket.resolved_at > reopen_window:
        return None
    ticket.reopen_count += 1
    detail = f"Gangguan terjadi lagi; tiket dibuka kembali (ke-{ticket.reopen_count})"
    transition(session, ticket, TicketState.OPEN, (EventKind.REOPENED, detail), at)
    ticket.cleared_at = None
    ticket.resolved_at = None
    ticket.devices.append(TicketDevice(device=ticket.device, role=DeviceRole.ROOT, attached_at=at))
    logger.warning("ticket %s reopened for %s", ticket.number, ticket.fault_key)
    return OpenOutcome.REOPENED


def create(session: Session, fault: Fault, at: datetime, *, number: str) -> Ticket:
    """Insert a new OPEN ticket ``number`` for ``fault`` with its root device and OPENED event."""
    ticket = Ticket(
        number=number,
        fault_key=fault.key,
        device=fault.device,
        kind=fault.kind.value,
        opd=fault.opd,
        summary=fault.summary,
        status=TicketState.OPEN,
        source="agent",
        opened_at=at,
        reopen_count=0,
        devices=[TicketDevice(device=fault.device, role=DeviceRole.ROOT, attached_at=at)],
    )
    session.add(ticket)
    session.flush()  # the partial unique index speaks here if another writer won
    data = {"device": fault.device, "kind": fault.kind.value, "address": fault.address}
    add_event(session, ticket, EventKind.OPENED, at, f"Tiket dibuka: {fault.summary}", **data)
    logger.warning("ticket %s opened for %s", ticket.number, fault.key)
    return ticket


def clear(session: Session, ticket: Ticket, at: datetime, *, hold_down: timedelta) -> None:
    """An OPEN ticket's fault cleared: RECOVERING while the hold-down runs (else unchanged)."""
    if ticket.status is not TicketState.OPEN:
        return
    detail = f"Gangguan pulih; menunggu masa tahan {hold_down}"
    transition(session, ticket, TicketState.RECOVERING, (EventKind.CLEARED, detail), at)
    ticket.cleared_at = at
    logger.info("ticket %s: fault %s cleared, hold-down runs", ticket.number, ticket.fault_key)


def resolve(session: Session, ticket: Ticket, now: datetime, *, hold_down: timedelta) -> None:
    """A RECOVERING ticket stayed good for the hold-down: RESOLVED, every device detached."""
    detail = f"Selesai otomatis: perangkat normal selama {hold_down}"
    transition(session, ticket, TicketState.RESOLVED, (EventKind.RESOLVED, detail), now)
    ticket.resolved_at = now
    _detach_all(session, ticket, now)
    logger.info("ticket %s resolved", ticket.number)


def _detach_all(session: Session, ticket: Ticket, at: datetime) -> None:
    """Detach every device still linked to a ticket that is being resolved."""
    for link in ticket.devices:
        if link.detached_at is not None:
            continue
        link.detached_at = at
        if link.role is DeviceRole.AFFECTED:
            detail = f"Perangkat {link.device} dilepas: tiket selesai"
            add_event(session, ticket, EventKind.DETACHED, at, detail, device=link.device)


# -- affected devices ------------------------------------------------------------------------


def attachment(session: Session, device: str) -> TicketDevice | None:
    """The current 'affected' link of a device, locked for update."""
    stmt = (
        select(TicketDevice)
        .where(
            TicketDevice.device == device,
            TicketDevice.role == DeviceRole.AFFECTED,
            TicketDevice.detached_at.is_(None),
        )
        .with_for_update()
    )
    return session.scalars(stmt).first()


def attach(session: Session, ticket: Ticket, device: str, at: datetime) -> None:
    """Link ``device`` to ``ticket`` as affected, moving it from another ticket (idempotent)."""
    current = attachment(session, device)
    if device == ticket.device or (current is not None and current.ticket_id == ticket.id):
        return
    if current is not None:
        detach_link(session, current, at, moved_to=ticket.number)
        session.flush()  # free the unique "attached" slot before the insert
    ticket.devices.append(TicketDevice(device=device, role=DeviceRole.AFFECTED, attached_at=at))
    detail = f"Perangkat {device} terdampak (di belakang {ticket.device})"
    add_event(session, ticket, EventKind.ATTACHED, at, detail, device=device)
    logger.info("ticket %s: %s attached", ticket.number, device)


def detach_link(
    session: Session, link: TicketDevice, at: datetime, *, moved_to: str | None = None
) -> Ticket:
    """Close one 'affected' link and log it on its ticket; return that ticket."""
    link.detached_at = at
    ticket = session.get_one(Ticket, link.ticket_id)
    detail = f"Perangkat {link.device} dilepas"
    if moved_to is not None:
        detail += f" (dipindah ke tiket {moved_to})"
    add_event(
        session, ticket, EventKind.DETACHED, at, detail, device=link.device, moved_to=moved_to
    )
    return ticket
