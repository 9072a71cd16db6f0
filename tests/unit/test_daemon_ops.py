"""The daemon's operations wiring: SIGHUP reload (a broken inventory keeps the running one),
metrics fed from polls and tickets, READY=1 and WATCHDOG=1 over a real NOTIFY_SOCKET, and
journald / JSON log formats."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
import socket
from typing import TYPE_CHECKING

import pytest
from prometheus_client import CollectorRegistry

from agent.config.load import load_inventory
from agent.runtime import logfmt
from agent.runtime.metrics import Metrics
from agent.wiring import assemble_daemon
from tests.unit.test_daemon import DEADLINE, FakeProber, open_store, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

INVENTORY = """
office: {{name: Test}}
defaults: {{platform: mikrotik_routeros, role: router, opd: Dinas Uji, ping: {{interval: 0.05s}}}}
detection: {{reprobe_interval: 0.01s, confirm_rounds: 2}}
daemon: {{metrics_listen: ""}}
hosts:
{hosts}
"""


def write(path: Path, names: list[str]) -> Path:
    hosts = "\n".join(f"  {n}: {{address: 10.7.0.{i + 1}}}" for i, n in enumerate(names))
    path.write_text(INVENTORY.format(hosts=hosts))
    return path


@pytest.fixture(autouse=True)
def _no_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)  # tests that want one set their own
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TicketStore]:
    with open_store(tmp_path / "t.db") as s:
        yield s


async def test_sighup_reload_refuses_a_broken_inventory_then_takes_a_good_one(
    tmp_path: Path, store: TicketStore, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "inv.yaml", ["a", "b"])
    fake = FakeProber(dead={"b"})
    daemon = assemble_daemon(
        load_inventory(path, env={}),
        store,
        fake,
        rng=random.Random(1),
        reload=lambda: load_inventory(path, env={}),
    )
    task = asyncio.create_task(daemon.run())
    await wait_for(lambda: bool(store.active()), "b's ticket")
    path.write_text(path.read_text() + "  c: {address: not-an-address, bogus: 1}\n")
    caplog.set_level(logging.ERROR, "agent.runtime.daemon")
    signal.raise_signal(signal.SIGHUP)
    await wait_for(lambda: "reload refused" in caplog.text, "the refusal")
    assert "hosts.c.address" in caplog.text
    assert "hosts.c.bogus" in caplog.text  # every problem, not the first
    calls = fake.calls["a"]
    await wait_for(lambda: fake.calls["a"] > calls + 2, "a still polled")
    write(path, ["a", "b", "c"])  # c is new; b unchanged keeps its state and ticket
    signal.raise_signal(signal.SIGHUP)
    await wait_for(lambda: fake.calls["c"] > 0, "c polled after the reload")
    assert set(daemon.inventory.devices) == {"a", "b", "c"}
    assert [t.device for t in store.active()] == ["b"]
    daemon.stop()
    async with asyncio.timeout(DEADLINE):
        await task


async def test_metrics_follow_states_polls_and_tickets(tmp_path: Path, store: TicketStore) -> None:
    inventory = load_inventory(write(tmp_path / "inv.yaml", ["a", "b"]), env={})
    registry = CollectorRegistry()
    daemon = assemble_daemon(
        inventory, store, FakeProber(dead={"b"}), rng=random.Random(1), metrics=Metrics(registry)
    )
    task = asyncio.create_task(daemon.run())
    await wait_for(lambda: bool(store.active()), "b's ticket")
    await wait_for(
        lambda: (
            registry.get_sample_value("sigap_device_up", {"device": "b", "opd": "Dinas Uji"}) == 0
        ),
        "b down in the metrics",
    )
    assert registry.get_sample_value("sigap_device_up", {"device": "a", "opd": "Dinas Uji"}) == 1
    polls = registry.get_sample_value("sigap_poll_duration_seconds_count", {"probe": "ping"})
    assert polls is not None
    assert polls >= 2
    opened = [
        s.value
        for m in registry.collect()
        for s in m.samples
        if s.name == "sigap_tickets_opened_total" and s.labels.get("kind") == "device_down"
    ]
    assert opened == [1.0]
    daemon.stop()
    async with asyncio.timeout(DEADLINE):
        await task


async def test_ready_and_watchdog_reach_a_real_notify_socket(
    tmp_path: Path, store: TicketStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock_path = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(sock_path))
    receiver.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(sock_path))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # 0.1 s: pings every 0.05 s
    inventory = load_inventory(write(tmp_path / "inv.yaml", ["a"]), env={})
    daemon = assemble_daemon(inventory, store, FakeProber(), rng=random.Random(1))
    task = asyncio.create_task(daemon.run())
    seen: list[str] = []

    def drain() -> bool:
        while True:
            try:
                seen.append(receiver.recv(4096).decode())
            except BlockingIOError:
                return "READY=1" in seen and seen.count("WATCHDOG=1") >= 3

    try:
        await wait_for(drain, "READY=1 and watchdog pings")
    finally:
        daemon.stop()
        async with asyncio.timeout(DEADLINE):
            await task
        receiver.close()
    assert seen.index("READY=1") >= 0


def test_journal_and_json_formats() -> None:
    record = logging.LogRecord(
        "agent.runtime.daemon", logging.WARNING, __file__, 1, "b %s", ("down",), None
    )
    assert logfmt.JournalFormatter().format(record) == "<4>agent.runtime.daemon: b down"
    doc = json.loads(logfmt.JsonFormatter().format(record))
    assert (doc["level"], doc["logger"], doc["message"]) == (
        "warning",
        "agent.runtime.daemon",
        "b down",
    )
    assert doc["time"].endswith("+00:00")


def test_auto_format_follows_journal_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    assert isinstance(logfmt.formatter("auto"), logfmt.JournalFormatter)
    monkeypatch.delenv("JOURNAL_STREAM")
    assert not isinstance(logfmt.formatter("auto"), logfmt.JournalFormatter | logfmt.JsonFormatter)
