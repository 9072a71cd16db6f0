"""The ticket writer and the leader fence (issue 23): a refused write waits, it is not dropped.

Under load the lock renewal may come late; the fence then refuses a write although this
process still leads. Dropping the change would lose a ticket (the detector already counts the
fault as open); the writer retries it like a database outage instead. A write refused after a
stop request gives up after the shutdown bound, like a database outage.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.runtime import writer as writer_module
from agent.runtime.leader import LeadershipLostError
from agent.runtime.parts import Runtime
from agent.runtime.writer import TicketWriter

pytestmark = pytest.mark.unit

ITEM = object()  # stands for a detector event (the store call is replaced)


def _writer(fail: int, calls: list[object]) -> TicketWriter:
    runtime = Runtime(store=Any, slots=asyncio.Semaphore(1), states=dict)  # type: ignore[arg-type]
    writer = TicketWriter(runtime)

    def apply(item: object) -> None:
        calls.append(item)
        if len(calls) <= fail:
            raise LeadershipLostError("noc-a: lock not confirmed for 3.5 s (lease 5 s)")

    writer._apply_blocking = apply  # type: ignore[method-assign,assignment]
    return writer


async def test_a_write_refused_by_a_late_renewal_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer_module, "RETRY_FIRST_SECONDS", 0.01)
    calls: list[object] = []
    writer = _writer(2, calls)
    await writer.queue.put(ITEM)  # type: ignore[arg-type]
    await writer.queue.put(None)
    async with asyncio.timeout(30):
        await writer.run()
    assert calls == [ITEM, ITEM, ITEM]
    writer.runtime.thread.close()


async def test_a_clock_tick_refused_is_not_retried() -> None:
    calls: list[object] = []
    writer = _writer(1, calls)
    tick = datetime(2026, 12, 3, tzinfo=UTC)
    await writer.queue.put(tick)
    await writer.queue.put(None)
    async with asyncio.timeout(30):
        await writer.run()
    assert calls == [tick]
    writer.runtime.thread.close()


async def test_after_a_stop_request_refused_writes_give_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(writer_module, "RETRY_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(writer_module, "RETRY_MAX_SECONDS", 0.01)
    monkeypatch.setattr(writer_module, "SHUTDOWN_RETRY_SECONDS", 0.2)
    calls: list[object] = []
    writer = _writer(10**9, calls)
    writer.runtime.stopping.set()
    await writer.queue.put(ITEM)  # type: ignore[arg-type]
    await writer.queue.put(None)
    async with asyncio.timeout(30):
        await writer.run()
    assert len(calls) >= 2
    writer.runtime.thread.close()
