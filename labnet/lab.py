"""Build, inspect, break and tear down a lab of network namespaces (see labnet.plan).

``Lab`` is the front: it checks for root, serialises the calls of one process and hands
each verb to its module: labnet.build (up, down), labnet.faults (the fault verbs, listed
there), labnet.procs (snmpd, lldpd, the SSH servers), labnet.health (what is present or
missing) and labnet.state (the state file and the lab's paths). Devices with ``snmp`` run a
real snmpd with a real lldpd as its AgentX subagent (labnet.lldp) speaking LLDP on the
uplink and the downlinks, so neighbour tables are real.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from labnet import build, faults, health, plan
from labnet.commands import require_root
from labnet.errors import LabError
from labnet.state import DeviceFaults, LabPaths, read_state, require_device

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from labnet.topology import LabSpec

__all__ = ["DeviceFaults", "Lab", "LabStatus"]


@dataclass(frozen=True, slots=True)
class LabStatus:
    """What the lab looks like now."""

    name: str
    is_up: bool
    noc_netns: str
    devices: tuple[str, ...] = ()
    faults: dict[str, DeviceFaults] = field(default_factory=dict)
    spec: LabSpec | None = None
    problems: tuple[str, ...] = ()


class Lab:
    """A named lab: one netns per device plus ``<name>-noc`` for the agent.

    Not safe for concurrent use of the same lab name from several processes.
    """

    def __init__(self, name: str = "sigap", state_dir: Path | None = None) -> None:
        """Create a handle; nothing is touched until ``up``/``down``/faults are called."""
        plan.check_lab_name(name)
        self._paths = LabPaths(
            name, state_dir if state_dir is not None else Path(f"/run/{name}-lab")
        )
        self._lock = threading.RLock()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Require root, then hold the lock: the body changes the system."""
        require_root()
        with self._lock:
            yield

    # -- names ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """Return the lab's name (prefix of its namespaces)."""
        return self._paths.name

    @property
    def state_dir(self) -> Path:
        """Return the directory of the state file, the agents' and SSH servers' files."""
        return self._paths.state_dir

    @property
    def noc_netns(self) -> str:
        """Return the NOC netns name (where the agent runs)."""
        return self._paths.noc_netns

    @property
    def state_file(self) -> Path:
        """Return the path of the JSON state file."""
        return self._paths.state_file

    def noc_argv(self, argv: Sequence[str]) -> list[str]:
        """Return ``argv`` wrapped to run inside the NOC netns."""
        return ["ip", "netns", "exec", self.noc_netns, *argv]

    def device_netns(self, device: str) -> str:
        """Return the netns name of ``device`` (must be part of the lab that is up)."""
        require_device(self._paths, device)
        return self._paths.device_netns(device)

    def ports(self, device: str) -> list[str]:
        """Return the LAN port names of ``device`` (empty unless it runs snmpd)."""
        state = require_device(self._paths, device)
        return plan.lan_ports(state.spec.device(device))

    def uplink(self, device: str) -> str:
        """Return the device-side name of the uplink of ``device`` (e.g. ``ether1``)."""
        state = require_device(self._paths, device)
        return plan.uplink_name(state.spec.device(device).platform)

    def snmp_dir(self, device: str) -> Path:
        """Return the directory of the snmpd of ``device`` (conf, log, pid, persistent)."""
        return self._paths.snmp_dir(device)

    def ssh_dir(self, device: str) -> Path:
        """Return the SSH directory of ``device`` (host key, hang flag, sshd config)."""
        return self._paths.ssh_dir(device)

    def known_hosts_path(self) -> Path:
        """Return the lab's known_hosts file (the host keys given out at ``up``)."""
        return self._paths.known_hosts_path()

    # -- lifecycle --------------------------------------------------------------------

    def up(self, spec: LabSpec) -> LabStatus:
        """Build the lab for ``spec``; no-op if the same spec is already up and healthy.

        A partial, crashed or different lab of this name is torn down first. Faults
        injected on an already-up identical lab are kept (use ``restore``).
        """
        with self._exclusive():
            build.up(self._paths, spec)
            return self.status()

    def down(self) -> None:
        """Remove everything named after this lab, with or without a state file.

        Kills processes left in the lab's namespaces, deletes the namespaces (their veths
        go with them), the state directory, and last the root-namespace guard.
        """
        with self._exclusive():
            build.down(self._paths)

    def status(self) -> LabStatus:
        """Return whether the lab is up and healthy, its devices and injected faults."""
        with self._lock:
            state = read_state(self._paths)
            if state is None:
                return LabStatus(
                    name=self.name,
                    is_up=False,
                    noc_netns=self.noc_netns,
                    problems=tuple(health.leftovers(self._paths)),
                )
            problems = [] if state.phase == "up" else [f"phase is {state.phase}"]
            problems += health.problems(self._paths, state)
            return LabStatus(
                name=self.name,
                is_up=not problems,
                noc_netns=self.noc_netns,
                devices=tuple(d.name for d in state.spec.devices),
                faults={n: f for n, f in state.faults.items() if f.any},
                spec=state.spec,
                problems=tuple(problems),
            )

    # -- faults (labnet.faults) -------------------------------------------------------

    def fail(self, device: str) -> None:
        """Make ``device`` silently dead (drops input, forward, output): its subtree hides."""
        with self._exclusive():
            faults.change(self._paths, device, failed=True)

    def loss(self, device: str, pct: int) -> None:
        """Drop ``pct`` % of packets arriving on the device's uplink at random (0 removes)."""
        if not 0 <= pct <= 100:  # noqa: PLR2004
            raise LabError(f"loss percentage must be within 0..100, not {pct}")
        with self._exclusive():
            faults.change(self._paths, device, loss_pct=pct)

    def link_down(self, device: str) -> None:
        """Set both ends of the device's uplink veth down."""
        with self._exclusive():
            faults.link_down(self._paths, device)

    def if_down(self, device: str, port: str) -> None:
        """Set LAN ``port`` of ``device`` administratively down (ifAdminStatus down)."""
        with self._exclusive():
            faults.port_change(self._paths, device, port, admin_down=True)

    def if_up(self, device: str, port: str) -> None:
        """Set LAN ``port`` of ``device`` administratively up again."""
        with self._exclusive():
            faults.port_change(self._paths, device, port, admin_down=False)

    def unplug(self, device: str, port: str) -> None:
        """Pull the cable of LAN ``port``: its hidden peer goes down (admin up, oper down)."""
        with self._exclusive():
            faults.port_change(self._paths, device, port, unplugged=True)

    def plug(self, device: str, port: str) -> None:
        """Plug the cable of LAN ``port`` back in (oper up again if admin up)."""
        with self._exclusive():
            faults.port_change(self._paths, device, port, unplugged=False)

    def snmp_stop(self, device: str) -> None:
        """Kill the SNMP agent of ``device``: SNMP goes silent, ping still answers."""
        with self._exclusive():
            faults.snmp_stop(self._paths, device)

    def snmp_start(self, device: str) -> None:
        """Start the SNMP agent of ``device`` again (no-op if running); waits until ready."""
        with self._exclusive():
            faults.snmp_start(self._paths, device)

    def snmp_restart(self, device: str) -> None:
        """Restart the SNMP agent (sysUpTime resets, the host's uptime does not: no reboot)."""
        with self._exclusive():
            faults.snmp_restart(self._paths, device)

    def ssh_hang(self, device: str) -> None:
        """Make the SSH server of ``device`` accept and log in, then stop answering."""
        with self._exclusive():
            faults.ssh_hang(self._paths, device)

    def rotate_host_key(self, device: str) -> None:
        """Give ``device`` a new SSH host key; the lab's known_hosts keeps the old one."""
        with self._exclusive():
            faults.rotate_host_key(self._paths, device)

    def health(self, device: str, **changes: float | bool) -> None:
        """Change the MIKROTIK-MIB health/radio values ``device`` reports (see labnet.mtxr)."""
        with self._exclusive():
            faults.health(self._paths, device, **changes)

    def restore(self, device: str) -> None:
        """Undo every fault on ``device`` (idempotent): fail, link_down, loss, ports, snmp."""
        with self._exclusive():
            faults.restore(self._paths, device)
