"""SNMP and health polls of zone devices (issue 23): wire form, buffer, the leader's feed."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from agent.config.load import load_inventory
from agent.detect.ping import Detector, FaultOpened
from agent.runtime.parts import Runtime
from agent.runtime.scheduler import Scheduler
from agent.zones.codec import ROWS_MAX, TEXT_MAX, decode, encode, weight
from agent.zones.ingest import ZoneIngest
from agent.zones.liveness import Liveness
from agent.zones.settings import PollerSettings
from agent.zones.ship import Shipper
from collectors.model import (
    HealthPoll,
    InterfaceRow,
    Observation,
    PingTarget,
    ProbeStatus,
    RadioLink,
    Sensor,
    SensorKind,
    SnmpPoll,
    SnmpTarget,
    SystemInfo,
)
from ticketing.faults import FaultKind
from ticketing.zones import Batch, take

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from agent.config.model import Inventory
    from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
INVENTORY = """\
office: {name: Uji}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  snmp: {version: "2c", community_env: COMM, interval: 30s}
health: {interval: 1m, cpu_for: 2m}
hosts:
  core: {address: 10.7.0.1}
  k1: {address: 10.7.1.1, parent: core, zone: kec}
"""


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    return load_inventory(path, env={"COMM": "s3cret"})


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _ports(seconds: float, *up: bool, device: str = "k1") -> SnmpPoll:
    rows = tuple(
        InterfaceRow(i + 1, name=f"ether{i + 1}", admin_up=True, oper_up=u,
                     oper_status=1 if u else 2, high_speed_mbps=1000,
                     in_octets=2**63 + int(seconds) * 1000, out_octets=7)
        for i, u in enumerate(up)
    )  # fmt: skip
    system = SystemInfo(sys_uptime=100_000 + int(seconds) * 100, name="k1\x00", descr="RouterOS")
    return SnmpPoll(device, _at(seconds), ProbeStatus.OK, system=system, interfaces=rows,
                    duration=0.031)  # fmt: skip


def _health(seconds: float, cpu: float, device: str = "k1") -> HealthPoll:
    return HealthPoll(
        device, _at(seconds), ProbeStatus.OK, cpu_pct=cpu, memory_pct=41.5,
        sensors=(Sensor(SensorKind.TEMPERATURE, "board", 48.0),
                 Sensor(SensorKind.FAN, "fan1", ok=True)),
        radios=(RadioLink("wlan1", "aa:bb:cc:dd:ee:ff", signal_dbm=-61.0, tx_rate_bps=2**40),),
        notes=("voltage: absurd value left out",),
    )  # fmt: skip


def _wire(item: object) -> object:
    """What the leader reads back: the item through JSON, as PostgreSQL's json column holds it."""
    return json.loads(json.dumps(item))


# ---- the wire form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "result",
    [
        _ports(0, True, False),
        _health(0, 12.5),
        SnmpPoll("k1", T0, ProbeStatus.TIMEOUT, "timeout"),
        HealthPoll("k1", T0, ProbeStatus.ERROR, "wrong digest (auth key)", duration=1.5),
        Observation("k1", "ping", ProbeStatus.OK, T0, value=0.0125, loss=0.0),
    ],
    ids=["ports", "health", "snmp-timeout", "health-error", "ping"],
)
def test_every_result_comes_back_equal_through_json(result: Any) -> None:
    assert decode(_wire(encode(result))) == result


def test_weight_counts_the_rows_a_result_carries() -> None:
    assert weight(Observation("k1", "ping", ProbeStatus.OK, T0)) == 1
    assert weight(_ports(0, True, True, False)) == 4
    assert weight(_health(0, 5.0)) == 4  # the poll, two sensors, one radio


def _snmp_item(**over: object) -> dict[str, Any]:
    item: dict[str, Any] = dict(encode(_ports(0, True)))
    item.update(over)
    return item


HOSTILE: list[object] = [
    {},
    {"k": "snmp"},
    {"k": "trap", "d": "k1", "t": 1.0, "s": "ok"},
    {"k": ["snmp"], "d": "k1", "t": 1.0, "s": "ok"},
    _snmp_item(d=""),
    _snmp_item(d="x" * 129),
    _snmp_item(d=7),
    _snmp_item(t="yesterday"),
    _snmp_item(t=float("nan")),
    _snmp_item(t=True),
    _snmp_item(t=1e300),
    _snmp_item(s="great"),
    _snmp_item(s=None),
    _snmp_item(system="RouterOS"),
    _snmp_item(system={"sys_uptime": "long"}),
    _snmp_item(system={"sys_uptime": True}),
    _snmp_item(system={"sys_uptime": 2**70}),
    _snmp_item(interfaces={"index": 1}),
    _snmp_item(interfaces=[{"name": "ether1"}]),  # no index
    _snmp_item(interfaces=[{"index": 1.5}]),
    _snmp_item(interfaces=[{"index": 1, "oper_up": 1}]),
    _snmp_item(interfaces=[{"index": 1, "in_octets": -(2**65)}]),
    _snmp_item(interfaces=[[1, "ether1"]]),
    _snmp_item(interfaces=[{"index": 1}] * (ROWS_MAX + 1)),
    _snmp_item(duration=float("inf")),
    _snmp_item(duration="fast"),
    {**dict(encode(_health(0, 5.0))), "cpu_pct": "high"},
    {**dict(encode(_health(0, 5.0))), "sensors": [{"kind": "smell", "name": "x"}]},
    {**dict(encode(_health(0, 5.0))), "sensors": [{"kind": "fan", "name": "f", "ok": "yes"}]},
    {**dict(encode(_health(0, 5.0))), "notes": [1, 2]},
    {**dict(encode(_health(0, 5.0))), "radios": [{"interface": None}]},
]


@pytest.mark.parametrize("item", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_poll_items_decode_to_nothing(item: object) -> None:
    assert decode(_wire(item)) is None


def test_nested_and_huge_values_never_raise() -> None:
    deep: object = {"index": 1}
    for _ in range(200):
        deep = {"k": "snmp", "d": "k1", "t": 1.0, "s": "ok", "system": deep}
    nested = decode(deep)  # keys a SystemInfo does not have are never walked into
    assert isinstance(nested, SnmpPoll)
    assert nested.system == SystemInfo()
    long = decode(_wire(_snmp_item(system={"descr": "\x1b[31m" + "A" * 100_000}, r="\r\n" * 9)))
    assert isinstance(long, SnmpPoll)
    assert long.system is not None
    assert len(long.system.descr) == TEXT_MAX
    unknown = decode(_wire(_snmp_item(extra={"a": [1, 2]}, interfaces=[{"index": 3, "zzz": 1}])))
    assert isinstance(unknown, SnmpPoll)  # keys it does not know are ignored, not trusted
    assert unknown.interfaces == (InterfaceRow(3),)


# ---- the poller's buffer ------------------------------------------------------------------


async def _direct(fn: Callable[[], Any]) -> Any:
    return fn()


def test_the_buffer_and_batches_count_rows_not_results(sqlite_store: TicketStore) -> None:
    settings = PollerSettings(("kec",), "kec-1", buffer=10)
    shipper = Shipper(settings, sqlite_store, _direct, now=lambda: T0, batch_size=4)
    shipper.record(_ports(0, True, True, True))  # 4 units
    shipper.record(_ports(1, True, True, True))  # 8
    shipper.record(Observation("k1", "ping", ProbeStatus.OK, _at(2)))  # 9
    shipper.record(_ports(3, True, True))  # 12 > 10: the oldest poll (4 units) goes
    assert (shipper.buffered, shipper.dropped) == (8, 4)
    big = SnmpPoll(
        "k1", _at(4), ProbeStatus.OK, interfaces=tuple(InterfaceRow(i) for i in range(30))
    )
    shipper.record(big)  # alone over the bound: the newest is kept, all older go
    assert (shipper.buffered, shipper.dropped) == (31, 12)
    shipper.record(_ports(5, True))
    assert shipper.buffered == 2
    assert asyncio.run(shipper.flush())
    rows = take(sqlite_store, "sigap")
    assert [len(b.payload) for b in rows] == [1]  # 2 units: one row
    assert decode(rows[0].payload[0]) == _ports(5, True)


def test_a_replay_is_cut_into_rows_of_at_most_batch_size_units(sqlite_store: TicketStore) -> None:
    settings = PollerSettings(("kec",), "kec-1", buffer=1000)
    shipper = Shipper(settings, sqlite_store, _direct, now=lambda: T0, batch_size=4)
    sent: list[Any] = [_ports(0, True, True), Observation("k1", "ping", ProbeStatus.OK, _at(1)),
                       _ports(2, True, True, True, True, True), _health(3, 9.0)]  # fmt: skip
    for result in sent:
        shipper.record(result)
    assert asyncio.run(shipper.flush())
    rows = take(sqlite_store, "sigap")
    assert [len(b.payload) for b in rows] == [2, 1, 1]  # 3+1 | 6 (alone) | 4
    assert [decode(i) for b in rows for i in b.payload] == sent


# ---- the leader feeds them to its own detectors --------------------------------------------


def _leader(inventory: Inventory) -> tuple[Scheduler, Runtime]:
    detector = Detector(inventory)
    runtime = Runtime(None, asyncio.Semaphore(1), detector.states)  # type: ignore[arg-type]
    return Scheduler(inventory, runtime, _NoProbe(), detector, rng=random.Random(1)), runtime


class _NoProbe:
    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def probe(self, target: PingTarget) -> Observation:
        raise AssertionError(f"the leader does not probe {target.name}")


def _zone_ingest(inventory: Inventory, scheduler: Scheduler, runtime: Runtime) -> ZoneIngest:
    liveness = Liveness(inventory, 15.0, started=0.0, started_at=T0, sha="")
    return ZoneIngest(
        inventory, runtime, scheduler.ingest_any, liveness, cluster="sigap", lease=15.0
    )


def _opened(runtime: Runtime) -> list[str]:
    out = []
    while not runtime.tickets.empty():
        item = runtime.tickets.get_nowait()
        if isinstance(item, FaultOpened):
            out.append(item.fault.key)
    return out


def test_a_zone_interface_that_goes_down_opens_its_ticket_at_the_leader(
    inventory: Inventory,
) -> None:
    scheduler, runtime = _leader(inventory)
    ingest = _zone_ingest(inventory, scheduler, runtime)
    ingest._feed(Batch(1, "kec-1", T0, [_wire(encode(_ports(0, True, True)))]))
    ingest._feed(Batch(2, "kec-1", T0, [_wire(encode(_ports(30, True, False)))]))
    assert _opened(runtime) == [f"k1/{FaultKind.INTERFACE_DOWN.value}/ether2"]
    assert ingest.fed == 2
    again = [_wire(encode(_ports(30, True, False))), _wire(encode(_ports(60, True, True)))]
    ingest._feed(Batch(3, "kec-1", T0, again))  # the first one was fed already
    assert (ingest.fed, ingest.repeated) == (3, 1)


def test_zone_health_polls_reach_the_leaders_health_checks(inventory: Inventory) -> None:
    scheduler, runtime = _leader(inventory)
    ingest = _zone_ingest(inventory, scheduler, runtime)
    batch = [_wire(encode(_health(s, 99.0))) for s in (0, 60, 120, 180)]
    ingest._feed(Batch(1, "kec-1", T0, batch))
    assert _opened(runtime) == [f"k1/{FaultKind.CPU_HIGH.value}"]


def test_a_central_devices_polls_from_a_poller_are_refused(inventory: Inventory) -> None:
    scheduler, runtime = _leader(inventory)
    ingest = _zone_ingest(inventory, scheduler, runtime)
    batch = [_wire(encode(_ports(0, True, device="core"))), _wire(encode(_health(0, 99.0, "core")))]
    ingest._feed(Batch(1, "kec-1", T0, batch))
    assert (ingest.fed, ingest.refused) == (0, 2)


# ---- the poller polls and ships them -------------------------------------------------------


class _Answering:
    """An SNMP and health poller that answers at once (the lab test uses real snmpd)."""

    def __init__(self) -> None:
        self.polled: list[str] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def poll(self, target: SnmpTarget) -> SnmpPoll:
        self.polled.append(f"snmp:{target.name}")
        return _ports(len(self.polled), True)

    async def poll_health(self, target: SnmpTarget) -> HealthPoll:
        self.polled.append(f"health:{target.name}")
        return _health(len(self.polled), 10.0)


class Pinging(_NoProbe):
    """Every ping gets ``status`` at once."""

    def __init__(self, status: ProbeStatus = ProbeStatus.OK) -> None:
        self.status = status

    async def probe(self, target: PingTarget) -> Observation:
        return Observation(target.name, "ping", self.status, T0, value=0.001, loss=0.0)


def test_a_poller_ships_its_devices_snmp_and_health_polls(
    inventory: Inventory, sqlite_store: TicketStore
) -> None:
    from agent.wiring import build_poller

    fast = INVENTORY.replace("interval: 30s", "interval: 0.2s").replace("1m,", "0.2s,")
    inventory.path.write_text(fast, encoding="utf-8")
    inventory = load_inventory(inventory.path, env={"COMM": "s3cret"})
    answering = _Answering()
    settings = PollerSettings(("kec",), "kec-1")
    poller = build_poller(
        inventory, sqlite_store, settings, prober=Pinging(), snmp=answering, health=answering,
        rng=random.Random(3),
    )  # fmt: skip
    kinds: set[type] = set()
    every = asyncio.Event()
    record = poller.shipper.record

    def seen(result: Any) -> None:
        kinds.add(type(result))
        record(result)
        if kinds == {Observation, SnmpPoll, HealthPoll}:
            every.set()

    poller.scheduler.on_probe = seen

    async def run() -> None:
        task = asyncio.create_task(poller.run())
        async with asyncio.timeout(60):  # a hang, not a speed bound
            await every.wait()
        poller.stop()
        await task

    asyncio.run(run())
    shipped = [decode(i) for b in take(sqlite_store, "sigap") for i in b.payload]
    assert {type(r) for r in shipped} == {Observation, SnmpPoll, HealthPoll}
    assert {r.device for r in shipped if r is not None} == {"k1"}  # the core is not its device
    assert set(answering.polled) >= {"snmp:k1", "health:k1"}
