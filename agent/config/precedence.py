"""The precedence chain of a host's settings, shared by the checks and the resolution.

Precedence (nornir's, resolved at load time): a host's own value wins, then its groups in the
order listed, depth-first (a group's own groups right after it), then ``defaults``.
Blocks (``ping:``, ``ssh:``) merge key by key with the same precedence; ``maintenance`` and
``tags`` add up over all levels. Worked example::

    defaults:  {ping: {interval: 5s, count: 3}}
    groups:    {opd-router: {platform: mikrotik_routeros, ping: {count: 5}},
                cisco: {platform: cisco_ios}}
    hosts:     {rtr-rsud: {groups: [cisco, opd-router], ping: {timeout: 2s}}}
    # -> platform cisco_ios (cisco is listed first), ping interval 5s (defaults),
    #    count 5 (opd-router), timeout 2s (host)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.config import schema
from agent.config.source import as_dict, as_list

if TYPE_CHECKING:
    from collections.abc import Mapping


def group_order(groups: Any, defined: Mapping[str, Any]) -> list[str]:
    """Depth-first, in listed order, each group once; unknown names are skipped (reported)."""
    order: list[str] = []
    stack = [g for g in reversed(as_list(groups)) if isinstance(g, str)]
    while stack:
        group = stack.pop()
        if group in order or group not in defined:
            continue
        order.append(group)
        node = defined[group]
        sub = node.groups if isinstance(node, schema.GroupBlock) else as_dict(node).get("groups")
        stack.extend(g for g in reversed(as_list(sub)) if isinstance(g, str))
    return order


def merged(levels: list[schema.NodeBlock], block: str) -> dict[str, Any]:
    """Merge one block (``ping``, ``snmp``...) of ``levels`` (host first) key by key."""
    values: dict[str, Any] = {}
    for lvl in reversed(levels):  # lowest precedence first, higher levels overwrite
        part = getattr(lvl, block)
        if part is not None:
            values.update(part.model_dump(exclude_none=True))
    return values
