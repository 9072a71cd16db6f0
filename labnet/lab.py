"""Build, inspect, break and tear down a lab of network namespaces (see labnet.plan).

Faults available: a device dead (``fail``), its uplink down (``link_down``) and random
packet loss (``loss``, via nftables ``numgen random``). Latency cannot be injected: this
kernel has no ``sch_netem``. Devices with ``snmp`` (see labnet.snmpd) also have LAN ports
and a real snmpd: a port admin-down (``if_down``), a cable unplugged (``unplug``: admin up,
oper down), the SNMP agent dead (``snmp_stop``) or restarted (``snmp_restart``). Each snmpd
has a real lldpd as its AgentX subagent (labnet.lldp) speaking LLDP on the uplink and the
downlinks, so neighbour tables are real.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labnet import lldp, plan, snmpd, ssh
from labnet.errors import (
    LabCommandError,
    LabError,
    LabNotUpError,
    LabPermissionError,
    UnknownDeviceError,
)
from labnet.netns import NETNS_RUN_DIR, entered
from labnet.topology import LabSpec, parse_prefixes

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

logger = logging.getLogger(__name__)

STATE_VERSION = 1
COMMAND_TIMEOUT_S = 300.0
KILL_GRACE_S = 2.0
MAX_WORKERS = 4


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


@dataclass(slots=True)
class _State:
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
    def from_json(cls, data: dict[str, Any]) -> _State:
        """Parse the JSON document."""
        if data.get("version") != STATE_VERSION:
            raise LabError(f"unsupported lab state version {data.get('version')!r}")
        faults = {
            str(name): DeviceFaults.from_json(dict(f))
            for name, f in dict(data.get("faults", {})).items()
        }
        return cls(spec=LabSpec.from_json(data["spec"]), phase=str(data["phase"]), faults=faults)


def _run(argv: Sequence[str], stdin: str | None = None) -> str:
    """Run ``argv`` (no shell) and return stdout; raise LabCommandError on failure."""
    try:
        proc = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=COMMAND_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabCommandError(f"{' '.join(argv)}: {exc}") from exc
    if proc.returncode != 0:
        raise LabCommandError(
            f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[:2000]}"
        )
    return proc.stdout


def _ip_batch(netns: str | None, lines: Sequence[str], *, force: bool = False) -> None:
    """Run ``ip [-n netns] [-force] -batch -`` with ``lines`` on stdin."""
    argv = ["ip"]
    if netns is not None:
        argv += ["-n", netns]
    if force:
        argv.append("-force")
    argv += ["-batch", "-"]
    _run(argv, "\n".join(lines) + "\n")


def _nft(netns: str | None, ruleset: str) -> None:
    """Load an nftables ruleset in the root namespace or in ``netns``."""
    argv = ["nft", "-f", "-"] if netns is None else ["ip", "netns", "exec", netns, "nft", "-f", "-"]
    _run(argv, ruleset)


def _require_root() -> None:
    """Raise LabPermissionError unless running as root."""
    if os.geteuid() != 0:
        raise LabPermissionError("the lab needs root (network namespaces, veth, nftables)")


def _set_forwarding(netns: str, *, enabled: bool) -> None:
    """Write net.ipv4.ip_forward inside ``netns`` in process (no spawn)."""
    with entered(netns):
        Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n" if enabled else "0\n")


LAB_MAC_PREFIX = "02:5a:"  # plan.parent_mac / child_mac: every lab veth carries it


class Lab:
    """A named lab: one netns per device plus ``<name>-noc`` for the agent.

    Not safe for concurrent use of the same lab name from several processes.
    """

    def __init__(self, name: str = "sigap", state_dir: Path | None = None) -> None:
        """Create a handle; nothing is touched until ``up``/``down``/faults are called."""
        plan.check_lab_name(name)
        self.name = name
        self.state_dir = state_dir if state_dir is not None else Path(f"/run/{name}-lab")
        self._lock = threading.RLock()

    # -- names ------------------------------------------------------------------------

    @property
    def noc_netns(self) -> str:
        """Return the NOC netns name (where the agent runs)."""
        return plan.noc_netns(self.name)

    @property
    def state_file(self) -> Path:
        """Return the path of the JSON state file."""
        return self.state_dir / "state.json"

    def noc_argv(self, argv: Sequence[str]) -> list[str]:
        """Return ``argv`` wrapped to run inside the NOC netns."""
        return ["ip", "netns", "exec", self.noc_netns, *argv]

    def device_netns(self, device: str) -> str:
        """Return the netns name of ``device`` (must be part of the lab that is up)."""
        state = self._require_state()
        self._check_device(state, device)
        return plan.device_netns(self.name, device)

    def ports(self, device: str) -> list[str]:
        """Return the LAN port names of ``device`` (empty unless it runs snmpd)."""
        state = self._require_state()
        self._check_device(state, device)
        return plan.lan_ports(state.spec.device(device))

    def uplink(self, device: str) -> str:
        """Return the device-side name of the uplink of ``device`` (e.g. ``ether1``)."""
        state = self._require_state()
        self._check_device(state, device)
        return plan.uplink_name(state.spec.device(device).platform)

    def snmp_dir(self, device: str) -> Path:
        """Return the directory of the snmpd of ``device`` (conf, log, pid, persistent)."""
        return self.state_dir / "snmp" / device

    def ssh_dir(self, device: str) -> Path:
        """Return the SSH directory of ``device`` (host key, hang flag, sshd config)."""
        return self.state_dir / "ssh" / device

    @property
    def _sim_dir(self) -> Path:
        return self.state_dir / "ssh" / "_sim"

    def known_hosts_path(self) -> Path:
        """Return the lab's known_hosts file (the host keys given out at ``up``)."""
        return self.state_dir / "ssh" / "known_hosts"

    def ssh_hang(self, device: str) -> None:
        """Make the SSH server of ``device`` accept and log in, then stop answering."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_ssh_device(state, device)
            ssh.hang_flag(self.ssh_dir(device)).touch()
            current = state.faults.get(device, DeviceFaults())
            state.faults[device] = replace(current, ssh_hung=True)
            self._write_state(state)

    def rotate_host_key(self, device: str) -> None:
        """Give ``device`` a new SSH host key; the lab's known_hosts keeps the old one."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_ssh_device(state, device)
            dev = state.spec.device(device)
            ssh.generate_host_key(self.ssh_dir(device), device, replace=True)
            if dev.platform == "linux":
                ssh.stop_pid(self.ssh_dir(device) / "sshd.pid", "sshd")
                ssh.start_sshd(plan.device_netns(self.name, device), self.ssh_dir(device))
                self._wait_ssh(state, [device])
            else:
                ssh.reload_sim_keys(self._sim_dir)

    # -- lifecycle --------------------------------------------------------------------

    def up(self, spec: LabSpec) -> LabStatus:
        """Build the lab for ``spec``; no-op if the same spec is already up and healthy.

        A partial, crashed or different lab of this name is torn down first. Faults
        injected on an already-up identical lab are kept (use ``restore``).
        """
        _require_root()
        with self._lock:
            state = self._read_state()
            if state is not None and state.phase == "up" and state.spec == spec:
                problems = self._problems(state)
                if not problems:
                    logger.info("lab %s already up with this spec", self.name)
                    return self.status()
                logger.warning("lab %s unhealthy (%s): rebuilding", self.name, problems[0])
            if state is not None or self._leftovers():
                self.down()
            self._check_root_routes(spec)
            started = time.monotonic()
            _nft(None, plan.guard_ruleset(self.name, spec.prefixes))  # guard FIRST
            try:
                self._write_state(_State(spec=spec, phase="building", faults={}))
                self._build(spec)
                self._write_state(_State(spec=spec, phase="up", faults={}))
            except BaseException:
                logger.exception("lab %s: build failed, tearing down", self.name)
                self.down()
                raise
            logger.info(
                "lab %s up: %d devices in %.1f s",
                self.name,
                len(spec.devices),
                time.monotonic() - started,
            )
            return self.status()

    def down(self) -> None:
        """Remove everything named after this lab, with or without a state file.

        Kills processes left in the lab's namespaces, deletes the namespaces (their veths
        go with them), the state directory, and last the root-namespace guard.
        """
        _require_root()
        with self._lock:
            started = time.monotonic()
            names = self._lab_netns()
            if names:
                self._kill_processes(names)
                _ip_batch(None, [f"netns del {n}" for n in names], force=True)
            ssh.remove_etc(ssh.our_etc_dirs(plan.netns_prefix(self.name)))
            left = self._lab_netns()
            if left:
                raise LabError(f"could not delete namespaces: {', '.join(left[:5])}")
            shutil.rmtree(self.state_dir, ignore_errors=True)
            shutil.rmtree(lldp.agentx_dir(self.name), ignore_errors=True)
            _nft(None, plan.guard_removal(self.name))  # guard LAST
            logger.info(
                "lab %s down: %d namespaces removed in %.1f s",
                self.name,
                len(names),
                time.monotonic() - started,
            )

    def status(self) -> LabStatus:
        """Return whether the lab is up and healthy, its devices and injected faults."""
        with self._lock:
            state = self._read_state()
            if state is None:
                leftovers = self._leftovers()
                return LabStatus(
                    name=self.name,
                    is_up=False,
                    noc_netns=self.noc_netns,
                    problems=tuple(leftovers),
                )
            problems = [] if state.phase == "up" else [f"phase is {state.phase}"]
            problems += self._problems(state)
            return LabStatus(
                name=self.name,
                is_up=not problems,
                noc_netns=self.noc_netns,
                devices=tuple(d.name for d in state.spec.devices),
                faults={n: f for n, f in state.faults.items() if f.any},
                spec=state.spec,
                problems=tuple(problems),
            )

    # -- faults -----------------------------------------------------------------------

    def fail(self, device: str) -> None:
        """Make ``device`` silently dead (drops input, forward, output): its subtree hides."""
        self._change(device, failed=True)

    def loss(self, device: str, pct: int) -> None:
        """Drop ``pct`` % of packets arriving on the device's uplink at random (0 removes)."""
        if not 0 <= pct <= 100:  # noqa: PLR2004
            raise LabError(f"loss percentage must be within 0..100, not {pct}")
        self._change(device, loss_pct=pct)

    def link_down(self, device: str) -> None:
        """Set both ends of the device's uplink veth down."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_device(state, device)
            current = state.faults.get(device, DeviceFaults())
            parent_ns, link = self._uplink(state.spec, device)
            uplink = plan.uplink_name(state.spec.device(device).platform)
            _ip_batch(parent_ns, [f"link set {link} down"])
            _ip_batch(plan.device_netns(self.name, device), [f"link set {uplink} down"])
            state.faults[device] = replace(current, link_down=True)
            self._write_state(state)

    def if_down(self, device: str, port: str) -> None:
        """Set LAN ``port`` of ``device`` administratively down (ifAdminStatus down)."""
        self._port_change(device, port, admin_down=True)

    def if_up(self, device: str, port: str) -> None:
        """Set LAN ``port`` of ``device`` administratively up again."""
        self._port_change(device, port, admin_down=False)

    def unplug(self, device: str, port: str) -> None:
        """Pull the cable of LAN ``port``: its hidden peer goes down (admin up, oper down)."""
        self._port_change(device, port, unplugged=True)

    def plug(self, device: str, port: str) -> None:
        """Plug the cable of LAN ``port`` back in (oper up again if admin up)."""
        self._port_change(device, port, unplugged=False)

    def snmp_stop(self, device: str) -> None:
        """Kill the SNMP agent of ``device``: SNMP goes silent, ping still answers."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_snmp_device(state, device)
            snmpd.stop(self.snmp_dir(device))
            current = state.faults.get(device, DeviceFaults())
            state.faults[device] = replace(current, snmp_stopped=True)
            self._write_state(state)

    def snmp_start(self, device: str) -> None:
        """Start the SNMP agent of ``device`` again (no-op if running); waits until ready."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_snmp_device(state, device)
            if snmpd.read_pid(self.snmp_dir(device)) is None:
                self._start_agents(state, [device])
            current = state.faults.get(device, DeviceFaults())
            state.faults[device] = replace(current, snmp_stopped=False)
            self._write_state(state)

    def snmp_restart(self, device: str) -> None:
        """Restart the SNMP agent (sysUpTime resets, the host's uptime does not: no reboot)."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_snmp_device(state, device)
            snmpd.stop(self.snmp_dir(device))
            self._start_agents(state, [device])
            current = state.faults.get(device, DeviceFaults())
            state.faults[device] = replace(current, snmp_stopped=False)
            self._write_state(state)

    def restore(self, device: str) -> None:
        """Undo every fault on ``device`` (idempotent): fail, link_down, loss, ports, snmp."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_device(state, device)
            current = state.faults.get(device, DeviceFaults())
            if current.link_down:
                parent_ns, _ = self._uplink(state.spec, device)
                parent_side, device_side = plan.link_routes(state.spec, device)
                _ip_batch(plan.device_netns(self.name, device), device_side)
                _ip_batch(parent_ns, parent_side)
            _nft(plan.device_netns(self.name, device), plan.fault_ruleset(failed=False, loss_pct=0))
            if current.ports_down:
                _ip_batch(
                    plan.device_netns(self.name, device),
                    [f"link set {p} up" for p in current.ports_down],
                )
            if current.unplugged:
                peers = plan.port_peers(state.spec, device)
                _ip_batch(
                    plan.wire_netns(self.name),
                    [f"link set {peers[p]} up" for p in current.unplugged],
                )
            if current.ssh_hung:
                ssh.hang_flag(self.ssh_dir(device)).unlink(missing_ok=True)
            state.faults.pop(device, None)
            if current.snmp_stopped and snmpd.read_pid(self.snmp_dir(device)) is None:
                self._start_agents(state, [device])
            self._write_state(state)

    # -- internals --------------------------------------------------------------------

    def _change(
        self, device: str, *, failed: bool | None = None, loss_pct: int | None = None
    ) -> None:
        """Apply a new failed/loss combination to ``device`` (one nft load)."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_device(state, device)
            cur = state.faults.get(device, DeviceFaults())
            new = replace(
                cur,
                failed=cur.failed if failed is None else failed,
                loss_pct=cur.loss_pct if loss_pct is None else loss_pct,
            )
            ruleset = plan.fault_ruleset(
                failed=new.failed,
                loss_pct=new.loss_pct,
                uplink=plan.uplink_name(state.spec.device(device).platform),
            )
            _nft(plan.device_netns(self.name, device), ruleset)
            state.faults[device] = new
            self._write_state(state)

    def _port_change(
        self,
        device: str,
        port: str,
        *,
        admin_down: bool | None = None,
        unplugged: bool | None = None,
    ) -> None:
        """Set ``port`` admin up/down (device side) or plugged/unplugged (hidden peer)."""
        _require_root()
        with self._lock:
            state = self._require_state()
            self._check_device(state, device)
            peers = plan.port_peers(state.spec, device)
            if port not in peers:
                raise LabError(
                    f"device {device!r} has no LAN port {port!r} "
                    f"(ports: {', '.join(peers) or 'none, snmp is off'})"
                )
            cur = state.faults.get(device, DeviceFaults())
            new = cur
            if admin_down is not None:
                updown = "down" if admin_down else "up"
                _ip_batch(plan.device_netns(self.name, device), [f"link set {port} {updown}"])
                new = replace(new, ports_down=_toggle(new.ports_down, port, on=admin_down))
            if unplugged is not None:
                updown = "down" if unplugged else "up"
                _ip_batch(plan.wire_netns(self.name), [f"link set {peers[port]} {updown}"])
                new = replace(new, unplugged=_toggle(new.unplugged, port, on=unplugged))
            state.faults[device] = new
            self._write_state(state)

    def _check_snmp_device(self, state: _State, device: str) -> None:
        """Raise UnknownDeviceError / LabError unless ``device`` runs snmpd in this lab."""
        self._check_device(state, device)
        if not state.spec.device(device).snmp:
            raise LabError(f"device {device!r} has no snmpd (LabDevice.snmp is False)")

    def _check_ssh_device(self, state: _State, device: str) -> None:
        """Raise UnknownDeviceError / LabError unless ``device`` has an SSH endpoint."""
        self._check_device(state, device)
        if not state.spec.device(device).ssh:
            raise LabError(f"device {device!r} has no SSH endpoint (LabDevice.ssh is False)")

    def _start_ssh(self, spec: LabSpec) -> None:
        """Host keys, known_hosts, the simulator and the linux sshds; wait for banners."""
        entries = {}
        for dev in spec.ssh_devices:
            ssh.generate_host_key(self.ssh_dir(dev.name), dev.name)
            entries[dev.address] = ssh.public_key(self.ssh_dir(dev.name))
        self.known_hosts_path().write_text(ssh.known_hosts_lines(entries))
        sims = [
            (d, plan.device_netns(self.name, d.name), self.ssh_dir(d.name))
            for d in spec.ssh_devices
            if d.platform in ssh.SIM_PLATFORMS
        ]
        if sims:
            ssh.start_sim(self.noc_netns, self._sim_dir, ssh.sim_config(sims, spec.ssh))
        for dev in spec.ssh_devices:
            if dev.platform == "linux":
                netns = plan.device_netns(self.name, dev.name)
                ssh.setup_linux(dev, netns, self.ssh_dir(dev.name), spec.ssh)
                ssh.start_sshd(netns, self.ssh_dir(dev.name))
        if sims:
            ssh.wait_sim_pid(self._sim_dir)
        state = _State(spec=spec, phase="building", faults={})
        self._wait_ssh(state, [d.name for d in spec.ssh_devices])

    def _wait_ssh(self, state: _State, devices: Sequence[str]) -> None:
        """Wait until each device (with a clean path) sends its SSH banner to the NOC."""
        addrs = [state.spec.device(d).address for d in devices if self._path_clean(state, d)]
        silent = ssh.wait_banners(self.noc_netns, addrs)
        if silent:
            raise LabError(f"SSH not answering on {len(silent)} devices (e.g. {silent[0]})")

    def _ssh_pids(self) -> set[int]:
        """PIDs of the lab's own SSH servers (simulator, sshd listeners)."""
        state = self._read_state()
        if state is None:
            return set()
        pids = [ssh.sim_pid(self._sim_dir)]
        pids += [ssh.sshd_pid(self.ssh_dir(d.name)) for d in state.spec.ssh_devices]
        return {p for p in pids if p is not None}

    def _path_clean(self, state: _State, device: str) -> bool:
        """Return True if neither ``device`` nor an ancestor has a reachability fault."""
        cur: str | None = device
        while cur is not None:  # bounded: a validated spec has no cycles
            f = state.faults.get(cur, DeviceFaults())
            if f.failed or f.link_down or f.loss_pct:
                return False
            cur = state.spec.device(cur).parent
        return True

    def _start_agents(self, state: _State, devices: Sequence[str]) -> None:
        """Write confs, start snmpd for ``devices`` in parallel, wait until each is ready.

        Ready means answering a real v2c GET from the NOC with the configured speed of
        the uplink (net-snmp applies ``interface`` speeds only at its first ifTable
        reload, ~3 s after start); for a device whose path is faulty (failed, link down,
        lossy) only that the agent is running.
        """
        spec = state.spec
        speed = snmpd.gauge(plan.UPLINK_SPEED_BPS // 1_000_000)

        lldp.agentx_dir(self.name).mkdir(mode=0o700, parents=True, exist_ok=True)

        def launch(device: str) -> tuple[str, int]:
            agent_dir = self.snmp_dir(device)
            snmpd.write_conf(agent_dir, snmpd.conf(self.name, spec, device))
            ifindex = snmpd.start(plan.device_netns(self.name, device), agent_dir)
            return device, ifindex[plan.uplink_name(spec.device(device).platform)]

        workers = max(1, min(MAX_WORKERS, (os.cpu_count() or 1) * 2))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labnet-snmp") as pool:
            uplinks = dict(pool.map(launch, devices))
        probe = {
            d: snmpd.Probe(spec.device(d).address, (*snmpd.IF_HIGH_SPEED, uplinks[d]), speed)
            for d in devices
            if self._path_clean(state, d)
        }
        deadline = time.monotonic() + snmpd.READY_TIMEOUT_S
        # lldpd starts while the agents warm up (~3 s until ifTable speeds apply): it only
        # needs each snmpd's AgentX socket, which exists early
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="labnet-lldp") as bg:
            lldpd_started = bg.submit(self._start_lldpd, spec, devices)
            silent = snmpd.wait_answering(self.noc_netns, probe, spec.snmp.community)
            lldpd_started.result()
        for device in devices:
            while snmpd.read_pid(self.snmp_dir(device)) is None:
                if time.monotonic() > deadline:
                    silent.append(device)
                    break
                time.sleep(0.05)
        if silent:
            log = self.snmp_dir(silent[0]) / "snmpd.log"
            tail = log.read_text()[-500:] if log.exists() else "(no log)"
            raise LabError(
                f"snmpd not ready on {len(silent)} devices (e.g. {silent[0]}): {tail.strip()}"
            )

    def _start_lldpd(self, spec: LabSpec, devices: Sequence[str]) -> None:
        """(Re)start lldpd for ``devices`` (their snmpd is up, so its AgentX socket exists)."""
        if not Path(lldp.LLDPD).exists():
            logger.warning("lab %s: %s not installed: no LLDP in the lab", self.name, lldp.LLDPD)
            return

        index = plan.index_map(spec)

        def launch(device: str) -> None:
            dev = spec.device(device)
            lldp.stop(self.snmp_dir(device))
            socket = lldp.agentx_socket(self.name, index[device])
            deadline = time.monotonic() + snmpd.READY_TIMEOUT_S
            while not socket.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            descr = snmpd.identity(dev.platform, dev.role, dev.name)[1]
            lldp.start(self.name, spec, device, self.snmp_dir(device), descr)

        workers = max(1, min(MAX_WORKERS, (os.cpu_count() or 1) * 2))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labnet-lldp") as pool:
            for _ in pool.map(launch, devices):  # re-raises the first failure
                pass

    def _uplink(self, spec: LabSpec, device: str) -> tuple[str, str]:
        """Return (parent netns, parent-side veth name) of the device's uplink."""
        parent = spec.device(device).parent
        parent_ns = self.noc_netns if parent is None else plan.device_netns(self.name, parent)
        return parent_ns, plan.child_link(plan.index_map(spec)[device])

    def _build(self, spec: LabSpec) -> None:
        """Create namespaces and veths (one spawn), then configure each netns in parallel."""
        t0 = time.monotonic()
        _ip_batch(
            None, plan.creation_batch(self.name, spec) + plan.ports_creation_batch(self.name, spec)
        )
        t1 = time.monotonic()
        jobs: list[tuple[str, list[str], bool]] = [(self.noc_netns, plan.noc_batch(spec), False)]
        jobs += [
            (
                plan.device_netns(self.name, d.name),
                plan.device_batch(spec, d.name)
                + (plan.port_batch(spec, d.name) if d.snmp or d.ssh else []),
                True,
            )
            for d in spec.devices
        ]
        if spec.port_devices:
            jobs.append((plan.wire_netns(self.name), plan.wire_batch(spec), False))

        def configure(job: tuple[str, list[str], bool]) -> None:
            netns, lines, forwarding = job
            _set_forwarding(netns, enabled=forwarding)
            _ip_batch(netns, lines)

        workers = max(1, min(MAX_WORKERS, (os.cpu_count() or 1) * 2))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labnet") as pool:
            for _ in pool.map(configure, jobs):  # re-raises the first failure
                pass
        t2 = time.monotonic()
        if spec.snmp_devices:
            state = _State(spec=spec, phase="building", faults={})
            self._start_agents(state, [d.name for d in spec.snmp_devices])
        if spec.ssh_devices:
            self._start_ssh(spec)
        logger.debug(
            "lab %s: create %.2f s, configure %.2f s (%d workers), snmpd %.2f s",
            self.name,
            t1 - t0,
            t2 - t1,
            workers,
            time.monotonic() - t2,
        )

    def _lab_netns(self) -> list[str]:
        """Return the names of the namespaces belonging to this lab.

        With a state file they are exactly the ones it names (a foreign namespace that only
        shares the prefix, like ``sigap-usmbench-1``, is not ours); without one (a crash
        before the state was written, or the state deleted) every prefixed name is.
        """
        present = self._prefixed_netns()
        state = self._read_state()
        if state is None:
            return [n for n in present if self._looks_like_ours(n)]
        return sorted(set(present) & self._expected_netns(state.spec))

    def _looks_like_ours(self, netns: str) -> bool:
        """Crash fallback: a prefixed namespace is ours if it carries labnet's MAC signature."""
        if netns in (self.noc_netns, plan.wire_netns(self.name)):
            return True
        try:
            links = json.loads(_run(["ip", "-n", netns, "-j", "link", "show"]) or "[]")
        except LabError:
            return False
        return any(str(link.get("address", "")).startswith(LAB_MAC_PREFIX) for link in links)

    def _prefixed_netns(self) -> list[str]:
        prefix = plan.netns_prefix(self.name)
        try:
            entries = [e.name for e in NETNS_RUN_DIR.iterdir()]
        except FileNotFoundError:
            return []
        return sorted(e for e in entries if e.startswith(prefix))

    def _expected_netns(self, spec: LabSpec) -> set[str]:
        expected = {self.noc_netns} | {plan.device_netns(self.name, d.name) for d in spec.devices}
        if spec.port_devices:
            expected.add(plan.wire_netns(self.name))
        return expected

    def _guard_present(self) -> bool:
        """Return True if the root-namespace guard table exists."""
        try:
            _run(["nft", "list", "table", "inet", plan.guard_table(self.name)])
        except LabCommandError:
            return False
        return True

    def _leftovers(self) -> list[str]:
        """Describe anything of this lab left in the system (namespaces, guard)."""
        out = []
        names = self._lab_netns()
        if names:
            out.append(f"{len(names)} leftover namespaces")
        if self._guard_present():
            out.append("guard table present")
        return out

    def _problems(self, state: _State) -> list[str]:
        """Return what is missing compared to ``state`` (empty when healthy)."""
        present = set(self._lab_netns())
        expected = self._expected_netns(state.spec)
        problems = []
        dead = [
            d.name
            for d in state.spec.snmp_devices
            if not state.faults.get(d.name, DeviceFaults()).snmp_stopped
            and snmpd.read_pid(self.snmp_dir(d.name)) is None
        ]
        if dead:
            problems.append(f"{len(dead)} snmpd not running (e.g. {dead[0]})")
        if Path(lldp.LLDPD).exists():
            mute = [
                d.name for d in state.spec.snmp_devices if lldp.pid(self.snmp_dir(d.name)) is None
            ]
            if mute:
                problems.append(f"{len(mute)} lldpd not running (e.g. {mute[0]})")
        missing = sorted(expected - present)
        if missing:
            problems.append(f"{len(missing)} namespaces missing (e.g. {missing[0]})")
        if not self._guard_present():
            problems.append("guard table missing")
        return problems

    def _check_root_routes(self, spec: LabSpec) -> None:
        """Refuse prefixes overlapping root-namespace routes (the guard would cut them off)."""
        nets = parse_prefixes(spec.prefixes)
        routes = json.loads(_run(["ip", "-j", "-4", "route", "show", "table", "all"]) or "[]")
        for route in routes:
            dst = route.get("dst", "")
            if dst in ("", "default"):
                continue
            try:
                rnet = ipaddress.IPv4Network(dst, strict=False)
            except ValueError:
                continue
            for net in nets:
                if rnet.overlaps(net):
                    raise LabError(
                        f"lab prefix {net} overlaps root-namespace route {dst} "
                        f"dev {route.get('dev', '?')}: refusing (the guard would cut it off)"
                    )

    def _kill_processes(self, names: Iterable[str]) -> None:
        """Terminate processes whose threads live in one of the named namespaces."""
        targets: set[tuple[int, int]] = set()
        for name in names:
            try:
                st = (NETNS_RUN_DIR / name).stat()
            except OSError:
                continue
            targets.add((st.st_dev, st.st_ino))
        pids = _pids_in(targets)
        if not pids:
            return
        own = self._snmpd_pids() | self._ssh_pids() | self._lldpd_pids()
        others = [p for p in pids if p not in own]
        if others:  # something besides the lab's own agents (an agent under test, a probe)
            logger.warning(
                "lab %s: terminating %d processes left in its namespaces (e.g. pid %d)",
                self.name,
                len(others),
                others[0],
            )
        logger.info("lab %s: stopping %d processes", self.name, len(pids))
        _signal_all(pids, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_S
        while time.monotonic() < deadline and _pids_in(targets):
            time.sleep(0.05)
        rest = _pids_in(targets)
        if rest:
            logger.warning(
                "lab %s: killing %d processes (e.g. pid %d)", self.name, len(rest), rest[0]
            )
            _signal_all(rest, signal.SIGKILL)

    def _snmpd_pids(self) -> set[int]:
        """PIDs of the lab's own snmpd agents (expected in its namespaces)."""
        state = self._read_state()
        if state is None:
            return set()
        pids = (snmpd.read_pid(self.snmp_dir(d.name)) for d in state.spec.snmp_devices)
        return {p for p in pids if p is not None}

    def _lldpd_pids(self) -> set[int]:
        """PIDs of the lab's own lldpd processes (monitors and their workers)."""
        state = self._read_state()
        if state is None:
            return set()
        return {p for d in state.spec.snmp_devices for p in lldp.pids(self.snmp_dir(d.name))}

    def _read_state(self) -> _State | None:
        """Return the state file contents, or None if absent or unreadable."""
        try:
            text = self.state_file.read_text()
        except FileNotFoundError:
            return None
        try:
            return _State.from_json(json.loads(text))
        except (ValueError, LabError, KeyError, TypeError) as exc:
            logger.warning(
                "lab %s: ignoring unreadable state %s: %s", self.name, self.state_file, exc
            )
            return None

    def _write_state(self, state: _State) -> None:
        """Write the state file atomically."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json(), indent=1))
        tmp.replace(self.state_file)

    def _require_state(self) -> _State:
        """Return the state of an up lab or raise LabNotUpError."""
        state = self._read_state()
        if state is None or state.phase != "up":
            raise LabNotUpError(f"lab {self.name} is not up (no state in {self.state_dir})")
        return state

    def _check_device(self, state: _State, device: str) -> None:
        """Raise UnknownDeviceError unless ``device`` is in the lab."""
        names = [d.name for d in state.spec.devices]
        if device not in names:
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")  # noqa: PLR2004
            raise UnknownDeviceError(
                f"unknown device {device!r} in lab {self.name} (known: {shown})"
            )


def _toggle(items: tuple[str, ...], item: str, *, on: bool) -> tuple[str, ...]:
    """Return ``items`` with ``item`` added (``on``) or removed, sorted, no duplicates."""
    rest = {i for i in items if i != item}
    return tuple(sorted(rest | {item} if on else rest))


def _pids_in(targets: set[tuple[int, int]]) -> list[int]:
    """Return pids (not ours) having a thread in one of the netns ``targets`` (dev, ino)."""
    own = os.getpid()
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            tasks = list((entry / "task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                st = (task / "ns" / "net").stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in targets:
                found.append(int(entry.name))
                break
    return found


def _signal_all(pids: Iterable[int], sig: signal.Signals) -> None:
    """Send ``sig`` to each pid, ignoring processes that are already gone."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue
