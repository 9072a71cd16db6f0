"""Device leases of zone pollers on the real PostgreSQL (issue 23): split, takeover, safety.

Each test migrates a fresh schema (``pg_url``) and runs keepers as :class:`DeviceLeases` of
different node names. Rounds are driven by the test (no sleeps), except where a lease must
really run out on the database's clock: there the lease is short and the test waits (with a
generous hang timeout) until another keeper has claimed the devices.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from agent.runtime.metrics import Metrics
from agent.zones.leases import DeviceLeases, LeaseError, LeaseKeeper
from tests.conftest import wait_for
from ticketing.db import make_engine
from ticketing.migrate import migrate
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

pytestmark = pytest.mark.integration

HANG = 120.0  # generous: only catches a hang
LONG = 600.0  # a lease that never runs out during a test
ZONE = "kec-ampenan"
DEVICES = [f"sw-{i:02d}" for i in range(10)]


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    with TicketStore(pg_url) as store:
        migrate(store)
    eng = make_engine(pg_url)
    yield eng
    eng.dispose()


def _rows(engine: Engine) -> list[tuple[str, str, str, bool]]:
    """(device, zone, owner, live) of every lease row, by the database's clock."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT device, zone, owner, expires_at > now() FROM device_leases "
                "WHERE cluster = 'sigap' ORDER BY device"
            )
        )
        return [(d, z, o, bool(live)) for d, z, o, live in rows]


def _keepers(engine: Engine, *names: str, lease: float = LONG) -> list[DeviceLeases]:
    return [DeviceLeases(engine, name, lease) for name in names]


def _settle(
    keepers: list[DeviceLeases], devices: list[str], rounds: int = 3
) -> list[frozenset[str]]:
    """Run ``rounds`` rounds of every keeper in turn; the last round's holdings."""
    held: list[frozenset[str]] = []
    for _ in range(rounds):
        held = [k.rebalance(ZONE, devices, len(keepers)) for k in keepers]
    return held


def _assert_split(held: list[frozenset[str]], devices: list[str]) -> None:
    sizes = [len(h) for h in held]
    assert max(sizes) - min(sizes) <= 1, sizes
    assert sum(sizes) == len(set(devices)), sizes  # disjoint and complete
    assert frozenset().union(*held) == frozenset(devices)


@pytest.mark.parametrize("count", [2, 3])
def test_keepers_split_a_zone(engine: Engine, count: int) -> None:
    keepers = _keepers(engine, *(f"poller-{i}" for i in range(count)))
    held = _settle(keepers, DEVICES)
    _assert_split(held, DEVICES)
    owners = Counter(owner for _, _, owner, live in _rows(engine) if live)
    assert sorted(owners.values()) == sorted(len(h) for h in held)
    assert _settle(keepers, DEVICES, rounds=1) == held, "a settled split must not move"


def test_a_joining_keeper_gets_its_share(engine: Engine) -> None:
    a, b = _keepers(engine, "poller-a", "poller-b")
    assert a.rebalance(ZONE, DEVICES, 1) == frozenset(DEVICES)
    assert b.rebalance(ZONE, DEVICES, 2) == frozenset(), "a's devices are not free yet"
    held = _settle([a, b], DEVICES)
    _assert_split(held, DEVICES)
    (c,) = _keepers(engine, "poller-c")
    held = _settle([a, b, c], DEVICES)
    _assert_split(held, DEVICES)


def test_concurrent_rebalances_never_share_a_device(engine: Engine) -> None:
    """Eight keepers rebalance at once from threads, many rounds, membership changing."""
    names = [f"poller-{i}" for i in range(8)]
    keepers = _keepers(engine, *names)
    devices = [f"ap-{i:03d}" for i in range(60)]
    barrier = threading.Barrier(len(keepers))
    held: dict[str, frozenset[str]] = {}
    lock = threading.Lock()

    def rounds(keeper: DeviceLeases, index: int) -> None:
        for r in range(12):
            live = 8 if r % 4 else 5  # some rounds believe fewer pollers live: surplus moves
            barrier.wait(timeout=HANG)
            owned = keeper.rebalance(ZONE, devices, live)
            with lock:
                held[keeper.node] = owned
            barrier.wait(timeout=HANG)
            if index == 0:  # between rounds: every live lease has exactly the owner that says so
                with lock:
                    _assert_disjoint(held)
                    _assert_owner_rows(engine, held)

    with ThreadPoolExecutor(max_workers=len(keepers)) as pool:
        futures = [pool.submit(rounds, k, i) for i, k in enumerate(keepers)]
        for future in futures:
            future.result(timeout=HANG)
    _assert_split(_settle(keepers, devices, rounds=2), devices)


def _assert_disjoint(held: dict[str, frozenset[str]]) -> None:
    seen: dict[str, str] = {}
    for node, owned in held.items():
        for device in owned:
            assert device not in seen, f"{device} held by {seen[device]} and {node}"
            seen[device] = node


def _assert_owner_rows(engine: Engine, held: dict[str, frozenset[str]]) -> None:
    owner = {device: o for device, _, o, live in _rows(engine) if live}
    for node, owned in held.items():
        for device in owned:
            assert owner.get(device) == node, (device, node, owner.get(device))


def test_a_keeper_that_stops_renewing_loses_its_devices(engine: Engine) -> None:
    a, b = _keepers(engine, "poller-a", "poller-b", lease=LONG)
    (c,) = _keepers(engine, "poller-c", lease=2.0)  # stops renewing: runs out on the db clock
    held = _settle([a, b, c], DEVICES)
    _assert_split(held, DEVICES)
    orphaned = held[2]
    assert orphaned

    def taken_over() -> bool | None:
        now = [a.rebalance(ZONE, DEVICES, 2), b.rebalance(ZONE, DEVICES, 2)]
        return True if frozenset().union(*now) == frozenset(DEVICES) else None

    wait_for("a and b to take over c's devices", taken_over, HANG)
    _assert_split(_settle([a, b], DEVICES), DEVICES)
    assert c.rebalance(ZONE, DEVICES, 3) == frozenset(), "c comes back: its share is gone for now"


def test_removed_devices_are_released(engine: Engine) -> None:
    a, b = _keepers(engine, "poller-a", "poller-b")
    _settle([a, b], DEVICES)
    fewer = DEVICES[:4]
    held = _settle([a, b], fewer)
    _assert_split(held, fewer)
    assert {d for d, *_ in _rows(engine)} == set(fewer), "rows of removed devices are dropped"
    assert a.rebalance(ZONE, [], 2) == frozenset()
    assert b.rebalance(ZONE, [], 2) == frozenset()
    assert _rows(engine) == []


def test_release_all_frees_every_device(engine: Engine) -> None:
    a, b = _keepers(engine, "poller-a", "poller-b")
    a.rebalance(ZONE, DEVICES, 1)
    assert a.release_all() == len(DEVICES)
    assert b.rebalance(ZONE, DEVICES, 1) == frozenset(DEVICES), "free at once, no expiry wait"


def test_hostile_device_names_are_stored_safely(engine: Engine) -> None:
    hostile = [
        "o'brien; DROP TABLE device_leases; --",
        'sw "quoted" \\ back',
        "kantor-lurah-ñandú-ümlaut-日本-😀",
        "x" * 128,
        "tab\there\nnewline\x7f",
        "%s %(x)s :devices $1",
    ]
    (a,) = _keepers(engine, "poller-a")
    assert a.rebalance(ZONE, hostile, 1) == frozenset(hostile)
    assert {d for d, *_ in _rows(engine)} == set(hostile)
    for bad in ["x" * 129, "", "nul\x00byte"]:
        with pytest.raises(LeaseError, match="cannot be leased"):
            a.rebalance(ZONE, [*hostile, bad], 1)
    with pytest.raises(LeaseError, match="not text"):
        a.rebalance(ZONE, [*hostile, 42], 1)  # type: ignore[list-item]
    with pytest.raises(LeaseError, match="zone"):
        a.rebalance("Zona'; --", hostile, 1)
    assert {d for d, *_ in _rows(engine)} == set(hostile), "a refused call changes nothing"


def test_sqlite_is_refused(tmp_path) -> None:
    eng = make_engine(TicketStore.sqlite_url(tmp_path / "x.db"))
    try:
        with pytest.raises(LeaseError, match="PostgreSQL"):
            DeviceLeases(eng, "poller-a", 15.0)
    finally:
        eng.dispose()


# zone_pollers belongs to the zone pollers' migration (0016); created here when absent, with
# every column of the contract, so the test runs on either side of that migration
ZONE_POLLERS = """
CREATE TABLE IF NOT EXISTS zone_pollers (
  node varchar(48) PRIMARY KEY, cluster varchar(48) NOT NULL, zones text NOT NULL,
  started_at timestamptz NOT NULL, last_seen timestamptz NOT NULL,
  inventory_sha varchar(64) NOT NULL DEFAULT '', buffered integer NOT NULL DEFAULT 0,
  dropped bigint NOT NULL DEFAULT 0)
"""


def _heartbeats(engine: Engine, rows: list[tuple[str, str, str]], cluster: str = "sigap") -> None:
    """Heartbeat rows (node, zones, last_seen as an interval from the database's now)."""
    with engine.begin() as conn:
        conn.execute(text(ZONE_POLLERS))
        for node, zones, offset in rows:
            conn.execute(
                text(
                    "INSERT INTO zone_pollers (node, cluster, zones, started_at, last_seen) "
                    "VALUES (:n, :c, :z, now(), now() + CAST(:o AS interval))"
                ),
                {"n": node, "c": cluster, "z": zones, "o": offset},
            )


def test_live_pollers_counts_fresh_heartbeats_of_the_zone_and_itself(engine: Engine) -> None:
    _heartbeats(
        engine,
        [
            ("poller-a", f"{ZONE},kec-praya", "0 s"),
            ("poller-b", ZONE, "-1 hour"),  # silent for longer than a lease
            ("poller-c", "kec-praya", "0 s"),  # another zone
            ("poller-d", f"{ZONE}x", "0 s"),  # a zone whose name only starts alike
        ],
    )
    _heartbeats(engine, [("poller-e", ZONE, "0 s")], cluster="other")
    a, z = _keepers(engine, "poller-a", "poller-z", lease=15.0)
    assert a.live_pollers(ZONE) == 1, "itself, once"
    assert z.live_pollers(ZONE) == 2, "poller-a and itself (no heartbeat yet)"
    assert z.live_pollers("kec-praya") == 3


def test_keeper_hands_over_its_share_and_reports(engine: Engine) -> None:
    """Two LeaseKeepers in one event loop split the zone, report metrics, release at stop.

    They count the zone's live pollers from the heartbeat table (rows that stay fresh here).
    """
    _heartbeats(engine, [("poller-a", ZONE, "1 hour"), ("poller-b", f"x,{ZONE}", "1 hour")])
    metrics = Metrics(CollectorRegistry())
    applied: dict[str, list[frozenset[str]]] = {"poller-a": [], "poller-b": []}

    async def scenario() -> None:
        stopping = asyncio.Event()
        keepers = [
            LeaseKeeper(
                DeviceLeases(engine, node, 3.0),
                lambda: {ZONE: DEVICES},
                applied[node].append,
                report=metrics,
            )
            for node in applied
        ]
        runs = [asyncio.create_task(k.run(stopping)) for k in keepers]

        async def split() -> None:
            while True:
                last = [seen[-1] if seen else frozenset() for seen in applied.values()]
                if len(last[0]) == len(last[1]) == len(DEVICES) // 2:
                    return
                await asyncio.sleep(0.05)

        await asyncio.wait_for(split(), HANG)
        stopping.set()
        await asyncio.wait_for(asyncio.gather(*runs), HANG)
        for keeper in keepers:
            await keeper.close()

    asyncio.run(scenario())
    a, b = applied["poller-a"][-2], applied["poller-b"][-2]
    assert not a & b
    assert a | b == frozenset(DEVICES)
    assert applied["poller-a"][-1] == applied["poller-b"][-1] == frozenset(), "closed: nothing"
    assert all(owner == "" for _, _, owner, _ in _rows(engine)), "released at stop"
    for node in applied:
        claimed = metrics.registry.get_sample_value(
            "sigap_poller_lease_changes_total",
            {"node": node, "zone": ZONE, "change": "claimed"},
        )
        assert claimed is not None
        assert claimed >= len(DEVICES) // 2
