"""Device health (CPU, memory, sensors) and radio-link metrics (see the table in the package)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from agent.runtime.metrics._base import MetricGroup, discard, gauge
from collectors.model import SensorKind

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from collectors.model import HealthPoll, RadioLink


class HealthMetrics(MetricGroup):
    """One health poll per device: CPU, memory, sensors by kind, radios by interface."""

    def _define_health(self, registry: CollectorRegistry) -> None:
        new = partial(gauge, registry)
        self._radios: dict[str, set[str]] = {}
        self.health_success = new(
            "health_poll_success", "1 when the last health poll answered", ["device"]
        )
        self.cpu_percent = new("device_cpu_percent", "CPU load (%)", ["device"])
        self.memory_percent = new("device_memory_percent", "Memory in use (%)", ["device"])
        self.sensor = new(
            "device_sensor",
            "Lowest/highest sensor reading of a kind (C, V, rpm, W, A)",
            ["device", "kind", "stat"],
        )
        self.sensors_failed = new(
            "device_sensors_failed", "Fans/PSUs reporting failure", ["device", "kind"]
        )
        radio = ["device", "interface"]
        self.radio_signal = new("radio_signal_dbm", "Weakest signal on a radio interface", radio)
        self.radio_ccq = new("radio_ccq_percent", "Worst CCQ on a radio interface", radio)
        self.radio_peers = new("radio_peers", "Registered peers on a radio interface", radio)

    def _forget_health(self, name: str) -> None:
        for metric in (self.health_success, self.cpu_percent, self.memory_percent):
            discard(metric, name)
        for kind in SensorKind:
            discard(self.sensors_failed, name, kind.value)
            for stat in ("min", "max"):
                discard(self.sensor, name, kind.value, stat)
        for interface in self._radios.pop(name, set()):
            for metric in (self.radio_signal, self.radio_ccq, self.radio_peers):
                discard(metric, name, interface)

    def observe_health(self, poll: HealthPoll) -> None:
        """Record one health poll: CPU, memory, sensors by kind, radios by interface."""
        self.health_success.labels(poll.device).set(int(poll.ok))
        if not poll.ok:
            return
        for metric, value in (
            (self.cpu_percent, poll.cpu_pct),
            (self.memory_percent, poll.memory_pct),
        ):
            if value is not None:
                metric.labels(poll.device).set(value)
        for kind in SensorKind:
            values = [  # readings; state sensors (fan/PSU ok or failed) are counted below
                s.value
                for s in poll.sensors
                if s.kind is kind and s.value is not None and s.ok is None
            ]
            if values:
                self.sensor.labels(poll.device, kind.value, "min").set(min(values))
                self.sensor.labels(poll.device, kind.value, "max").set(max(values))
            states = [s for s in poll.sensors if s.kind is kind and s.ok is not None]
            if states:
                failed = sum(1 for s in states if s.ok is False)
                self.sensors_failed.labels(poll.device, kind.value).set(failed)
        self._observe_radios(poll)

    def _observe_radios(self, poll: HealthPoll) -> None:
        by_iface: dict[str, list[RadioLink]] = {}
        for link in poll.radios:
            by_iface.setdefault(link.interface, []).append(link)
        for name, links in by_iface.items():
            signals = [x.signal_dbm for x in links if x.signal_dbm is not None]
            ccqs = [c for x in links for c in (x.tx_ccq_pct, x.rx_ccq_pct) if c is not None]
            if signals:
                self.radio_signal.labels(poll.device, name).set(min(signals))
            if ccqs:
                self.radio_ccq.labels(poll.device, name).set(min(ccqs))
            self.radio_peers.labels(poll.device, name).set(max(x.peers for x in links))
        with self._lock:
            gone = self._radios.get(poll.device, set()) - by_iface.keys()
            self._radios[poll.device] = set(by_iface)
        for name in gone:
            for metric in (self.radio_signal, self.radio_ccq, self.radio_peers):
                discard(metric, poll.device, name)
