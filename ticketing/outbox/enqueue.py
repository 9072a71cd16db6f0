"""Writing outbox rows: with the ticket change that causes them (a flush hook), or queued apart.

:func:`install` hooks a store's engine: after every flush of a write session, each new
``TicketEvent`` is handed to the caller's :class:`~ticketing.outbox.types.Router`, and one
``notifications`` row per planned (person, address) is added to the *same* session, so the
rows commit or roll back with the ticket change that caused them. An ``attached`` event folds
into a message of the same ticket and address that is still waiting (not yet rendered): a
router dying with 100 devices behind it gives one message that lists them, not 101.

:class:`Enqueuer` queues the rows no ticket change causes: reminders of open tickets, messages
sent once per key (the monthly report) and test messages; each call is one transaction.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ticketing.models import Notification, Ticket, TicketEvent
from ticketing.outbox.types import REMINDER, EventFacts, Planned, Router
from ticketing.states import DeliveryStatus, TicketState

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime, timedelta

    from sqlalchemy import Engine

    from ticketing.store import TicketStore

# kind of a new event -> kinds of waiting messages it folds into (same ticket, same address)
FOLDS: Final[Mapping[str, frozenset[str]]] = {
    "attached": frozenset({"opened", "reopened", "attached"}),
}
_PENDING_EVENTS: Final = "sigap_outbox_events"

_ROUTERS: weakref.WeakKeyDictionary[Engine, Router] = weakref.WeakKeyDictionary()


def install(store: TicketStore, router: Router) -> None:
    """Write outbox rows for every new ticket event of ``store``'s write sessions.

    Installing again on the same store replaces the router.
    """
    _ROUTERS[store.engine] = router
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "after_flush_postexec", _enqueue)


def installed(store: TicketStore) -> Router | None:
    """The router :func:`install` put on ``store``, or None."""
    return _ROUTERS.get(store.engine)


def uninstall(store: TicketStore) -> None:
    """Stop writing outbox rows for ``store``."""
    _ROUTERS.pop(store.engine, None)


def _router_of(session: Session) -> Router | None:
    bind = session.bind
    return _ROUTERS.get(bind) if bind is not None else None  # type: ignore[arg-type]


def _collect(session: Session, _ctx: object) -> None:
    """after_flush: remember the events this flush inserted (their ids are known now)."""
    if _router_of(session) is None:
        return
    new = [obj for obj in session.new if isinstance(obj, TicketEvent)]
    if new:
        session.info.setdefault(_PENDING_EVENTS, []).extend(new)


def _enqueue(session: Session, _ctx: object) -> None:
    """after_flush_postexec: add the rows; the commit's own flush loop writes them."""
    events: list[TicketEvent] = session.info.pop(_PENDING_EVENTS, [])
    router = _router_of(session)
    if router is None or not events:
        return
    with session.no_autoflush:
        for ev in sorted(events, key=lambda e: e.id):
            ticket = session.get_one(Ticket, ev.ticket_id)
            facts = EventFacts(
                kind=ev.kind.value,
                at=ev.at,
                ticket_id=ticket.id,
                number=ticket.number,
                device=ticket.device,
                opd=ticket.opd,
                assignee=ticket.assignee,
                data=dict(ev.data or {}),
                event_id=ev.id,
                source=ticket.source,
                reporter=ticket.reporter,
                reporter_contact=ticket.reporter_contact,
            )
            for plan in router.plan(facts):
                if _folded(session, facts, plan):
                    continue
                session.add(new_row(f"ev:{ev.id}", facts, plan))


def new_row(key: str, facts: EventFacts, plan: Planned) -> Notification:
    """A pending row of ``plan`` for ``facts``; ``key`` starts its dedup key."""
    return Notification(
        dedup_key=f"{key}:{plan.recipient}:{plan.address_key}"[:160],
        ticket_id=facts.ticket_id,
        event_id=facts.event_id,
        kind=facts.kind,
        recipient=plan.recipient,
        channel=plan.channel,
        address_key=plan.address_key,
        urgent=plan.urgent,
        status=DeliveryStatus.PENDING,
        created_at=facts.at,
        due_at=plan.due_at,
        attempts=0,
        last_error="",
        data=dict(facts.data) or None,
    )


def _folded(session: Session, facts: EventFacts, plan: Planned) -> bool:
    """True when a waiting message of the same ticket and address will include this event."""
    into = FOLDS.get(facts.kind)
    if into is None:
        return False
    stmt = select(Notification.id).where(
        Notification.ticket_id == facts.ticket_id,
        Notification.address_key == plan.address_key,
        Notification.recipient == plan.recipient,
        Notification.status == DeliveryStatus.PENDING,
        Notification.body.is_(None),
        Notification.kind.in_(sorted(into)),
    )
    if session.execute(stmt.limit(1)).first() is not None:
        return True
    # rows added earlier in this same transaction are not in the database yet
    return any(
        isinstance(obj, Notification)
        and obj.ticket_id == facts.ticket_id
        and obj.address_key == plan.address_key
        and obj.recipient == plan.recipient
        and obj.kind in into
        for obj in session.new
    )


def insert_ignore(session: Session, row: Notification) -> int:
    """INSERT ... ON CONFLICT (dedup_key) DO NOTHING; return 1 if the row was written."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {
        c.key: getattr(row, c.key)
        for c in Notification.__table__.columns
        if c.key != "id" and getattr(row, c.key) is not None
    }
    stmt = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(Notification.id)
    )
    return len(session.execute(stmt).all())


class Enqueuer:
    """Queues rows no ticket change causes; the base of :class:`ticketing.outbox.Outbox`."""

    def __init__(self, store: TicketStore) -> None:
        """Work on ``store`` (its flush hook is :func:`install`, apart from this object)."""
        self._store = store

    def enqueue_test(self, plans: Iterable[Planned], *, at: datetime, tag: str) -> list[int]:
        """Queue a test message (no ticket) to each planned address; return the row ids."""
        rows = []
        for plan in plans:
            facts = EventFacts("test", at, 0, "", "", "", None, {})
            row = new_row(f"test:{tag}", facts, plan)
            row.ticket_id = None
            rows.append(row)
        with self._store.transaction() as session:
            session.add_all(rows)
            session.flush()
            return [r.id for r in rows]

    def enqueue_reminders(self, router: Router, *, now: datetime, interval: timedelta) -> int:
        """Queue a reminder per ``interval`` for every still-open ticket; return how many.

        Keys are deterministic (ticket, n-th interval, address) and inserted with ON CONFLICT
        DO NOTHING, so two workers never queue the same reminder twice; a reminder still
        waiting (e.g. in quiet hours) is not joined by a second one.
        """
        stmt = select(Ticket).where(
            Ticket.status == TicketState.OPEN, Ticket.opened_at <= now - interval
        )
        added = 0
        with self._store.transaction() as session:
            for ticket in session.scalars(stmt):
                nth = int((now - ticket.opened_at) / interval)
                facts = EventFacts(
                    REMINDER,
                    ticket.opened_at + nth * interval,
                    ticket.id,
                    ticket.number,
                    ticket.device,
                    ticket.opd,
                    ticket.assignee,
                    {"nth": nth},
                )
                for plan in router.plan(facts):
                    if _reminder_waiting(session, ticket.id, plan):
                        continue
                    key = f"rem:{ticket.id}:{ticket.reopen_count}:{nth}"
                    added += insert_ignore(session, new_row(key, facts, plan))
        return added

    def enqueue_once(
        self,
        kind: str,
        plans: Iterable[Planned],
        *,
        at: datetime,
        key: str,
        data: Mapping[str, Any],
    ) -> list[Planned]:
        """Queue a message without a ticket (e.g. the monthly report) once per ``key`` and address.

        ``data`` is what the template shows; the dedup key ``<kind>:<key>:<recipient>:<address>``
        makes a second call a no-op for addresses already queued. Returns the plans queued now.
        """
        added = []
        with self._store.transaction() as session:
            for plan in plans:
                facts = EventFacts(kind, at, 0, "", "", "", None, data)
                row = new_row(f"{kind}:{key}", facts, plan)
                row.ticket_id = None
                if insert_ignore(session, row):
                    added.append(plan)
        return added


def _reminder_waiting(session: Session, ticket_id: int, plan: Planned) -> bool:
    stmt = select(Notification.id).where(
        Notification.ticket_id == ticket_id,
        Notification.kind == REMINDER,
        Notification.address_key == plan.address_key,
        Notification.recipient == plan.recipient,
        Notification.status == DeliveryStatus.PENDING,
    )
    return session.execute(stmt.limit(1)).first() is not None
