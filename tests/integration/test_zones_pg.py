"""Zones through the machine's PostgreSQL (issue 23): NOTIFY wakes the leader, and the pollers."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import psycopg
import pytest

from agent.config.load import load_inventory
from agent.runtime.leader import conninfo
from agent.runtime.parts import Runtime
from agent.zones.codec import encode
from agent.zones.ingest import ZoneIngest
from agent.zones.listen import listen
from agent.zones.liveness import Liveness
from collectors.model import Observation, ProbeStatus
from ticketing.migrate import migrate
from ticketing.store import TicketStore
from ticketing.zones import Beat, beat, pollers, repoll_channel, request_repoll, ship, take

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

HANG = 60.0
T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
INVENTORY = """\
office: {name: Uji}
defaults: {platform: mikrotik_routeros, role: router, opd: Dinas Uji}
hosts:
  core: {address: 10.7.0.1}
  k1: {address: 10.7.1.1, parent: core, zone: kec}
"""


class _Counted(asyncio.Event):
    def __init__(self) -> None:
        super().__init__()
        self.sets = 0

    def set(self) -> None:
        self.sets += 1
        super().set()


def test_a_shipped_batch_wakes_the_leader_and_is_taken_once(pg_url: str, tmp_path: Path) -> None:
    (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
    inventory = load_inventory(tmp_path / "inventory.yaml", env={})
    store = TicketStore(pg_url)
    migrate(store)
    seen: list[Observation] = []
    got_more = threading.Event()  # a timed wait between reads of ``seen`` (fed on the loop)

    def feed(obs: Observation) -> None:
        seen.append(obs)

    async def scenario() -> int:
        runtime = Runtime(store, asyncio.Semaphore(1), dict)
        liveness = Liveness(inventory, 15.0, started=0.0, started_at=T0)
        ingest = ZoneIngest(
            inventory,
            runtime,
            feed,
            liveness,
            cluster="uji-pg",
            lease=15.0,
            listen=partial(psycopg.connect, conninfo(pg_url), autocommit=True),
        )
        wake = ingest._wake = _Counted()
        task = asyncio.create_task(ingest.run())
        try:
            shipped = 0
            async with asyncio.timeout(HANG):  # until a NOTIFY (not the 1 s poll) woke it
                while not wake.sets:
                    at = T0 + timedelta(seconds=shipped)
                    obs = Observation("k1", "ping", ProbeStatus.OK, at, value=0.002, loss=0.0)
                    await asyncio.to_thread(ship, store, "kec-1", "uji-pg", [(at, [encode(obs)])])
                    shipped += 1
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(2.0):
                            await wake.wait()
                while len(seen) < shipped:
                    await asyncio.to_thread(got_more.wait, 0.2)
            return shipped
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            runtime.thread.close()

    try:
        shipped = asyncio.run(scenario())
        assert [o.at for o in seen] == [T0 + timedelta(seconds=i) for i in range(shipped)]
        assert take(store, "uji-pg") == []  # taken (deleted) once
        beat(store, "uji-pg", Beat("kec-1", ("kec",), T0, T0 + timedelta(seconds=5), "ab"))
        assert [b.node for b in pollers(store, "uji-pg")] == ["kec-1"]
    finally:
        store.close()


def test_the_leaders_repoll_request_reaches_the_pollers_listen(pg_url: str, tmp_path: Path) -> None:
    """ZoneIngest.forward -> NOTIFY -> a poller's LISTEN task; odd payloads arrive as text."""
    (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
    inventory = load_inventory(tmp_path / "inventory.yaml", env={})
    store = TicketStore(pg_url)
    migrate(store)
    connect = partial(psycopg.connect, conninfo(pg_url), autocommit=True)
    heard: list[str] = []

    async def scenario() -> None:
        runtime = Runtime(store, asyncio.Semaphore(1), dict)
        liveness = Liveness(inventory, 15.0, started=0.0, started_at=T0)
        ingest = ZoneIngest(
            inventory, runtime, lambda _obs: None, liveness, cluster="uji-rp", lease=15.0
        )
        got = asyncio.Event()

        def on_notify(payload: str) -> None:
            heard.append(payload)
            got.set()

        listening = asyncio.create_task(listen(connect, repoll_channel("uji-rp"), on_notify))
        leading = asyncio.create_task(ingest.run())
        try:
            async with asyncio.timeout(HANG):
                while not heard:  # the LISTEN session may start after the first NOTIFY
                    ingest.forward("k1")
                    ingest.forward("core")  # a central device: never sent
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(1.0):
                            await got.wait()
                odd = ["\x1b[31mk1\n", "x" * 7999]
                await asyncio.to_thread(request_repoll, store, "uji-rp", odd)
                while not set(odd) <= set(heard):
                    got.clear()
                    await got.wait()
        finally:
            for task in (listening, leading):
                task.cancel()
            await asyncio.gather(listening, leading, return_exceptions=True)
            runtime.thread.close()

    try:
        asyncio.run(scenario())
        assert "core" not in heard
        assert {"k1", "\x1b[31mk1\n", "x" * 7999} <= set(heard)
    finally:
        store.close()
