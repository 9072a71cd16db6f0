"""A database that stops answering must not hold the daemon's exit (issue 23).

A frozen server (a hung host, a disk hang, dropped packets) keeps its sessions open and
answers nothing; no libpq timeout covers a query in flight over a unix socket. The lock
session's calls have deadlines, past which its socket is shut down
(:func:`ticketing.db.abort_connection`): the leader steps down within its fence and its lock
thread is free again. The store thread is finished at stop in bounded time, aborting what it
is blocked on. Here the "server" is one end of a socket pair that never answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from agent.runtime.leader import Leadership, LeadershipLostError, LockSessionTimeoutError
from agent.runtime.parts import StoreThread
from ticketing.db import abort_connection, pg_connect_args

pytestmark = pytest.mark.unit

HANG = 30.0  # generous: only catches a hang
URL = "postgresql+psycopg://sigap@db.example/sigap"


class _Rows:
    def fetchone(self) -> tuple[bool]:
        return (True,)


class FrozenServer:
    """A lock session whose server answers until :meth:`freeze`, then never."""

    def __init__(self) -> None:
        self.ours, self.theirs = socket.socketpair()
        self.frozen = threading.Event()
        self.closed = False
        self.blocked = threading.Event()  # a call is waiting for the answer

    def freeze(self) -> None:
        self.frozen.set()

    def fileno(self) -> int:
        return self.ours.fileno()

    def execute(self, _sql: str, _params: object = None) -> _Rows:
        if self.frozen.is_set():
            self.blocked.set()
            if self.ours.recv(1) == b"":  # until its socket is shut down
                self.closed = True
                msg = "server closed the connection unexpectedly"
                raise ConnectionError(msg)
        return _Rows()

    def close(self) -> None:
        self.closed = True

    def dispose(self) -> None:
        self.ours.close()
        self.theirs.close()


def _leadership(server: FrozenServer) -> Leadership:
    def connect(*_args: object, **_kwargs: object) -> FrozenServer:
        return server

    return Leadership(URL, "noc-a", connect, lease=0.6)


async def test_a_renewal_unanswered_at_the_fence_steps_down_and_frees_the_lock_thread() -> None:
    server = FrozenServer()
    lead = _leadership(server)
    try:
        async with asyncio.timeout(HANG):
            assert await lead.acquire(asyncio.Event())
            server.freeze()
            with pytest.raises(LeadershipLostError) as lost:
                await lead.hold()
            assert isinstance(lost.value.__cause__, LockSessionTimeoutError)
            assert lost.value.__cause__.call == "_mine"
            assert lead.role == "standby"
            assert server.blocked.is_set()
            with pytest.raises(LeadershipLostError):
                lead.fence()
            assert await lead._call(lambda: "free", HANG) == "free"  # the thread returned
            await lead.close()
    finally:
        server.dispose()


async def test_closing_a_lock_session_stuck_on_a_frozen_server_is_bounded() -> None:
    server = FrozenServer()
    lead = _leadership(server)
    try:
        async with asyncio.timeout(HANG):
            assert await lead.acquire(asyncio.Event())
            server.freeze()
            # a call without deadline, as before: closing queues behind it on the one thread
            stuck = asyncio.get_running_loop().run_in_executor(lead._pool, lead._mine)
            assert await asyncio.to_thread(server.blocked.wait, HANG)
            await lead.close()  # aborted after CLOSE_SECONDS
            with pytest.raises(ConnectionError):
                await stuck
    finally:
        server.dispose()


def test_abort_connection_wakes_a_thread_blocked_on_the_socket() -> None:
    server = FrozenServer()
    server.freeze()
    outcome: list[BaseException] = []

    def query() -> None:
        try:
            server.execute("SELECT 1")
        except ConnectionError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=query)
    thread.start()
    try:
        assert server.blocked.wait(HANG)
        assert abort_connection(server) is True
        thread.join(HANG)
        assert not thread.is_alive()
        assert len(outcome) == 1
    finally:
        server.dispose()


class _Closed:
    def fileno(self) -> int:
        msg = "the connection is closed"
        raise ValueError(msg)


def _open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


@pytest.mark.parametrize(
    "connection",
    [_Closed(), object(), None, "postgresql://x", 12],
    ids=["closed", "no-fileno", "none", "text", "int"],
)
def test_abort_connection_of_something_without_a_socket_is_false(connection: Any) -> None:
    assert abort_connection(connection) is False


def test_abort_connection_of_a_descriptor_that_is_no_socket_is_false_and_leaks_nothing() -> None:
    read, write = os.pipe()

    class Pipe:
        def fileno(self) -> int:
            return read

    try:
        before = _open_fds()
        assert abort_connection(Pipe()) is False
        assert _open_fds() == before
    finally:
        os.close(read)
        os.close(write)


def test_the_url_s_own_connection_settings_win_over_the_defaults() -> None:
    args = pg_connect_args(f"{URL}?connect_timeout=3&keepalives=0")
    assert "connect_timeout" not in args
    assert "keepalives" not in args
    assert args["tcp_user_timeout"] > 0
    assert pg_connect_args("sqlite:////tmp/x.db") == {}


async def _blocked_call(thread: StoreThread, release: threading.Event) -> asyncio.Future[bool]:
    """A store call running (blocked until ``release``) on ``thread``."""
    started = threading.Event()

    def blocked() -> bool:
        started.set()
        return release.wait(HANG)

    call = asyncio.ensure_future(thread.call(blocked))
    assert await asyncio.to_thread(started.wait, HANG)
    return call


async def test_finishing_an_idle_store_thread_is_immediate() -> None:
    thread = StoreThread()
    assert await thread.call(lambda: 1) == 1
    async with asyncio.timeout(HANG):
        assert await thread.finish(abort=None) is True


async def test_a_store_call_blocked_at_stop_is_aborted_after_the_grace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    thread = StoreThread()
    release = threading.Event()
    aborted: list[int] = []

    def abort() -> int:
        aborted.append(1)
        release.set()  # as the socket shutdown makes the blocked query fail
        return 1

    call = await _blocked_call(thread, release)
    with caplog.at_level(logging.WARNING, logger="agent.runtime.parts"):
        async with asyncio.timeout(HANG):
            assert await thread.finish(abort, grace=0.05) is True
    assert aborted == [1]
    assert "1 database connections aborted" in caplog.text
    assert await call is True


async def test_a_store_call_that_cannot_be_aborted_is_reported_not_awaited_forever(
    caplog: pytest.LogCaptureFixture,
) -> None:
    thread = StoreThread()
    release = threading.Event()
    call = await _blocked_call(thread, release)
    try:
        with caplog.at_level(logging.ERROR, logger="agent.runtime.parts"):
            async with asyncio.timeout(HANG):
                assert await thread.finish(None, grace=0.05) is False
        assert "still busy" in caplog.text
    finally:
        release.set()
        await call
