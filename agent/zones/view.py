"""Which zones have a live poller, read from the database by a process that is not the leader.

``sigap web`` runs apart from the daemons: it cannot ask the leader's :class:`Liveness`, so it
reads the pollers' heartbeat rows and judges them as ``sigap status`` does
(:func:`agent.zones.liveness.zone_states`, one definition of *live*).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.config.schema import HaBlock
from agent.zones.liveness import zone_states
from ticketing.zones import pollers

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from agent.config.model import Inventory
    from agent.zones.liveness import ZoneState
    from ticketing.store import TicketStore


def cluster_lease(inventory: Inventory) -> tuple[str, float]:
    """The cluster whose heartbeat rows count, and its lease (s): ``daemon.ha`` or defaults."""
    ha = inventory.ha
    if ha is not None:
        return ha.cluster, ha.lease
    return HaBlock().cluster, HaBlock().lease.total_seconds()


def read_zones(inventory: Inventory, store: TicketStore, now: datetime) -> list[ZoneState]:
    """Each zone besides ``pusat`` at ``now``, from the cluster's heartbeat rows (read-only)."""
    if not inventory.remote_zones():
        return []
    cluster, lease = cluster_lease(inventory)
    return zone_states(inventory, pollers(store, cluster), now, lease)


def silent_zones(inventory: Inventory, store: TicketStore, now: datetime) -> list[ZoneState]:
    """The zones with no live poller at ``now``: their devices are *tak terpantau*."""
    return [z for z in read_zones(inventory, store, now) if not z.monitored]


def unwatched(zones: Sequence[ZoneState]) -> frozenset[str]:
    """The devices of ``zones`` (the silent ones): nobody polls them now."""
    return frozenset(name for z in zones for name in z.devices)
