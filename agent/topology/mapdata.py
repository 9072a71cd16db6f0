"""The network map as data: devices by OPD, links with ports, states from open tickets, layout.

``map_json`` is what the web board serves for live updates and what ``sigap peta --html``
embeds. The layout is a tidy tree from the core (children ordered by OPD then name): it is
a function of the parents and names only, never of states, so a refresh never moves a node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from datetime import datetime

    from agent.topology.model import Link
    from ticketing.views import TicketView

X_STEP: Final = 84
Y_STEP: Final = 120
MARGIN: Final = 60
STATE_ORDER: Final = ("down", "unreachable", "warning", "up")
UNMONITORED: Final = "unmonitored"  # its zone's poller is silent: no state is current (issue 23)
STATES: Final = (*STATE_ORDER, UNMONITORED)
DEVICE_DOWN: Final = "device_down"


@dataclass(frozen=True, slots=True)
class MapDevice:
    """A device as the map shows it."""

    name: str
    address: str
    opd: str
    site: str
    role: str
    parent: str | None


def _worst(a: str, b: str) -> str:
    return a if STATE_ORDER.index(a) <= STATE_ORDER.index(b) else b


def device_states(
    names: Iterable[str], tickets: Iterable[TicketView]
) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """Return device -> state (down/unreachable/warning/up) and device -> open ticket badges."""
    state = dict.fromkeys(names, "up")
    badges: dict[str, list[dict[str, str]]] = {n: [] for n in state}
    for t in tickets:
        if t.status not in (TicketState.OPEN, TicketState.RECOVERING) or t.device not in state:
            continue
        badges[t.device].append(
            {"number": t.number, "kind": t.kind, "summary": t.summary, "status": t.status.value}
        )
        if t.status is not TicketState.OPEN:
            continue
        mine = "down" if t.kind == DEVICE_DOWN else "warning"
        state[t.device] = _worst(state[t.device], mine)
        for a in t.affected:
            if a.detached_at is None and a.device in state:
                state[a.device] = _worst(state[a.device], "unreachable")
    return state, badges


def _children(devices: Sequence[MapDevice]) -> dict[str | None, list[MapDevice]]:
    names = {d.name for d in devices}
    out: dict[str | None, list[MapDevice]] = {}
    for d in devices:
        parent = d.parent if d.parent in names else None
        out.setdefault(parent, []).append(d)
    for kids in out.values():
        kids.sort(key=lambda d: (d.opd, d.name))
    return out


def layout(devices: Sequence[MapDevice]) -> dict[str, tuple[int, int, int]]:
    """Return device -> (x, y, depth): leaves on consecutive slots, parents centred above."""
    children = _children(devices)
    pos: dict[str, tuple[int, int, int]] = {}
    next_slot = 0
    # iterative post-order (no recursion limit on deep chains)
    stack: list[tuple[MapDevice, int, bool]] = [
        (root, 0, False) for root in reversed(children.get(None, []))
    ]
    while stack:  # bounded: each device is pushed twice
        dev, depth, seen = stack.pop()
        kids = [k for k in children.get(dev.name, []) if k.name not in pos]
        if not seen and kids:
            stack.append((dev, depth, True))
            stack.extend((k, depth + 1, False) for k in reversed(kids))
            continue
        placed = [pos[k.name][0] for k in children.get(dev.name, []) if k.name in pos]
        if placed:
            x = (min(placed) + max(placed)) // 2
        else:
            x = MARGIN + next_slot * X_STEP
            next_slot += 1
        pos[dev.name] = (x, MARGIN + depth * Y_STEP, depth)
    return pos


def _links(
    devices: Sequence[MapDevice],
    links: Sequence[Link] | None,
    state: Mapping[str, str],
    lost: Collection[tuple[str, str, str, str]],
) -> list[dict[str, Any]]:
    names = {d.name for d in devices}
    rows: list[dict[str, Any]]
    if links is None:  # no discovery: the inventory's parent edges, ports unknown
        rows = [
            {"a": d.parent, "a_port": "", "b": d.name, "b_port": "", "source": "inventory"}
            for d in devices
            if d.parent in names
        ]
    else:
        rows = [{**link.to_json(), "source": "discovery"} for link in links]
    for row in rows:
        ends = {state.get(row["a"], "up"), state.get(row["b"], "up")}
        key = (row["a"], row["a_port"], row["b"], row["b_port"])
        row["state"] = _link_state(ends, key in lost)
    return rows


def _link_state(ends: set[str], lost: bool) -> str:
    if ends & {"down", "unreachable"}:
        return "down"
    if UNMONITORED in ends:
        return UNMONITORED
    return "lost" if lost else "up"


def map_json(
    devices: Sequence[MapDevice],
    tickets: Iterable[TicketView],
    *,
    links: Sequence[Link] | None = None,
    lost: Collection[tuple[str, str, str, str]] = (),
    title: str = "",
    at: datetime | None = None,
    unmonitored: Collection[str] = (),
) -> dict[str, Any]:
    """Return the map document: nodes (state, badges, position), links, OPD groups.

    ``links`` None draws the inventory's parent edges; ``lost`` are keys of links the
    daemon reports lost (state ``lost`` unless an end is down). Devices in ``unmonitored``
    (their zone's poller is silent) are ``unmonitored`` whatever their tickets say: those
    stay on the node's badges as its last known state.
    """
    state, badges = device_states([d.name for d in devices], tickets)
    state.update((name, UNMONITORED) for name in unmonitored if name in state)
    pos = layout(devices)
    nodes = [
        {
            "id": d.name,
            "address": d.address,
            "opd": d.opd,
            "site": d.site,
            "role": d.role,
            "parent": d.parent,
            "state": state[d.name],
            "tickets": badges[d.name],
            "x": pos[d.name][0],
            "y": pos[d.name][1],
            "depth": pos[d.name][2],
        }
        for d in devices
    ]
    groups: dict[str, list[str]] = {}
    for d in sorted(devices, key=lambda d: (d.opd, d.name)):
        groups.setdefault(d.opd or "-", []).append(d.name)
    counts = {s: sum(1 for n in nodes if n["state"] == s) for s in STATES}
    return {
        "title": title,
        "generated_at": at.isoformat() if at is not None else None,
        "width": max((x for x, _y, _d in pos.values()), default=0) + MARGIN,
        "height": max((y for _x, y, _d in pos.values()), default=0) + MARGIN + 40,
        "counts": counts,
        "nodes": nodes,
        "links": _links(devices, links, state, lost),
        "groups": [{"opd": k, "devices": v} for k, v in groups.items()],
    }
