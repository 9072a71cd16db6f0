"""A lab's state file (spec, index map, phase, injected faults) and where its files live.

The state file is what makes a lab "up": ``Lab.up`` writes it ``building`` then ``up``; each
fault verb reads it, changes one device's DeviceFaults and writes it back atomically. What
is in the system (namespaces, guard, processes) is checked against it (labnet.health).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labnet import plan
from labnet.errors import LabError, LabNotUpError, UnknownDeviceError
from labnet.topology import LabSpec

if TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class DeviceFaults:
    """Faults currently injected on one device."""

    failed: bool = False
    link_down: bool = False
    loss_pct: int = 0
    ports_down: tuple[str, ...] = ()  # LAN ports administratively down (if_down)
    unplugged: tuple[str, ...] = ()  # LAN ports whose peer is down (unplug)
    snmp_stopped: bool = False
    ssh_hung: bool = False  # SSH sessions stop answering after login (ssh_hang)

    @property
    def any(self) -> bool:
        """Return True when at least one fault is active."""
        return (
            self.failed
            or self.link_down
            or self.loss_pct > 0
            or bool(self.ports_down)
            or bool(self.unplugged)
            or self.snmp_stopped
            or self.ssh_hung
        )

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form stored in the state file."""
        return {
            "failed": self.failed,
            "link_down": self.link_down,
            "loss_pct": self.loss_pct,
            "ports_down": list(self.ports_down),
            "unplugged": list(self.unplugged),
            "snmp_stopped": self.snmp_stopped,
            "ssh_hung": self.ssh_hung,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceFaults:
        """Parse the JSON form."""
        return cls(
            failed=bool(data.get("failed")),
            link_down=bool(data.get("link_down")),
            loss_pct=int(data.get("loss_pct", 0)),
            ports_down=tuple(str(p) for p in data.get("ports_down", ())),
            unplugged=tuple(str(p) for p in data.get("unplugged", ())),
            snmp_stopped=bool(data.get("snmp_stopped")),
            ssh_hung=bool(data.get("ssh_hung")),
        )


@dataclass(slots=True)
class LabState:
    """The JSON state file: spec, index map, phase and faults."""

    spec: LabSpec
    phase: str  # "building" | "up"
    faults: dict[str, DeviceFaults]

    def to_json(self) -> dict[str, Any]:
        """Return the JSON document."""
        return {
            "version": STATE_VERSION,
            "phase": self.phase,
            "spec": self.spec.to_json(),
            "index": plan.index_map(self.spec),
            "faults": {name: f.to_json() for name, f in sorted(self.faults.items()) if f.any},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabState:
        """Parse the JSON document."""
        if data.get("version") != STATE_VERSION:
            raise LabError(f"unsupported lab state version {data.get('version')!r}")
        faults = {
            str(name): DeviceFaults.from_json(dict(f))
            for name, f in dict(data.get("faults", {})).items()
        }
        return cls(spec=LabSpec.from_json(data["spec"]), phase=str(data["phase"]), faults=faults)

    def device_faults(self, device: str) -> DeviceFaults:
        """Return the faults of ``device`` (none injected: all clear)."""
        return self.faults.get(device, DeviceFaults())

    def path_clean(self, device: str) -> bool:
        """Return True if neither ``device`` nor an ancestor has a reachability fault."""
        cur: str | None = device
        while cur is not None:  # bounded: a validated spec has no cycles
            f = self.device_faults(cur)
            if f.failed or f.link_down or f.loss_pct:
                return False
            cur = self.spec.device(cur).parent
        return True


@dataclass(frozen=True, slots=True)
class LabPaths:
    """Names and files of one lab (pure: nothing is touched)."""

    name: str
    state_dir: Path

    @property
    def noc_netns(self) -> str:
        """Return the NOC netns name (where the agent runs)."""
        return plan.noc_netns(self.name)

    @property
    def state_file(self) -> Path:
        """Return the path of the JSON state file."""
        return self.state_dir / "state.json"

    def device_netns(self, device: str) -> str:
        """Return the netns name of ``device`` (no check that it is part of the lab)."""
        return plan.device_netns(self.name, device)

    def snmp_dir(self, device: str) -> Path:
        """Return the directory of the snmpd of ``device`` (conf, log, pid, persistent)."""
        return self.state_dir / "snmp" / device

    def ssh_dir(self, device: str) -> Path:
        """Return the SSH directory of ``device`` (host key, hang flag, sshd config)."""
        return self.state_dir / "ssh" / device

    @property
    def sim_dir(self) -> Path:
        """Return the directory of the SSH simulator process (config, pid, log)."""
        return self.state_dir / "ssh" / "_sim"

    def known_hosts_path(self) -> Path:
        """Return the lab's known_hosts file (the host keys given out at ``up``)."""
        return self.state_dir / "ssh" / "known_hosts"


def read_state(paths: LabPaths) -> LabState | None:
    """Return the state file contents, or None if absent or unreadable."""
    try:
        text = paths.state_file.read_text()
    except FileNotFoundError:
        return None
    try:
        return LabState.from_json(json.loads(text))
    except (ValueError, LabError, KeyError, TypeError) as exc:
        logger.warning(
            "lab %s: ignoring unreadable state %s: %s", paths.name, paths.state_file, exc
        )
        return None


def write_state(paths: LabPaths, state: LabState) -> None:
    """Write the state file atomically."""
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    tmp = paths.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=1))
    tmp.replace(paths.state_file)


def require_state(paths: LabPaths) -> LabState:
    """Return the state of an up lab or raise LabNotUpError."""
    state = read_state(paths)
    if state is None or state.phase != "up":
        raise LabNotUpError(f"lab {paths.name} is not up (no state in {paths.state_dir})")
    return state


def require_device(paths: LabPaths, device: str) -> LabState:
    """Return the state of an up lab that has ``device`` (else LabNotUpError / Unknown...)."""
    state = require_state(paths)
    names = [d.name for d in state.spec.devices]
    if device not in names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")  # noqa: PLR2004
        raise UnknownDeviceError(f"unknown device {device!r} in lab {paths.name} (known: {shown})")
    return state


def require_snmp_device(paths: LabPaths, device: str) -> LabState:
    """Like require_device, and raise LabError unless ``device`` runs snmpd."""
    state = require_device(paths, device)
    if not state.spec.device(device).snmp:
        raise LabError(f"device {device!r} has no snmpd (LabDevice.snmp is False)")
    return state


def require_ssh_device(paths: LabPaths, device: str) -> LabState:
    """Like require_device, and raise LabError unless ``device`` has an SSH endpoint."""
    state = require_device(paths, device)
    if not state.spec.device(device).ssh:
        raise LabError(f"device {device!r} has no SSH endpoint (LabDevice.ssh is False)")
    return state
