"""Configuration changes on tickets (issue 22): a ``konfigurasi berubah`` note with the diff.

The event is a ``note`` whose data says ``jenis: konfigurasi_berubah`` and carries the commit,
the trigger and the (redacted, size-capped) diff, so the log, the board and the outbox read
it like any other note; no new event kind, no migration. It goes to the device's newest
active ticket; without one, to a low-priority ``config_changed`` ticket of the device (one
open at a time: later changes join it, which is the rate limit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from ticketing.event_log import add_event
from ticketing.faults import Fault, FaultKind
from ticketing.models import Ticket
from ticketing.states import ACTIVE_STATES, EventKind

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from ticketing.store import TicketStore

CHANGED: Final = "konfigurasi_berubah"


def note_change(
    store: TicketStore,
    device: str,
    *,
    at: datetime,
    detail: str,
    data: Mapping[str, Any],
    opd: str = "",
    prefer: str | None = None,
) -> tuple[str, bool]:
    """Write the change on the device's active ticket; return (number, opened a new one).

    ``prefer``: the ticket whose opening or remediation run took this backup, when it is
    still active and of this device; else the device's newest active ticket.
    """
    opened = False
    number = _active(store, device, prefer)
    if number is None:
        fault = Fault(device, FaultKind.CONFIG_CHANGED, f"konfigurasi {device} berubah", opd=opd)
        number = store.open_fault(fault, at=at).ticket.number
        opened = True
    with store.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
        add_event(session, ticket, EventKind.NOTE, at, detail, jenis=CHANGED, **dict(data))
    return number, opened


def _active(store: TicketStore, device: str, prefer: str | None) -> str | None:
    with store.transaction(write=False) as session:
        stmt = (
            select(Ticket.number)
            .where(Ticket.device == device, Ticket.status.in_(list(ACTIVE_STATES)))
            .order_by(Ticket.id.desc())
        )
        numbers = list(session.scalars(stmt))
    return prefer if prefer in numbers else (numbers[0] if numbers else None)
