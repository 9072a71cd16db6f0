"""The daemon's re-discovery (issue 11): link_lost through the ticket writer, cleared when
the cable is back, remembered across a restart and an inventory reload; the stored links
and unknown neighbours (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import random
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.detect.ping import DeviceState
from agent.runtime.parts import Runtime
from agent.topology import watcher
from agent.topology.changes import LinkWatch
from agent.topology.graph import Known, discover
from agent.topology.model import DeviceScan, Link, Neighbour
from agent.topology.watcher import TopologyWatcher
from agent.wiring import assemble_daemon
from tests.unit.test_daemon import FakeProber, _is_a_prober
from ticketing.migrate import migrate
from ticketing.states import TicketState
from ticketing.store import TicketStore
from ticketing.topology import NeighbourRecord, TopologyStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator
    from pathlib import Path

    from agent.config.model import Device, Inventory
    from agent.runtime.daemon import Daemon
    from collectors.model import SnmpTarget
    from collectors.snmp import TableColumns

pytestmark = pytest.mark.unit

DEADLINE = 5.0
AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
INVENTORY = """\
office: {name: T}
defaults:
  platform: mikrotik_routeros
  role: router
  ping: {interval: 0.05s}
  snmp: {community_env: C, interval: 1h}
topology: {interval: 0.05s}
hosts:
  core: {address: 10.52.0.1, tags: [core]}
  dist: {address: 10.52.10.1, parent: core}
  opd1: {address: 10.52.11.1, parent: dist, opd: Dinas Satu}
  opd2: {address: 10.52.12.1, parent: dist, opd: Dinas Dua}
"""
PORTS = {"core": {5: "c2"}, "dist": {1: "ether1", 3: "c3", 4: "c4"},
         "opd1": {1: "ether1", 9: "bk0"}, "opd2": {1: "ether1", 9: "bk0"}}  # fmt: skip
CABLES = [  # (a, a ifIndex, b, b ifIndex)
    ("core", 5, "dist", 1),
    ("dist", 3, "opd1", 1),
    ("dist", 4, "opd2", 1),
    ("opd1", 9, "opd2", 9),  # the backup cable between the two OPD routers
]


class FakeNetwork:
    """Neighbour tables from a set of cables; pull and plug them; an unknown printer."""

    def __init__(self) -> None:
        self.pulled: set[tuple[str, str]] = set()
        self.rounds = 0
        self.printer = False

    def scan(self, device: Device) -> DeviceScan:
        seen: list[Neighbour] = []
        for a, ai, b, bi in CABLES:
            if (a, b) in self.pulled:
                continue
            if device.name == a:
                seen.append(Neighbour("lldp", ai, b, PORTS[b][bi]))
            elif device.name == b:
                seen.append(Neighbour("lldp", bi, a, PORTS[a][ai]))
        if self.printer and device.name == "opd1":
            seen.append(Neighbour("lldp", 1, "printer-lt2", "eth0", "10.52.11.99"))
        return DeviceScan(device.name, PORTS[device.name], tuple(seen))


class NoWalker:
    async def walk_columns(self, target: SnmpTarget, oids: object) -> TableColumns | str:
        raise AssertionError("scan_device is replaced in these tests")


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> FakeNetwork:
    net = FakeNetwork()

    async def fake_scan(_walker: object, device: Device) -> DeviceScan:
        net.rounds += 1
        return net.scan(device)

    monkeypatch.setattr(watcher, "scan_device", fake_scan)
    return net


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    return load_inventory(path, env={"C": "c"})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TicketStore]:
    with TicketStore(TicketStore.sqlite_url(tmp_path / "t.db")) as s:
        migrate(s)
        yield s


@asynccontextmanager
async def running(inventory: Inventory, store: TicketStore) -> AsyncIterator[Daemon]:
    daemon = assemble_daemon(
        inventory, store, _is_a_prober(FakeProber()), rng=random.Random(5), walker=NoWalker(),
    )  # fmt: skip
    task = asyncio.create_task(daemon.run())
    try:
        yield daemon
    finally:
        daemon.stop()
        async with asyncio.timeout(DEADLINE):
            await task


async def until(predicate: Callable[[], object], what: str) -> None:
    try:
        async with asyncio.timeout(DEADLINE):
            while not predicate():  # noqa: ASYNC110 - the daemon owns the state
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


def stored(store: TicketStore) -> dict[tuple[str, str, str, str], bool]:
    return {r.key: r.lost_at is not None for r in TopologyStore(store).links()}


BACKUP = ("opd1", "bk0", "opd2", "bk0")


async def test_pulled_cable_between_live_devices_is_link_lost_then_cleared(
    inventory: Inventory, store: TicketStore, network: FakeNetwork
) -> None:
    async with running(inventory, store):
        await until(lambda: len(stored(store)) == 4, "four links stored")
        network.pulled.add(("opd1", "opd2"))
        await until(store.active, "a link_lost ticket")
        (ticket,) = store.active()
        assert (ticket.fault_key, ticket.kind) == ("opd1/link_lost/bk0", "link_lost")
        assert (
            ticket.summary == "Link opd1 bk0 <-> opd2 bk0 hilang, padahal kedua perangkat menjawab"
        )
        assert ticket.opd == "Dinas Satu"
        assert stored(store)[BACKUP] is True  # the map shows it lost
        network.pulled.clear()
        await until(
            lambda: store.active()[0].status is TicketState.RECOVERING, "the ticket to clear"
        )
        await until(lambda: stored(store)[BACKUP] is False, "the link stored as up")
    assert len(store.list()) == 1


async def test_a_lost_link_stays_lost_across_a_restart_and_clears_after_it(
    inventory: Inventory, store: TicketStore, network: FakeNetwork
) -> None:
    async with running(inventory, store):
        await until(lambda: len(stored(store)) == 4, "four links stored")
        network.pulled.add(("opd1", "opd2"))
        await until(store.active, "a link_lost ticket")
    async with running(inventory, store):  # the cable is still out: a new baseline
        start = network.rounds
        await until(lambda: network.rounds >= start + 12, "three more discoveries")
        (ticket,) = store.active()
        assert ticket.status is TicketState.OPEN
        assert stored(store)[BACKUP] is True
        network.pulled.clear()
        await until(
            lambda: store.active()[0].status is TicketState.RECOVERING, "the ticket to clear"
        )
    assert len(store.list()) == 1


async def test_unknown_neighbour_is_logged_once_and_recorded(
    inventory: Inventory,
    store: TicketStore,
    network: FakeNetwork,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="agent.topology.watcher")
    async with running(inventory, store):
        await until(lambda: len(stored(store)) == 4, "four links stored")
        network.printer = True
        await until(lambda: TopologyStore(store).neighbours(), "the printer recorded")
        start = network.rounds
        await until(lambda: network.rounds >= start + 8, "two more discoveries")
    (printer,) = TopologyStore(store).neighbours()
    assert (printer.seen_by, printer.port, printer.name, printer.address) == (
        "opd1", "ether1", "printer-lt2", "10.52.11.99",
    )  # fmt: skip
    lines = [r.getMessage() for r in caplog.records if "new unknown neighbour" in r.getMessage()]
    assert lines == [
        "new unknown neighbour printer-lt2 (10.52.11.99) seen by opd1 port ether1 [lldp]"
    ]
    assert store.active() == []


async def test_reload_rebaselines_and_carries_lost_links(
    inventory: Inventory, store: TicketStore, network: FakeNetwork, tmp_path: Path
) -> None:
    runtime = Runtime(
        store, asyncio.Semaphore(4), lambda: dict.fromkeys(inventory.devices, DeviceState.UP),
        now=lambda: AT,
    )  # fmt: skip
    topo = TopologyWatcher(inventory, NoWalker(), runtime)
    await topo.round()
    network.pulled.add(("opd1", "opd2"))
    assert len((await topo.round()).lost) == 1
    same = topo.watch
    topo.reconfigure(inventory)  # nothing topological changed: the same memory
    assert topo.watch is same
    moved = tmp_path / "moved.yaml"
    moved.write_text(
        INVENTORY.replace("parent: dist, opd: Dinas Dua", "parent: core, opd: Dinas Dua")
    )
    topo.reconfigure(load_inventory(moved, env={"C": "c"}))
    assert topo.watch is not same
    assert (await topo.round()).restored == ()  # baseline: still lost, nothing new
    network.pulled.clear()
    assert (await topo.round()).restored == ("opd1/link_lost/bk0",)
    runtime.thread.close()


def test_a_link_seen_from_one_side_first_is_not_lost_when_both_ports_are_known() -> None:
    known = {n: Known(n, f"10.0.0.{i}", None) for i, n in enumerate(["a", "b"])}
    half = [DeviceScan("a", {1: "e1"}, (Neighbour("mndp", 1, "b"),)), DeviceScan("b", {}, ())]
    full = [
        DeviceScan("a", {1: "e1"}, (Neighbour("lldp", 1, "b", "e7"),)),
        DeviceScan("b", {7: "e7"}, (Neighbour("lldp", 7, "a", "e1"),)),
    ]
    watch = LinkWatch(parents={})
    watch.update(discover(half, known), {"a", "b"})
    assert [link.key for link in watch.links] == [("a", "e1", "b", "?")]
    assert watch.update(discover(full, known), {"a", "b"}).lost == ()
    assert [link.key for link in watch.links] == [("a", "e1", "b", "e7")]


def test_resume_clears_at_the_baseline_when_the_link_is_back() -> None:
    link = Link("a", "e1", "b", "e7")
    known = {n: Known(n, f"10.0.0.{i}", None) for i, n in enumerate(["a", "b"])}
    full = [DeviceScan("a", {1: "e1"}, (Neighbour("lldp", 1, "b", "e7"),))]
    watch = LinkWatch(parents={})
    watch.resume([(link, "a/link_lost/e1")])
    assert watch.still_lost() == [(link, "a/link_lost/e1")]
    assert watch.update(discover(full, known), {"a", "b"}).restored == ("a/link_lost/e1",)
    assert watch.lost == {}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    url = (
        TicketStore.sqlite_url(tmp_path / "s.db")
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    with TicketStore(url) as s:
        migrate(s)
        yield s


def test_stored_links_mirror_the_watch_and_neighbours_keep_first_seen(
    any_store: TicketStore,
) -> None:
    topo = TopologyStore(any_store)
    one, two = ("a", "e1", "b", "e7"), ("b", "e2", "c", "e1")
    topo.save_links({one: ("lldp",), two: ("cdp", "lldp")}, seen=[one, two], lost={}, at=AT)
    later = AT + timedelta(minutes=15)
    topo.save_links({one: ("lldp",), two: ("lldp",)}, seen=[one], lost={two: "b/link_lost/e2"},
                    at=later)  # fmt: skip
    rows = {r.key: r for r in topo.links()}
    assert rows[one].last_seen == later
    assert rows[one].lost_at is None
    assert (rows[two].last_seen, rows[two].lost_at, rows[two].fault_key) == (
        AT, later, "b/link_lost/e2",
    )  # fmt: skip
    assert rows[two].first_seen == AT
    topo.save_links({one: ("lldp",)}, seen=[one], lost={}, at=later)
    assert [r.key for r in topo.links()] == [one]
    printer = NeighbourRecord("a", "e3", "printer", "10.0.0.9", "eth0", "lldp", "", AT, AT)
    assert topo.record_neighbours([printer], at=AT) == 1
    assert topo.record_neighbours([printer], at=later) == 0
    (row,) = topo.neighbours()
    assert (row.first_seen, row.last_seen) == (AT, later)
