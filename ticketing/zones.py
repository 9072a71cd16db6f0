"""The zone pollers' tables (issue 23): heartbeats, and batches of probe results.

A poller ships its batches (:func:`ship`) and its heartbeat (:func:`beat`); the leader
takes batches in id order (:func:`take`) (deleting them in the same transaction, so a batch is
handed over at most once, and a new leader starts with whatever the old one had not taken)
and reads the heartbeats with :func:`pollers`. Rows are plain values here: what a batch's
payload means is the agent's business (``agent.zones.codec``). The leader asks the pollers
to poll a device now with :func:`request_repoll` (a NOTIFY on :func:`repoll_channel`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete, select, text, update

from ticketing.models import ZoneObservation, ZonePoller

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from ticketing.store import TicketStore

CHANNEL_PREFIX: Final = "sigap_zone_"  # LISTEN/NOTIFY channel: the prefix and the cluster
REPOLL_PREFIX: Final = "sigap_repoll_"


def channel(cluster: str) -> str:
    """The NOTIFY channel a cluster's pollers wake its leader on (a valid identifier)."""
    return CHANNEL_PREFIX + cluster.replace("-", "_")


def repoll_channel(cluster: str) -> str:
    """The NOTIFY channel the leader asks a cluster's pollers to poll a device now on."""
    return REPOLL_PREFIX + cluster.replace("-", "_")


def request_repoll(store: TicketStore, cluster: str, devices: Sequence[str]) -> None:
    """Ask the cluster's pollers to poll ``devices`` now (one NOTIFY each; PostgreSQL only)."""
    with store.transaction() as session:
        for device in devices:
            session.execute(
                text("SELECT pg_notify(:c, :d)"), {"c": repoll_channel(cluster), "d": device}
            )


@dataclass(frozen=True, slots=True)
class Batch:
    """One shipped batch as the leader reads it."""

    id: int
    node: str
    created_at: datetime
    payload: Any


@dataclass(frozen=True, slots=True)
class Beat:
    """One poller's last heartbeat."""

    node: str
    zones: tuple[str, ...]
    started_at: datetime
    last_seen: datetime
    inventory_sha: str = ""
    buffered: int = 0
    dropped: int = 0


def ship(
    store: TicketStore, node: str, cluster: str, batches: Sequence[tuple[datetime, Any]]
) -> None:
    """Insert ``batches`` (created_at, payload) in order in one transaction; wake the leader."""
    if not batches:
        return
    with store.transaction() as session:
        for created_at, payload in batches:
            session.add(
                ZoneObservation(node=node, cluster=cluster, created_at=created_at, payload=payload)
            )
        session.flush()  # ids in the order given
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_notify(:c, '')"), {"c": channel(cluster)})


def beat(store: TicketStore, cluster: str, beat: Beat) -> None:
    """Upsert the heartbeat row of ``beat.node``."""
    values = dict(
        cluster=cluster,
        zones=",".join(beat.zones),
        started_at=beat.started_at,
        last_seen=beat.last_seen,
        inventory_sha=beat.inventory_sha,
        buffered=beat.buffered,
        dropped=beat.dropped,
    )
    with store.transaction() as session:
        result = session.execute(
            update(ZonePoller).where(ZonePoller.node == beat.node).values(**values)
        )
        if not getattr(result, "rowcount", 0):
            session.add(ZonePoller(node=beat.node, **values))


def take(store: TicketStore, cluster: str, limit: int = 500) -> list[Batch]:
    """Take (read and delete) up to ``limit`` of the cluster's oldest batches, in id order.

    ``FOR UPDATE SKIP LOCKED``: two leaders never exist at once (the fence), but should one
    linger, it cannot take the same row twice.
    """
    o = ZoneObservation
    stmt = (
        select(o.id, o.node, o.created_at, o.payload)
        .where(o.cluster == cluster)
        .order_by(o.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with store.transaction() as session:
        rows = [Batch(r.id, r.node, r.created_at, r.payload) for r in session.execute(stmt)]
        if rows:
            session.execute(delete(o).where(o.id.in_([r.id for r in rows])))
    return rows


def pollers(store: TicketStore, cluster: str) -> list[Beat]:
    """Every heartbeat row of ``cluster`` (read-only)."""
    p = ZonePoller
    stmt = select(p).where(p.cluster == cluster).order_by(p.node)
    with store.transaction(write=False) as session:
        return [
            Beat(
                r.node,
                tuple(z for z in r.zones.split(",") if z),
                r.started_at,
                r.last_seen,
                r.inventory_sha,
                r.buffered,
                r.dropped,
            )
            for r in session.scalars(stmt)
        ]


def forget(store: TicketStore, cluster: str, node: str) -> None:
    """Delete a poller's heartbeat row (a node taken out of service)."""
    with store.transaction() as session:
        session.execute(
            delete(ZonePoller).where(ZonePoller.cluster == cluster, ZonePoller.node == node)
        )
