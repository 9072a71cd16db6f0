"""Daemon: bounded probes, one ticket per root cause, drain on stop/SIGTERM, restart, readiness."""

from __future__ import annotations

import asyncio
import random
import signal
from collections import Counter, deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.detect.ping import Detector, DeviceState, FaultOpened
from agent.runtime.daemon import Daemon
from agent.runtime.parts import Runtime
from agent.runtime.repairs import Repairs
from agent.runtime.scheduler import Scheduler
from agent.runtime.writer import TicketWriter
from agent.wiring import assemble_daemon
from collectors.model import (
    HealthPoll,
    InterfaceRow,
    Observation,
    PingTarget,
    ProbeStatus,
    Sensor,
    SensorKind,
    SnmpPoll,
    SnmpTarget,
    SystemInfo,
)
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import RunStatus
from ticketing.states import EventKind, TicketState
from ticketing.store import TicketStore, TicketView

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Mapping
    from pathlib import Path

    from agent.config.model import Inventory
    from agent.runtime.parts import Repairer
    from collectors.base import HealthPoller, Prober, SnmpPoller

pytestmark = pytest.mark.unit

DEADLINE = 20.0  # seconds, a hang bound (generous: a loaded 2-core CI); waits below fail loudly

HEADER = """
office: {{name: Test}}
defaults: {{platform: mikrotik_routeros, role: router, ping: {{interval: 0.05s}}}}
detection: {{reprobe_interval: 0.01s, confirm_rounds: 2}}
daemon: {{max_concurrent_probes: {limit}}}
hosts:
"""

TREE = {  # name -> parent
    "core": None,
    "rtr": "core",
    "sw": "rtr",
    "other": "core",
}


class FakeProber:
    """Satisfies the Prober protocol; replays scripted answers and records concurrency.

    Each device answers from its script (a queue of True/False) while it lasts, then "up unless
    in ``dead``". ``gate`` makes a device's probe wait until the event is set.
    """

    def __init__(
        self,
        *,
        dead: Iterable[str] = (),
        script: dict[str, list[bool]] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.dead = set(dead)
        self.script = {name: deque(answers) for name, answers in (script or {}).items()}
        self.delay = delay
        self.gates: dict[str, asyncio.Event] = {}
        self.raise_cancel: set[str] = set()
        self.raise_bug: set[str] = set()
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls: Counter[str] = Counter()
        self.cancelled: Counter[str] = Counter()
        self.tasks: dict[str, asyncio.Task[object]] = {}
        self.started = False
        self.closed = False

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    async def probe(self, target: PingTarget) -> Observation:
        name = target.name
        task = asyncio.current_task()
        if task is not None:
            self.tasks[name] = task
        if name in self.raise_cancel:  # as if the probe's own await had been cancelled
            self.cancelled[name] += 1
            raise asyncio.CancelledError
        if name in self.raise_bug:  # a programming error inside the collector
            self.calls[name] += 1
            raise RuntimeError(f"bug while probing {name}")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if name in self.gates:
                await self.gates[name].wait()
            if self.delay:
                await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled[name] += 1
            raise
        finally:
            self.in_flight -= 1
        self.calls[name] += 1
        answers = self.script.get(name)
        ok = answers.popleft() if answers else name not in self.dead
        status = ProbeStatus.OK if ok else ProbeStatus.TIMEOUT
        return Observation(
            name,
            "ping",
            status,
            datetime.now(UTC),
            value=0.001 if ok else None,
            loss=0.0 if ok else 1.0,
            detail="" if ok else "request timed out",
        )


def _is_a_prober(fake: FakeProber) -> Prober:
    return fake  # mypy checks FakeProber against the Protocol here


def write_inventory(
    tmp_path: Path, hosts: Mapping[str, str | None], *, limit: int = 1000, name: str = "inv.yaml"
) -> Inventory:
    lines = [HEADER.format(limit=limit).lstrip("\n")]
    for index, (host, parent) in enumerate(hosts.items()):
        address = f"10.52.{index // 250}.{index % 250 + 1}"
        extra = f", parent: {parent}" if parent else ""
        lines.append(f"  {host}: {{address: {address}{extra}}}\n")
    path = tmp_path / name
    path.write_text("".join(lines), encoding="utf-8")
    return load_inventory(path, env={})


async def wait_for(predicate: Callable[[], bool], what: str, seconds: float = DEADLINE) -> None:
    """Poll state the daemon owns (no event to wait on) until ``predicate`` or the deadline."""
    try:
        async with asyncio.timeout(seconds):
            while not predicate():  # noqa: ASYNC110 - nothing to await; the daemon owns the state
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"timed out after {seconds}s waiting for {what}")


@pytest.fixture(autouse=True)
def _no_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)  # no datagrams to a real systemd


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


def open_store(db_path: Path) -> TicketStore:
    store = TicketStore(TicketStore.sqlite_url(db_path))
    migrate(store)
    return store


@pytest.fixture
def store(db_path: Path) -> Iterable[TicketStore]:
    s = open_store(db_path)
    yield s
    s.close()


@asynccontextmanager
async def running(daemon: Daemon) -> AsyncIterator[asyncio.Task[None]]:
    """Run the daemon in a task; stop it and wait for ``run()`` to return on the way out."""
    task = asyncio.create_task(daemon.run(), name="daemon")
    try:
        yield task
    finally:
        daemon.stop()
        if not task.done():
            async with asyncio.timeout(DEADLINE):
                await asyncio.wait({task})
    error = None if task.cancelled() else task.exception()
    if error is not None:
        raise error


def make_daemon(
    inventory: Inventory, store: TicketStore, prober: FakeProber, ready_file: Path | None = None
) -> Daemon:
    return assemble_daemon(
        inventory, store, _is_a_prober(prober), ready_file=ready_file, rng=random.Random(7)
    )


def tickets(store: TicketStore) -> list[TicketView]:
    return store.list(limit=1000)


# ------------------------------------------------------------------ concurrency


async def test_200_devices_never_more_than_20_probes_in_flight(
    tmp_path: Path, store: TicketStore
) -> None:
    hosts = {f"d{i:03d}": None for i in range(200)}
    inventory = write_inventory(tmp_path, hosts, limit=20)
    assert inventory.max_concurrent_probes == 20
    fake = FakeProber(delay=0.01)
    daemon = make_daemon(inventory, store, fake)
    async with running(daemon):
        await wait_for(lambda: len(fake.calls) == 200, "every device probed once")
        await wait_for(lambda: min(fake.calls.values()) >= 2, "a second round")
    assert fake.max_in_flight == 20  # bounded by the semaphore, and the bound was reached
    assert fake.in_flight == 0
    assert fake.started
    assert fake.closed
    assert tickets(store) == []


# ------------------------------------------------------------------ one ticket per root cause


def root_ticket_with_child(store: TicketStore) -> bool:
    active = store.active()
    return any(
        t.fault_key == "rtr/device_down" and any(a.device == "sw" for a in t.affected)
        for t in active
    )


async def test_dead_router_gives_one_ticket_with_its_switch_attached(
    tmp_path: Path, store: TicketStore
) -> None:
    inventory = write_inventory(tmp_path, TREE)
    fake = FakeProber(dead={"rtr", "sw"})
    daemon = make_daemon(inventory, store, fake)
    async with running(daemon):
        await wait_for(lambda: root_ticket_with_child(store), "rtr's ticket listing sw")
        seen = fake.calls.copy()
        await wait_for(lambda: fake.calls["sw"] >= seen["sw"] + 3, "three more rounds of sw")
        assert daemon.detector.state("rtr") is DeviceState.DOWN
        assert daemon.detector.state("sw") is DeviceState.UNREACHABLE
        assert daemon.detector.state("other") is DeviceState.UP
    [ticket] = tickets(store)
    assert ticket.device == "rtr"
    assert ticket.status is TicketState.OPEN
    assert [(a.device, a.detached_at) for a in ticket.affected] == [("sw", None)]
    kinds = [e.kind for e in store.events(ticket.number)]
    assert kinds.count(EventKind.OPENED) == 1
    assert kinds.count(EventKind.ATTACHED) == 1


async def test_scripted_blip_shorter_than_confirm_rounds_opens_no_ticket(
    tmp_path: Path, store: TicketStore
) -> None:
    inventory = write_inventory(tmp_path, TREE)
    fake = FakeProber(script={"other": [True, False, True]})  # one lost round, then fine
    daemon = make_daemon(inventory, store, fake)
    async with running(daemon):
        await wait_for(lambda: fake.calls["other"] >= 5, "five rounds of other")
        assert daemon.detector.state("other") is DeviceState.UP
    assert tickets(store) == []


# ------------------------------------------------------------------ shutdown


def burst(count: int) -> list[FaultOpened]:
    at = datetime.now(UTC)
    return [
        FaultOpened(Fault(f"x{i:03d}", FaultKind.DEVICE_DOWN, f"x{i:03d} mati"), at)
        for i in range(count)
    ]


async def test_stop_returns_after_every_pending_write(
    tmp_path: Path, store: TicketStore, db_path: Path
) -> None:
    inventory = write_inventory(tmp_path, TREE)
    fake = FakeProber()
    daemon = make_daemon(inventory, store, fake)
    task = asyncio.create_task(daemon.run())
    await wait_for(lambda: len(fake.calls) == len(TREE), "first round")
    for event in burst(100):
        daemon.writer.queue.put_nowait(event)
    daemon.stop()
    async with asyncio.timeout(DEADLINE):
        await task  # returns normally
    assert fake.closed
    with open_store(db_path) as fresh:  # a new connection: the rows are committed
        assert len(tickets(fresh)) == 100
        assert {t.device for t in fresh.active()} == {f"x{i:03d}" for i in range(100)}


async def test_sigterm_stops_and_drains(tmp_path: Path, store: TicketStore, db_path: Path) -> None:
    inventory = write_inventory(tmp_path, TREE)
    fake = FakeProber()
    daemon = make_daemon(inventory, store, fake)
    task = asyncio.create_task(daemon.run())
    await wait_for(lambda: len(fake.calls) == len(TREE), "first round")
    # handlers are installed before the first poll; never send SIGTERM without one
    assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)
    for event in burst(30):
        daemon.writer.queue.put_nowait(event)
    signal.raise_signal(signal.SIGTERM)
    async with asyncio.timeout(DEADLINE):
        await task
    assert fake.closed
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler removed again
    with open_store(db_path) as fresh:
        assert len(tickets(fresh)) == 30


async def test_cancelling_the_run_task_ends_it(tmp_path: Path, store: TicketStore) -> None:
    inventory = write_inventory(tmp_path, TREE)
    fake = FakeProber()
    fake.gates = {name: asyncio.Event() for name in TREE}  # every probe hangs
    daemon = make_daemon(inventory, store, fake)
    task = asyncio.create_task(daemon.run())
    await wait_for(lambda: fake.in_flight == len(TREE), "every probe in flight")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(DEADLINE):
            await task
    assert task.cancelled()
    assert fake.cancelled == Counter(dict.fromkeys(TREE, 1))  # reached the probes, not eaten
    assert fake.in_flight == 0
    assert fake.closed


async def test_probe_raising_cancelled_error_is_not_swallowed(
    tmp_path: Path, store: TicketStore
) -> None:
    inventory = write_inventory(tmp_path, TREE)
    fake = FakeProber()
    fake.raise_cancel = {"other"}
    daemon = make_daemon(inventory, store, fake)
    async with running(daemon) as run:
        await wait_for(lambda: "other" in fake.tasks, "a probe of other")
        poller = fake.tasks["other"]
        assert poller.get_name() == "poll:other"
        await wait_for(poller.done, "poll:other to end")
        assert poller.cancelled()  # propagated out of the poll loop, not retried
        await wait_for(lambda: fake.calls["core"] >= 3, "more rounds of the others")
        assert fake.cancelled["other"] == 1
        assert not run.done()


# ------------------------------------------------------------------ restart


async def test_a_bug_probing_one_device_does_not_stop_the_others(
    tmp_path: Path, store: TicketStore, caplog: pytest.LogCaptureFixture
) -> None:
    inventory = write_inventory(tmp_path, TREE)
    fake = FakeProber()
    fake.raise_bug.add("other")
    daemon = make_daemon(inventory, store, fake)
    async with running(daemon) as task:
        await wait_for(lambda: fake.calls["other"] >= 2, "the failing device retried")
        await wait_for(lambda: fake.calls["core"] >= 5, "the others still polled")
        assert not task.done()
    assert "probe of other failed" in caplog.text
    assert daemon.detector.state("other") is DeviceState.UNKNOWN  # no verdict from a bug
    assert tickets(store) == []


async def test_restart_keeps_one_ticket_and_recovers_it(tmp_path: Path, db_path: Path) -> None:
    inventory = write_inventory(tmp_path, TREE)
    with open_store(db_path) as first_store:
        first = make_daemon(inventory, first_store, FakeProber(dead={"rtr", "sw"}))
        async with running(first):
            await wait_for(lambda: root_ticket_with_child(first_store), "rtr's ticket")
    with open_store(db_path) as store:
        [before] = tickets(store)
        fake = FakeProber(dead={"rtr", "sw"})
        second = make_daemon(inventory, store, fake)
        async with running(second):
            await wait_for(lambda: fake.started, "the second daemon to start")
            assert second.detector.state("rtr") is DeviceState.DOWN  # restored, not re-detected
            await wait_for(lambda: fake.calls["rtr"] >= 4, "rounds of rtr after the restart")
            await wait_for(lambda: fake.calls["sw"] >= 4, "rounds of sw after the restart")
            [still] = tickets(store)
            assert (still.number, still.status) == (before.number, TicketState.OPEN)
            fake.dead.clear()  # rtr (and sw) answer again
            await wait_for(
                lambda: store.get(before.number).status is TicketState.RECOVERING, "recovering"
            )
            await wait_for(
                lambda: store.get(before.number).affected[0].detached_at is not None, "sw detached"
            )
        [after] = tickets(store)
        assert after.number == before.number
        assert after.status is TicketState.RECOVERING
        kinds = [e.kind for e in store.events(before.number)]
        assert kinds.count(EventKind.OPENED) == 1
        assert kinds.count(EventKind.ATTACHED) == 1  # re-attaching after restart is idempotent
        assert EventKind.RECURRED not in kinds
        assert EventKind.REOPENED not in kinds
        assert kinds.count(EventKind.CLEARED) == 1
        assert kinds.count(EventKind.DETACHED) == 1


async def test_a_restored_down_device_is_down_on_the_metrics_at_once(
    tmp_path: Path, db_path: Path
) -> None:
    """After a restart (or a failover) a device still down changes no state: the restore
    itself publishes it, so /metrics shows 0, not nothing, until it comes back."""
    from prometheus_client import CollectorRegistry

    from agent.runtime.metrics import Metrics

    inventory = write_inventory(tmp_path, TREE)
    with open_store(db_path) as first_store:
        first = make_daemon(inventory, first_store, FakeProber(dead={"rtr", "sw"}))
        async with running(first):
            await wait_for(lambda: root_ticket_with_child(first_store), "rtr's ticket")
    registry = CollectorRegistry()
    labels = {"device": "rtr", "opd": inventory.devices["rtr"].opd}
    with open_store(db_path) as store:
        fake = FakeProber(dead={"rtr", "sw"})
        second = assemble_daemon(
            inventory, store, _is_a_prober(fake), rng=random.Random(7),
            metrics=Metrics(registry, version="t", intake=dict),
        )  # fmt: skip
        async with running(second):
            await wait_for(lambda: fake.calls["rtr"] >= 2, "rounds of rtr after the restart")
            assert registry.get_sample_value("sigap_device_up", labels) == 0


# ------------------------------------------------------------------ readiness


async def test_ready_file_written_once_after_every_device_was_polled(
    tmp_path: Path, store: TicketStore
) -> None:
    inventory = write_inventory(tmp_path, TREE)
    ready = tmp_path / "ready"
    fake = FakeProber()
    gate = asyncio.Event()
    fake.gates = {"other": gate}  # 'other' answers only when released
    daemon = make_daemon(inventory, store, fake, ready_file=ready)
    async with running(daemon):
        await wait_for(lambda: fake.calls["core"] >= 3, "several rounds of the others")
        assert fake.calls["other"] == 0
        assert not ready.exists()
        gate.set()
        await wait_for(ready.exists, "the ready file")
        assert ready.read_text(encoding="utf-8") == f"{len(TREE)} {len(TREE)}\n"
        ready.unlink()
        seen = fake.calls["other"]
        await wait_for(lambda: fake.calls["other"] >= seen + 3, "more rounds")
        assert not ready.exists()  # written once, not every round


# ------------------------------------------------------------------ SNMP


class FakeSnmp:
    """Satisfies :class:`collectors.base.SnmpPoller`: every device has ether1 + ether2."""

    def __init__(self) -> None:
        self.ether2_up = True
        self.polls: Counter[str] = Counter()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def poll(self, target: SnmpTarget) -> SnmpPoll:
        self.polls[target.name] += 1
        rows = (
            InterfaceRow(1, "ether1", "uplink", admin_up=True, oper_up=True),
            InterfaceRow(2, "ether2", "LAN OPD", admin_up=True, oper_up=self.ether2_up),
        )
        system = SystemInfo(sys_uptime=100_000 + 100 * self.polls[target.name], name=target.name)
        return SnmpPoll(
            target.name, datetime.now(UTC), ProbeStatus.OK, system=system, interfaces=rows
        )


def _is_a_poller(fake: FakeSnmp) -> SnmpPoller:
    return fake


async def test_snmp_interface_down_opens_one_ticket_and_clears(
    tmp_path: Path, store: TicketStore
) -> None:
    path = tmp_path / "snmp.yaml"
    path.write_text(
        "office: {name: T}\n"
        "defaults: {platform: mikrotik_routeros, role: router, ping: {interval: 0.05s},\n"
        "           snmp: {community_env: C, interval: 0.05s}}\n"
        "hosts:\n  rtr: {address: 10.52.0.1}\n"
    )
    inventory = load_inventory(path, env={"C": "c"})
    snmp = FakeSnmp()
    daemon = assemble_daemon(
        inventory, store, _is_a_prober(FakeProber()), snmp=_is_a_poller(snmp), rng=random.Random(3)
    )
    async with running(daemon):
        await wait_for(lambda: snmp.polls["rtr"] >= 2, "two SNMP polls")
        snmp.ether2_up = False
        await wait_for(lambda: len(store.active()) == 1, "an interface_down ticket")
        (ticket,) = store.active()
        assert ticket.fault_key == "rtr/interface_down/ether2"
        assert "ether2 (LAN OPD)" in ticket.summary
        snmp.ether2_up = True
        await wait_for(
            lambda: store.active()[0].status is TicketState.RECOVERING, "the ticket to clear"
        )
    assert len(tickets(store)) == 1


class FakeHealth:
    """Satisfies :class:`collectors.base.HealthPoller`: one temperature sensor, set by the test."""

    def __init__(self) -> None:
        self.celsius = 40.0
        self.polls: Counter[str] = Counter()

    async def poll_health(self, target: SnmpTarget) -> HealthPoll:
        self.polls[target.name] += 1
        sensor = Sensor(SensorKind.TEMPERATURE, "cpu-temperature", self.celsius)
        return HealthPoll(target.name, datetime.now(UTC), ProbeStatus.OK, sensors=(sensor,))


def _is_a_health_poller(fake: FakeHealth) -> HealthPoller:
    return fake


async def test_overheating_router_opens_one_ticket_and_clears(
    tmp_path: Path, store: TicketStore
) -> None:
    path = tmp_path / "health.yaml"
    path.write_text(
        "office: {name: T}\n"
        "defaults: {platform: mikrotik_routeros, role: router, ping: {interval: 0.05s},\n"
        "           snmp: {community_env: C, interval: 0.05s}}\n"
        "health: {interval: 0.05s, temperature_for: 0.2s}\n"
        "hosts:\n  rtr: {address: 10.52.0.1}\n"
    )
    inventory = load_inventory(path, env={"C": "c"})
    health = FakeHealth()
    daemon = assemble_daemon(
        inventory,
        store,
        _is_a_prober(FakeProber()),
        snmp=_is_a_poller(FakeSnmp()),
        health=_is_a_health_poller(health),
        rng=random.Random(3),
    )
    async with running(daemon):
        await wait_for(lambda: health.polls["rtr"] >= 2, "two health polls")
        health.celsius = 82.0
        await wait_for(lambda: len(store.active()) == 1, "a device_overheat ticket")
        polls = health.polls["rtr"]
        await wait_for(lambda: health.polls["rtr"] >= polls + 5, "five more hot polls")
        (ticket,) = store.active()
        assert ticket.fault_key == "rtr/device_overheat"
        assert "cpu-temperature 82 °C" in ticket.summary
        health.celsius = 50.0
        await wait_for(
            lambda: store.active()[0].status is TicketState.RECOVERING, "the ticket to clear"
        )
    assert len(tickets(store)) == 1


async def test_agent_ticket_walks_its_sop_with_the_standing_disposition(
    tmp_path: Path, store: TicketStore
) -> None:
    from agent.wiring import ticket_service

    path = tmp_path / "sop.yaml"
    path.write_text(
        "office: {name: T}\n"
        "defaults: {platform: mikrotik_routeros, role: router, ping: {interval: 0.05s}}\n"
        "detection: {reprobe_interval: 0.01s}\n"
        "sop:\n  standing_disposition: {signer: Kadis, reference: 800/1/2026, technician: Tek}\n"
        "people:\n  - {name: Kadis, role: kadis}\n  - {name: Tek, role: teknisi}\n"
        "hosts:\n  core: {address: 10.52.0.1}\n  rtr: {address: 10.52.0.2, parent: core}\n"
    )
    inventory = load_inventory(path, env={})
    service = ticket_service(inventory, store, lambda: datetime.now(UTC))
    daemon = assemble_daemon(
        inventory,
        store,
        _is_a_prober(FakeProber(dead={"rtr"})),
        service=service,
        rng=random.Random(5),
    )
    async with running(daemon):
        await wait_for(lambda: len(store.active()) == 1, "a ticket for rtr")
        number = store.active()[0].number
        await wait_for(lambda: bool(service.steps(number)), "its SOP steps")
    steps = service.steps(number)
    assert steps[0].completed_by == "sistem"  # laporan: recorded by the system
    assigned = [s for s in steps if s.person == "Tek"]
    assert assigned, [(s.label, s.person, s.completed_by) for s in steps]
    disposition = next(s for s in steps if s.document_kind == "surat_disposisi")
    assert disposition.document is not None
    assert "800/1/2026" in str(disposition.document)


# ------------------------------------------------------------------ remediation dispatch


@dataclass(frozen=True)
class FakeOutcome:
    status: RunStatus | None
    playbook: str = "aktifkan-port"


class FakeRepairer:
    """Satisfies :class:`agent.runtime.parts.Repairer`: records, hangs while ``gate`` is shut."""

    def __init__(self) -> None:
        self.considered: list[tuple[str, int]] = []
        self.gate = asyncio.Event()
        self.cancelled = 0
        self.closed = False
        self.inventory: Inventory | None = None

    def wants(self, ticket: TicketView) -> bool:
        return True

    async def consider(self, ticket: TicketView) -> FakeOutcome:
        self.considered.append((ticket.number, ticket.reopen_count))
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return FakeOutcome(RunStatus.SUCCEEDED)

    async def abort_stale(self) -> int:
        return 0

    def reconfigure(self, inventory: Inventory) -> None:
        self.inventory = inventory

    def close(self) -> None:
        self.closed = True


def _is_a_repairer(fake: FakeRepairer) -> Repairer:
    return fake  # mypy checks FakeRepairer against the Protocol here


def daemon_with_repairs(
    inventory: Inventory, store: TicketStore, prober: FakeProber, repairer: FakeRepairer
) -> Daemon:
    """The composition agent.wiring does, with a fake remediator handed in."""
    detector = Detector(inventory)
    runtime = Runtime(store, asyncio.Semaphore(10), detector.states)
    scheduler = Scheduler(inventory, runtime, prober, detector, rng=random.Random(7))
    repairs = Repairs(_is_a_repairer(repairer), runtime, None)
    writer = TicketWriter(runtime, on_opened=repairs.dispatch)
    return Daemon(inventory, runtime, scheduler, writer, repairs=repairs)


async def test_a_new_ticket_is_repaired_once_and_the_repair_cancelled_at_stop(
    tmp_path: Path, store: TicketStore
) -> None:
    inventory = write_inventory(tmp_path, TREE)
    repairer = FakeRepairer()
    daemon = daemon_with_repairs(inventory, store, FakeProber(dead={"other"}), repairer)
    async with running(daemon):
        await wait_for(lambda: bool(repairer.considered), "a repair of other's ticket")
        [ticket] = tickets(store)
        assert repairer.considered == [(ticket.number, 0)]
        assert daemon.repairs is not None
        daemon.repairs.dispatch(ticket)  # the same opening reported again: not tried twice
        await asyncio.sleep(0.05)
        assert repairer.considered == [(ticket.number, 0)]
    assert repairer.cancelled == 1  # the repair in flight was cancelled at stop
    assert repairer.closed


def test_no_repair_starts_after_the_stop_request(tmp_path: Path, store: TicketStore) -> None:
    inventory = write_inventory(tmp_path, TREE)
    fault = Fault("rtr", FaultKind.DEVICE_DOWN, "rtr mati")
    ticket = store.open_fault(fault, at=datetime.now(UTC)).ticket
    repairer = FakeRepairer()
    runtime = Runtime(store, asyncio.Semaphore(1), dict)
    repairs = Repairs(_is_a_repairer(repairer), runtime, None)
    runtime.stopping.set()
    repairs.dispatch(ticket)  # no running loop needed: nothing is started
    assert repairs.running == []
    assert repairer.considered == []
    repairs.reconfigure(inventory)
    assert repairer.inventory is inventory
    runtime.thread.close()


class CountingSnmp(FakeSnmp):
    """FakeSnmp whose ports carry 64-bit octet counters: 1 Mbit/s per second of poll time."""

    async def poll(self, target: SnmpTarget) -> SnmpPoll:
        result = await super().poll(target)
        octets = int(result.at.timestamp() * 125_000)  # grows 125,000 octets/s = 1 Mbit/s
        rows = tuple(
            replace(r, high_speed_mbps=100, in_octets=octets, out_octets=octets // 2)
            for r in result.interfaces
        )
        return replace(result, interfaces=rows)


def traffic_inventory(tmp_path: Path) -> Inventory:
    """One router polled every 50 ms, its uplink ether1 on a 10M contract."""
    path = tmp_path / "traffic.yaml"
    path.write_text(
        "office: {name: T}\n"
        'daemon: {metrics_listen: ""}\n'  # the registry is read; no port (9464 may be taken)
        "defaults: {platform: mikrotik_routeros, role: router, ping: {interval: 0.05s},\n"
        "           snmp: {community_env: C, interval: 0.05s}}\n"
        "hosts:\n  rtr: {address: 10.52.0.1, opd: Dinas A,\n"
        "    interfaces: {ether1: {uplink: true, bandwidth: 10M}}}\n"
    )
    return load_inventory(path, env={"C": "c"})


async def test_traffic_of_the_marked_port_reaches_prometheus(
    tmp_path: Path, store: TicketStore
) -> None:
    from prometheus_client import CollectorRegistry

    from agent.runtime.metrics import Metrics

    registry = CollectorRegistry()
    snmp = CountingSnmp()
    daemon = assemble_daemon(
        traffic_inventory(tmp_path), store, _is_a_prober(FakeProber()),
        snmp=_is_a_poller(snmp), metrics=Metrics(registry, version="t", intake=dict),
        rng=random.Random(3),
    )  # fmt: skip

    def sample(name: str, interface: str = "ether1") -> float | None:
        labels = {"device": "rtr", "opd": "Dinas A", "interface": interface, "direction": "in"}
        return registry.get_sample_value(f"sigap_interface_{name}", labels)

    async with running(daemon):
        await wait_for(lambda: sample("bits_per_second") is not None, "a traffic sample")
    assert sample("bits_per_second") == pytest.approx(1e6, rel=0.05)
    assert sample("utilisation_ratio") == pytest.approx(0.1, rel=0.05)  # of the 10M contract
    assert sample("bits_per_second", "ether2") is None  # not marked: not exported


async def test_stopping_the_daemon_writes_the_open_traffic_buckets(
    tmp_path: Path, store: TicketStore
) -> None:
    from ticketing import pingloss
    from ticketing.rollups import FINE, HOURLY, read

    daemon = assemble_daemon(
        traffic_inventory(tmp_path), store, _is_a_prober(FakeProber()),
        snmp=_is_a_poller(CountingSnmp()), rng=random.Random(3),
    )  # fmt: skip
    history = daemon.scheduler.history
    assert history is not None
    async with running(daemon):
        await wait_for(lambda: bool(history.rollups._fine), "an open 5-minute bucket")
    # seconds of polling: no bucket had closed, all were written at stop
    start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    fine = read(store, "rtr", "ether1", step=FINE, start=start, end=end)
    hours = read(store, "rtr", "ether1", step=HOURLY, start=start, end=end)
    assert 1 <= len(fine) <= 2  # 2: the run crossed a 5-minute boundary
    assert sum(r.covered_s for r in fine) > 0
    assert all(r.in_avg == pytest.approx(1e6, rel=0.05) for r in fine)
    assert sum(r.covered_s for r in hours) == pytest.approx(sum(r.covered_s for r in fine))
    rounds = pingloss.read(store, "rtr", start=start, end=end)  # the ping rounds' loss too
    assert sum(b.rounds for b in rounds) >= 1
    assert all(b.ratio == 0.0 for b in rounds)
