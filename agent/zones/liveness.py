"""Which zones have a live poller, as the leader sees it (pure: time is handed in).

A poller is live while its heartbeat row keeps changing: its ``last_seen`` moved within
2 x lease of the leader's own monotonic clock (so a poller's wrong wall clock cannot keep it
alive or kill it; the wall clock is used once, when a row is first seen). A zone with no live
poller is *tak terpantau*: its devices are listed in :attr:`Liveness.unmonitored` and ONE
``poller_down`` ticket opens per poller node (``poller:<node>/poller_down``; node ``-`` for a
zone that never had one, after a start-up grace of 2 x lease), naming the zones, the node,
since when (WITA) and how many devices are unmonitored. It clears when no zone of that node
is left without a poller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from agent.detect.ping import FaultCleared, FaultOpened
from agent.runtime.metrics.zones import PollerView, ZonesView
from ticketing.faults import Fault, FaultKind, fault_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from agent.config.model import Inventory
    from agent.detect.ping import Event
    from ticketing.zones import Beat

logger = logging.getLogger(__name__)

NEVER: Final = "-"  # the node of a zone that never had a poller
DEVICE_PREFIX: Final = "poller:"


def poller_device(node: str) -> str:
    """The ticket's device name of a poller node (its fault key: ``poller:<node>/poller_down``)."""
    return f"{DEVICE_PREFIX}{node}"


@dataclass(frozen=True, slots=True)
class Silent:
    """One poller node whose zones have no live poller."""

    node: str
    zones: tuple[str, ...]
    since: datetime
    devices: int


class Liveness:
    """Heartbeats in, ``poller_down`` events and the unmonitored devices out."""

    def __init__(
        self,
        inventory: Inventory,
        lease: float,
        *,
        started: float,
        started_at: datetime,
        sha: str = "",
    ) -> None:
        """``started``: the leader's monotonic start; ``started_at`` the same, wall clock."""
        self.inventory = inventory
        self.window = window(lease)
        self.started = started
        self.started_at = started_at
        self.sha = sha
        self.open: set[str] = set()  # nodes with an open poller_down ticket
        self.unmonitored: frozenset[str] = frozenset()
        self.silent: dict[str, Silent] = {}
        self._last: dict[str, datetime] = {}  # node -> last_seen as last read
        self._fresh: dict[str, float] = {}  # node -> monotonic time its last_seen moved
        self._beats: tuple[Beat, ...] = ()
        self._warned: set[tuple[str, str]] = set()
        self._now: datetime = started_at
        self._mono = started

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory (its zones are read on the next update)."""
        self.inventory = inventory

    def restore(self, open_devices: Iterable[str]) -> None:
        """Resume from the poller_down tickets still OPEN in the database (their devices)."""
        self.open = {d.removeprefix(DEVICE_PREFIX) for d in open_devices}

    def live(self, node: str) -> bool:
        """True while ``node``'s heartbeat moved within the window."""
        fresh = self._fresh.get(node)
        return fresh is not None and self._mono - fresh <= self.window

    def update(self, beats: Sequence[Beat], mono: float, now: datetime) -> list[Event]:
        """Read the heartbeats; return the poller_down tickets to open or clear."""
        self._mono, self._now, self._beats = mono, now, tuple(beats)
        for b in beats:
            last = self._last.get(b.node)
            if last is None:  # first sight: the wall clock decides once
                if (now - b.last_seen).total_seconds() <= self.window:
                    self._fresh[b.node] = mono
            elif b.last_seen != last:
                self._fresh[b.node] = mono
            self._last[b.node] = b.last_seen
            self._check_sha(b)
        if mono - self.started < self.window:
            return []  # start-up grace: pollers get a chance to heartbeat first
        silent = self._silent(beats)
        events: list[Event] = []
        for node, s in silent.items():
            if node not in self.open:
                events.append(FaultOpened(self._fault(s), now))
                logger.warning(
                    "poller %s silent since %s: zones %s unmonitored (%d devices)",
                    node,
                    s.since.isoformat(),
                    ",".join(s.zones),
                    s.devices,
                )
        for node in sorted(self.open - silent.keys()):
            events.append(
                FaultCleared(
                    fault_key(poller_device(node), FaultKind.POLLER_DOWN),
                    now,
                    "poller melapor lagi",
                )
            )
            logger.info("poller %s reports again", node)
        self.open = set(silent)
        self.silent = silent
        zones = {z for s in silent.values() for z in s.zones}
        self.unmonitored = frozenset(
            d.name for d in self.inventory.devices.values() if d.zone in zones
        )
        return events

    def _silent(self, beats: Sequence[Beat]) -> dict[str, Silent]:
        silent: dict[str, list[str]] = {}
        since: dict[str, datetime] = {}
        for zone in self.inventory.remote_zones():
            serving = [b for b in beats if zone in b.zones]
            if any(self.live(b.node) for b in serving):
                continue
            last = max(serving, key=lambda b: b.last_seen, default=None)
            node = last.node if last is not None else NEVER
            silent.setdefault(node, []).append(zone)
            since[node] = last.last_seen if last is not None else self.started_at
        return {
            node: Silent(
                node,
                tuple(zones),
                since[node],
                sum(len(self.inventory.zone_devices(z)) for z in zones),
            )
            for node, zones in silent.items()
        }

    def _fault(self, s: Silent) -> Fault:
        local = s.since.astimezone(self.inventory.tz).strftime("%d/%m/%Y %H:%M")
        node = "belum pernah ada poller" if s.node == NEVER else f"node {s.node}"
        summary = (
            f"Poller zona {', '.join(s.zones)} ({node}) tidak melapor sejak {local} WITA; "
            f"{s.devices} perangkat tak terpantau"
        )
        return Fault(poller_device(s.node), FaultKind.POLLER_DOWN, summary)

    def _check_sha(self, b: Beat) -> None:
        if not self.sha or not b.inventory_sha or b.inventory_sha == self.sha:
            return
        if (b.node, b.inventory_sha) not in self._warned:
            self._warned.add((b.node, b.inventory_sha))
            logger.warning(
                "poller %s runs another inventory (sha256 %s..., here %s...)",
                b.node,
                b.inventory_sha[:12],
                self.sha[:12],
            )

    def status(self) -> dict[str, object]:
        """Zones and pollers for /healthz and status: live or silent, unmonitored count."""
        return {
            "pollers": [
                {
                    "node": b.node,
                    "zones": list(b.zones),
                    "live": self.live(b.node),
                    "last_seen": b.last_seen.isoformat(),
                    "buffered": b.buffered,
                    "dropped": b.dropped,
                    "inventory_matches": not self.sha or b.inventory_sha in ("", self.sha),
                }
                for b in self._beats
            ],
            "silent_zones": sorted(z for s in self.silent.values() for z in s.zones),
            "unmonitored_devices": len(self.unmonitored),
        }

    def view(self) -> ZonesView:
        """The leader's poller series (metrics)."""
        pollers = tuple(
            PollerView(
                b.node,
                b.zones,
                up=self.live(b.node),
                last_seen_age=max(0.0, (self._now - b.last_seen).total_seconds()),
                buffered=b.buffered,
                dropped=b.dropped,
                devices={z: len(self.inventory.zone_devices(z)) for z in b.zones},
            )
            for b in self._beats
        )
        monitored = {
            d.name: d.name not in self.unmonitored for d in self.inventory.devices.values()
        }
        return ZonesView(pollers, monitored)


def window(lease: float) -> float:
    """How long a poller stays live after its heartbeat moved: 2 x lease (seconds)."""
    return 2 * lease


@dataclass(frozen=True, slots=True)
class ZoneState:
    """One zone besides ``pusat`` as its heartbeat rows show it at one moment."""

    zone: str
    devices: tuple[str, ...]  # its devices, in inventory order
    pollers: tuple[Beat, ...]  # the heartbeat rows naming the zone
    live: frozenset[str]  # the nodes among them heard within the window

    @property
    def monitored(self) -> bool:
        """True while at least one of the zone's pollers is live."""
        return bool(self.live)

    @property
    def since(self) -> datetime | None:
        """The zone's last heartbeat, from any of its pollers (None: none ever reported)."""
        return max((b.last_seen for b in self.pollers), default=None)


def zone_states(
    inventory: Inventory, beats: Sequence[Beat], now: datetime, lease: float
) -> list[ZoneState]:
    """Each zone of the inventory besides ``pusat``, read once from the heartbeat rows.

    A poller counts as live when its ``last_seen`` is within :func:`window` of ``now`` (the
    wall clock: this is a one-shot look by ``sigap status`` or the web board, not the leader's
    verdict, which times a row's changes on its own monotonic clock).
    """
    out: list[ZoneState] = []
    for zone in inventory.remote_zones():
        serving = tuple(b for b in beats if zone in b.zones)
        live = frozenset(
            b.node for b in serving if (now - b.last_seen).total_seconds() <= window(lease)
        )
        names = tuple(d.name for d in inventory.zone_devices(zone))
        out.append(ZoneState(zone, names, serving, live))
    return out


def zone_table(
    inventory: Inventory, beats: Sequence[Beat], now: datetime, lease: float, sha: str = ""
) -> list[dict[str, object]]:
    """``sigap status``'s view from the database: each zone, its pollers, monitored or not."""
    return [
        {
            "zone": z.zone,
            "devices": len(z.devices),
            "monitored": z.monitored,
            "pollers": [
                {
                    "node": b.node,
                    "live": b.node in z.live,
                    "last_seen_seconds": round(max(0.0, (now - b.last_seen).total_seconds()), 1),
                    "buffered": b.buffered,
                    "dropped": b.dropped,
                    "inventory_matches": not sha or b.inventory_sha in ("", sha),
                }
                for b in z.pollers
            ],
        }
        for z in zone_states(inventory, beats, now, lease)
    ]
