"""Write proposed parents into inventory.yaml as a reviewed diff (ruamel.yaml round trip).

Comments, key order and quoting of the file are kept; only ``parent:`` keys of the named
hosts are added (after ``address:`` when present). Hand-written parents are never changed:
the caller passes only proposals whose status is ``new``.
"""

from __future__ import annotations

import difflib
import io
from typing import TYPE_CHECKING

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from agent.errors import AgentError

if TYPE_CHECKING:
    from collections.abc import Mapping


def round_trip_yaml() -> YAML:
    """The round-trip YAML writer sigap edits the inventory with (comments and order kept)."""
    yaml = YAML()  # round trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    return yaml


def with_parents(text: str, parents: Mapping[str, str], *, path: str = "inventory.yaml") -> str:
    """Return ``text`` with ``hosts.<device>.parent`` set for each of ``parents``."""
    return with_keys(text, "parent", parents, path=path)


def with_keys(
    text: str, key: str, values: Mapping[str, str], *, path: str = "inventory.yaml"
) -> str:
    """Return ``text`` with ``hosts.<device>.<key>`` set for each of ``values``.

    ``key`` is ``parent`` or ``platform``; a key the host already has is never overwritten
    (hand-written wins).
    """
    yaml = round_trip_yaml()
    doc = yaml.load(text)
    hosts = doc.get("hosts") if isinstance(doc, CommentedMap) else None
    if not isinstance(hosts, CommentedMap):
        raise AgentError(f"{path}: no `hosts:` mapping to write {key}s into")
    for device, value in sorted(values.items()):
        host = hosts.get(device)
        if host is None:
            raise AgentError(f"{path}: host {device!r} not found")
        if not isinstance(host, CommentedMap):
            raise AgentError(f"{path}: hosts.{device} is not a mapping")
        if host.get(key) is not None:
            raise AgentError(f"{path}: hosts.{device} already has a {key} (hand-written wins)")
        keys = list(host.keys())
        at = keys.index("address") + 1 if "address" in keys else len(keys)
        host.insert(at, key, value)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def unified_diff(before: str, after: str, path: str) -> str:
    """Return the unified diff of the inventory change (empty when nothing changes)."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )
