"""The SNMP credentials a scan tries, taken from the inventory, in order: v2c, then v3.

Each credential remembers where it is written: the ``defaults`` (a new host needs nothing),
a group that sets its own ``snmp:`` (a new host joins that group), or only a host's own block
(the new host is marked: copy that block by hand). Secrets stay inside; labels never show them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from agent.config.checks import Checker
from agent.config.precedence import group_order
from agent.config.snmp import resolve_snmp
from agent.config.source import load_source
from agent.discovery.model import Credential
from agent.errors import ConfigError
from collectors.model import SnmpVersion

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agent.config import schema
    from agent.config.model import Inventory


def _model(inventory: Inventory, env: Mapping[str, str]) -> schema.InventoryFile:
    text = inventory.path.read_text(encoding="utf-8")
    checker = Checker(load_source(text), env, inventory.path.parent)
    model = checker.run()
    if model is None:  # the inventory loaded a moment ago: only a concurrent edit gets here
        raise ConfigError(str(inventory.path), checker.problems)
    return model


def credentials(inventory: Inventory, env: Mapping[str, str] | None = None) -> list[Credential]:
    """Every distinct SNMP credential of the inventory: defaults, groups, hosts; v2c first."""
    environ = os.environ if env is None else env
    model = _model(inventory, environ)
    base = inventory.path.parent
    found: list[Credential] = []
    seen: set[object] = set()

    def add(label: str, groups: tuple[str, ...], levels: list[schema.NodeBlock]) -> None:
        settings = resolve_snmp(levels, environ, base)
        if settings is None or settings.auth in seen:
            return
        seen.add(settings.auth)
        found.append(Credential(label, groups, settings))

    add("defaults", (), [model.defaults])
    for name in model.groups:
        chain = [model.groups[g] for g in group_order([name], model.groups)]
        add(f"group {name}", (name,), [*chain, model.defaults])
    for device in inventory.devices.values():
        if device.snmp is not None and device.snmp.auth not in seen:
            seen.add(device.snmp.auth)
            found.append(Credential(f"host {device.name}", (), device.snmp))
    return sorted(found, key=lambda c: c.settings.auth.version is not SnmpVersion.V2C)
