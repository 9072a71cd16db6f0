"""What devices said (traps, syslog lines), kept per device for a bounded time (issue 20).

Written in batches by the daemon's event receivers (one transaction per batch), read by
``sigap log`` and the ticket context (``tiket show``, the ticket page), pruned by age.
Searching is a case-insensitive substring (``LIKE`` with the wildcards escaped), never a
pattern the user writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import delete, insert, inspect, select

from ticketing.models import DeviceMessage, Ticket, TicketEvent
from ticketing.states import EventKind, TicketState

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta

    from sqlalchemy.orm import Session

    from ticketing.store import TicketStore
    from ticketing.views import TicketView

SYSTEM: Final = "sistem"
MAX_TEXT: Final = 4096
MAX_ROWS: Final = 1000  # a read returns at most this many (newest first)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One stored message."""

    device: str
    at: datetime
    channel: str  # "syslog" or "trap"
    source: str
    text: str
    severity: int | None = None
    app: str = ""
    rule: str = ""


def write(store: TicketStore, lines: Sequence[LogLine]) -> int:
    """Store ``lines`` in one transaction; return how many."""
    if not lines:
        return 0
    rows = [
        {
            "device": line.device[:128],
            "at": line.at,
            "channel": line.channel[:8],
            "source": line.source[:64],
            "severity": line.severity,
            "app": line.app[:64],
            "text": line.text[:MAX_TEXT],
            "rule": line.rule[:48],
        }
        for line in lines
    ]
    with store.transaction() as session:
        session.execute(insert(DeviceMessage), rows)  # one executemany, no ORM unit of work
    return len(lines)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def read(
    store: TicketStore,
    device: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str = "",
    limit: int = MAX_ROWS,
) -> list[LogLine]:
    """The device's messages in ``[since, until]`` containing ``search``, oldest first."""
    t = DeviceMessage
    stmt = select(t).where(t.device == device)
    if since is not None:
        stmt = stmt.where(t.at >= since)
    if until is not None:
        stmt = stmt.where(t.at <= until)
    if search:
        stmt = stmt.where(t.text.ilike(f"%{_escape(search)}%", escape="\\"))
    stmt = stmt.order_by(t.at.desc(), t.id.desc()).limit(max(1, min(limit, MAX_ROWS)))
    with store.transaction(write=False) as session:
        if not _migrated(session):
            return []
        rows = list(session.scalars(stmt))
    return [_line(row) for row in reversed(rows)]


def prune(store: TicketStore, before: datetime) -> int:
    """Delete messages received before ``before``; return how many."""
    with store.transaction() as session:
        result = session.execute(delete(DeviceMessage).where(DeviceMessage.at < before))
    return int(getattr(result, "rowcount", 0) or 0)


def _line(row: DeviceMessage) -> LogLine:
    return LogLine(
        row.device, row.at, row.channel, row.source, row.text, row.severity, row.app, row.rule
    )


def _migrated(session: Session) -> bool:
    """False on a database older than 0012 (a read-only command never migrates)."""
    return inspect(session.connection()).has_table(DeviceMessage.__tablename__)


def attach_note(store: TicketStore, device: str, at: datetime, detail: str) -> list[str]:
    """Add ``detail`` as a note event to the device's open tickets; return their numbers."""
    stmt = select(Ticket).where(
        Ticket.device == device,
        Ticket.status.in_((TicketState.OPEN, TicketState.RECOVERING)),
    )
    with store.transaction() as session:
        tickets = list(session.scalars(stmt))
        for ticket in tickets:
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=at,
                    kind=EventKind.NOTE,
                    actor=SYSTEM,
                    detail=detail[:MAX_TEXT],
                    data={"source": "device_event"},
                )
            )
        return [t.number for t in tickets]


def context(
    store: TicketStore, ticket: TicketView, before: timedelta, *, now: datetime
) -> list[LogLine]:
    """The device's messages from ``before`` ahead of the fault until it cleared (or now)."""
    end = ticket.cleared_at or ticket.resolved_at or now
    return read(store, ticket.device, since=ticket.opened_at - before, until=end)
