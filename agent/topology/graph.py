"""From neighbour tables to links, parent proposals and unknown neighbours (pure).

Worked example: ``core`` (tag ``core``, no parent) sees ``dist`` on c2; ``dist`` sees
``core`` on ether1 and ``opd`` on c3; ``opd`` has no ``parent:`` written. Links:
core c2 <-> dist ether1, dist c3 <-> opd ether1. Breadth-first from the roots: dist is
one hop from core, opd two: proposals dist -> core (``same`` if written so), opd -> dist
(``new``: ``--apply`` writes it). A hand-written parent that differs is a ``conflict``
and stays. Among equally short paths the hand-written parent wins, then the lowest name.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.topology.model import (
    DeviceScan,
    Discovery,
    Link,
    Neighbour,
    ParentProposal,
    PlatformProposal,
    UnknownNeighbour,
    platform_status,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

UNKNOWN_PORT = "?"


@dataclass(frozen=True, slots=True)
class Known:
    """An inventory device as discovery needs it."""

    name: str
    address: str
    parent: str | None
    core: bool = False  # tagged ``core``: a root of the hierarchy when it has no parent
    platform: str = ""  # the inventory's (empty: not written)


def _resolver(known: Mapping[str, Known]) -> tuple[dict[str, str], dict[str, str]]:
    by_name = {k.lower(): k for k in known}
    by_addr = {d.address: d.name for d in known.values()}
    return by_name, by_addr


def match(n: Neighbour, by_name: Mapping[str, str], by_addr: Mapping[str, str]) -> str | None:
    """Return the inventory device a neighbour is, by name (domain stripped), then address."""
    name = n.remote_name.strip().lower()
    for candidate in (name, name.split(".", 1)[0]):
        if candidate in by_name:
            return by_name[candidate]
    if n.remote_address in by_addr:
        return by_addr[n.remote_address]
    return None


def _compatible(x: str, y: str) -> bool:
    return x == y or UNKNOWN_PORT in (x, y) or "" in (x, y)


def _pick(x: str, y: str) -> str:
    return x if x not in ("", UNKNOWN_PORT) else y


def _merge(halves: Sequence[tuple[str, str, str]]) -> list[tuple[str, str, tuple[str, ...]]]:
    """Fold oriented half-links (a_port, b_port, protocol) of one device pair into links."""
    links: list[tuple[str, str, set[str]]] = []
    for a_port, b_port, proto in halves:
        for i, (pa, pb, protos) in enumerate(links):
            if _compatible(pa, a_port) and _compatible(pb, b_port):
                links[i] = (_pick(pa, a_port), _pick(pb, b_port), protos | {proto})
                break
        else:
            links.append((a_port, b_port, {proto}))
    return [(a, b, tuple(sorted(p))) for a, b, p in links]


def links_and_unknown(
    scans: Iterable[DeviceScan], known: Mapping[str, Known]
) -> tuple[list[Link], list[UnknownNeighbour]]:
    """Return the links between inventory devices and the neighbours nobody knows.

    A neighbour's port is named as that device names it (``DeviceScan.own_name``) when it
    was scanned too, so both halves of a cable name the same two ports.
    """
    by_name, by_addr = _resolver(known)
    pairs: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    unknown: dict[tuple[str, str, str, str], UnknownNeighbour] = {}
    scans = list(scans)
    answered = {s.device: s for s in scans}
    for scan in scans:
        for n in scan.neighbours:
            local = scan.port_name(n.local_port)
            other = match(n, by_name, by_addr)
            if other is None:
                u = UnknownNeighbour(
                    scan.device, local, n.remote_name, n.remote_port, n.remote_address,
                    n.protocol, n.remote_platform,
                )  # fmt: skip
                unknown.setdefault((u.seen_by, u.port, u.name, u.address), u)
                continue
            if other == scan.device:
                continue
            theirs = answered.get(other)
            remote = (theirs.own_name(n.remote_port) if theirs else None) or n.remote_port
            a, b = sorted((scan.device, other))
            half = (local, remote) if a == scan.device else (remote, local)
            pairs.setdefault((a, b), []).append((*half, n.protocol))
    links = [
        Link(a, pa or UNKNOWN_PORT, b, pb or UNKNOWN_PORT, protos)
        for (a, b), halves in sorted(pairs.items())
        for pa, pb, protos in _merge(sorted(halves))
    ]
    return sorted(links), sorted(unknown.values(), key=lambda u: (u.seen_by, u.port, u.name))


def roots_of(known: Mapping[str, Known]) -> list[str]:
    """Return the core: parentless devices tagged ``core``, else every parentless device."""
    core = sorted(k.name for k in known.values() if k.core and k.parent is None)
    return core or sorted(k.name for k in known.values() if k.parent is None)


def _distances(roots: Sequence[str], adjacency: Mapping[str, set[str]]) -> dict[str, int]:
    dist = dict.fromkeys(roots, 0)
    queue = deque(roots)
    while queue:  # bounded: each device enters the queue once
        cur = queue.popleft()
        for nxt in sorted(adjacency.get(cur, ())):
            if nxt not in dist:
                dist[nxt] = dist[cur] + 1
                queue.append(nxt)
    return dist


def _via(links: Sequence[Link], parent: str, child: str) -> str:
    for link in links:
        if link.ends() == {parent, child}:
            pp, cp = (link.a_port, link.b_port) if link.a == parent else (link.b_port, link.a_port)
            return f"{parent} {pp} <-> {child} {cp}"
    return ""


def propose_parents(
    links: Sequence[Link], known: Mapping[str, Known], roots: Sequence[str]
) -> list[ParentProposal]:
    """Return one proposal per inventory device: the next hop toward the core."""
    adjacency: dict[str, set[str]] = {}
    for link in links:
        adjacency.setdefault(link.a, set()).add(link.b)
        adjacency.setdefault(link.b, set()).add(link.a)
    dist = _distances(roots, adjacency)
    out = []
    for name in sorted(known):
        current = known[name].parent
        if name in roots:
            out.append(ParentProposal(name, None, current, "root"))
            continue
        if name not in dist:
            out.append(ParentProposal(name, None, current, "unlinked"))
            continue
        ups = sorted(u for u in adjacency[name] if dist.get(u) == dist[name] - 1)
        proposed = current if current in ups else ups[0]
        status = "new" if current is None else "same" if current == proposed else "conflict"
        out.append(ParentProposal(name, proposed, current, status, _via(links, proposed, name)))
    return out


def discover(
    scans: Sequence[DeviceScan], known: Mapping[str, Known], roots: Sequence[str] | None = None
) -> Discovery:
    """Return links, parent proposals and unknown neighbours from the scans."""
    links, unknown = links_and_unknown([s for s in scans if s.ok], known)
    top = list(roots) if roots else roots_of(known)
    return Discovery(
        links=tuple(links),
        parents=tuple(propose_parents(links, known, top)),
        unknown=tuple(unknown),
        silent={s.device: s.error for s in scans if not s.ok},
        roots=tuple(top),
        platforms=tuple(platforms(scans, known)),
    )


def platforms(scans: Sequence[DeviceScan], known: Mapping[str, Known]) -> list[PlatformProposal]:
    """The detected platform of every scanned inventory device against the inventory's."""
    out = []
    for scan in scans:
        if scan.platform is None or scan.device not in known:
            continue
        current = known[scan.device].platform
        status = platform_status(current, scan.platform)
        out.append(PlatformProposal(scan.device, current, scan.platform, status))
    return out
