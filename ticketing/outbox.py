"""Durable notification outbox: rows written with the ticket change, claimed, sent, recorded.

Enqueue. :func:`install` hooks a store's engine: after every flush of a write session, each
new ``TicketEvent`` is handed to the caller's :class:`Router`, and one ``notifications`` row
per planned (person, address) is added to the *same* session, so the rows commit or roll back
with the ticket change that caused them. An ``attached`` event folds into a message of the
same ticket and address that is still waiting (not yet rendered): a router dying with 100
devices behind it gives one message that lists them, not 101.

Delivery is **at-least-once with a dedup key**. :func:`claim` leases due rows (``lease``),
counts the attempt and freezes the rendered text in one transaction; the worker sends and
then :func:`mark` records the result. A process killed between the send and the mark leaves a
leased row that is sent again, with the same text and the same ``Ref: sigap-<id>``, when the
lease expires (or at once when the worker finds its previous process dead): a receiver sees
that one message twice at most and may drop the copy by its ref. Nothing else is ever re-sent,
and nothing is lost: rows stay until sent, or until :class:`RetryPolicy` gives up (``failed``,
still listed by ``sigap notifikasi antrian``).

Order per address: a row that has failed (and waits for its retry) or is being sent holds back
later rows to the same address, so "pulih" never overtakes "dibuka"; rows merely scheduled
for later (group window, quiet hours) hold back nothing.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ticketing.models import (
    DeliveryStatus,
    DeviceRole,
    Notification,
    Ticket,
    TicketEvent,
    TicketStep,
)
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from sqlalchemy import Engine

    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

REMINDER: Final = "reminder"
# kind of a new event -> kinds of waiting messages it folds into (same ticket, same address)
FOLDS: Final[Mapping[str, frozenset[str]]] = {
    "attached": frozenset({"opened", "reopened", "attached"}),
}
SCAN_LIMIT: Final = 500
_PENDING_EVENTS: Final = "sigap_outbox_events"


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What the router needs to know about a ticket event (or a reminder, ``event_id=None``)."""

    kind: str
    at: datetime
    ticket_id: int
    number: str
    device: str
    opd: str
    assignee: str | None
    data: Mapping[str, Any]
    event_id: int | None = None
    source: str = ""  # the ticket's: agent, surat, email, wa
    reporter: str = ""  # complaints: who reported, and their address or number
    reporter_contact: str = ""


@dataclass(frozen=True, slots=True)
class Planned:
    """One message the router wants sent: to one address of one person, not before ``due_at``."""

    recipient: str
    channel: str
    address_key: str
    due_at: datetime
    urgent: bool = False


class Router(Protocol):
    """Decides who hears about an event, on which addresses, and when (quiet hours, window)."""

    def plan(self, facts: EventFacts) -> Sequence[Planned]:
        """Return the messages to enqueue for ``facts`` (empty: nobody)."""
        ...


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Everything a template may show, read in the claim transaction."""

    ref: str
    kind: str
    recipient: str
    channel: str
    at: datetime  # when the causing event happened (or the reminder was due)
    number: str | None = None
    device: str = ""
    opd: str = ""
    summary: str = ""
    status: str = ""
    source: str = ""
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    affected: tuple[str, ...] = ()
    assignee: str | None = None
    remediation: str | None = None
    step_label: str | None = None
    step_role: str | None = None
    step_due: datetime | None = None
    sop: str | None = None
    detail: str = ""
    data: Mapping[str, Any] | None = None
    reporter: str = ""  # complaints: who reported (the name, not the contact)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message's frozen text."""

    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed row: send ``title``/``body`` to the address, then :func:`mark` the result."""

    id: int
    ref: str
    kind: str
    recipient: str
    channel: str
    address_key: str
    attempt: int
    title: str
    body: str
    ticket: str | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff between attempts; give up (``failed``) when a row is this old."""

    initial: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    maximum: timedelta = timedelta(minutes=30)
    give_up_after: timedelta = timedelta(days=3)

    def delay(self, attempt: int) -> timedelta:
        """Wait after failed attempt number ``attempt`` (1-based): initial * factor^(n-1)."""
        seconds = self.initial.total_seconds() * self.factor ** max(attempt - 1, 0)
        return min(timedelta(seconds=seconds), self.maximum)


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One row as ``sigap notifikasi antrian`` shows it."""

    id: int
    ref: str
    kind: str
    ticket: str | None
    recipient: str
    channel: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    leased: bool
    last_error: str


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    """Rows per status of one channel (for ``sigap_notifications_*`` metrics)."""

    sent: int = 0
    failed: int = 0
    pending: int = 0


def ref_of(row_id: int) -> str:
    """The dedup reference a message carries and a receiver may key on."""
    return f"sigap-{row_id}"


# ---------------------------------------------------------------- enqueue (flush hook)

_ROUTERS: weakref.WeakKeyDictionary[Engine, Router] = weakref.WeakKeyDictionary()


def install(store: TicketStore, router: Router) -> None:
    """Write outbox rows for every new ticket event of ``store``'s write sessions.

    Installing again on the same store replaces the router.
    """
    _ROUTERS[store.engine] = router
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "after_flush_postexec", _enqueue)


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
                session.add(_row(f"ev:{ev.id}", facts, plan))


def _row(key: str, facts: EventFacts, plan: Planned) -> Notification:
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


def enqueue_test(
    session: Session, plans: Iterable[Planned], *, at: datetime, tag: str
) -> list[int]:
    """Queue a test message (no ticket) to each planned address; return the row ids."""
    rows = []
    for plan in plans:
        facts = EventFacts("test", at, 0, "", "", "", None, {})
        row = _row(f"test:{tag}", facts, plan)
        row.ticket_id = None
        rows.append(row)
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def enqueue_reminders(
    session: Session, router: Router, *, now: datetime, interval: timedelta
) -> int:
    """Queue a reminder per ``interval`` for every still-open ticket; return how many.

    Keys are deterministic (ticket, n-th interval, address) and inserted with ON CONFLICT DO
    NOTHING, so two workers never queue the same reminder twice; a reminder still waiting
    (e.g. in quiet hours) is not joined by a second one.
    """
    stmt = select(Ticket).where(
        Ticket.status == TicketState.OPEN, Ticket.opened_at <= now - interval
    )
    added = 0
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
            added += _insert_ignore(session, _row(key, facts, plan))
    return added


def enqueue_once(
    session: Session,
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
    for plan in plans:
        facts = EventFacts(kind, at, 0, "", "", "", None, data)
        row = _row(f"{kind}:{key}", facts, plan)
        row.ticket_id = None
        if _insert_ignore(session, row):
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


def _insert_ignore(session: Session, row: Notification) -> int:
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


# ---------------------------------------------------------------- delivery


def next_due(session: Session) -> datetime | None:
    """When the earliest pending row becomes due (None: nothing pending)."""
    stmt = (
        select(Notification.due_at)
        .where(Notification.status == DeliveryStatus.PENDING)
        .order_by(Notification.due_at)
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def claim(
    session: Session,
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    render: Callable[[MessageContext], Rendered],
    limit: int = 20,
) -> list[Delivery]:
    """Lease up to ``limit`` due rows (at most one per address) and freeze their text."""
    stmt = (
        select(Notification)
        .where(Notification.status == DeliveryStatus.PENDING, Notification.due_at <= now)
        .where((Notification.lease_until.is_(None)) | (Notification.lease_until <= now))
        .order_by(Notification.id)
        .limit(SCAN_LIMIT)
        .with_for_update(skip_locked=True)
    )
    candidates = list(session.scalars(stmt))
    holding = _holding(session, {c.address_key for c in candidates}, now)
    out: list[Delivery] = []
    seen: set[str] = set()
    for row in candidates:
        if row.address_key in seen or row.id > holding.get(row.address_key, row.id):
            continue
        seen.add(row.address_key)
        row.attempts += 1
        row.lease_owner = owner
        row.lease_until = now + lease
        if row.body is None:
            text = render(_context(session, row))
            row.title, row.body = text.title, text.body
        ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
        out.append(_delivery(row, ticket.number if ticket is not None else None))
        if len(out) >= limit:
            break
    session.flush()
    return out


def _holding(session: Session, keys: set[str], now: datetime) -> dict[str, int]:
    """Per address, the first row that holds back later ones (failed before, or leased)."""
    if not keys:
        return {}
    stmt = (
        select(Notification.address_key, func.min(Notification.id))
        .where(
            Notification.status == DeliveryStatus.PENDING,
            Notification.address_key.in_(sorted(keys)),
            (Notification.attempts > 0) | (Notification.lease_until > now),
        )
        .group_by(Notification.address_key)
    )
    return {key: first for key, first in session.execute(stmt).all()}


def _delivery(row: Notification, number: str | None) -> Delivery:
    return Delivery(
        id=row.id,
        ref=ref_of(row.id),
        kind=row.kind,
        recipient=row.recipient,
        channel=row.channel,
        address_key=row.address_key,
        attempt=row.attempts,
        title=row.title or "",
        body=row.body or "",
        ticket=number,
    )


def _context(session: Session, row: Notification) -> MessageContext:
    """Read the ticket as it is now (so a grouped message lists every attached device)."""
    base = MessageContext(
        ref=ref_of(row.id),
        kind=row.kind,
        recipient=row.recipient,
        channel=row.channel,
        at=row.created_at,
        data=row.data,
    )
    if row.ticket_id is None:
        return base
    ticket = session.get_one(Ticket, row.ticket_id)
    step = None
    if ticket.sop_step is not None:
        step = session.scalars(
            select(TicketStep).where(
                TicketStep.ticket_id == ticket.id, TicketStep.position == ticket.sop_step
            )
        ).first()
    detail = ""
    if row.event_id is not None:
        ev = session.get(TicketEvent, row.event_id)
        detail = ev.detail if ev is not None else ""
    affected = tuple(
        d.device for d in ticket.devices if d.role is DeviceRole.AFFECTED and d.detached_at is None
    )
    return MessageContext(
        ref=base.ref,
        kind=row.kind,
        recipient=row.recipient,
        channel=row.channel,
        at=row.created_at,
        number=ticket.number,
        device=ticket.device,
        opd=ticket.opd,
        summary=ticket.summary,
        status=ticket.status.value,
        source=ticket.source,
        opened_at=ticket.opened_at,
        resolved_at=ticket.resolved_at,
        affected=affected,
        assignee=ticket.assignee,
        remediation=ticket.remediation,
        step_label=step.label if step else None,
        step_role=step.role if step else None,
        step_due=step.due_at if step else None,
        sop=ticket.sop,
        detail=detail,
        data=row.data,
        reporter=ticket.reporter,
    )


def mark(
    session: Session,
    delivery_id: int,
    *,
    ok: bool,
    error: str,
    now: datetime,
    retry: RetryPolicy,
    permanent: bool = False,
) -> DeliveryStatus:
    """Record one attempt's result: sent, retry later (backoff), or failed for good."""
    row = session.get_one(Notification, delivery_id, with_for_update=True)
    results = list(row.results or [])
    results.append({"at": now.isoformat(), "attempt": row.attempts, "ok": ok, "error": error})
    row.results = results
    row.lease_owner = None
    row.lease_until = None
    if ok:
        row.status = DeliveryStatus.SENT
        row.sent_at = now
        row.last_error = ""
    else:
        row.last_error = error
        if permanent or now - row.created_at >= retry.give_up_after:
            row.status = DeliveryStatus.FAILED
        else:
            row.due_at = now + retry.delay(row.attempts)
    session.flush()
    return row.status


def lease_owners(session: Session, *, now: datetime) -> list[str]:
    """Owners of leases still running (to find those of dead processes)."""
    stmt = (
        select(Notification.lease_owner)
        .where(Notification.lease_until > now, Notification.lease_owner.is_not(None))
        .distinct()
    )
    return [o for o in session.scalars(stmt) if o]


def release(session: Session, owners: Iterable[str]) -> int:
    """End the leases of ``owners`` (processes known dead): their rows are due again."""
    owners = list(owners)
    if not owners:
        return 0
    rows = list(
        session.scalars(
            select(Notification).where(
                Notification.lease_owner.in_(owners),
                Notification.status == DeliveryStatus.PENDING,
            )
        )
    )
    for row in rows:
        row.lease_owner = None
        row.lease_until = None
    session.flush()
    return len(rows)


def requeue(session: Session, ids: Iterable[int], *, now: datetime) -> int:
    """Put failed rows back in the queue, due now (after the cause was fixed)."""
    rows = list(
        session.scalars(
            select(Notification).where(
                Notification.id.in_(list(ids)), Notification.status == DeliveryStatus.FAILED
            )
        )
    )
    for row in rows:
        row.status = DeliveryStatus.PENDING
        row.due_at = now
        row.created_at = now  # the give-up clock starts again
    session.flush()
    return len(rows)


# ---------------------------------------------------------------- reads


def queue(
    session: Session, *, statuses: Sequence[DeliveryStatus] | None = None, limit: int = 200
) -> list[QueueItem]:
    """Rows oldest first; by default pending and failed ones."""
    wanted = list(statuses or (DeliveryStatus.PENDING, DeliveryStatus.FAILED))
    stmt = (
        select(Notification, Ticket.number)
        .outerjoin(Ticket, Ticket.id == Notification.ticket_id)
        .where(Notification.status.in_(wanted))
        .order_by(Notification.id)
        .limit(limit)
    )
    return [
        QueueItem(
            id=row.id,
            ref=ref_of(row.id),
            kind=row.kind,
            ticket=number,
            recipient=row.recipient,
            channel=row.channel,
            status=row.status,
            attempts=row.attempts,
            created_at=row.created_at,
            due_at=row.due_at,
            sent_at=row.sent_at,
            leased=row.lease_until is not None,
            last_error=row.last_error,
        )
        for row, number in session.execute(stmt).all()
    ]


def stats(session: Session) -> dict[str, ChannelCounts]:
    """Rows per channel and status: ``{"json": ChannelCounts(sent=3, failed=0, pending=1)}``."""
    stmt = select(Notification.channel, Notification.status, func.count()).group_by(
        Notification.channel, Notification.status
    )
    counts: dict[str, dict[str, int]] = {}
    for channel, status, n in session.execute(stmt).all():
        counts.setdefault(channel, {})[DeliveryStatus(status).value] = n
    return {channel: ChannelCounts(**values) for channel, values in sorted(counts.items())}


def backlog(store: TicketStore) -> int:
    """Notifications not yet delivered (pending, in every channel)."""
    with store.transaction(write=False) as session:
        return sum(c.pending for c in stats(session).values())
