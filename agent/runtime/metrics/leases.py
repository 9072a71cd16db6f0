"""Device-lease metrics of a zone poller (issue 23): what it holds and what changed hands.

=====================================================  ========================================
metric                                                 set by
=====================================================  ========================================
``sigap_poller_leases{node,zone}``                     :meth:`LeaseMetrics.poller_leases`
``sigap_poller_lease_changes_total{node,zone,change}``  :meth:`LeaseMetrics.poller_lease_changes`
=====================================================  ========================================

``change`` is a fixed slug: ``claimed`` (taken free or after another poller's lease ran out),
``released`` (surplus given back, or the device left the zone), ``lost`` (another poller
holds it now: this one could not renew in time), ``expired`` (dropped here because the
database could not be reached before the leases ran out); anything else counts as ``other``.
Labels are bounded: this poller's node name and its zones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from agent.runtime.metrics._base import MetricGroup, bounded, counter, gauge

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

LEASE_CHANGES: Final = frozenset({"claimed", "released", "lost", "expired"})


class LeaseMetrics(MetricGroup):
    """The zone poller's lease gauge and counter (series appear once a poller reports)."""

    def _define_leases(self, registry: CollectorRegistry) -> None:
        self.poller_lease_held = gauge(
            registry, "poller_leases", "Devices of the zone this poller holds a lease on",
            ["node", "zone"],
        )  # fmt: skip
        self.poller_lease_changed = counter(
            registry, "poller_lease_changes", "Device leases that changed hands, by change",
            ["node", "zone", "change"],
        )  # fmt: skip

    def poller_leases(self, node: str, zone: str, held: int) -> None:
        """``held`` devices of ``zone`` are leased to ``node`` now."""
        self.poller_lease_held.labels(node, zone).set(held)

    def poller_lease_changes(self, node: str, zone: str, change: str, count: int) -> None:
        """``count`` devices of ``zone`` changed hands for ``node`` (a slug of LEASE_CHANGES)."""
        self.poller_lease_changed.labels(node, zone, bounded(change, LEASE_CHANGES)).inc(count)
