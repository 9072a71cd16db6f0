"""Durable notification outbox: rows written with the ticket change, claimed, sent, recorded.

:class:`Outbox` is the outbox of one store, one method per operation, each its own
transaction (callers never hold a session). Enqueue: :func:`install` hooks the store so that
each ticket change writes its rows in its own transaction; ``Outbox.enqueue_*`` queue the rest
(reminders, the monthly report, test messages); both live in ``ticketing.outbox.enqueue``.
The data that flows through (facts, plans, deliveries) is in ``ticketing.outbox.types``.

Delivery is **at-least-once with a dedup key**. :meth:`Outbox.claim` leases due rows (``lease``),
counts the attempt and freezes the rendered text in one transaction; the worker sends and
then :meth:`Outbox.mark` records the result. A process killed between the send and the mark leaves a
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

from typing import TYPE_CHECKING, Final

from sqlalchemy import func, select

from ticketing.models import (
    DeviceRole,
    Notification,
    Ticket,
    TicketEvent,
    TicketSilence,
    TicketStep,
)
from ticketing.outbox.enqueue import Enqueuer
from ticketing.outbox.types import (
    ChannelCounts,
    Delivery,
    MessageContext,
    QueueItem,
    Rendered,
    RetryPolicy,
    ref_of,
)
from ticketing.states import DeliveryStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import datetime, timedelta

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session


SCAN_LIMIT: Final = 500


class Outbox(Enqueuer):
    """The notification rows of one store; every method is one transaction of its own."""

    # -- delivery ------------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        """When the earliest pending row becomes due (None: nothing pending)."""
        stmt = (
            select(Notification.due_at)
            .where(Notification.status == DeliveryStatus.PENDING)
            .order_by(Notification.due_at)
            .limit(1)
        )
        with self._store.transaction(write=False) as session:
            return session.execute(stmt).scalar_one_or_none()

    def claim(
        self,
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
            .where(_not_silenced(now))
            .order_by(Notification.id)
            .limit(SCAN_LIMIT)
            .with_for_update(skip_locked=True)
        )
        out: list[Delivery] = []
        with self._store.transaction() as session:
            candidates = list(session.scalars(stmt))
            holding = _holding(session, {c.address_key for c in candidates}, now)
            seen: set[str] = set()
            for row in candidates:
                if row.address_key in seen or row.id > holding.get(row.address_key, row.id):
                    continue
                seen.add(row.address_key)
                out.append(_lease(session, row, now, owner=owner, until=now + lease, render=render))
                if len(out) >= limit:
                    break
            session.flush()
        return out

    def mark(
        self,
        delivery_id: int,
        *,
        ok: bool,
        error: str,
        now: datetime,
        retry: RetryPolicy,
        permanent: bool = False,
    ) -> DeliveryStatus:
        """Record one attempt's result: sent, retry later (backoff), or failed for good."""
        with self._store.transaction() as session:
            row = session.get_one(Notification, delivery_id, with_for_update=True)
            results = list(row.results or [])
            results.append(
                {"at": now.isoformat(), "attempt": row.attempts, "ok": ok, "error": error}
            )
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

    def lease_owners(self, *, now: datetime) -> list[str]:
        """Owners of leases still running (to find those of dead processes)."""
        stmt = (
            select(Notification.lease_owner)
            .where(Notification.lease_until > now, Notification.lease_owner.is_not(None))
            .distinct()
        )
        with self._store.transaction(write=False) as session:
            return [o for o in session.scalars(stmt) if o]

    def release(self, owners: Iterable[str]) -> int:
        """End the leases of ``owners`` (processes known dead): their rows are due again."""
        owners = list(owners)
        if not owners:
            return 0
        stmt = select(Notification).where(
            Notification.lease_owner.in_(owners), Notification.status == DeliveryStatus.PENDING
        )
        with self._store.transaction() as session:
            rows = list(session.scalars(stmt))
            for row in rows:
                row.lease_owner = None
                row.lease_until = None
            session.flush()
            return len(rows)

    def requeue(self, ids: Iterable[int], *, now: datetime) -> int:
        """Put failed rows back in the queue, due now (after the cause was fixed)."""
        stmt = select(Notification).where(
            Notification.id.in_(list(ids)), Notification.status == DeliveryStatus.FAILED
        )
        with self._store.transaction() as session:
            rows = list(session.scalars(stmt))
            for row in rows:
                row.status = DeliveryStatus.PENDING
                row.due_at = now
                row.created_at = now  # the give-up clock starts again
            session.flush()
            return len(rows)

    # -- reads ---------------------------------------------------------------------------------

    def queue(
        self, *, statuses: Sequence[DeliveryStatus] | None = None, limit: int = 200
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
        with self._store.transaction(write=False) as session:
            return [_queue_item(row, number) for row, number in session.execute(stmt).all()]

    def stats(self) -> dict[str, ChannelCounts]:
        """Rows per channel and status: ``{"json": ChannelCounts(sent=3, failed=0, pending=1)}``."""
        stmt = select(Notification.channel, Notification.status, func.count()).group_by(
            Notification.channel, Notification.status
        )
        counts: dict[str, dict[str, int]] = {}
        with self._store.transaction(write=False) as session:
            for channel, status, n in session.execute(stmt).all():
                counts.setdefault(channel, {})[DeliveryStatus(status).value] = n
        return {channel: ChannelCounts(**values) for channel, values in sorted(counts.items())}

    def backlog(self) -> int:
        """Notifications not yet delivered (pending, in every channel)."""
        return sum(c.pending for c in self.stats().values())


def _not_silenced(now: datetime) -> ColumnElement[bool]:
    """Rows whose ticket nobody silenced until after ``now`` (issue 21: they wait)."""
    silenced = select(TicketSilence.ticket_id).where(
        TicketSilence.until > now, TicketSilence.cancelled_at.is_(None)
    )
    return Notification.ticket_id.is_(None) | Notification.ticket_id.not_in(silenced)


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


def _lease(
    session: Session,
    row: Notification,
    now: datetime,
    *,
    owner: str,
    until: datetime,
    render: Callable[[MessageContext], Rendered],
) -> Delivery:
    """Count the attempt, lease ``row`` to ``owner`` and freeze its text at the first one."""
    row.attempts += 1
    row.lease_owner = owner
    row.lease_until = until
    if row.body is None:
        text = render(_context(session, row))
        row.title, row.body = text.title, text.body
    ticket = session.get(Ticket, row.ticket_id) if row.ticket_id is not None else None
    return _delivery(row, ticket.number if ticket is not None else None)


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


def _queue_item(row: Notification, number: str | None) -> QueueItem:
    return QueueItem(
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
