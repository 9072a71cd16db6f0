"""Web board logins as stored data: a password hash per person (hashing is the caller's).

ticketing never sees a password: ``agent.web.auth`` hashes with argon2 and hands the hash in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ticketing.models import WebAccount

if TYPE_CHECKING:
    from datetime import datetime

    from ticketing.store import TicketStore


class AccountStore:
    """Password hashes of the web board's people, in the ticket database."""

    def __init__(self, store: TicketStore) -> None:
        """Use ``store``'s engine and transactions."""
        self._store = store

    def hash_of(self, name: str) -> str | None:
        """The stored hash of ``name``, or None when the person has no password yet."""
        with self._store.transaction(write=False) as session:
            row = session.get(WebAccount, name)
            return row.password_hash if row is not None else None

    def set_hash(self, name: str, password_hash: str, *, at: datetime) -> None:
        """Create or replace the hash of ``name``."""
        with self._store.transaction() as session:
            row = session.get(WebAccount, name, with_for_update=True)
            if row is None:
                session.add(WebAccount(name=name, password_hash=password_hash, updated_at=at))
            else:
                row.password_hash, row.updated_at = password_hash, at

    def names(self) -> list[str]:
        """People who have a password, by name."""
        with self._store.transaction(write=False) as session:
            return sorted(row.name for row in session.query(WebAccount).all())
