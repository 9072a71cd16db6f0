"""Fault verbs of a lab that is up: each changes the system, then records it in the state.

Faults available: a device dead (``fail``), its uplink down (``link_down``) and random
packet loss (``loss``, via nftables ``numgen random``). Latency cannot be injected: this
kernel has no ``sch_netem``. Devices with ``snmp`` (see labnet.snmpd) also have LAN ports
and a real snmpd: a port admin-down (``if_down``), a cable unplugged (``unplug``: admin up,
oper down), the SNMP agent dead (``snmp_stop``) or restarted (``snmp_restart``). Devices
with ``ssh``: sessions that hang after login (``ssh_hang``), a new host key
(``rotate_host_key``). ``restore`` undoes every fault of a device.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from labnet import mtxr, plan, procs, snmpd, ssh
from labnet.commands import ip_batch, nft
from labnet.errors import LabError
from labnet.state import (
    require_device,
    require_snmp_device,
    require_ssh_device,
    write_state,
)

if TYPE_CHECKING:
    from labnet.state import LabPaths
    from labnet.topology import LabSpec


def change(
    paths: LabPaths, device: str, *, failed: bool | None = None, loss_pct: int | None = None
) -> None:
    """Apply a new failed/loss combination to ``device`` (one nft load)."""
    state = require_device(paths, device)
    cur = state.device_faults(device)
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
    nft(paths.device_netns(device), ruleset)
    state.faults[device] = new
    write_state(paths, state)


def link_down(paths: LabPaths, device: str) -> None:
    """Set both ends of the device's uplink veth down."""
    state = require_device(paths, device)
    current = state.device_faults(device)
    parent_ns, link = _uplink(paths, state.spec, device)
    uplink = plan.uplink_name(state.spec.device(device).platform)
    ip_batch(parent_ns, [f"link set {link} down"])
    ip_batch(paths.device_netns(device), [f"link set {uplink} down"])
    state.faults[device] = replace(current, link_down=True)
    write_state(paths, state)


def port_change(
    paths: LabPaths,
    device: str,
    port: str,
    *,
    admin_down: bool | None = None,
    unplugged: bool | None = None,
) -> None:
    """Set ``port`` admin up/down (device side) or plugged/unplugged (hidden peer)."""
    state = require_device(paths, device)
    peers = plan.port_peers(state.spec, device)
    if port not in peers:
        raise LabError(
            f"device {device!r} has no LAN port {port!r} "
            f"(ports: {', '.join(peers) or 'none, snmp is off'})"
        )
    new = state.device_faults(device)
    if admin_down is not None:
        updown = "down" if admin_down else "up"
        ip_batch(paths.device_netns(device), [f"link set {port} {updown}"])
        new = replace(new, ports_down=_toggle(new.ports_down, port, on=admin_down))
    if unplugged is not None:
        updown = "down" if unplugged else "up"
        ip_batch(plan.wire_netns(paths.name), [f"link set {peers[port]} {updown}"])
        new = replace(new, unplugged=_toggle(new.unplugged, port, on=unplugged))
    state.faults[device] = new
    write_state(paths, state)


def snmp_stop(paths: LabPaths, device: str) -> None:
    """Kill the SNMP agent of ``device``: SNMP goes silent, ping still answers."""
    state = require_snmp_device(paths, device)
    snmpd.stop(paths.snmp_dir(device))
    state.faults[device] = replace(state.device_faults(device), snmp_stopped=True)
    write_state(paths, state)


def snmp_start(paths: LabPaths, device: str) -> None:
    """Start the SNMP agent of ``device`` again (no-op if running); waits until ready."""
    state = require_snmp_device(paths, device)
    if snmpd.read_pid(paths.snmp_dir(device)) is None:
        procs.start_agents(paths, state, [device])
    state.faults[device] = replace(state.device_faults(device), snmp_stopped=False)
    write_state(paths, state)


def snmp_restart(paths: LabPaths, device: str) -> None:
    """Restart the SNMP agent (sysUpTime resets, the host's uptime does not: no reboot)."""
    state = require_snmp_device(paths, device)
    snmpd.stop(paths.snmp_dir(device))
    procs.start_agents(paths, state, [device])
    state.faults[device] = replace(state.device_faults(device), snmp_stopped=False)
    write_state(paths, state)


def ssh_hang(paths: LabPaths, device: str) -> None:
    """Make the SSH server of ``device`` accept and log in, then stop answering."""
    state = require_ssh_device(paths, device)
    ssh.hang_flag(paths.ssh_dir(device)).touch()
    state.faults[device] = replace(state.device_faults(device), ssh_hung=True)
    write_state(paths, state)


def rotate_host_key(paths: LabPaths, device: str) -> None:
    """Give ``device`` a new SSH host key; the lab's known_hosts keeps the old one."""
    state = require_ssh_device(paths, device)
    ssh.generate_host_key(paths.ssh_dir(device), device, replace=True)
    if state.spec.device(device).platform == "linux":
        procs.restart_sshd(paths, state, device)
    else:
        ssh.reload_sim_keys(paths.sim_dir)


def health(paths: LabPaths, device: str, **changes: float | bool) -> mtxr.Values:
    """Change what ``device`` reports in MIKROTIK-MIB (temperature_c, signal_dbm, ...)."""
    state = require_snmp_device(paths, device)
    if not state.spec.device(device).platform.startswith("mikrotik"):
        raise LabError(f"device {device!r} is not a RouterOS device: no MIKROTIK-MIB health")
    path = snmpd.health_file(paths.snmp_dir(device))
    values = replace(mtxr.read(path), **changes)  # type: ignore[arg-type]
    mtxr.write(path, values)
    return values


def restore(paths: LabPaths, device: str) -> None:
    """Undo every fault on ``device`` (idempotent): fail, link_down, loss, ports, snmp."""
    state = require_device(paths, device)
    current = state.device_faults(device)
    netns = paths.device_netns(device)
    if current.link_down:
        parent_ns, _ = _uplink(paths, state.spec, device)
        parent_side, device_side = plan.link_routes(state.spec, device)
        ip_batch(netns, device_side)
        ip_batch(parent_ns, parent_side)
    nft(netns, plan.fault_ruleset(failed=False, loss_pct=0))
    if current.ports_down:
        ip_batch(netns, [f"link set {p} up" for p in current.ports_down])
    if current.unplugged:
        peers = plan.port_peers(state.spec, device)
        ip_batch(
            plan.wire_netns(paths.name), [f"link set {peers[p]} up" for p in current.unplugged]
        )
    if current.ssh_hung:
        ssh.hang_flag(paths.ssh_dir(device)).unlink(missing_ok=True)
    values = snmpd.health_file(paths.snmp_dir(device))
    if values.exists():
        mtxr.write(values, mtxr.Values(radio_ifindex=mtxr.read(values).radio_ifindex))
    state.faults.pop(device, None)
    if current.snmp_stopped and snmpd.read_pid(paths.snmp_dir(device)) is None:
        procs.start_agents(paths, state, [device])
    write_state(paths, state)


def _uplink(paths: LabPaths, spec: LabSpec, device: str) -> tuple[str, str]:
    """Return (parent netns, parent-side veth name) of the device's uplink."""
    parent = spec.device(device).parent
    parent_ns = paths.noc_netns if parent is None else paths.device_netns(parent)
    return parent_ns, plan.child_link(plan.index_map(spec)[device])


def _toggle(items: tuple[str, ...], item: str, *, on: bool) -> tuple[str, ...]:
    """Return ``items`` with ``item`` added (``on``) or removed, sorted, no duplicates."""
    rest = {i for i in items if i != item}
    return tuple(sorted(rest | {item} if on else rest))
