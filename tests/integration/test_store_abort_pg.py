"""TicketStore.abort on PostgreSQL (issue 23): a call blocked on the server fails at once.

At shutdown the daemon aborts the store when its thread is still blocked after a grace (a
server that stopped answering). The blocked call here is a long ``pg_sleep`` (the server
does not answer it for ten minutes); after the abort it fails, and a later call does not
connect again (:class:`StoreAbortedError`) but fails at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ticketing.errors import StoreAbortedError
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

HANG = 60.0  # generous: only catches a hang (the blocked call would last 600 s)


def _admin(url: str) -> psycopg.Connection[tuple[object, ...]]:
    info = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(info, autocommit=True, connect_timeout=10)


@pytest.fixture
def store(pg_url: str) -> Iterator[TicketStore]:
    s = TicketStore(pg_url)
    try:
        yield s
    finally:
        s.close()


def test_abort_fails_a_call_blocked_on_the_server_and_refuses_new_connections(
    store: TicketStore, pg_url: str
) -> None:
    backend: list[int] = []
    failed: list[BaseException] = []
    asleep = threading.Event()

    def blocked() -> None:
        try:
            with store.transaction(write=False) as session:
                backend.append(int(session.execute(text("SELECT pg_backend_pid()")).scalar_one()))
                asleep.set()
                session.execute(text("SELECT pg_sleep(600)"))
        except DBAPIError as exc:
            failed.append(exc)

    thread = threading.Thread(target=blocked)
    thread.start()
    try:
        assert asleep.wait(HANG)
        assert store.abort() >= 1
        thread.join(HANG)
        assert not thread.is_alive(), "the blocked call must fail after the abort"
        assert len(failed) == 1
        with pytest.raises(StoreAbortedError):
            store.active()
    finally:
        with _admin(pg_url) as admin:  # the server-side sleep would outlive the test
            for pid in backend:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        thread.join(HANG)
