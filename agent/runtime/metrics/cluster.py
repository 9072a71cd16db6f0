"""Active/standby metrics (issue 23): whether this daemon leads, and its lease's age."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily

from agent.runtime.metrics._base import NAMESPACE, MetricGroup

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from prometheus_client import CollectorRegistry


class _LeaderCollector:
    """Reads the leadership state on scrape (in memory; never touches the database)."""

    def __init__(
        self, node: str, leads: Callable[[], bool], lease_age: Callable[[], float | None]
    ) -> None:
        """``node`` is this daemon's name (the one label: bounded)."""
        self.node, self.leads, self.lease_age = node, leads, lease_age

    def describe(self) -> Iterable[GaugeMetricFamily]:
        """Name the families up front so the registry can reject a clash at register time."""
        return list(self._families(None))

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """1/0 for the role; the lease age only while leading."""
        return list(self._families(self))

    @staticmethod
    def _families(state: _LeaderCollector | None) -> Iterable[GaugeMetricFamily]:
        leader = GaugeMetricFamily(
            f"{NAMESPACE}_ha_leader", "1 when this daemon leads its cluster", labels=["node"]
        )
        age = GaugeMetricFamily(
            f"{NAMESPACE}_ha_lease_age_seconds",
            "Seconds since the leader last confirmed its lock (absent on a standby)",
            labels=["node"],
        )
        if state is not None:
            leader.add_metric([state.node], int(state.leads()))
            seconds = state.lease_age()
            if seconds is not None:
                age.add_metric([state.node], seconds)
        return [leader, age]


class ClusterMetrics(MetricGroup):
    """The leadership gauges, registered once the daemon runs with HA."""

    registry: CollectorRegistry

    def watch_leadership(
        self, node: str, leads: Callable[[], bool], lease_age: Callable[[], float | None]
    ) -> None:
        """Serve ``sigap_ha_leader{node}`` and ``sigap_ha_lease_age_seconds{node}``."""
        self.registry.register(_LeaderCollector(node, leads, lease_age))
