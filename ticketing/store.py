"""TicketStore: one ticket per fault, hold-down, reopen window, attached devices, audit trail.

Lifecycle of a fault key, with ``hold_down=60s`` and ``reopen_window=30min``::

    10:00 open_fault    -> GJ/2026/0001 OPEN         (outcome OPENED)
    10:01 open_fault    -> same ticket, unchanged     (EXISTING)
    10:05 clear_fault   -> RECOVERING                 (event cleared)
    10:05:30 open_fault -> OPEN again                 (RECURRED, event recurred)
    10:06 clear_fault   -> RECOVERING
    10:07 resolve_due   -> RESOLVED                   (hold-down passed; devices detached)
    10:20 open_fault    -> GJ/2026/0001 OPEN, reopen_count 1 (REOPENED)
    later than 30 minutes after resolution -> GJ/2026/0002 (OPENED)

Every method is one transaction, takes its time from the caller and returns frozen views.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import URL, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ticketing import lifecycle
from ticketing.db import READ_ONLY_OPTION, abort_connection, make_engine
from ticketing.errors import (
    ConcurrentUpdateError,
    StoreAbortedError,
    TicketingError,
    TicketNotFoundError,
)
from ticketing.models import Ticket, TicketCounter, TicketEvent
from ticketing.states import ACTIVE_STATES, TicketState
from ticketing.views import (
    AffectedView,
    EventView,
    FeedItem,
    OpenOutcome,
    OpenResult,
    TicketView,
    event_view,
    ticket_view,
)

if TYPE_CHECKING:
    import builtins
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from sqlalchemy import Engine

    from ticketing.faults import Fault

__all__ = [
    "AffectedView",
    "EventView",
    "FeedItem",
    "OpenOutcome",
    "OpenResult",
    "TicketStore",
    "TicketView",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _aware(value: datetime, name: str) -> datetime:
    """Return ``value`` or raise ValueError when it carries no time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}={value.isoformat()} is naive; pass a tz-aware datetime")
    return value


class TicketStore:
    """Tickets in SQLite (default) or PostgreSQL; safe for several processes on one database."""

    def __init__(
        self,
        url: str,
        *,
        number_prefix: str = "GJ",
        hold_down: timedelta = timedelta(seconds=60),
        reopen_window: timedelta = timedelta(minutes=30),
        tz: str = "Asia/Makassar",
        echo: bool = False,
    ) -> None:
        """Connect lazily to ``url``; call :meth:`migrate` before first use."""
        self._engine = make_engine(url, echo=echo)
        self._read_engine = self._engine.execution_options(**{READ_ONLY_OPTION: True})
        self._live: weakref.WeakSet[Any] = weakref.WeakSet()  # psycopg connections, for abort
        self._aborted = False
        if self._engine.dialect.name == "postgresql":
            event.listen(self._engine, "do_connect", self._connecting)
            event.listen(self._engine, "connect", self._opened)
        self._prefix = number_prefix
        self._hold_down = hold_down
        self._reopen_window = reopen_window
        self._tz = ZoneInfo(tz)

    @classmethod
    def sqlite_url(cls, path: Path) -> str:
        """Return the SQLAlchemy URL of a SQLite file."""
        return URL.create("sqlite", database=str(path)).render_as_string()

    def __enter__(self) -> Self:
        """Use the store as a context manager that closes it."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close the store."""
        self.close()

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    def _connecting(self, *_args: object) -> None:
        if self._aborted:  # a call the abort failed would reconnect to the dead server
            raise StoreAbortedError(self._engine.url.render_as_string(hide_password=True))

    def _opened(self, dbapi_connection: Any, _record: object) -> None:
        self._live.add(dbapi_connection)

    def abort(self) -> int:
        """Make every call blocked on PostgreSQL fail now and later ones at once; return count.

        For shutting down when the server stopped answering (see
        :func:`~ticketing.db.abort_connection`): open connections are left broken, and no new
        one is made (:class:`StoreAbortedError`), so no thread waits on the server again.
        """
        self._aborted = True
        return sum(abort_connection(conn) for conn in list(self._live))

    # -- transactions --------------------------------------------------------------------

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Session]:
        """Run one transaction; committed on success, rolled back on any exception."""
        engine = self._engine if write else self._read_engine
        with Session(engine, expire_on_commit=False, autoflush=True) as session:
            try:
                with session.begin():
                    yield session
            except StaleDataError as exc:
                raise ConcurrentUpdateError(str(exc)) from exc

    def transaction(self, *, write: bool = True) -> contextlib.AbstractContextManager[Session]:
        """One transaction for ticketing's own service layer (ORM rows stay in ticketing)."""
        return self._tx(write=write)

    def next_number(self, session: Session, at: datetime) -> str:
        """Allocate the next ticket number inside ``session`` (see ``_next_number``)."""
        return self._next_number(session, at)

    @property
    def engine(self) -> Engine:
        """The write engine (``ticketing.outbox`` keys its flush hook on it)."""
        return self._engine

    @property
    def zone(self) -> ZoneInfo:
        """The office time zone used for ticket numbers."""
        return self._tz

    def _retry_on_conflict(self, what: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt``; if a unique index says another writer won, run it once more."""
        try:
            return attempt()
        except IntegrityError:
            logger.info("%s raced with another writer; reading its result", what)
        try:
            return attempt()
        except IntegrityError as exc:
            raise TicketingError(f"{what}: conflicting writes, giving up") from exc

    # -- queries ---------------------------------------------------------------------------

    @staticmethod
    def _by_number(session: Session, number: str) -> Ticket:
        """Return the ticket with this number or raise TicketNotFoundError."""
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None:
            raise TicketNotFoundError(number)
        return ticket

    def _next_number(self, session: Session, at: datetime) -> str:
        """Allocate the next number of the local year (row-locked upsert on the counter)."""
        year = at.astimezone(self._tz).year
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(TicketCounter)
            .values(prefix=self._prefix, year=year, last=1)
            .on_conflict_do_update(
                index_elements=[TicketCounter.prefix, TicketCounter.year],
                set_={"last": TicketCounter.last + 1},
            )
            .returning(TicketCounter.last)
        )
        serial = session.execute(stmt).scalar_one()
        return f"{self._prefix}/{year}/{serial:04d}"

    # -- open / clear / resolve ------------------------------------------------------------

    def open_fault(self, fault: Fault, *, at: datetime) -> OpenResult:
        """Open, recur, reopen or find the ticket of ``fault`` (race-safe across processes)."""
        _aware(at, "at")
        return self._retry_on_conflict(f"open {fault.key}", lambda: self._open_once(fault, at))

    def _open_once(self, fault: Fault, at: datetime) -> OpenResult:
        with self._tx() as session:
            latest = lifecycle.latest_for_key(session, fault.key)
            outcome = (
                lifecycle.revive(session, latest, at, reopen_window=self._reopen_window)
                if latest is not None
                else None
            )
            if latest is None or outcome is None:
                number = self._next_number(session, at)
                latest = lifecycle.create(session, fault, at, number=number)
                outcome = OpenOutcome.OPENED
            session.flush()
            return OpenResult(ticket_view(latest), outcome)

    def clear_fault(self, key: str, *, at: datetime) -> TicketView | None:
        """Mark the fault cleared (OPEN -> RECOVERING); None if the key has no active ticket."""
        _aware(at, "at")
        with self._tx() as session:
            ticket = lifecycle.active_for_key(session, key)
            if ticket is None:
                return None
            lifecycle.clear(session, ticket, at, hold_down=self._hold_down)
            session.flush()
            return ticket_view(ticket)

    def resolve_due(self, *, now: datetime) -> list[TicketView]:
        """Resolve every RECOVERING ticket whose hold-down has passed; return them."""
        _aware(now, "now")
        with self._tx() as session:
            stmt = (
                select(Ticket)
                .where(
                    Ticket.status == TicketState.RECOVERING,
                    Ticket.cleared_at <= now - self._hold_down,
                )
                .order_by(Ticket.id)
                .with_for_update(skip_locked=True)
            )
            tickets = list(session.scalars(stmt))
            for ticket in tickets:
                lifecycle.resolve(session, ticket, now, hold_down=self._hold_down)
            session.flush()
            return [ticket_view(t) for t in tickets]

    # -- affected devices ------------------------------------------------------------------

    def attach(self, key: str, device: str, *, at: datetime) -> TicketView | None:
        """Attach an unreachable device to the active ticket of ``key`` (idempotent).

        A device already attached to another ticket is moved. Returns None if ``key`` has
        no active ticket.
        """
        _aware(at, "at")
        return self._retry_on_conflict(
            f"attach {device} to {key}", lambda: self._attach_once(key, device, at)
        )

    def _attach_once(self, key: str, device: str, at: datetime) -> TicketView | None:
        with self._tx() as session:
            ticket = lifecycle.active_for_key(session, key)
            if ticket is None:
                return None
            lifecycle.attach(session, ticket, device, at)
            session.flush()
            return ticket_view(ticket)

    def detach(self, device: str, *, at: datetime) -> TicketView | None:
        """Detach a device from the ticket it is attached to; None if it is attached nowhere."""
        _aware(at, "at")
        with self._tx() as session:
            link = lifecycle.attachment(session, device)
            if link is None:
                return None
            ticket = lifecycle.detach_link(session, link, at)
            logger.info("ticket %s: %s detached", ticket.number, device)
            session.flush()
            return ticket_view(ticket)

    # -- reads -----------------------------------------------------------------------------

    def active(self) -> list[TicketView]:
        """Return open and recovering tickets, oldest first (the daemon's state at restart)."""
        with self._tx(write=False) as session:
            stmt = select(Ticket).where(Ticket.status.in_(ACTIVE_STATES)).order_by(Ticket.id)
            return [ticket_view(t) for t in session.scalars(stmt)]

    def list(
        self, *, status: Sequence[TicketState] | None = None, limit: int = 100
    ) -> builtins.list[TicketView]:
        """Return tickets newest first, optionally only those in ``status``."""
        with self._tx(write=False) as session:
            stmt = select(Ticket).order_by(Ticket.opened_at.desc(), Ticket.id.desc()).limit(limit)
            if status is not None:
                stmt = stmt.where(Ticket.status.in_(list(status)))
            return [ticket_view(t) for t in session.scalars(stmt)]

    def get(self, number: str) -> TicketView:
        """Return one ticket by number; raise TicketNotFoundError."""
        with self._tx(write=False) as session:
            return ticket_view(self._by_number(session, number))

    def events(self, number: str) -> builtins.list[EventView]:
        """Return a ticket's event log in the order it was written."""
        with self._tx(write=False) as session:
            ticket = self._by_number(session, number)
            stmt = (
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.id)
            )
            return [event_view(e) for e in session.scalars(stmt)]

    def feed(self, *, after_id: int = 0, limit: int = 500) -> builtins.list[FeedItem]:
        """Return events of every ticket written after event ``after_id``, oldest first."""
        with self._tx(write=False) as session:
            stmt = (
                select(TicketEvent, Ticket.number, Ticket.device)
                .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                .where(TicketEvent.id > after_id)
                .order_by(TicketEvent.id)
                .limit(limit)
            )
            return [
                FeedItem(e.id, number, device, e.at, e.kind, e.actor, e.detail, e.data)
                for e, number, device in session.execute(stmt).all()
            ]
