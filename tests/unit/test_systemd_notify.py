"""agent.runtime.systemd against a real AF_UNIX datagram NOTIFY_SOCKET (path and abstract)."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid

import pytest

from agent.runtime import systemd

pytestmark = pytest.mark.unit


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    sock.bind(str(path))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


def received(sock):
    out = []
    while True:
        try:
            out.append(sock.recv(4096).decode())
        except BlockingIOError:
            return out


def test_ready_and_stopping_reach_the_socket(notify_socket):
    assert systemd.notify("READY=1")
    assert systemd.notify("STOPPING=1")
    assert received(notify_socket) == ["READY=1", "STOPPING=1"]


def test_abstract_socket(monkeypatch):
    name = f"sigap-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify("READY=1")
        assert sock.recv(64) == b"READY=1"


def test_no_socket_is_not_an_error(monkeypatch, tmp_path):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not systemd.notify("READY=1")
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert not systemd.notify("READY=1")  # logged, never raised


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    assert systemd.watchdog_interval() == 10.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval() == 10.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # armed for another process
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    monkeypatch.setenv("WATCHDOG_USEC", "0")
    assert systemd.watchdog_interval() is None


async def test_watchdog_pings_from_the_loop(notify_socket, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # 0.2 s: a ping every 0.1 s
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    task = asyncio.create_task(systemd.watchdog())
    await asyncio.sleep(0.35)
    pings = received(notify_socket)
    assert pings.count("WATCHDOG=1") >= 3

    time.sleep(0.4)  # noqa: ASYNC251 - a stuck loop: no pings while it is blocked
    assert received(notify_socket) == []
    await asyncio.sleep(0.05)
    assert received(notify_socket) == ["WATCHDOG=1"]  # the loop runs again: pings resume
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_watchdog_returns_when_not_armed(notify_socket):
    await asyncio.wait_for(systemd.watchdog(), timeout=1)
    assert received(notify_socket) == []
