"""Web board logins as stored data: a password hash, a session epoch and a disabled mark.

ticketing never sees a password: ``agent.web.auth`` hashes with argon2 and hands the hash in.
Every session cookie carries the account's ``session_epoch`` at login; raising it
(:meth:`AccountStore.end_sessions`, a new password, :meth:`AccountStore.disable`) ends every
session of the account at its next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ticketing.models import WebAccount

if TYPE_CHECKING:
    from datetime import datetime

    from ticketing.store import TicketStore


@dataclass(frozen=True, slots=True)
class AccountState:
    """What a request checks of an account: its session epoch and whether it is disabled."""

    epoch: int
    disabled: bool


class AccountStore:
    """Password hashes and session epochs of the web board's people, in the ticket database."""

    def __init__(self, store: TicketStore) -> None:
        """Use ``store``'s engine and transactions."""
        self._store = store

    def hash_of(self, name: str) -> str | None:
        """The stored hash of ``name``; None without a password or while disabled."""
        with self._store.transaction(write=False) as session:
            row = session.get(WebAccount, name)
            return row.password_hash if row is not None and row.disabled_at is None else None

    def state(self, name: str) -> AccountState | None:
        """The account's session epoch and disabled mark; None when it has no password."""
        with self._store.transaction(write=False) as session:
            row = session.get(WebAccount, name)
            if row is None:
                return None
            return AccountState(row.session_epoch or 0, row.disabled_at is not None)

    def set_hash(
        self, name: str, password_hash: str, *, at: datetime, end_sessions: bool = True
    ) -> None:
        """Create or replace the hash of ``name`` (enabled again); ends its sessions.

        ``end_sessions=False`` only for a rehash of the same password at login.
        """
        with self._store.transaction() as session:
            row = session.get(WebAccount, name, with_for_update=True)
            if row is None:
                session.add(
                    WebAccount(
                        name=name, password_hash=password_hash, updated_at=at, session_epoch=0
                    )
                )
                return
            row.password_hash, row.updated_at = password_hash, at
            if end_sessions:
                row.session_epoch = (row.session_epoch or 0) + 1
                row.disabled_at = None

    def end_sessions(self, name: str, *, at: datetime) -> bool:
        """End every session of ``name``; False when the account does not exist."""
        with self._store.transaction() as session:
            row = session.get(WebAccount, name, with_for_update=True)
            if row is None:
                return False
            row.session_epoch = (row.session_epoch or 0) + 1
            row.updated_at = at
            return True

    def disable(self, name: str, *, at: datetime) -> bool:
        """Refuse logins of ``name`` and end its sessions; False when it has no account."""
        with self._store.transaction() as session:
            row = session.get(WebAccount, name, with_for_update=True)
            if row is None:
                return False
            row.session_epoch = (row.session_epoch or 0) + 1
            row.disabled_at = row.updated_at = at
            return True

    def names(self) -> list[str]:
        """People who have a password, by name."""
        with self._store.transaction(write=False) as session:
            return sorted(row.name for row in session.query(WebAccount).all())

    def disabled_names(self) -> list[str]:
        """People whose account is disabled, by name."""
        with self._store.transaction(write=False) as session:
            rows = session.query(WebAccount).filter(WebAccount.disabled_at.is_not(None)).all()
            return sorted(row.name for row in rows)
