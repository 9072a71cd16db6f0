"""Device, ICMP, interface-state and poll-scheduling metrics (see the table in the package)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Final

from prometheus_client import Histogram

from agent.detect.ping import DeviceState
from agent.runtime.metrics._base import NAMESPACE, OTHER, MetricGroup, counter, discard, gauge

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from collectors.model import InterfaceRow, Observation, SnmpPoll

PROBES: Final = ("ping", "snmp", "health")
# one round of one device: ping is ~count x spacing + timeout, SNMP a few GETBULKs
POLL_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
DOWN_STATES: Final = frozenset({DeviceState.DOWN, DeviceState.UNREACHABLE})


def interface_name(row: InterfaceRow) -> str:
    """The label of an interface: ifName, else ifDescr, else its ifIndex."""
    return row.name or row.descr or f"ifIndex{row.index}"


class DeviceMetrics(MetricGroup):
    """Device state, ping rounds, SNMP polls and interface states, the poll scheduler."""

    def _define_devices(self, registry: CollectorRegistry) -> None:
        new, dev = partial(gauge, registry), ["device", "opd"]
        self._interfaces: dict[str, set[str]] = {}
        self.scheduler_lag = 0.0
        self.device_up = new("device_up", "1 up (or suspect), 0 down or unreachable", dev)
        self.device_state_info = new(
            "device_state",
            "Detector state of each device (1 for the current state)",
            [*dev, "state"],
        )
        self.icmp_rtt = new(
            "icmp_rtt_seconds", "Average ICMP round-trip time of the last round", dev
        )
        self.icmp_loss = new(
            "icmp_loss_ratio", "Share of echoes lost in the last round (0..1)", dev
        )
        port = ["device", "interface"]
        self.interface_oper_up = new("interface_oper_up", "ifOperStatus is up(1)", port)
        self.interface_admin_up = new("interface_admin_up", "ifAdminStatus is up(1)", port)
        self.snmp_success = new(
            "snmp_poll_success", "1 when the last SNMP poll returned data", ["device"]
        )
        self.snmp_duration = new(
            "snmp_poll_duration_seconds", "Duration of the last SNMP poll", ["device"]
        )
        ns = NAMESPACE
        self.snmp_polls = counter(registry, "snmp_polls", "SNMP polls by outcome", ["status"])
        self.poll_duration = Histogram(
            "poll_duration_seconds",
            "One poll round of one device, queueing included",
            ["probe"],
            namespace=ns,
            registry=registry,
            buckets=POLL_BUCKETS,
        )
        self.poll_overruns = counter(
            registry,
            "poll_overruns",
            "Poll rounds that took longer than the device's interval",
            ["probe"],
        )
        self.scheduler_lag_seconds = new(
            "scheduler_lag_seconds", "How late the event loop woke up a timer, last check", []
        )
        for probe in PROBES:  # export zeros before the first round, so rate() works at once
            self.poll_duration.labels(probe)
            self.poll_overruns.labels(probe)

    def _forget_device_series(self, name: str, opd: str) -> None:
        for metric in (self.device_up, self.icmp_rtt, self.icmp_loss):
            discard(metric, name, opd)
        for state in DeviceState:
            discard(self.device_state_info, name, opd, state.value)
        discard(self.snmp_success, name)
        discard(self.snmp_duration, name)
        for interface in self._interfaces.pop(name, set()):
            discard(self.interface_oper_up, name, interface)
            discard(self.interface_admin_up, name, interface)

    def device_state(self, device: str, state: DeviceState) -> None:
        """Record the detector's state of ``device`` (call on every StateChanged)."""
        opd = self._opd.get(device, "")
        for each in DeviceState:
            self.device_state_info.labels(device, opd, each.value).set(int(each is state))
        if state is DeviceState.UNKNOWN:
            discard(self.device_up, device, opd)
        else:
            self.device_up.labels(device, opd).set(0 if state in DOWN_STATES else 1)

    def observe_ping(self, observation: Observation) -> None:
        """Record one ping round: RTT when answered, loss always."""
        labels = (observation.device, self._opd.get(observation.device, ""))
        loss = observation.loss if observation.loss is not None else float(observation.failed)
        self.icmp_loss.labels(*labels).set(loss)
        if observation.ok and observation.value is not None:
            self.icmp_rtt.labels(*labels).set(observation.value)
        else:  # a stale RTT would look like a live one
            discard(self.icmp_rtt, *labels)

    def observe_snmp(self, poll: SnmpPoll) -> None:
        """Record one SNMP poll: success, duration, interface states (kept while SNMP fails)."""
        self.snmp_success.labels(poll.device).set(int(poll.ok))
        self.snmp_duration.labels(poll.device).set(poll.duration)
        self.snmp_polls.labels(poll.status.value).inc()
        if not poll.ok:
            return
        seen: set[str] = set()
        for row in poll.interfaces:
            name = interface_name(row)
            seen.add(name)
            if row.oper_up is not None:
                self.interface_oper_up.labels(poll.device, name).set(int(row.oper_up))
            if row.admin_up is not None:
                self.interface_admin_up.labels(poll.device, name).set(int(row.admin_up))
        with self._lock:
            gone = self._interfaces.get(poll.device, set()) - seen
            self._interfaces[poll.device] = seen
        for name in gone:
            discard(self.interface_oper_up, poll.device, name)
            discard(self.interface_admin_up, poll.device, name)

    def poll_finished(self, probe: str, seconds: float, interval: float) -> None:
        """Record one poll round (``probe`` is ping or snmp) and whether it overran."""
        probe = probe if probe in PROBES else OTHER
        self.poll_duration.labels(probe).observe(seconds)
        if seconds > interval:
            self.poll_overruns.labels(probe).inc()

    def set_scheduler_lag(self, seconds: float) -> None:
        """Record how late the event loop ran a timer (see :func:`watch_loop_lag`)."""
        self.scheduler_lag = seconds
        self.scheduler_lag_seconds.set(seconds)


async def watch_loop_lag(metrics: DeviceMetrics, *, interval: float = 1.0) -> None:
    """Measure how late ``asyncio.sleep(interval)`` wakes up, forever (run as a task).

    A loop blocked by a synchronous call shows up here long before the watchdog fires.
    """
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval)
        metrics.set_scheduler_lag(max(0.0, loop.time() - started - interval))
