"""Devices *tak terpantau* on the board (issue 23): their zone's poller went silent.

The zones come from ``Board.silent_zones`` (the pollers' heartbeat rows, judged as
``sigap status`` judges them; PostgreSQL only). A device of such a zone is shown as
*tak terpantau*, its last known state beside it and never as a current one: the dashboard
takes it out of "Perangkat mati" and lists it under its zone's banner, which names the silent
poller(s) and since when; the device page says so in place of "Status sekarang".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from agent.config.model import CENTRAL_ZONE
from agent.zones.liveness import NEVER, poller_device
from ticketing.faults import FaultKind

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from agent.web.auth import User
    from agent.web.board import Board
    from agent.zones.liveness import ZoneState
    from ticketing.board import DownDevice

MAX_NODES: Final = 5  # pollers named per zone (the heartbeat rows are not the board's to trust)


@dataclass(frozen=True, slots=True)
class Silent:
    """A zone without a live poller, as one person may see it."""

    zone: str
    nodes: tuple[str, ...]  # its last heard pollers, all silent (none: none ever reported)
    more: int  # its other pollers, not named
    since: datetime | None  # its last heartbeat
    devices: tuple[str, ...]  # its devices this person may see
    last_down: tuple[DownDevice, ...]  # of those, the ones down when last heard of
    tickets: tuple[str, ...]  # the open poller_down tickets of its pollers


def silent_banners(
    board: Board, user: User, zones: Sequence[ZoneState], down: Sequence[DownDevice]
) -> list[Silent]:
    """One banner per silent zone with a device ``user`` may see; ``down``: the board's list."""
    if not zones:
        return []
    last = {d.device: d for d in down}
    tickets = _poller_tickets(board, user)
    out: list[Silent] = []
    for z in zones:
        names = tuple(n for n in z.devices if _sees(board, user, n))
        if not names:
            continue
        latest = sorted(z.pollers, key=lambda b: b.last_seen, reverse=True)
        nodes = tuple(b.node for b in latest)
        keys = {poller_device(n) for n in nodes or (NEVER,)}
        out.append(
            Silent(
                z.zone,
                nodes[:MAX_NODES],
                max(0, len(nodes) - MAX_NODES),
                z.since,
                names,
                tuple(last[n] for n in names if n in last),
                tuple(number for device, number in tickets if device in keys),
            )
        )
    return out


def device_zone(board: Board, name: str, now: datetime) -> ZoneState | None:
    """The silent zone of device ``name`` (None: polled, or polled by the centre)."""
    device = board.inventory.devices.get(name)
    if device is None or device.zone == CENTRAL_ZONE:
        return None
    return next((z for z in board.silent_zones(now) if z.zone == device.zone), None)


def _sees(board: Board, user: User, name: str) -> bool:
    device = board.inventory.devices.get(name)
    return device is not None and user.sees(device.opd)


def _poller_tickets(board: Board, user: User) -> list[tuple[str, str]]:
    """(device, number) of the open poller_down tickets ``user`` may see."""
    return [
        (t.device, t.number)
        for t in board.store.active()
        if t.kind == FaultKind.POLLER_DOWN and user.sees(t.opd)
    ]
