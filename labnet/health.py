"""What of a lab is in the system (namespaces, guard table, agents) and what is missing.

``Lab.up`` uses it to decide between keeping a healthy lab and rebuilding, ``Lab.down`` to
find the namespaces to delete, ``Lab.status`` to report problems.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from labnet import lldp, plan, snmpd
from labnet.commands import run
from labnet.errors import LabCommandError, LabError
from labnet.netns import NETNS_RUN_DIR
from labnet.state import read_state

if TYPE_CHECKING:
    from labnet.state import LabPaths, LabState
    from labnet.topology import LabSpec

LAB_MAC_PREFIX = "02:5a:"  # plan.parent_mac / child_mac: every lab veth carries it


def lab_netns(paths: LabPaths) -> list[str]:
    """Return the names of the namespaces belonging to this lab.

    With a state file they are exactly the ones it names (a foreign namespace that only
    shares the prefix, like ``sigap-usmbench-1``, is not ours); without one (a crash
    before the state was written, or the state deleted) every prefixed name is.
    """
    present = _prefixed_netns(paths.name)
    state = read_state(paths)
    if state is None:
        return [n for n in present if _looks_like_ours(paths.name, n)]
    return sorted(set(present) & expected_netns(paths.name, state.spec))


def _looks_like_ours(lab: str, netns: str) -> bool:
    """Crash fallback: a prefixed namespace is ours if it carries labnet's MAC signature."""
    if netns in (plan.noc_netns(lab), plan.wire_netns(lab)):
        return True
    try:
        links = json.loads(run(["ip", "-n", netns, "-j", "link", "show"]) or "[]")
    except LabError:
        return False
    return any(str(link.get("address", "")).startswith(LAB_MAC_PREFIX) for link in links)


def _prefixed_netns(lab: str) -> list[str]:
    prefix = plan.netns_prefix(lab)
    try:
        entries = [e.name for e in NETNS_RUN_DIR.iterdir()]
    except FileNotFoundError:
        return []
    return sorted(e for e in entries if e.startswith(prefix))


def expected_netns(lab: str, spec: LabSpec) -> set[str]:
    """Return the namespaces a lab of ``spec`` consists of (NOC, devices, port peers)."""
    expected = {plan.noc_netns(lab)} | {plan.device_netns(lab, d.name) for d in spec.devices}
    if spec.port_devices:
        expected.add(plan.wire_netns(lab))
    return expected


def guard_present(lab: str) -> bool:
    """Return True if the root-namespace guard table exists."""
    try:
        run(["nft", "list", "table", "inet", plan.guard_table(lab)])
    except LabCommandError:
        return False
    return True


def leftovers(paths: LabPaths) -> list[str]:
    """Describe anything of this lab left in the system (namespaces, guard)."""
    out = []
    names = lab_netns(paths)
    if names:
        out.append(f"{len(names)} leftover namespaces")
    if guard_present(paths.name):
        out.append("guard table present")
    return out


def problems(paths: LabPaths, state: LabState) -> list[str]:
    """Return what is missing compared to ``state`` (empty when healthy)."""
    present = set(lab_netns(paths))
    expected = expected_netns(paths.name, state.spec)
    found = []
    dead = [
        d.name
        for d in state.spec.snmp_devices
        if not state.device_faults(d.name).snmp_stopped
        and snmpd.read_pid(paths.snmp_dir(d.name)) is None
    ]
    if dead:
        found.append(f"{len(dead)} snmpd not running (e.g. {dead[0]})")
    if Path(lldp.LLDPD).exists():
        mute = [d.name for d in state.spec.snmp_devices if lldp.pid(paths.snmp_dir(d.name)) is None]
        if mute:
            found.append(f"{len(mute)} lldpd not running (e.g. {mute[0]})")
    missing = sorted(expected - present)
    if missing:
        found.append(f"{len(missing)} namespaces missing (e.g. {missing[0]})")
    if not guard_present(paths.name):
        found.append("guard table missing")
    return found
