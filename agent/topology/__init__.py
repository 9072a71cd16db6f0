"""Topology discovery (LLDP / MNDP / CDP over SNMP) and the network map (issue 11).

- ``scan`` reads neighbour tables; ``discover`` turns them into links, parent proposals
  and unknown neighbours; ``with_parents`` writes proposals into the inventory.
- ``LinkWatch`` (daemon): ``link_lost`` faults and new unknown neighbours between runs.
- ``map_json`` / ``render_map_html``: the map as data (web board, live) and as a page.
"""

from __future__ import annotations

from agent.topology.apply import unified_diff, with_parents
from agent.topology.changes import LinkEvents, LinkWatch
from agent.topology.graph import Known, discover
from agent.topology.mapdata import MapDevice, map_json
from agent.topology.maphtml import render_map_html
from agent.topology.model import DeviceScan, Discovery, Link, Neighbour, UnknownNeighbour

__all__ = [
    "DeviceScan",
    "Discovery",
    "Known",
    "Link",
    "LinkEvents",
    "LinkWatch",
    "MapDevice",
    "Neighbour",
    "UnknownNeighbour",
    "discover",
    "map_json",
    "render_map_html",
    "unified_diff",
    "with_parents",
]
