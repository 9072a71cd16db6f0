"""Glue between the inventory and :mod:`labnet` (which knows nothing of sigap's config)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import AgentError, LabUnavailableError
from labnet.lab import Lab
from labnet.topology import LabDevice, LabSpec

if TYPE_CHECKING:
    from agent.inventory import Inventory
    from labnet.lab import DeviceFaults, LabStatus

LAB_NAME_ENV = "SIGAP_LAB_NAME"
NETNS_DIR = "/run/netns"


def lab() -> Lab:
    """Return the lab handle (name ``sigap`` unless ``$SIGAP_LAB_NAME`` says otherwise)."""
    return Lab(os.environ.get(LAB_NAME_ENV, "sigap"))


def spec_from(inventory: Inventory) -> LabSpec:
    """Describe the inventory's network as plain lab data."""
    if inventory.lab is None:
        raise LabUnavailableError(f"{inventory.path}: no `lab:` section (prefixes, noc_address)")
    devices = tuple(
        LabDevice(d.name, d.address, d.parent, d.platform) for d in inventory.devices.values()
    )
    return LabSpec(devices, inventory.lab.noc_address, inventory.lab.prefixes)


def up(inventory: Inventory, handle: Lab | None = None) -> LabStatus:
    """Build (or keep) the lab for ``inventory``."""
    return (handle or lab()).up(spec_from(inventory))


def current_lab_noc() -> str | None:
    """Return the name of the lab NOC namespace this process runs in, or None.

    Positive check, failing closed: the current network namespace must be one that a lab
    created (``/run/netns/<lab>-noc``). Anything else, including "cannot tell", is None.
    """
    try:
        mine = Path("/proc/self/ns/net").stat().st_ino
        for entry in Path(NETNS_DIR).glob("*-noc"):
            if entry.stat().st_ino == mine:
                return entry.name
    except OSError:
        return None
    return None


def refuse_lab_inventory_outside_lab(inventory: Inventory) -> None:
    """Never probe lab addresses from the real network: the lab's agent runs in its NOC netns."""
    if inventory.lab is not None and current_lab_noc() is None:
        raise AgentError(
            f"{inventory.path} describes the lab network ({', '.join(inventory.lab.prefixes)}) "
            "and this process is not inside a lab NOC namespace; run the agent there: "
            "`sigap lab up` then `sigap lab exec -- sigap run ...` (or `sigap demo`)"
        )


def describe_faults(faults: DeviceFaults) -> str:
    """Return e.g. ``failed, 20% loss``."""
    parts = []
    if faults.failed:
        parts.append("failed")
    if faults.link_down:
        parts.append("uplink down")
    if faults.loss_pct:
        parts.append(f"{faults.loss_pct}% loss")
    return ", ".join(parts)
