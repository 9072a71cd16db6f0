"""Zone poller metrics (issue 23), read on scrape from in-memory state (never the database).

=====================================================  ========================================
metric                                                 set by
=====================================================  ========================================
``sigap_poller_up{node,zone}`` (leader view)            :meth:`ZoneMetrics.watch_zones`
``sigap_poller_last_seen_seconds{node}`` (leader view)  :meth:`ZoneMetrics.watch_zones`
``sigap_poller_buffered{node}``                         both (a poller: its own buffer)
``sigap_poller_buffer_dropped_total{node}``             both (a poller: its own count)
``sigap_poller_devices{node,zone}``                     both (a poller: what it polls)
``sigap_device_monitored{device}`` (leader view)        :meth:`ZoneMetrics.watch_zones`
=====================================================  ========================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from agent.runtime.metrics._base import NAMESPACE, MetricGroup

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from prometheus_client import CollectorRegistry


@dataclass(frozen=True, slots=True)
class PollerView:
    """One poller as the metrics show it."""

    node: str
    zones: tuple[str, ...]
    up: bool | None = None  # leader view only
    last_seen_age: float | None = None  # seconds; leader view only
    buffered: int = 0
    dropped: int = 0
    devices: Mapping[str, int] = field(default_factory=dict)  # zone -> devices polled


@dataclass(frozen=True, slots=True)
class ZonesView:
    """What one scrape shows: the pollers, and (leader) which devices are monitored."""

    pollers: tuple[PollerView, ...] = ()
    monitored: Mapping[str, bool] = field(default_factory=dict)


class _ZonesCollector:
    def __init__(self, view: Callable[[], ZonesView]) -> None:
        self.view = view

    def describe(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        return list(_families(None))

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        return list(_families(self.view()))


def _families(view: ZonesView | None) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
    up = GaugeMetricFamily(
        f"{NAMESPACE}_poller_up", "1 when the zone's poller heartbeats (leader view)",
        labels=["node", "zone"],
    )  # fmt: skip
    seen = GaugeMetricFamily(
        f"{NAMESPACE}_poller_last_seen_seconds", "Seconds since the poller's last heartbeat",
        labels=["node"],
    )  # fmt: skip
    buffered = GaugeMetricFamily(
        f"{NAMESPACE}_poller_buffered", "Results the poller holds for the database",
        labels=["node"],
    )  # fmt: skip
    dropped = CounterMetricFamily(
        f"{NAMESPACE}_poller_buffer_dropped", "Results dropped from a full replay buffer",
        labels=["node"],
    )  # fmt: skip
    devices = GaugeMetricFamily(
        f"{NAMESPACE}_poller_devices", "Devices the poller polls", labels=["node", "zone"]
    )
    monitored = GaugeMetricFamily(
        f"{NAMESPACE}_device_monitored", "0 while the device's zone has no live poller",
        labels=["device"],
    )  # fmt: skip
    if view is not None:
        for p in view.pollers:
            if p.up is not None:
                for zone in p.zones:
                    up.add_metric([p.node, zone], int(p.up))
            if p.last_seen_age is not None:
                seen.add_metric([p.node], p.last_seen_age)
            buffered.add_metric([p.node], p.buffered)
            dropped.add_metric([p.node], p.dropped)
            for zone, count in p.devices.items():
                devices.add_metric([p.node, zone], count)
        for device, ok in view.monitored.items():
            monitored.add_metric([device], int(ok))
    return [up, seen, buffered, dropped, devices, monitored]


class ZoneMetrics(MetricGroup):
    """The zone poller series, registered by a poller or by a leader with remote zones."""

    registry: CollectorRegistry

    def watch_zones(self, view: Callable[[], ZonesView]) -> None:
        """Serve the poller series from ``view`` (called on each scrape; must not block)."""
        self.registry.register(_ZonesCollector(view))
