"""The zone poller's shipper (issue 23): batches, bounded replay buffer, order, hostile payloads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from agent.zones.codec import decode, encode
from agent.zones.settings import PollerSettings
from agent.zones.ship import Shipper
from collectors.model import Observation, ProbeStatus
from ticketing.zones import pollers, take

if TYPE_CHECKING:
    from collections.abc import Callable

    from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(sqlite_store: TicketStore) -> TicketStore:
    """The shipper does not depend on the engine: SQLite (conftest's migrated store)."""
    return sqlite_store


def _obs(i: int, ok: bool = True) -> Observation:
    status = ProbeStatus.OK if ok else ProbeStatus.TIMEOUT
    return Observation(f"r{i % 3}", "ping", status, T0 + timedelta(seconds=i),
                       value=0.0125 if ok else None, loss=0.0 if ok else 1.0)  # fmt: skip


class _Flaky:
    """The store thread seam, with a switch that makes every call fail (database away)."""

    def __init__(self) -> None:
        self.down = False

    async def __call__(self, fn: Callable[[], Any]) -> Any:
        if self.down:
            raise ConnectionError("database away")
        return fn()


def _shipper(store: TicketStore, call: _Flaky, *, buffer: int = 100, batch: int = 4) -> Shipper:
    settings = PollerSettings(("praya",), "kec-1", buffer=buffer)
    return Shipper(settings, store, call, now=lambda: T0, sha="ab" * 32, batch_size=batch)


def _taken(store: TicketStore) -> list[Observation]:
    return [o for b in take(store, "sigap") for o in map(decode, b.payload) if o is not None]


def test_encode_decode_round_trip() -> None:
    for obs in (_obs(1), _obs(2, ok=False)):
        assert decode(encode(obs)) == obs


def test_results_are_shipped_in_order_in_bounded_batches(store: TicketStore) -> None:
    call = _Flaky()
    shipper = _shipper(store, call)
    sent = [_obs(i) for i in range(10)]
    for obs in sent:
        shipper.record(obs)
    assert asyncio.run(shipper.flush())
    batches = take(store, "sigap")
    assert [len(b.payload) for b in batches] == [4, 4, 2]
    assert [decode(i) for b in batches for i in b.payload] == sent
    assert take(store, "sigap") == []  # taken once: deleted as read
    assert shipper.buffered == 0


def test_database_loss_buffers_then_replays_in_order_with_original_times(
    store: TicketStore,
) -> None:
    call = _Flaky()
    shipper = _shipper(store, call)
    call.down = True
    sent = [_obs(i, ok=i % 2 == 0) for i in range(30)]
    for obs in sent:
        shipper.record(obs)
    assert not asyncio.run(shipper.flush())
    assert (shipper.buffered, shipper.online) == (30, False)
    asyncio.run(shipper.heartbeat())  # refused too: not an error
    call.down = False
    assert asyncio.run(shipper.flush())
    assert _taken(store) == sent
    assert shipper.online is True


def test_a_full_buffer_drops_the_oldest_and_counts_them(store: TicketStore) -> None:
    call = _Flaky()
    shipper = _shipper(store, call, buffer=5)
    call.down = True
    sent = [_obs(i) for i in range(12)]
    for obs in sent:
        shipper.record(obs)
    asyncio.run(shipper.flush())
    assert (shipper.buffered, shipper.dropped) == (5, 7)
    call.down = False
    asyncio.run(shipper.flush())
    assert _taken(store) == sent[-5:]


def test_heartbeat_row_carries_buffer_and_inventory_hash(store: TicketStore) -> None:
    call = _Flaky()
    shipper = _shipper(store, call, buffer=2)
    for i in range(3):
        shipper.record(_obs(i))
    asyncio.run(shipper.heartbeat())
    asyncio.run(shipper.heartbeat())  # an upsert: still one row
    (row,) = pollers(store, "sigap")
    assert (row.node, row.zones, row.buffered, row.dropped) == ("kec-1", ("praya",), 2, 1)
    assert row.inventory_sha == "ab" * 32
    assert row.last_seen == T0


@pytest.mark.parametrize(
    "item",
    [
        None,
        1,
        "r1",
        [],
        ["r1"],
        ["r1", 1.0, "ok", None, None],  # wrong shapes
        [None, 1.0, "ok", None, None, ""],
        ["", 1.0, "ok", None, None, ""],
        ["x" * 10_000, 1.0, "ok", None, None, ""],
        ["r1", "yesterday", "ok", None, None, ""],
        ["r1", True, "ok", None, None, ""],
        ["r1", float("nan"), "ok", None, None, ""],
        ["r1", 1e300, "ok", None, None, ""],
        ["r1", 1.0, "fine", None, None, ""],
        ["r1", 1.0, ["ok"], None, None, ""],
    ],
)
def test_hostile_payload_items_decode_to_nothing(item: object) -> None:
    assert decode(item) is None


def test_odd_numbers_in_a_payload_item_are_dropped_not_trusted() -> None:
    obs = decode(["r1", 1.0, "ok", -5, float("inf"), {"a": 1}])
    assert obs is not None
    assert (obs.value, obs.loss, obs.detail) == (None, None, "")
    long = decode(["r1", 1.0, "timeout", None, 1, "\x00" * 5000])
    assert long is not None
    assert len(long.detail) == 200
