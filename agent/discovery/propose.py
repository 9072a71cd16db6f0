"""From what the addresses answered to proposed ``hosts:`` entries (pure).

Worked example: the inventory knows ``core`` and ``dist`` (parent ``core``); a scan finds
10.9.11.1 (sysName ``OPD1``, RouterOS, LLDP neighbour ``dist`` on ether1) and 10.9.11.9
(ping only, named ``printer-lt2`` in opd1's LLDP table). Proposals: ``opd1`` (platform
mikrotik_routeros, parent ``dist`` via the LLDP link) and ``printer-lt2`` (SNMP off, parent
``opd1`` from opd1's table), each with its OPD guess and the markers a person must confirm.
Parents are the next hop toward the core over the links seen plus the inventory's own
parent lines, as ``sigap discover`` proposes them for known devices.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.discovery import names, opd, roles
from agent.discovery.model import HostProposal
from agent.topology import graph
from agent.topology.graph import Known
from agent.topology.model import DeviceScan

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from agent.config.model import Inventory
    from agent.discovery.model import Answer
    from agent.topology.model import Link

CORE_TAG = "core"


@dataclass(frozen=True, slots=True)
class Context:
    """What the proposal needs of the inventory (pure data)."""

    known: Mapping[str, Known]
    hosts: Mapping[str, opd.KnownHost]
    opds: tuple[str, ...]


def context(inventory: Inventory) -> Context:
    """The inventory as the proposal sees it."""
    devices = inventory.devices.values()
    return Context(
        known={
            d.name: Known(d.name, d.address, d.parent, CORE_TAG in d.tags, d.platform)
            for d in devices
        },
        hosts={d.name: opd.KnownHost(d.name, d.address, d.opd, d.site, d.parent) for d in devices},
        opds=tuple(dict.fromkeys([*(d.opd for d in devices), *(p.opd for p in inventory.people)])),
    )


def _names(
    answers: Sequence[Answer], told: Mapping[str, str], taken: set[str]
) -> dict[str, tuple[str, str]]:
    """Map address -> (name, collision note); ``told`` are names neighbours gave an address."""
    out: dict[str, tuple[str, str]] = {}
    inventory = set(taken)
    for a in answers:
        said = a.sys_name or told.get(a.address, "")
        base = names.normalise(said, a.address)
        name = names.unique(base, taken)
        note = "" if name == base else f"nama {base!r} sudah dipakai; diberi {name!r}"
        if base in inventory:
            note += f" (perangkat {base} di alamat lain? bila sama, jangan diterima)"
        taken.add(name)
        out[a.address] = (name, note)
    return out


def told_names(scans: Iterable[DeviceScan]) -> dict[str, str]:
    """Map address -> the name a neighbour table gives it (first seen wins)."""
    told: dict[str, str] = {}
    for scan in scans:
        for n in scan.neighbours:
            if n.remote_address and n.remote_name:
                told.setdefault(n.remote_address, n.remote_name)
    return told


def _distances(
    roots: Sequence[str], edges: Iterable[tuple[str, str]]
) -> tuple[dict[str, int], dict[str, set[str]]]:
    adjacency: dict[str, set[str]] = {}
    for a, b in edges:
        adjacency.setdefault(a, set()).add(b)
        adjacency.setdefault(b, set()).add(a)
    dist = dict.fromkeys(roots, 0)
    queue = deque(roots)
    while queue:  # bounded: each device enters once
        cur = queue.popleft()
        for nxt in sorted(adjacency.get(cur, ())):
            if nxt not in dist:
                dist[nxt] = dist[cur] + 1
                queue.append(nxt)
    return dist, adjacency


def parents(
    new: Sequence[str], links: Sequence[Link], known: Mapping[str, Known]
) -> dict[str, tuple[str, str]]:
    """New device -> (parent, via): its neighbour one hop nearer the core (known ones first)."""
    edges = [(link.a, link.b) for link in links]
    edges += [(k.name, k.parent) for k in known.values() if k.parent is not None]
    dist, adjacency = _distances(graph.roots_of(known), edges)
    out: dict[str, tuple[str, str]] = {}
    for name in new:
        if name not in dist or dist[name] == 0:
            continue
        ups = [u for u in adjacency[name] if dist.get(u) == dist[name] - 1]
        parent = min(ups, key=lambda u: (u not in known, u))
        via = next(
            (
                f"{lk.a} {lk.a_port} <-> {lk.b} {lk.b_port} [{','.join(lk.protocols)}]"
                for lk in links
                if lk.ends() == {parent, name}
            ),
            "",
        )
        out[name] = (parent, via)
    return out


def propose(
    ctx: Context, answers: Sequence[Answer], known_scans: Sequence[DeviceScan]
) -> list[HostProposal]:
    """One proposal per answering address (the caller left the known addresses out)."""
    named = _names(answers, told_names(known_scans), set(ctx.known))
    everyone = dict(ctx.known)
    scans = list(known_scans)
    for a in answers:
        name = named[a.address][0]
        everyone[name] = Known(name, a.address, None)
        if a.snmp:
            scans.append(DeviceScan(name, a.if_names, a.neighbours, if_descrs=a.if_descrs))
    links, _ = graph.links_and_unknown([s for s in scans if s.ok], everyone)
    ups = parents([named[a.address][0] for a in answers], links, ctx.known)
    return [_one(ctx, a, named[a.address], ups) for a in answers]


def _one(
    ctx: Context, a: Answer, named: tuple[str, str], ups: Mapping[str, tuple[str, str]]
) -> HostProposal:
    name, collision = named
    parent, via = ups.get(name, (None, ""))
    markers = [collision] if collision else []
    if a.snmp:
        role, role_why = roles.role_of(a.platform, a.sys_services)
        device_type = a.platform.device_type if a.platform is not None else ""
        summary = a.platform.summary() if a.platform is not None else ""
        if not device_type:
            markers.append("platform tidak dikenali: isi sendiri atau biarkan bawaan")
        if a.credential.startswith("host "):
            markers.append(f"SNMP menjawab kredensial {a.credential}: salin blok snmp-nya")
    else:
        role, role_why = "router", "hanya ping: peran belum diketahui"
        device_type, summary = "", "hanya menjawab ping"
        markers.append("hanya menjawab ping (SNMP tidak menjawab kredensial inventory)")
    markers.append(f"peran {role}: {role_why}")
    if parent is None:
        markers.append("induk tidak ditemukan lewat LLDP/MNDP/CDP: isi sendiri")
    location = names.clean(a.sys_location)
    guess = opd.guess(
        name=name, location=location, address=a.address, parent=parent,
        known=ctx.hosts, opds=ctx.opds,
    )  # fmt: skip
    if guess is None:
        markers.append("OPD tidak bisa ditebak: isi sendiri")
    else:
        markers.append(f"OPD tebakan ({guess.confidence}): {guess.reason}; konfirmasi")
    return HostProposal(
        name=name,
        address=a.address,
        role=role,
        platform=device_type,
        parent=parent,
        opd=guess,
        groups=a.groups,
        site=location,
        snmp=a.snmp,
        summary=summary,
        sys_name=names.clean(a.sys_name),
        parent_via=via,
        markers=tuple(markers),
    )
