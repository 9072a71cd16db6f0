"""Observations -> device states -> fault events. Pure: time comes from the observations.

Per device: UNKNOWN -> UP | SUSPECT; SUSPECT -> DOWN after ``confirm_rounds`` failed rounds in a
row (each failed round asks for a fast re-probe), DOWN -> UP after ``recover_rounds`` good ones.

Dependencies: a device is only declared DOWN when every ancestor on its path to the core has
answered *after* the device started failing ("the path was proven good"). If an ancestor is
DOWN (or itself UNREACHABLE) the device is UNREACHABLE and is attached to the root cause's
ticket instead of getting its own. While an ancestor is still unproven the device waits, and
the ancestor is re-probed at once. Worked example, dist router R with child C, both dead:
C fails (SUSPECT, R and core asked for a re-probe) -> R fails twice -> R DOWN, ticket for R;
C's second failure finds R DOWN -> C UNREACHABLE, attached to R's ticket. When R comes back,
C is re-probed: an answer detaches it, two more failures give C its own ticket.

Flapping: ``flap_threshold`` UP<->DOWN changes within ``flap_window`` open one ``flapping``
fault (the device_down fault is cleared as superseded) and silence further down/up faults until
the device has been stable for ``flap_quiet``. Maintenance windows: a device that goes DOWN in
a window opens no fault; if it is still DOWN when the window ends, :meth:`Detector.tick` opens it.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from ticketing.faults import Fault, FaultKind, fault_key

if TYPE_CHECKING:
    from collections.abc import Iterable

    from agent.config.model import Device, Inventory
    from collectors.model import Observation

logger = logging.getLogger(__name__)


class DeviceState(StrEnum):
    """What the agent believes about a device."""

    UNKNOWN = "unknown"
    UP = "up"
    SUSPECT = "suspect"
    DOWN = "down"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class StateChanged:
    """A device changed state (logged, later exported as a metric)."""

    device: str
    old: DeviceState
    new: DeviceState
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class FaultOpened:
    """A root-cause fault started: the ticket layer opens (or reopens) its ticket."""

    fault: Fault
    at: datetime


@dataclass(frozen=True, slots=True)
class FaultCleared:
    """A fault ended: the ticket layer starts its hold-down."""

    key: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Attached:
    """A device is unreachable because of ``root_key``'s fault: list it on that ticket."""

    root_key: str
    device: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Detached:
    """A device is no longer a victim of another device's fault."""

    device: str
    at: datetime


Event = StateChanged | FaultOpened | FaultCleared | Attached | Detached


@dataclass(slots=True)
class _Track:
    """Mutable per-device bookkeeping (private to the detector)."""

    state: DeviceState = DeviceState.UNKNOWN
    failures: int = 0
    successes: int = 0
    suspect_since: datetime | None = None
    last_ok: datetime | None = None
    root: str | None = None  # UNREACHABLE: the DOWN device that hides this one
    attached_to: str | None = None  # root device whose ticket lists this one
    fault_open: bool = False
    flapping: bool = False
    changes: deque[datetime] = field(default_factory=deque)


class Detector:
    """Turns observations into device states and fault events; one instance per daemon."""

    def __init__(self, inventory: Inventory) -> None:
        """Start every device in UNKNOWN."""
        self.inventory = inventory
        self.settings = inventory.detection
        self._tracks = {name: _Track() for name in inventory.devices}
        self._requests: set[str] = set()

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory: devices kept keep their state, new ones start UNKNOWN."""
        self.inventory = inventory
        self.settings = inventory.detection
        self._tracks = {name: self._tracks.get(name) or _Track() for name in inventory.devices}

    # ------------------------------------------------------------------ queries
    def state(self, device: str) -> DeviceState:
        """Return the current state of ``device``."""
        return self._tracks[device].state

    def states(self) -> dict[str, DeviceState]:
        """Return a snapshot of every device's state."""
        return {name: t.state for name, t in self._tracks.items()}

    def wants_reprobe(self, device: str) -> bool:
        """True while the device is unconfirmed and should be probed again soon."""
        t = self._tracks[device]
        return t.state is DeviceState.SUSPECT or (
            t.state is DeviceState.DOWN and 0 < t.successes < self.settings.recover_rounds
        )

    def take_requests(self) -> set[str]:
        """Return and forget the devices that should be probed right away."""
        requests, self._requests = self._requests, set()
        return requests

    # ------------------------------------------------------------------ input
    def observe(self, obs: Observation) -> list[Event]:
        """Feed one probe round's result; return what changed."""
        if obs.device not in self._tracks:
            return []
        if obs.ok:
            return self._on_success(obs.device, obs.at)
        return self._on_failure(obs.device, obs.at, obs.detail or obs.status.value)

    def restore(self, open_faults: Iterable[tuple[str, FaultKind]], at: datetime) -> None:
        """Resume after a restart from the faults whose tickets are still OPEN in the database."""
        for device, kind in open_faults:
            t = self._tracks.get(device)
            if t is None:
                continue
            if kind is FaultKind.DEVICE_DOWN:
                t.state, t.fault_open = DeviceState.DOWN, True
            elif kind is FaultKind.FLAPPING:
                t.flapping = True
                t.changes.append(at)

    def tick(self, now: datetime) -> list[Event]:
        """Time-driven changes: flapping that calmed down, maintenance windows that ended."""
        events: list[Event] = []
        for name, t in self._tracks.items():
            if t.flapping and self._flap_calm(t, now):
                events += self._end_flapping(name, t, now)
            elif (
                t.state is DeviceState.DOWN
                and not t.fault_open
                and not t.flapping
                and self._maintenance(name, now) is None
            ):
                events += self._open_down(name, t, now, "maintenance window ended")
        return events

    # ------------------------------------------------------------------ transitions
    def _on_failure(self, name: str, at: datetime, why: str) -> list[Event]:
        t = self._tracks[name]
        t.successes = 0
        events: list[Event] = []
        if t.state in (DeviceState.UP, DeviceState.UNKNOWN):
            events.append(self._set(name, t, DeviceState.SUSPECT, at, why))
            t.failures, t.suspect_since = 0, at
            self._requests.update(a.name for a in self._path(name))
        if t.state is not DeviceState.SUSPECT:
            return events  # already DOWN or UNREACHABLE: nothing new
        t.failures += 1
        if t.failures >= self.settings.confirm_rounds:
            events += self._decide(name, t, at)
        return events

    def _on_success(self, name: str, at: datetime) -> list[Event]:
        t = self._tracks[name]
        t.last_ok, t.failures = at, 0
        events: list[Event] = []
        if t.state is DeviceState.DOWN:
            t.successes += 1
            if t.successes >= self.settings.recover_rounds:
                events += self._recover(name, t, at)
        elif t.state is not DeviceState.UP:
            events.append(self._set(name, t, DeviceState.UP, at, "answers again"))
            t.root = None
            events += self._detach(name, t, at)
        # a fresh answer proves the path for descendants waiting on this device
        events += self._recheck_below(name, at)
        return events

    def _decide(self, name: str, t: _Track, at: datetime) -> list[Event]:
        """A confirmed failure: own fault, victim of an ancestor, or wait for the path."""
        verdict, other = self._path_verdict(name, t)
        if verdict == "wait":
            self._requests.add(other)
            return []
        if verdict == "root":
            return self._hide(name, t, other, at)
        events: list[Event] = [self._set(name, t, DeviceState.DOWN, at, "no answer")]
        t.root = None
        events += self._detach(name, t, at)
        events += self._flap_record(name, t, at)
        if not t.flapping:
            # the outage began at the first unanswered probe, not at its confirmation
            events += self._open_down(name, t, t.suspect_since or at, "no answer")
        events += self._recheck_below(name, at)
        return events

    def _path_verdict(self, name: str, t: _Track) -> tuple[str, str]:
        for ancestor in self._path(name):
            ta = self._tracks[ancestor.name]
            if ta.state is DeviceState.DOWN:
                return "root", ancestor.name
            if ta.state is DeviceState.UNREACHABLE and ta.root is not None:
                return "root", ta.root
            if ta.last_ok is None or t.suspect_since is None or ta.last_ok < t.suspect_since:
                return "wait", ancestor.name
        return "own", ""

    def _hide(self, name: str, t: _Track, root: str, at: datetime) -> list[Event]:
        events: list[Event] = []
        if t.state is not DeviceState.UNREACHABLE or t.root != root:
            events.append(self._set(name, t, DeviceState.UNREACHABLE, at, f"behind {root}"))
            t.root = root
        if self._tracks[root].fault_open and t.attached_to != root:
            t.attached_to = root
            events.append(Attached(fault_key(root, FaultKind.DEVICE_DOWN), name, at))
        events += self._recheck_below(name, at)
        return events

    def _detach(self, name: str, t: _Track, at: datetime) -> list[Event]:
        if t.attached_to is None:
            return []
        t.attached_to = None
        return [Detached(name, at)]

    def _recover(self, name: str, t: _Track, at: datetime) -> list[Event]:
        events: list[Event] = [self._set(name, t, DeviceState.UP, at, "answers again")]
        t.successes = 0
        events += self._flap_record(name, t, at)
        if t.fault_open and not t.flapping:
            t.fault_open = False
            events.append(FaultCleared(fault_key(name, FaultKind.DEVICE_DOWN), at, "answers again"))
        # devices hidden behind this one must prove themselves again
        for below in self.inventory.descendants(name):
            tb = self._tracks[below]
            if tb.state is DeviceState.UNREACHABLE and tb.root == name:
                events.append(self._set(below, tb, DeviceState.SUSPECT, at, f"{name} is back"))
                tb.failures, tb.suspect_since, tb.root = 0, at, None
                self._requests.add(below)
        return events

    def _recheck_below(self, name: str, at: datetime) -> list[Event]:
        """Re-decide descendants that were waiting for ``name``'s verdict."""
        events: list[Event] = []
        for child in self.inventory.children(name):
            tc = self._tracks[child]
            if tc.state is DeviceState.SUSPECT and tc.failures >= self.settings.confirm_rounds:
                events += self._decide(child, tc, at)
            elif (
                tc.state is DeviceState.UNREACHABLE
                and tc.root is not None
                and self._tracks[tc.root].fault_open
                and tc.attached_to != tc.root
            ):
                events += self._hide(child, tc, tc.root, at)
        return events

    # ------------------------------------------------------------------ faults
    def _open_down(self, name: str, t: _Track, at: datetime, why: str) -> list[Event]:
        window = self._maintenance(name, at)
        if window is not None:
            logger.info("%s down (%s) during maintenance %r: no ticket", name, why, window)
            return []
        t.fault_open = True
        device = self.inventory.devices[name]
        fault = Fault(name, FaultKind.DEVICE_DOWN, _summary(device), device.opd, device.address)
        events: list[Event] = [FaultOpened(fault, at)]
        # victims found while the fault was suppressed are attached now
        for below in self.inventory.descendants(name):
            tb = self._tracks[below]
            if tb.state is DeviceState.UNREACHABLE and tb.root == name and tb.attached_to != name:
                tb.attached_to = name
                events.append(Attached(fault.key, below, at))
        return events

    def _flap_record(self, name: str, t: _Track, at: datetime) -> list[Event]:
        window = timedelta(seconds=self.settings.flap_window)
        t.changes.append(at)
        while t.changes and t.changes[0] < at - window:
            t.changes.popleft()
        if t.flapping or len(t.changes) < self.settings.flap_threshold:
            return []
        t.flapping = True
        events: list[Event] = []
        if t.fault_open:
            t.fault_open = False
            events.append(FaultCleared(fault_key(name, FaultKind.DEVICE_DOWN), at, "flapping"))
        device = self.inventory.devices[name]
        summary = (
            f"{device.name} ({device.opd}) naik-turun {len(t.changes)} kali dalam "
            f"{int(self.settings.flap_window // 60)} menit"
        )
        fault = Fault(name, FaultKind.FLAPPING, summary, device.opd, device.address)
        events.append(FaultOpened(fault, at))
        return events

    def _flap_calm(self, t: _Track, now: datetime) -> bool:
        last = t.changes[-1] if t.changes else None
        return last is None or now - last >= timedelta(seconds=self.settings.flap_quiet)

    def _end_flapping(self, name: str, t: _Track, now: datetime) -> list[Event]:
        t.flapping = False
        t.changes.clear()
        events: list[Event] = [FaultCleared(fault_key(name, FaultKind.FLAPPING), now, "stable")]
        if t.state is DeviceState.DOWN:
            events += self._open_down(name, t, now, "still down after flapping")
        return events

    # ------------------------------------------------------------------ helpers
    def _set(
        self, name: str, t: _Track, new: DeviceState, at: datetime, reason: str
    ) -> StateChanged:
        old, t.state = t.state, new
        return StateChanged(name, old, new, at, reason)

    def _path(self, name: str) -> list[Device]:
        return [a for a in self.inventory.ancestors(name) if a.ping.enabled]

    def _maintenance(self, name: str, at: datetime) -> str | None:
        window = self.inventory.devices[name].in_maintenance(at, self.inventory.tz)
        return window.name if window else None


def _summary(device: Device) -> str:
    """Indonesian one-line description of a down device."""
    kind = {"router": "Router", "switch": "Switch"}.get(device.role, "Perangkat")
    return f"{kind} {device.name} ({device.address}) di {device.opd or device.site} mati"
