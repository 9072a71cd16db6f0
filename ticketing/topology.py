"""Stored topology: the links the daemon remembers and the unknown neighbours it saw (0007).

Plain data in and out (``agent.topology`` owns links and discovery); the daemon writes on
its writer thread, the web board and ``sigap peta`` read without walking the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from ticketing.models import NetworkLink, UnknownNeighbourRow

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from ticketing.store import TicketStore

LinkKey = tuple[str, str, str, str]  # a, a_port, b, b_port


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """One stored link; ``lost_at`` set while it is lost (``fault_key``: its ticket)."""

    a: str
    a_port: str
    b: str
    b_port: str
    protocols: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    lost_at: datetime | None = None
    fault_key: str | None = None

    @property
    def key(self) -> LinkKey:
        """Return the identity of the link."""
        return (self.a, self.a_port, self.b, self.b_port)


@dataclass(frozen=True, slots=True)
class NeighbourRecord:
    """An unknown neighbour: who saw it on which port, first and last time."""

    seen_by: str
    port: str
    name: str
    address: str
    remote_port: str
    protocol: str
    platform: str
    first_seen: datetime
    last_seen: datetime


class TopologyStore:
    """Links and unknown neighbours in the ticket database."""

    def __init__(self, store: TicketStore) -> None:
        """Use ``store``'s engine and transactions."""
        self._store = store

    def save_links(
        self,
        links: Mapping[LinkKey, tuple[str, ...]],
        *,
        seen: Iterable[LinkKey],
        lost: Mapping[LinkKey, str],
        at: datetime,
    ) -> None:
        """Make the table exactly ``links`` (key -> protocols).

        Links in ``seen`` get ``last_seen = at``; links in ``lost`` (key -> fault key) are
        marked lost from ``at`` unless already; the others keep their marks; rows of links
        not in ``links`` are deleted. ``first_seen`` survives as long as the row does.
        """
        seen_now = set(seen)
        with self._store.transaction() as session:
            rows = {_row_key(r): r for r in session.scalars(select(NetworkLink)).all()}
            for key in rows.keys() - links.keys():
                session.delete(rows.pop(key))
            for key, protocols in links.items():
                row = rows.get(key)
                if row is None:
                    a, a_port, b, b_port = key
                    row = NetworkLink(a=a, a_port=a_port, b=b, b_port=b_port, first_seen=at,
                                      last_seen=at)  # fmt: skip
                    session.add(row)
                row.protocols = ",".join(protocols)
                if key in seen_now:
                    row.last_seen = at
                if key in lost:
                    row.lost_at = row.lost_at or at
                    row.fault_key = lost[key]
                else:
                    row.lost_at, row.fault_key = None, None

    def links(self) -> list[LinkRecord]:
        """Return every stored link, by devices and ports."""
        with self._store.transaction(write=False) as session:
            rows = session.scalars(select(NetworkLink)).all()
            return sorted(
                (
                    LinkRecord(
                        r.a,
                        r.a_port,
                        r.b,
                        r.b_port,
                        tuple(p for p in r.protocols.split(",") if p),
                        r.first_seen,
                        r.last_seen,
                        r.lost_at,
                        r.fault_key,
                    )
                    for r in rows
                ),
                key=lambda r: r.key,
            )

    def record_neighbours(self, found: Iterable[NeighbourRecord], *, at: datetime) -> int:
        """Insert or refresh unknown neighbours; return how many were new to the table."""
        new = 0
        with self._store.transaction() as session:
            rows = {
                (r.seen_by, r.port, r.name, r.address): r
                for r in session.scalars(select(UnknownNeighbourRow)).all()
            }
            for n in found:
                row = rows.get((n.seen_by, n.port, n.name, n.address))
                if row is None:
                    new += 1
                    row = UnknownNeighbourRow(
                        seen_by=n.seen_by, port=n.port, name=n.name, address=n.address,
                        first_seen=at,
                    )  # fmt: skip
                    session.add(row)
                    rows[(n.seen_by, n.port, n.name, n.address)] = row
                row.remote_port, row.protocol, row.platform = n.remote_port, n.protocol, n.platform
                row.last_seen = at
        return new

    def neighbours(self) -> list[NeighbourRecord]:
        """Return the unknown neighbours ever seen, most recently seen first."""
        with self._store.transaction(write=False) as session:
            rows = session.scalars(select(UnknownNeighbourRow)).all()
            out = [
                NeighbourRecord(
                    r.seen_by,
                    r.port,
                    r.name,
                    r.address,
                    r.remote_port,
                    r.protocol,
                    r.platform,
                    r.first_seen,
                    r.last_seen,
                )
                for r in rows
            ]
        return sorted(out, key=lambda n: (-n.last_seen.timestamp(), n.seen_by, n.name))


def _row_key(row: NetworkLink) -> LinkKey:
    return (row.a, row.a_port, row.b, row.b_port)
