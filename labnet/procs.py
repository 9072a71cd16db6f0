"""Process supervision of a lab: start snmpd, lldpd and the SSH servers, stop what is left.

The daemons themselves are driven by labnet.snmpd, labnet.lldp and labnet.ssh; this module
starts them for many devices in parallel, waits until each answers from the NOC, and at
``down`` terminates every process (ours or not) still living in the lab's namespaces.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from labnet import lldp, mtxr, plan, snmpd, ssh
from labnet.commands import pool_size
from labnet.errors import LabError
from labnet.netns import NETNS_RUN_DIR
from labnet.state import LabState, read_state

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from labnet.state import LabPaths
    from labnet.topology import LabSpec

logger = logging.getLogger(__name__)

KILL_GRACE_S = 2.0


def start_agents(paths: LabPaths, state: LabState, devices: Sequence[str]) -> None:
    """Write confs, start snmpd for ``devices`` in parallel, wait until each is ready.

    Ready means answering a real v2c GET from the NOC with the configured speed of
    the uplink (net-snmp applies ``interface`` speeds only at its first ifTable
    reload, ~3 s after start); for a device whose path is faulty (failed, link down,
    lossy) only that the agent is running.
    """
    spec = state.spec
    speed = snmpd.gauge(plan.UPLINK_SPEED_BPS // 1_000_000)

    lldp.agentx_dir(paths.name).mkdir(mode=0o700, parents=True, exist_ok=True)

    def launch(device: str) -> tuple[str, int]:
        agent_dir = paths.snmp_dir(device)
        platform = spec.device(device).platform
        text = snmpd.conf(paths.name, spec, device)
        extra = snmpd.mtxr_lines(platform, agent_dir)
        snmpd.write_conf(agent_dir, text + "".join(f"{line}\n" for line in extra))
        descrs = plan.if_descrs(spec.device(device))
        ifindex = snmpd.start(paths.device_netns(device), agent_dir, descrs)
        uplink = ifindex[plan.uplink_name(platform)]
        values = snmpd.health_file(agent_dir)
        if extra and not values.exists():  # the uplink is the office's radio link
            mtxr.write(values, mtxr.Values(radio_ifindex=uplink))
        return device, uplink

    with ThreadPoolExecutor(max_workers=pool_size(), thread_name_prefix="labnet-snmp") as pool:
        uplinks = dict(pool.map(launch, devices))
    probe = {
        d: snmpd.Probe(spec.device(d).address, (*snmpd.IF_HIGH_SPEED, uplinks[d]), speed)
        for d in devices
        if state.path_clean(d)
    }
    deadline = time.monotonic() + snmpd.READY_TIMEOUT_S
    # lldpd starts while the agents warm up (~3 s until ifTable speeds apply): it only
    # needs each snmpd's AgentX socket, which exists early
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="labnet-lldp") as bg:
        lldpd_started = bg.submit(start_lldpd, paths, spec, devices)
        silent = snmpd.wait_answering(paths.noc_netns, probe, spec.snmp.community)
        lldpd_started.result()
    for device in devices:
        while snmpd.read_pid(paths.snmp_dir(device)) is None:
            if time.monotonic() > deadline:
                silent.append(device)
                break
            time.sleep(0.05)
    if silent:
        log = paths.snmp_dir(silent[0]) / "snmpd.log"
        tail = log.read_text()[-500:] if log.exists() else "(no log)"
        raise LabError(
            f"snmpd not ready on {len(silent)} devices (e.g. {silent[0]}): {tail.strip()}"
        )


def start_lldpd(paths: LabPaths, spec: LabSpec, devices: Sequence[str]) -> None:
    """(Re)start lldpd for ``devices`` (their snmpd is up, so its AgentX socket exists)."""
    if not Path(lldp.LLDPD).exists():
        logger.warning("lab %s: %s not installed: no LLDP in the lab", paths.name, lldp.LLDPD)
        return

    index = plan.index_map(spec)

    def launch(device: str) -> None:
        dev = spec.device(device)
        lldp.stop(paths.snmp_dir(device))
        socket = lldp.agentx_socket(paths.name, index[device])
        deadline = time.monotonic() + snmpd.READY_TIMEOUT_S
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        descr = snmpd.identity(dev.platform, dev.role, dev.name)[1]
        lldp.start(paths.name, spec, device, paths.snmp_dir(device), descr)

    with ThreadPoolExecutor(max_workers=pool_size(), thread_name_prefix="labnet-lldp") as pool:
        for _ in pool.map(launch, devices):  # re-raises the first failure
            pass


def start_ssh(paths: LabPaths, spec: LabSpec) -> None:
    """Host keys, known_hosts, the simulator and the linux sshds; wait for banners."""
    entries = {}
    for dev in spec.ssh_devices:
        ssh.generate_host_key(paths.ssh_dir(dev.name), dev.name)
        entries[dev.address] = ssh.public_key(paths.ssh_dir(dev.name))
    paths.known_hosts_path().write_text(ssh.known_hosts_lines(entries))
    sims = [
        (d, paths.device_netns(d.name), paths.ssh_dir(d.name))
        for d in spec.ssh_devices
        if d.platform in ssh.SIM_PLATFORMS
    ]
    if sims:
        ssh.start_sim(paths.noc_netns, paths.sim_dir, ssh.sim_config(sims, spec.ssh))
    for dev in spec.ssh_devices:
        if dev.platform == "linux":
            netns = paths.device_netns(dev.name)
            ssh.setup_linux(dev, netns, paths.ssh_dir(dev.name), spec.ssh)
            ssh.start_sshd(netns, paths.ssh_dir(dev.name))
    if sims:
        ssh.wait_sim_pid(paths.sim_dir)
    state = LabState(spec=spec, phase="building", faults={})
    wait_ssh(paths, state, [d.name for d in spec.ssh_devices])


def wait_ssh(paths: LabPaths, state: LabState, devices: Sequence[str]) -> None:
    """Wait until each device (with a clean path) sends its SSH banner to the NOC."""
    addrs = [state.spec.device(d).address for d in devices if state.path_clean(d)]
    silent = ssh.wait_banners(paths.noc_netns, addrs)
    if silent:
        raise LabError(f"SSH not answering on {len(silent)} devices (e.g. {silent[0]})")


def restart_sshd(paths: LabPaths, state: LabState, device: str) -> None:
    """Restart the linux sshd of ``device`` (to serve a new host key) and wait for it."""
    ssh.stop_pid(paths.ssh_dir(device) / "sshd.pid", "sshd")
    ssh.start_sshd(paths.device_netns(device), paths.ssh_dir(device))
    wait_ssh(paths, state, [device])


def own_pids(paths: LabPaths) -> set[int]:
    """PIDs of the lab's own daemons (snmpd, SSH servers, lldpd): expected in its netns."""
    state = read_state(paths)
    if state is None:
        return set()
    snmp_devices = state.spec.snmp_devices
    pids = [snmpd.read_pid(paths.snmp_dir(d.name)) for d in snmp_devices]
    pids.append(ssh.sim_pid(paths.sim_dir))
    pids += [ssh.sshd_pid(paths.ssh_dir(d.name)) for d in state.spec.ssh_devices]
    lldpds = {p for d in snmp_devices for p in lldp.pids(paths.snmp_dir(d.name))}
    helpers = {p for d in snmp_devices for p in snmpd.helper_pids(paths.snmp_dir(d.name))}
    return {p for p in pids if p is not None} | lldpds | helpers


def kill_processes(paths: LabPaths, names: Iterable[str]) -> None:
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
    own = own_pids(paths)
    others = [p for p in pids if p not in own]
    if others:  # something besides the lab's own agents (an agent under test, a probe)
        logger.warning(
            "lab %s: terminating %d processes left in its namespaces (e.g. pid %d)",
            paths.name,
            len(others),
            others[0],
        )
    logger.info("lab %s: stopping %d processes", paths.name, len(pids))
    _signal_all(pids, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < deadline and _pids_in(targets):
        time.sleep(0.05)
    rest = _pids_in(targets)
    if rest:
        logger.warning("lab %s: killing %d processes (e.g. pid %d)", paths.name, len(rest), rest[0])
        _signal_all(rest, signal.SIGKILL)


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
