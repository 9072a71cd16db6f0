"""Glue between the inventory and :mod:`labnet` (which knows nothing of sigap's config)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from agent.errors import AgentError, LabUnavailableError
from labnet.lab import Lab
from labnet.topology import SSH_PLATFORMS, LabDevice, LabSnmp, LabSnmpUser, LabSpec, LabSsh

if TYPE_CHECKING:
    from agent.config.model import Inventory
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
        LabDevice(
            d.name,
            d.address,
            d.parent,
            d.platform,
            role=d.role,
            snmp=d.snmp is not None,
            ssh=d.ssh is not None and d.platform in SSH_PLATFORMS,
        )
        for d in inventory.devices.values()
    )
    snmp = lab_snmp(inventory)
    spec = LabSpec(
        devices, inventory.lab.noc_address, inventory.lab.prefixes, ssh=lab_ssh(inventory)
    )
    return spec if snmp is None else spec.with_snmp([d.name for d in devices if d.snmp], snmp)


def lab_ssh(inventory: Inventory) -> LabSsh:
    """The one SSH login every lab device serves: exactly the one the inventory uses."""
    logins = {
        (d.ssh.user, d.ssh.password, d.ssh.secret)
        for d in inventory.devices.values()
        if d.ssh is not None and d.platform in SSH_PLATFORMS
    }
    if len(logins) > 1:
        raise LabUnavailableError("the lab serves one SSH login; the inventory uses several")
    if not logins:
        return LabSsh()
    user, password, secret = logins.pop()
    if not user or not password:
        raise LabUnavailableError("lab SSH devices need ssh.user and a password in the inventory")
    return LabSsh(user, password, secret)


LAB_AUTH = {"sha": "SHA", "sha256": "SHA-256"}
LAB_PRIV = {"aes128": "AES", "aes256": "AES-256"}


def lab_snmp(inventory: Inventory) -> LabSnmp | None:
    """The credentials the lab's snmpd must serve: exactly those the inventory uses."""
    settings = [d.snmp for d in inventory.devices.values() if d.snmp is not None]
    if not settings:
        return None
    communities = {s.auth.community for s in settings if s.auth.community}
    if len(communities) > 1:
        raise LabUnavailableError("the lab serves one v2c community; the inventory uses several")
    users: dict[str, LabSnmpUser] = {}
    for s in settings:
        a = s.auth
        if not a.user:
            continue
        user = LabSnmpUser(
            a.user,
            LAB_AUTH.get(a.auth_protocol, "SHA"),
            a.auth_key,
            LAB_PRIV.get(a.priv_protocol) if a.priv_protocol else None,
            a.priv_key if a.priv_protocol else None,
        )
        if users.setdefault(a.user, user) != user:
            raise LabUnavailableError(f"SNMPv3 user {a.user!r} has different keys on two devices")
    default = LabSnmp()
    events = inventory.events
    return LabSnmp(
        community=next(iter(communities), default.community),
        users=tuple(users.values()) or default.users,
        trap_sink=events.trap_listen[0] if events is not None and events.trap_listen else "",
    )


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


def current_lab_netns() -> str | None:
    """Return the lab namespace (the NOC or a device's: ``<lab>-*`` of a lab with a NOC) we run in.

    A zone poller of the lab runs in a device's namespace (a kecamatan's), not the NOC's.
    """
    try:
        mine = Path("/proc/self/ns/net").stat().st_ino
        for noc in Path(NETNS_DIR).glob("*-noc"):
            for entry in Path(NETNS_DIR).glob(f"{noc.name.removesuffix('-noc')}-*"):
                if entry.stat().st_ino == mine:
                    return entry.name
    except OSError:
        return None
    return None


def refuse_lab_inventory_outside_lab(inventory: Inventory, *, poller: bool = False) -> None:
    """Never probe lab addresses from the real network: the lab's agent runs in its NOC netns.

    ``poller``: a zone poller may also run in a lab device's namespace.
    """
    inside = current_lab_netns() if poller else current_lab_noc()
    if inventory.lab is not None and inside is None:
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
    parts += [f"{port} admin down" for port in faults.ports_down]
    parts += [f"{port} unplugged" for port in faults.unplugged]
    if faults.snmp_stopped:
        parts.append("snmpd stopped")
    return ", ".join(parts)
