"""Inventory edit audit, JSON API tokens and ticket silences, as stored data (issue 21).

ticketing never sees the inventory or a token: ``agent.admin`` hands in the diff it wrote and
the sha256 of a token (the token itself is shown once to its owner and never stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from ticketing.errors import TicketNotFoundError
from ticketing.models import ApiToken, InventoryEdit, Ticket, TicketSilence

if TYPE_CHECKING:
    from datetime import datetime

    from ticketing.store import TicketStore


@dataclass(frozen=True, slots=True)
class EditView:
    """One audited inventory change."""

    id: int
    at: datetime
    by: str
    summary: str
    diff: str
    version_before: str
    version_after: str
    reload: str


@dataclass(frozen=True, slots=True)
class TokenView:
    """An API token's owner and label (never the token)."""

    id: int
    name: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class AdminLog:
    """Inventory edits and API tokens in the ticket database."""

    def __init__(self, store: TicketStore) -> None:
        """Use ``store``'s engine and transactions."""
        self._store = store

    def record_edit(self, edit: EditView) -> int:
        """Append ``edit`` (its ``id`` is ignored); return the new row's id."""
        with self._store.transaction() as session:
            row = InventoryEdit(
                at=edit.at,
                by=edit.by,
                summary=edit.summary[:500],
                diff=edit.diff,
                version_before=edit.version_before,
                version_after=edit.version_after,
                reload=edit.reload[:500],
            )
            session.add(row)
            session.flush()
            return row.id

    def edits(self, limit: int = 50) -> list[EditView]:
        """The latest ``limit`` edits, newest first."""
        with self._store.transaction(write=False) as session:
            rows = session.scalars(
                select(InventoryEdit).order_by(InventoryEdit.id.desc()).limit(limit)
            ).all()
            return [
                EditView(
                    r.id, r.at, r.by, r.summary, r.diff, r.version_before, r.version_after, r.reload
                )
                for r in rows
            ]

    def add_token(self, name: str, label: str, token_hash: str, *, at: datetime) -> int:
        """Store a token of ``name`` by its hash; return its id."""
        with self._store.transaction() as session:
            row = ApiToken(name=name, label=label[:100], token_hash=token_hash, created_at=at)
            session.add(row)
            session.flush()
            return row.id

    def token_owner(self, token_hash: str) -> str | None:
        """The person whose live token hashes to ``token_hash``; None if unknown or revoked."""
        with self._store.transaction(write=False) as session:
            row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()
            return row.name if row is not None and row.revoked_at is None else None

    def revoke_token(self, token_id: int, *, at: datetime) -> TokenView | None:
        """Revoke token ``token_id``; the token, or None when there is none live by that id."""
        with self._store.transaction() as session:
            row = session.get(ApiToken, token_id, with_for_update=True)
            if row is None or row.revoked_at is not None:
                return None
            row.revoked_at = at
            return TokenView(row.id, row.name, row.label, row.created_at, row.revoked_at)

    def tokens(self, name: str | None = None) -> list[TokenView]:
        """Tokens (of ``name``, or everyone's), oldest first."""
        with self._store.transaction(write=False) as session:
            query = select(ApiToken).order_by(ApiToken.id)
            if name is not None:
                query = query.where(ApiToken.name == name)
            return [
                TokenView(r.id, r.name, r.label, r.created_at, r.revoked_at)
                for r in session.scalars(query).all()
            ]


@dataclass(frozen=True, slots=True)
class SilenceView:
    """A ticket's notifications held by a person until ``until``."""

    id: int
    number: str
    by: str
    reason: str
    created_at: datetime
    until: datetime


class Silences:
    """Who silenced which ticket's notifications, why and until when (the outbox obeys)."""

    def __init__(self, store: TicketStore) -> None:
        """Use ``store``'s engine and transactions."""
        self._store = store

    def silence(self, number: str, *, by: str, reason: str, until: datetime, at: datetime) -> int:
        """Hold ticket ``number``'s notifications until ``until``; TicketNotFoundError if none."""
        with self._store.transaction() as session:
            ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
            if ticket is None:
                raise TicketNotFoundError(number)
            row = TicketSilence(
                ticket_id=ticket.id, by=by, reason=reason[:500], created_at=at, until=until
            )
            session.add(row)
            session.flush()
            return row.id

    def cancel(self, number: str, *, at: datetime) -> int:
        """End every live silence of ticket ``number``; how many ended."""
        with self._store.transaction() as session:
            rows = session.scalars(
                select(TicketSilence)
                .join(Ticket, Ticket.id == TicketSilence.ticket_id)
                .where(Ticket.number == number, TicketSilence.cancelled_at.is_(None))
                .where(TicketSilence.until > at)
            ).all()
            for row in rows:
                row.cancelled_at = at
            return len(rows)

    def active(self, number: str, *, at: datetime) -> SilenceView | None:
        """The live silence of ticket ``number`` lasting longest, or None."""
        with self._store.transaction(write=False) as session:
            row = session.execute(
                select(TicketSilence)
                .join(Ticket, Ticket.id == TicketSilence.ticket_id)
                .where(Ticket.number == number, TicketSilence.cancelled_at.is_(None))
                .where(TicketSilence.until > at)
                .order_by(TicketSilence.until.desc())
                .limit(1)
            ).scalar_one_or_none()
            if row is None:
                return None
            return SilenceView(row.id, number, row.by, row.reason, row.created_at, row.until)
