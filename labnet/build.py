"""Build and tear down a lab: the guard, namespaces, veths, routes, then its daemons.

``up`` loads the root-namespace guard FIRST and ``down`` removes it LAST, so no lab address
ever leaves the machine while any part of the lab exists. The plan (names, ``ip -batch``
lines, rulesets) is labnet.plan; this module runs it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from labnet import health, lldp, plan, procs, ssh
from labnet.commands import ip_batch, nft, pool_size, run
from labnet.errors import LabError
from labnet.netns import entered
from labnet.state import LabState, read_state, write_state
from labnet.topology import parse_prefixes

if TYPE_CHECKING:
    from labnet.state import LabPaths
    from labnet.topology import LabSpec

logger = logging.getLogger(__name__)


def up(paths: LabPaths, spec: LabSpec) -> None:
    """Build the lab for ``spec``; no-op if the same spec is already up and healthy.

    A partial, crashed or different lab of this name is torn down first. Faults
    injected on an already-up identical lab are kept.
    """
    state = read_state(paths)
    if state is not None and state.phase == "up" and state.spec == spec:
        problems = health.problems(paths, state)
        if not problems:
            logger.info("lab %s already up with this spec", paths.name)
            return
        logger.warning("lab %s unhealthy (%s): rebuilding", paths.name, problems[0])
    if state is not None or health.leftovers(paths):
        down(paths)
    check_root_routes(spec)
    started = time.monotonic()
    nft(None, plan.guard_ruleset(paths.name, spec.prefixes))  # guard FIRST
    try:
        write_state(paths, LabState(spec=spec, phase="building", faults={}))
        _build(paths, spec)
        write_state(paths, LabState(spec=spec, phase="up", faults={}))
    except BaseException:
        logger.exception("lab %s: build failed, tearing down", paths.name)
        down(paths)
        raise
    logger.info(
        "lab %s up: %d devices in %.1f s",
        paths.name,
        len(spec.devices),
        time.monotonic() - started,
    )


def down(paths: LabPaths) -> None:
    """Remove everything named after this lab, with or without a state file.

    Kills processes left in the lab's namespaces, deletes the namespaces (their veths
    go with them), the state directory, and last the root-namespace guard.
    """
    started = time.monotonic()
    names = health.lab_netns(paths)
    if names:
        procs.kill_processes(paths, names)
        ip_batch(None, [f"netns del {n}" for n in names], force=True)
    ssh.remove_etc(ssh.our_etc_dirs(plan.netns_prefix(paths.name)))
    left = health.lab_netns(paths)
    if left:
        raise LabError(f"could not delete namespaces: {', '.join(left[:5])}")
    shutil.rmtree(paths.state_dir, ignore_errors=True)
    shutil.rmtree(lldp.agentx_dir(paths.name), ignore_errors=True)
    nft(None, plan.guard_removal(paths.name))  # guard LAST
    logger.info(
        "lab %s down: %d namespaces removed in %.1f s",
        paths.name,
        len(names),
        time.monotonic() - started,
    )


def check_root_routes(spec: LabSpec) -> None:
    """Refuse prefixes overlapping root-namespace routes (the guard would cut them off)."""
    nets = parse_prefixes(spec.prefixes)
    routes = json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]) or "[]")
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


def _set_forwarding(netns: str, *, enabled: bool) -> None:
    """Write net.ipv4.ip_forward inside ``netns`` in process (no spawn)."""
    with entered(netns):
        Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n" if enabled else "0\n")


def _build(paths: LabPaths, spec: LabSpec) -> None:
    """Create namespaces and veths (one spawn), then configure each netns in parallel."""
    t0 = time.monotonic()
    ip_batch(
        None, plan.creation_batch(paths.name, spec) + plan.ports_creation_batch(paths.name, spec)
    )
    t1 = time.monotonic()
    jobs: list[tuple[str, list[str], bool]] = [(paths.noc_netns, plan.noc_batch(spec), False)]
    jobs += [
        (
            paths.device_netns(d.name),
            plan.device_batch(spec, d.name)
            + (plan.port_batch(spec, d.name) if d.snmp or d.ssh else []),
            True,
        )
        for d in spec.devices
    ]
    if spec.port_devices:
        jobs.append((plan.wire_netns(paths.name), plan.wire_batch(spec), False))

    def configure(job: tuple[str, list[str], bool]) -> None:
        netns, lines, forwarding = job
        _set_forwarding(netns, enabled=forwarding)
        ip_batch(netns, lines)

    workers = pool_size()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labnet") as pool:
        for _ in pool.map(configure, jobs):  # re-raises the first failure
            pass
    t2 = time.monotonic()
    if spec.snmp_devices:
        state = LabState(spec=spec, phase="building", faults={})
        procs.start_agents(paths, state, [d.name for d in spec.snmp_devices])
    if spec.ssh_devices:
        procs.start_ssh(paths, spec)
    logger.debug(
        "lab %s: create %.2f s, configure %.2f s (%d workers), snmpd %.2f s",
        paths.name,
        t1 - t0,
        t2 - t1,
        workers,
        time.monotonic() - t2,
    )
