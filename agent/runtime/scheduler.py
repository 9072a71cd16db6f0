"""The poll loops: one ping (and one SNMP) task per device, the ticker, first-round readiness.

Each device's first poll is offset at random within its interval, so 1,000 devices do not
start together (the thundering herd); every probe runs inside the runtime's probe semaphore.
Results go to the detectors, whose events go to the ticket writer's queue in order; a device
the detector wants confirmed is woken up at once. When every ping-enabled device has answered
or failed once, the daemon is ready: ``READY=1`` to systemd and the optional ready file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import TYPE_CHECKING, TypeVar

from agent.detect.ping import DeviceState, StateChanged
from agent.detect.snmp import SnmpDetector
from agent.runtime import systemd
from collectors.model import HealthPoll, SnmpPoll
from ticketing.faults import FaultKind
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from datetime import datetime
    from pathlib import Path

    from agent.config.model import Device, Inventory
    from agent.detect.ping import Detector, Event
    from agent.history.recorder import TrafficHistory
    from agent.runtime.metrics import Metrics
    from agent.runtime.parts import Runtime
    from collectors.base import HealthPoller, Prober, SnmpPoller
    from collectors.model import Observation
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)

TICK_SECONDS = 1.0
_R = TypeVar("_R")


class Scheduler:
    """Polls every device of the inventory and feeds the detectors (one per daemon)."""

    def __init__(
        self,
        inventory: Inventory,
        runtime: Runtime,
        prober: Prober,
        detector: Detector,
        *,
        metrics: Metrics | None = None,
        rng: random.Random | None = None,
        ready_file: Path | None = None,
        history: TrafficHistory | None = None,
        polls: Callable[[Device], bool] | None = None,
        on_probe: Callable[[Observation | SnmpPoll | HealthPoll], None] | None = None,
    ) -> None:
        """Probe with ``prober`` (and ``runtime.snmp``); ``detector`` backs ``runtime.states``.

        ``history`` keeps traffic rollups of the ports that matter (issue 19). ``polls``
        says which devices this process polls (issue 23: a central daemon its zone's, a zone
        poller the devices it owns; default all); the others' results come in through
        :meth:`ingest` (and :meth:`ingest_snmp`, :meth:`ingest_health`). ``on_probe`` sees
        every result polled here, ping, SNMP and health (a zone poller ships them).
        """
        self.inventory = inventory
        self.runtime = runtime
        self.prober = prober
        self.snmp = runtime.snmp
        self.detector = detector
        self.snmp_detector = SnmpDetector(inventory)
        self.metrics = metrics
        self.history = history
        self.ready_file = ready_file
        self.polls = polls or _every_device
        self.on_probe = on_probe
        self.forward: Callable[[str], None] | None = None  # a re-poll of a device polled elsewhere
        self.devices = [d for d in inventory.devices.values() if d.ping.enabled and self.polls(d)]
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._wake = {d.name: asyncio.Event() for d in self.devices}
        self._snmp_wake: dict[str, asyncio.Event] = {}  # SNMP loops woken by a trap/syslog
        self._seen: set[str] = set()
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._group: asyncio.TaskGroup | None = None

    async def open(self) -> None:
        """Start the collectors (the ping socket first: a missing permission stops start-up)."""
        await self.prober.start()
        if self.snmp is not None:
            await self.snmp.start()

    async def close(self) -> None:
        """Release the collectors."""
        await self.prober.close()
        if self.snmp is not None:
            await self.snmp.close()

    def restore(self, active: Sequence[TicketView], now: datetime) -> None:
        """Resume the detectors from the tickets still active in the database."""
        faults = [(t.device, FaultKind(t.kind)) for t in active if t.status is TicketState.OPEN]
        self.detector.restore(faults, now)
        if self.metrics is not None:  # no StateChanged while it stays down: publish it now
            states = self.detector.states()
            for device in {d for d, _ in faults if d in states}:
                self.metrics.device_state(device, states[device])
        self.snmp_detector.restore(t.fault_key for t in active if t.fault_key)

    def start(self, group: asyncio.TaskGroup) -> None:
        """Start every device's loops and the ticker in the daemon's task group."""
        self._group = group
        for device in self.inventory.devices.values():
            if self.polls(device):
                self._start_loops(device)
        self._ticker = group.create_task(self._tick(), name="ticker")
        if self.history is not None:
            self._loops["history"] = group.create_task(self.history.run(), name="history")

    def tasks(self) -> list[asyncio.Task[None]]:
        """The poll loops and the ticker (the daemon cancels them first at shutdown)."""
        ticker = [self._ticker] if self._ticker is not None else []
        return [*self._loops.values(), *ticker]

    def reconfigure(self, new: Inventory) -> tuple[list[Device], list[str]]:
        """Switch to a reloaded inventory: changed devices restart their loops, others go on.

        Returns the devices new or changed and the names removed.
        """
        old = self.inventory
        changed = [d for n, d in new.devices.items() if old.devices.get(n) != d]
        removed = [n for n in old.devices if n not in new.devices]
        for name in [*removed, *(d.name for d in changed)]:
            for key in (f"poll:{name}", f"snmp:{name}", f"health:{name}"):
                task = self._loops.pop(key, None)
                if task is not None:
                    task.cancel()
            self._seen.discard(name)
        self.inventory = new
        self.detector.reconfigure(new)
        self.snmp_detector.reconfigure(new)
        self.devices = [d for d in new.devices.values() if d.ping.enabled and self.polls(d)]
        for device in changed:
            if self.polls(device):
                self._start_loops(device)
        return changed, removed

    def repoll(self, name: str) -> None:
        """Poll ``name`` now (ping and interfaces): a trap or syslog line said something changed.

        The poll decides (DESIGN 14): a trap alone never opens a ticket. A device polled
        elsewhere (a zone poller's) is handed to :attr:`forward`.
        """
        woken = False
        for wake in (self._wake.get(name), self._snmp_wake.get(name)):
            if wake is not None:
                wake.set()
                woken = True
        if not woken and self.forward is not None:
            self.forward(name)

    def _start_loops(self, device: Device) -> None:
        """Start the ping (and SNMP) loop of ``device`` in the running task group."""
        group = self._group
        assert group is not None  # noqa: S101 - only called after start()
        self._wake.setdefault(device.name, asyncio.Event())
        if device.ping.enabled:
            self._loops[f"poll:{device.name}"] = group.create_task(
                self._poll(device), name=f"poll:{device.name}"
            )
        if self.snmp is not None and device.snmp is not None:
            self._loops[f"snmp:{device.name}"] = group.create_task(
                self._snmp_poll(self.snmp, device), name=f"snmp:{device.name}"
            )
        health = self.runtime.health
        if health is not None and device.snmp is not None and self.inventory.health.enabled:
            self._loops[f"health:{device.name}"] = group.create_task(
                self._health_poll(health, device), name=f"health:{device.name}"
            )

    async def _poll(self, device: Device) -> None:
        target = device.ping_target()
        wake = self._wake[device.name]
        # spread the first round over one interval so 1,000 devices don't start together
        await _sleep(wake, self._rng.uniform(0, device.ping.interval))
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                async with self.runtime.slots:
                    observation = await self.prober.probe(target)
            except Exception:  # a bug probing one device must not stop the others
                logger.exception("probe of %s failed; retrying next interval", device.name)
                await _sleep(wake, device.ping.interval)
                continue
            if self.metrics is not None:
                self.metrics.poll_finished("ping", loop.time() - started, device.ping.interval)
            self.ingest(observation)
            if self.on_probe is not None:
                self.on_probe(observation)
            retry = self.detector.wants_reprobe(device.name)
            interval = self.inventory.detection.reprobe_interval if retry else device.ping.interval
            await _sleep(wake, interval)

    def ingest(self, observation: Observation) -> None:
        """One ping result, probed here or by a zone poller: metrics, history, the detector."""
        if self.metrics is not None:
            self.metrics.observe_ping(observation)
        if self.history is not None and observation.loss is not None:
            self.history.observe_ping(observation.device, observation.at, observation.loss)
        self._handle(self.detector.observe(observation))
        self._mark_seen(observation.device)

    async def _snmp_poll(self, snmp: SnmpPoller, device: Device) -> None:
        target, settings = device.snmp_target(), device.snmp
        if target is None or settings is None:
            return
        wake = self._snmp_wake.setdefault(device.name, asyncio.Event())
        await self._every(
            "snmp", device.name, settings.interval, lambda: snmp.poll(target), self._polled,
            wake=wake,
        )  # fmt: skip

    def ingest_snmp(self, result: SnmpPoll) -> None:
        """One interface poll, polled here or by a zone poller: metrics, detector, traffic."""
        if self.metrics is not None:
            self.metrics.observe_snmp(result)
        state = self.detector.state(result.device)
        self._handle(self.snmp_detector.observe(result, state))
        if result.ok:
            self._traffic(result.device)

    async def _health_poll(self, health: HealthPoller, device: Device) -> None:
        """Poll one device's health every ``health.interval`` (slower than its interfaces)."""
        target = device.snmp_target()
        if target is None:
            return
        interval = self.inventory.health.interval
        await self._every(
            "health", device.name, interval, lambda: health.poll_health(target), self._polled
        )

    def ingest_health(self, result: HealthPoll) -> None:
        """One health poll, polled here or by a zone poller: metrics and the health checks."""
        if self.metrics is not None:
            self.metrics.observe_health(result)
        self._handle(self.snmp_detector.observe_health(result))

    def ingest_any(self, result: Observation | SnmpPoll | HealthPoll) -> None:
        """A result of any kind (a zone poller's, :mod:`agent.zones.ingest`) on its own path."""
        if isinstance(result, SnmpPoll):
            self.ingest_snmp(result)
        elif isinstance(result, HealthPoll):
            self.ingest_health(result)
        else:
            self.ingest(result)

    def _polled(self, result: SnmpPoll | HealthPoll) -> None:
        self.ingest_any(result)
        if self.on_probe is not None:
            self.on_probe(result)

    async def _every(
        self,
        probe: str,
        device: str,
        interval: float,
        poll: Callable[[], Awaitable[_R]],
        seen: Callable[[_R], None],
        *,
        wake: asyncio.Event | None = None,
    ) -> None:
        """Run ``poll`` every ``interval`` (first at a random offset) in a probe slot.

        ``wake`` set: poll now (a re-poll request), then the interval starts again.
        """
        wake = wake or asyncio.Event()
        await _sleep(wake, self._rng.uniform(0, interval))
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                async with self.runtime.slots:
                    result = await poll()
            except Exception:  # a bug polling one device must not stop the others
                logger.exception("%s poll of %s failed; retrying next interval", probe, device)
            else:
                if self.metrics is not None:
                    self.metrics.poll_finished(probe, loop.time() - started, interval)
                seen(result)
            await _sleep(wake, interval)

    def _traffic(self, name: str) -> None:
        """Rates of the last poll to Prometheus and to the traffic history."""
        if self.metrics is not None:
            self.metrics.observe_traffic(name, self.snmp_detector.traffic(name))
        if self.history is not None:
            self.history.observe(self.snmp_detector.rollup_samples(name))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = self.runtime.now()
            self._handle(self.detector.tick(now))
            self.runtime.tickets.put_nowait(now)  # hold-down resolution, in order with the rest

    def _handle(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, StateChanged):
                _log_state(event)
                if self.metrics is not None:
                    self.metrics.device_state(event.device, event.new)
            else:
                self.runtime.submit(event)
        for name in self.detector.take_requests():
            wake = self._wake.get(name)
            if wake is not None:
                wake.set()
            elif self.forward is not None:
                self.forward(name)

    def _mark_seen(self, name: str) -> None:
        if len(self._seen) == len(self.devices) or name not in self._wake:
            return  # a device polled elsewhere does not count towards this one's first round
        self._seen.add(name)
        if len(self._seen) == len(self.devices):
            states = self.detector.states().values()
            up = sum(1 for s in states if s is DeviceState.UP)
            logger.info("first round done: %d of %d devices up", up, len(self.devices))
            systemd.notify("READY=1")
            if self.ready_file is not None:
                self.ready_file.write_text(f"{up} {len(self.devices)}\n", encoding="utf-8")


def _every_device(_device: Device) -> bool:
    return True


async def _sleep(wake: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` or until ``wake`` is set (a re-probe request), then clear it."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await wake.wait()
    wake.clear()


def _log_state(event: StateChanged) -> None:
    """Log transitions, not polls: bad news at WARNING, recoveries at INFO."""
    bad = event.new in (DeviceState.DOWN, DeviceState.UNREACHABLE)
    if event.new is DeviceState.SUSPECT or (event.old is DeviceState.UNKNOWN and not bad):
        logger.debug("%s %s -> %s (%s)", event.device, event.old, event.new, event.reason)
        return
    level = logging.WARNING if bad else logging.INFO
    logger.log(level, "%s %s -> %s (%s)", event.device, event.old, event.new, event.reason)
