"""What re-discovery tells the daemon: links lost while both ends answer, new unknown neighbours.

Pure state machine; the daemon feeds it each discovery and the set of devices answering
ping. The first discovery is the baseline. A link is lost when it was seen before, is not
seen now, both its ends answer ping and neither end's scan failed (a silent agent proves
nothing). It is restored when seen again (a link first seen from one side only, a port
``?``, is the same link once both ports are known). Links are remembered across an end
going down (``device_down`` owns that time). A new ``LinkWatch`` (restart, inventory
reload) takes its first discovery as the baseline, plus the links still lost with an open
ticket (``resume``): a link moved on purpose stays lost until a person closes its ticket
and the daemon re-baselines. LLDP keeps a
dead neighbour until its TTL (20 s in the lab, 120 s by default): a pulled cable shows at
the first re-discovery after that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agent.topology.graph import UNKNOWN_PORT
from ticketing.faults import Fault, FaultKind, fault_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Set

    from agent.topology.model import Discovery, Link, UnknownNeighbour


LinkKey = tuple[str, str, str, str]


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


def _port_ok(old: str, new: str) -> bool:
    return old == new or UNKNOWN_PORT in (old, new)


def _present(
    remembered: Mapping[LinkKey, Link], now: Mapping[LinkKey, Link]
) -> dict[LinkKey, LinkKey]:
    """Return remembered key -> key it is seen under now (a ``?`` port may have been learnt)."""
    by_ends: dict[tuple[str, str], list[Link]] = {}
    for link in now.values():
        by_ends.setdefault((link.a, link.b), []).append(link)
    out: dict[LinkKey, LinkKey] = {}
    for key, old in remembered.items():
        if key in now:
            out[key] = key
            continue
        for new in by_ends.get((old.a, old.b), ()):
            if _port_ok(old.a_port, new.a_port) and _port_ok(old.b_port, new.b_port):
                out[key] = new.key
                break
    return out


@dataclass(slots=True)
class LinkWatch:
    """Remembers the links seen so far and the links currently lost."""

    parents: Mapping[str, str | None]
    opd: Mapping[str, str] = field(default_factory=dict)
    _links: dict[LinkKey, Link] | None = None
    _unknown: set[tuple[str, str, str, str]] = field(default_factory=set)
    _lost: dict[LinkKey, str] = field(default_factory=dict)
    _pending: dict[LinkKey, tuple[Link, str]] = field(default_factory=dict)

    @property
    def links(self) -> tuple[Link, ...]:
        """Return the remembered links (seen at least once, lost ones included)."""
        return tuple(sorted((self._links or {}).values()))

    @property
    def lost(self) -> dict[LinkKey, str]:
        """Return the links lost now: link key -> fault key of their ticket."""
        return dict(self._lost)

    def resume(self, lost: Iterable[tuple[Link, str]]) -> None:
        """Before the first discovery: links still lost (with their ticket's fault key).

        After a restart or an inventory reload the first discovery is a new baseline; a
        lost link handed in here is remembered as lost, so its ticket clears when the cable
        is back (and stays open while it is not).
        """
        self._pending.update({link.key: (link, key) for link, key in lost})

    def still_lost(self) -> list[tuple[Link, str]]:
        """Return the lost links with their fault keys (also those handed to ``resume``)."""
        links = self._links or {}
        out = [(links[k], fault) for k, fault in self._lost.items()]
        return out + [(link, fault) for k, (link, fault) in self._pending.items() if k not in links]

    def update(self, found: Discovery, answering: Set[str]) -> LinkEvents:
        """Compare ``found`` with what was seen before; return faults to open and clear."""
        now = {link.key: link for link in found.links}
        unknown = {(u.seen_by, u.port, u.name, u.address): u for u in found.unknown}
        if self._links is None:
            self._unknown = set(unknown)
            return self._baseline(now)
        present = _present(self._links, now)
        lost: list[Fault] = []
        for key, link in self._links.items():
            if key in present or key in self._lost:
                continue
            ends = link.ends()
            if ends <= answering and not ends & found.silent.keys():
                fault = link_fault(link, self.parents, self.opd)
                self._lost[key] = fault.key
                lost.append(fault)
        restored = [self._lost.pop(key) for key in list(self._lost) if key in present]
        gone = [k for k in self._lost if not self._links[k].ends() <= answering]
        restored += [self._lost.pop(k) for k in gone]  # an end is down: device_down owns it
        for old, new in present.items():
            if old != new:  # the same cable, now with both ports known
                del self._links[old]
        fresh = [u for k, u in sorted(unknown.items()) if k not in self._unknown]
        self._links.update(now)  # remembered until seen again: recabling is a reviewed change
        self._unknown |= set(unknown)
        return LinkEvents(tuple(lost), tuple(restored), tuple(fresh))

    def _baseline(self, now: dict[LinkKey, Link]) -> LinkEvents:
        self._links = dict(now)
        pending, self._pending = self._pending, {}
        present = _present({k: link for k, (link, _f) in pending.items()}, now)
        restored = []
        for key, (link, ticket_key) in pending.items():
            if key in present:
                restored.append(ticket_key)
            else:
                self._links[key], self._lost[key] = link, ticket_key
        return LinkEvents(restored=tuple(restored))


def lost_key(link: Link, parents: Mapping[str, str | None]) -> str:
    """Return the fault key a lost ``link`` is ticketed under."""
    fault = link_fault(link, parents, {})
    return fault_key(fault.device, fault.kind, fault.subject)
