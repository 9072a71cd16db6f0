"""SnmpCollector's general path (pysnmp) is plugged in by the caller and opened on first need."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from collectors.model import ProbeStatus, SnmpAuth, SnmpTarget, SnmpVersion
from collectors.snmp import SnmpCollector

if TYPE_CHECKING:
    from collections.abc import Sequence

pytestmark = pytest.mark.unit

V3 = SnmpTarget(
    "rtr",
    "127.0.0.1",
    SnmpAuth(SnmpVersion.V3, user="u", auth_protocol="sha", auth_key="k" * 8),
    timeout=0.1,
    retries=0,
)


class FakeEngine:
    """A general path that answers every GetBulk with a reason and counts its use."""

    def __init__(self, opened: list[FakeEngine]) -> None:
        opened.append(self)
        self.bulks = 0
        self.closed = False

    def close(self) -> None:
        self.closed = True

    async def bulk(
        self, target: SnmpTarget, nonrep: Sequence[bytes], reps: Sequence[bytes], max_rep: int
    ) -> str:
        self.bulks += 1
        return "timeout (fake engine)"


async def test_without_a_general_path_the_poll_says_so() -> None:
    async with SnmpCollector(v3_fast=False) as collector:
        poll = await collector.poll(V3)
    assert poll.status is ProbeStatus.ERROR
    assert "general path (pysnmp)" in poll.reason


async def test_general_path_opens_once_on_first_need_and_closes() -> None:
    opened: list[FakeEngine] = []
    collector = SnmpCollector(v3_fast=False, general=lambda: FakeEngine(opened))
    async with collector:
        assert opened == []  # nothing opened before a device needs it
        first = await collector.poll(V3)
        second = await collector.poll(V3)
    assert len(opened) == 1
    assert opened[0].bulks == 2
    assert opened[0].closed
    assert first.status is second.status is ProbeStatus.TIMEOUT
