"""What re-discovery tells the daemon: links lost while both ends answer, new unknown neighbours.

Pure state machine; the daemon feeds it each discovery and the set of devices answering
ping. The first discovery is the baseline. A link is lost when it was seen before, is not
seen now, both its ends answer ping and neither end's scan failed (a silent agent proves
nothing). It is restored when seen again. Links are remembered across an end going down
(``device_down`` owns that time); a link moved on purpose stays lost until the daemon
re-baselines (restart or a new ``LinkWatch`` after the inventory changed). LLDP keeps a
dead neighbour until its TTL (20 s in the lab, 120 s by default): a pulled cable shows at
the first re-discovery after that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ticketing.faults import Fault, FaultKind, fault_key

if TYPE_CHECKING:
    from collections.abc import Mapping, Set

    from agent.topology.model import Discovery, Link, UnknownNeighbour


@dataclass(frozen=True, slots=True)
class LinkEvents:
    """What changed since the previous discovery."""

    lost: tuple[Fault, ...] = ()
    restored: tuple[str, ...] = ()  # fault keys to clear
    new_unknown: tuple[UnknownNeighbour, ...] = ()


def link_fault(link: Link, parents: Mapping[str, str | None], opd: Mapping[str, str]) -> Fault:
    """Return the ``link_lost`` fault of ``link``, owned by the parent end (else ``a``)."""
    owner, port, other, other_port = link.a, link.a_port, link.b, link.b_port
    if parents.get(link.a) == link.b:
        owner, port, other, other_port = link.b, link.b_port, link.a, link.a_port
    return Fault(
        device=owner,
        kind=FaultKind.LINK_LOST,
        summary=(
            f"Link {owner} {port} <-> {other} {other_port} hilang, padahal kedua perangkat menjawab"
        ),
        opd=opd.get(owner, ""),
        subject=port,
    )


@dataclass(slots=True)
class LinkWatch:
    """Remembers the last discovery and the links currently lost."""

    parents: Mapping[str, str | None]
    opd: Mapping[str, str] = field(default_factory=dict)
    _links: dict[tuple[str, str, str, str], Link] | None = None
    _unknown: set[tuple[str, str, str, str]] = field(default_factory=set)
    _lost: dict[tuple[str, str, str, str], str] = field(default_factory=dict)

    def update(self, found: Discovery, answering: Set[str]) -> LinkEvents:
        """Compare ``found`` with what was seen before; return faults to open and clear."""
        now = {link.key: link for link in found.links}
        unknown = {(u.seen_by, u.port, u.name, u.address): u for u in found.unknown}
        if self._links is None:  # baseline
            self._links, self._unknown = dict(now), set(unknown)
            return LinkEvents()
        lost: list[Fault] = []
        for key, link in self._links.items():
            if key in now or key in self._lost:
                continue
            ends = link.ends()
            if ends <= answering and not ends & found.silent.keys():
                fault = link_fault(link, self.parents, self.opd)
                self._lost[key] = fault.key
                lost.append(fault)
        restored = [self._lost.pop(key) for key in list(self._lost) if key in now]
        gone = [k for k in self._lost if not self._links[k].ends() <= answering]
        restored += [self._lost.pop(k) for k in gone]  # an end is down: device_down owns it
        fresh = [u for k, u in sorted(unknown.items()) if k not in self._unknown]
        self._links.update(now)  # remembered until seen again: recabling is a reviewed change
        self._unknown |= set(unknown)
        return LinkEvents(tuple(lost), tuple(restored), tuple(fresh))


def lost_key(link: Link, parents: Mapping[str, str | None]) -> str:
    """Return the fault key a lost ``link`` is ticketed under."""
    fault = link_fault(link, parents, {})
    return fault_key(fault.device, fault.kind, fault.subject)
