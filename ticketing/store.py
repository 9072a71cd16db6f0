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
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Self, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import URL, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ticketing.db import READ_ONLY_OPTION, make_engine, upgrade_head
from ticketing.errors import (
    ConcurrentUpdateError,
    InvalidTransitionError,
    TicketingError,
    TicketNotFoundError,
)
from ticketing.models import DeviceRole, Ticket, TicketCounter, TicketDevice, TicketEvent
from ticketing.states import ACTIVE_STATES, TRANSITIONS, EventKind, TicketState
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

SYSTEM_ACTOR: Final = "sistem"
T = TypeVar("T")


def _aware(value: datetime, name: str) -> datetime:
    """Return ``value`` or raise ValueError when it carries no time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}={value.isoformat()} is naive; pass a tz-aware datetime")
    return value


def _event(
    session: Session,
    ticket: Ticket,
    kind: EventKind,
    at: datetime,
    detail: str,
    *,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one row to the ticket's event log (rows are never updated or deleted)."""
    session.add(
        TicketEvent(
            ticket_id=ticket.id, at=at, kind=kind, actor=SYSTEM_ACTOR, detail=detail, data=data
        )
    )


def _transition(
    session: Session, ticket: Ticket, to: TicketState, event: tuple[EventKind, str], at: datetime
) -> None:
    """Move ``ticket`` to ``to`` if TRANSITIONS allows it, and log ``event``."""
    if to not in TRANSITIONS[ticket.status]:
        raise InvalidTransitionError(ticket.number, ticket.status.value, to.value)
    kind, detail = event
    _event(session, ticket, kind, at, detail, data={"from": ticket.status.value, "to": to.value})
    ticket.status = to


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

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision (idempotent; call at every start)."""
        upgrade_head(self._engine)

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

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
    def _active_for_key(session: Session, key: str) -> Ticket | None:
        """Return the active ticket of a fault key, locked for update."""
        stmt = (
            select(Ticket)
            .where(Ticket.fault_key == key, Ticket.status.in_(ACTIVE_STATES))
            .with_for_update()
        )
        return session.scalars(stmt).first()

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
            stmt = (
                select(Ticket)
                .where(Ticket.fault_key == fault.key)
                .order_by(Ticket.id.desc())
                .limit(1)
                .with_for_update()
            )
            latest = session.scalars(stmt).first()
            outcome = self._revive(session, latest, at) if latest is not None else None
            if latest is None or outcome is None:
                latest = self._create(session, fault, at)
                outcome = OpenOutcome.OPENED
            session.flush()
            return OpenResult(ticket_view(latest), outcome)

    def _revive(self, session: Session, ticket: Ticket, at: datetime) -> OpenOutcome | None:
        """Bring the latest ticket of a key back if the rules say so; None means a new one."""
        if ticket.status is TicketState.OPEN:
            return OpenOutcome.EXISTING
        if ticket.status is TicketState.RECOVERING:
            detail = "Gangguan muncul lagi selama masa tahan; tiket tetap terbuka"
            _transition(session, ticket, TicketState.OPEN, (EventKind.RECURRED, detail), at)
            ticket.cleared_at = None
            logger.warning(
                "ticket %s: fault %s recurred during hold-down", ticket.number, ticket.fault_key
            )
            return OpenOutcome.RECURRED
        if ticket.resolved_at is None or at - ticket.resolved_at > self._reopen_window:
            return None
        ticket.reopen_count += 1
        detail = f"Gangguan terjadi lagi; tiket dibuka kembali (ke-{ticket.reopen_count})"
        _transition(session, ticket, TicketState.OPEN, (EventKind.REOPENED, detail), at)
        ticket.cleared_at = None
        ticket.resolved_at = None
        ticket.devices.append(
            TicketDevice(device=ticket.device, role=DeviceRole.ROOT, attached_at=at)
        )
        logger.warning("ticket %s reopened for %s", ticket.number, ticket.fault_key)
        return OpenOutcome.REOPENED

    def _create(self, session: Session, fault: Fault, at: datetime) -> Ticket:
        """Insert a new OPEN ticket for ``fault`` with its root device and OPENED event."""
        ticket = Ticket(
            number=self._next_number(session, at),
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
        _event(session, ticket, EventKind.OPENED, at, f"Tiket dibuka: {fault.summary}", data=data)
        logger.warning("ticket %s opened for %s", ticket.number, fault.key)
        return ticket

    def clear_fault(self, key: str, *, at: datetime) -> TicketView | None:
        """Mark the fault cleared (OPEN -> RECOVERING); None if the key has no active ticket."""
        _aware(at, "at")
        with self._tx() as session:
            ticket = self._active_for_key(session, key)
            if ticket is None:
                return None
            if ticket.status is TicketState.OPEN:
                detail = f"Gangguan pulih; menunggu masa tahan {self._hold_down}"
                _transition(
                    session, ticket, TicketState.RECOVERING, (EventKind.CLEARED, detail), at
                )
                ticket.cleared_at = at
                logger.info("ticket %s: fault %s cleared, hold-down runs", ticket.number, key)
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
                detail = f"Selesai otomatis: perangkat normal selama {self._hold_down}"
                _transition(
                    session, ticket, TicketState.RESOLVED, (EventKind.RESOLVED, detail), now
                )
                ticket.resolved_at = now
                self._detach_all(session, ticket, now)
                logger.info("ticket %s resolved", ticket.number)
            session.flush()
            return [ticket_view(t) for t in tickets]

    @staticmethod
    def _detach_all(session: Session, ticket: Ticket, at: datetime) -> None:
        """Detach every device still linked to a ticket that is being resolved."""
        for link in ticket.devices:
            if link.detached_at is not None:
                continue
            link.detached_at = at
            if link.role is DeviceRole.AFFECTED:
                detail = f"Perangkat {link.device} dilepas: tiket selesai"
                _event(
                    session, ticket, EventKind.DETACHED, at, detail, data={"device": link.device}
                )

    # -- affected devices ------------------------------------------------------------------

    @staticmethod
    def _attachment(session: Session, device: str) -> TicketDevice | None:
        """Return the current 'affected' link of a device, locked for update."""
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
            ticket = self._active_for_key(session, key)
            if ticket is None:
                return None
            current = self._attachment(session, device)
            if device != ticket.device and (current is None or current.ticket_id != ticket.id):
                if current is not None:
                    self._detach_link(session, current, at, moved_to=ticket.number)
                    session.flush()  # free the unique "attached" slot before the insert
                ticket.devices.append(
                    TicketDevice(device=device, role=DeviceRole.AFFECTED, attached_at=at)
                )
                detail = f"Perangkat {device} terdampak (di belakang {ticket.device})"
                _event(session, ticket, EventKind.ATTACHED, at, detail, data={"device": device})
                logger.info("ticket %s: %s attached", ticket.number, device)
            session.flush()
            return ticket_view(ticket)

    @staticmethod
    def _detach_link(
        session: Session, link: TicketDevice, at: datetime, *, moved_to: str | None = None
    ) -> Ticket:
        """Close one 'affected' link and log it on its ticket; return that ticket."""
        link.detached_at = at
        ticket = session.get_one(Ticket, link.ticket_id)
        detail = f"Perangkat {link.device} dilepas"
        if moved_to is not None:
            detail += f" (dipindah ke tiket {moved_to})"
        data = {"device": link.device, "moved_to": moved_to}
        _event(session, ticket, EventKind.DETACHED, at, detail, data=data)
        return ticket

    def detach(self, device: str, *, at: datetime) -> TicketView | None:
        """Detach a device from the ticket it is attached to; None if it is attached nowhere."""
        _aware(at, "at")
        with self._tx() as session:
            link = self._attachment(session, device)
            if link is None:
                return None
            ticket = self._detach_link(session, link, at)
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
