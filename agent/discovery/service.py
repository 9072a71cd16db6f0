"""The scan as one service call: ranges in, a :class:`Proposal` out (CLI and admin board).

The caller builds the collectors (``agent.wiring``) and hands them in; nothing here prints.
Network safety: an inventory describing the lab is scanned only from inside a lab NOC
namespace and only inside the lab's prefixes.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import replace
from typing import TYPE_CHECKING

from agent.discovery import probe, propose, targets, yamlout
from agent.discovery.credentials import credentials
from agent.discovery.model import Proposal
from agent.lab.control import refuse_lab_inventory_outside_lab
from agent.topology.scan import scan as scan_known

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping
    from datetime import datetime

    from agent.config.model import Device, Inventory
    from agent.topology.scan import Walker


def _inside(device: Device, networks: list[ipaddress.IPv4Network]) -> bool:
    try:
        address = ipaddress.IPv4Address(device.address)
    except ValueError:
        return False
    return any(address in n for n in networks)


async def scan(
    inventory: Inventory,
    ranges: str,
    *,
    pinger: probe.Pinger,
    walker: Walker,
    at: datetime,
    force: bool = False,
    limits: probe.Limits = probe.DEFAULT_LIMITS,
    env: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Proposal:
    """Sweep ``ranges``, ask SNMP, and propose the devices the inventory does not have."""
    networks = targets.parse_ranges(ranges, force=force)
    if inventory.lab is not None:
        refuse_lab_inventory_outside_lab(inventory)
        targets.inside_lab(networks, inventory.lab.prefixes)
    before = inventory.path.read_text(encoding="utf-8")  # --apply refuses if it changes
    devices = list(inventory.devices.values())
    todo = list(targets.addresses(networks, {d.address for d in devices}))
    tried = credentials(inventory, env)
    alive = await probe.sweep(pinger, todo, limits, progress=progress)
    nearby = [d for d in devices if _inside(d, networks)]
    answers, known_scans = await asyncio.gather(  # the new devices and the known ones at once
        probe.ask_all(walker, alive, tried, limits),
        scan_known(walker, nearby, max_in_flight=limits.snmp_in_flight),
    )
    hosts = propose.propose(propose.context(inventory), answers, known_scans)
    title = (
        f"--- sigap discover --scan {', '.join(map(str, networks))} ({at:%Y-%m-%d %H:%M} UTC): "
        f"{len(hosts)} perangkat baru; periksa baris KONFIRMASI"
    )
    after = yamlout.with_hosts(before, hosts, title=title, path=str(inventory.path))
    return Proposal(
        ranges=tuple(map(str, networks)),
        hosts=tuple(hosts),
        known_seen=tuple(s.device for s in known_scans if s.ok),
        probed=len(todo),
        diff=yamlout.unified_diff(before, after, inventory.path.name),
        text=after,
        before=before,
        title=title,
    )


def accepted(proposal: Proposal, chosen: Collection[str], *, path: str = "inventory.yaml") -> str:
    """The inventory text with only the ``chosen`` hosts (the board accepts line by line).

    A chosen host whose proposed parent was not chosen loses that parent and is marked.
    """
    names = set(chosen)
    dropped = {h.name for h in proposal.hosts} - names
    hosts = [
        h
        if h.parent not in dropped
        else replace(h, parent=None, markers=(*h.markers, f"induk {h.parent} tidak diterima"))
        for h in proposal.hosts
        if h.name in names
    ]
    return yamlout.with_hosts(proposal.before, hosts, title=proposal.title, path=path)
