"""LeaseKeeper without a database (issue 23): what it polls when the database fails or hangs.

A fake :class:`DeviceLeases` answers the rounds; a fake monotonic clock the test advances
decides when the leases would have run out. The keeper keeps what it holds through failed
rounds until then, polls the whole zone without a lease afterwards (or nothing, when told
not to; it logs why), and takes up its share again when the database answers. Real time
only paces the loop (short lease); no assertion depends on it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError

from agent.runtime.metrics import Metrics
from agent.zones.leases import LeaseKeeper, Rebalanced, share

if TYPE_CHECKING:
    from collections.abc import Sequence

pytestmark = pytest.mark.unit

HANG = 60.0
ZONE = "kec-selaparang"
DEVICES = ["sw-1", "sw-2", "sw-3"]


class FakeLeases:
    """Rebalances by a script: ``mode`` ok (hold the first two), fail, or hang (until freed)."""

    def __init__(self, lease: float = 0.3, mode: str = "ok") -> None:
        self.lease, self.node = lease, "poller-x"
        self.mode = mode
        self.rounds = 0
        self.released = 0
        self.unblock = threading.Event()

    def rebalance_detailed(self, zone: str, devices: Sequence[str], live: int) -> Rebalanced:
        assert zone == ZONE
        assert live >= 1
        self.rounds += 1
        if self.mode == "fail":
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        if self.mode == "hang":
            self.unblock.wait(HANG)
        owned = frozenset(devices[:2])
        return Rebalanced(owned=owned, claimed=owned, released=frozenset())

    def release_all(self) -> int:
        self.released += 1
        return 3


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _until(what: str, check: object) -> None:
    async def poll() -> None:
        while not check():  # type: ignore[operator]  # noqa: ASYNC110 - the keeper sets no event
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(poll(), HANG)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


SHARE = frozenset(DEVICES[:2])


@pytest.mark.parametrize("keeps", [True, False])
@pytest.mark.parametrize("outage", ["fail", "hang"])
@pytest.mark.parametrize("live", [1, 2])
def test_keeps_polling_until_the_leases_would_expire(
    outage: str, live: int, keeps: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """Then the whole zone without a lease, alone or not (both pollers may be cut off)."""
    after = frozenset(DEVICES) if keeps else frozenset()
    fake, clock = FakeLeases(), Clock()
    metrics = Metrics(CollectorRegistry())
    applied: list[frozenset[str]] = []

    async def scenario() -> None:
        stopping = asyncio.Event()
        keeper = LeaseKeeper(
            fake,  # type: ignore[arg-type]
            lambda: {ZONE: DEVICES},
            applied.append,
            live_pollers=lambda _zone: live,
            cut_keeps_polling=keeps,
            report=metrics,
            clock=clock,
        )
        run = asyncio.create_task(keeper.run(stopping))
        await _until("the first hand-over", lambda: applied)
        assert applied == [SHARE]
        fake.mode = outage
        seen = fake.rounds
        clock.now += fake.lease / 3  # next round: it fails (or hangs)
        await _until("a round in the outage", lambda: fake.rounds > seen)
        await asyncio.sleep(0.05)
        assert keeper.owned() == SHARE, "held through the outage"
        clock.now += fake.lease  # past what the last good round bought
        await _until("the leases to run out", lambda: applied[-1] == after)
        assert keeper.owned() == after
        fake.mode = "ok"
        fake.unblock.set()
        clock.now += fake.lease
        await _until("the database to answer again", lambda: applied[-1] == SHARE)
        stopping.set()
        await asyncio.wait_for(run, HANG)
        await keeper.close()

    with caplog.at_level(logging.INFO, logger="agent.zones.leases"):
        asyncio.run(scenario())
    assert applied[-1] == frozenset(), "closed: polls nothing"
    assert fake.released == 1
    expired = metrics.registry.get_sample_value(
        "sigap_poller_lease_changes_total",
        {"node": "poller-x", "zone": ZONE, "change": "expired"},
    )
    assert expired == len(SHARE)
    if not keeps:
        assert "ran out without reaching the database" in caplog.text
    elif live > 1:
        assert "this poller polls all its 3 devices" in caplog.text
        assert "another poller may poll them too" in caplog.text
    else:
        assert "its only poller polls all its 3 devices" in caplog.text


@pytest.mark.parametrize("keeps", [True, False])
def test_a_poller_started_without_the_database(keeps: bool) -> None:
    """It polls its whole zone after one round without an answer (unless told not to)."""
    fake, clock = FakeLeases(mode="fail"), Clock()
    applied: list[frozenset[str]] = []

    async def scenario() -> None:
        stopping = asyncio.Event()
        keeper = LeaseKeeper(
            fake,  # type: ignore[arg-type]
            lambda: {ZONE: DEVICES},
            applied.append,
            live_pollers=lambda _zone: 1,
            cut_keeps_polling=keeps,
            clock=clock,
        )
        run = asyncio.create_task(keeper.run(stopping))
        await _until("the first round", lambda: fake.rounds and applied)
        assert applied == [frozenset()], "nothing before a round without an answer"
        clock.now += fake.lease / 3
        if keeps:
            await _until("the whole zone", lambda: applied[-1] == frozenset(DEVICES))
        else:
            seen = fake.rounds
            await _until("another round", lambda: fake.rounds > seen)
            await asyncio.sleep(0.05)
            assert applied == [frozenset()]
        fake.mode = "ok"
        clock.now += fake.lease / 3
        await _until("its share", lambda: applied[-1] == SHARE)
        stopping.set()
        await asyncio.wait_for(run, HANG)
        await keeper.close()

    asyncio.run(scenario())


def test_a_zone_gone_from_the_inventory_is_released() -> None:
    fake, clock = FakeLeases(), Clock()
    zones = {ZONE: DEVICES}
    applied: list[frozenset[str]] = []

    async def scenario() -> None:
        stopping = asyncio.Event()
        keeper = LeaseKeeper(
            fake,  # type: ignore[arg-type]
            lambda: dict(zones),
            applied.append,
            live_pollers=lambda _zone: 1,
            clock=clock,
        )
        run = asyncio.create_task(keeper.run(stopping))
        await _until("the first hand-over", lambda: applied)
        zones.clear()
        clock.now += fake.lease / 3
        await _until("the zone to be dropped", lambda: applied[-1] == frozenset())
        stopping.set()
        await asyncio.wait_for(run, HANG)
        await keeper.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("devices", "live", "mine", "others", "node", "want"),
    [
        (10, 2, 0, {}, "b", 5),
        (10, 3, 0, {}, "b", 4),  # nobody above q=3: may take the extra one
        (10, 3, 0, {"a": 4}, "b", 3),  # r=1 extra already taken
        (10, 3, 4, {"a": 4}, "b", 3),  # two above q: the later name gives one back
        (10, 3, 4, {"c": 4}, "b", 4),  # ... and the earlier keeps it
        (10, 3, 10, {}, "a", 4),  # alone before: keeps ceil, releases the rest
        (0, 3, 2, {}, "a", 0),
        (5, 0, 0, {}, "a", 5),  # no live count yet: counts itself
    ],
)
def test_share(  # noqa: PLR0917 - one parametrised case per argument
    devices: int, live: int, mine: int, others: dict[str, int], node: str, want: int
) -> None:
    assert share(devices, live, mine, others, node) == want
