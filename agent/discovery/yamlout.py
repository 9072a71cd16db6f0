"""Write proposed hosts into the inventory text (ruamel round trip) and check the result.

Comments, key order and quoting of the file are kept (the same round trip as
``agent.topology.apply``); new hosts go at the end of ``hosts:`` under one comment line, each
with its markers as comments. Every value that came from a device (sysLocation as ``site``)
is cleaned to one printable line and left to ruamel to quote. Writing the file is the one
inventory writer's job (``agent.admin.edits.InventoryEditor``: checked, conflict-safe, backed
up, audited), for the board and for ``sigap discover --scan --apply`` alike.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Final

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from agent.config.load import load_inventory
from agent.discovery.names import clean
from agent.errors import AgentError, ConfigError
from agent.topology.apply import round_trip_yaml, unified_diff

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from agent.discovery.model import HostProposal

MAX_COMMENT: Final = 300
_HOSTS: Final = re.compile(r"\Ahosts:[ \t]*(?:#.*)?\r?\n?\Z")
_TOP_LEVEL: Final = re.compile(r"\A[^\s#]")  # a key (or document marker) at column 0


def _entry(host: HostProposal) -> CommentedMap:
    entry = CommentedMap()
    entry["address"] = host.address
    if host.groups:
        groups = CommentedSeq(host.groups)
        groups.fa.set_flow_style()
        entry["groups"] = groups
    entry["role"] = host.role
    if host.platform:
        entry["platform"] = host.platform
    if host.parent:
        entry["parent"] = host.parent
    if host.opd is not None:
        entry["opd"] = host.opd.opd
        entry.yaml_add_eol_comment(
            clean(f"tebakan ({host.opd.confidence}): {host.opd.reason}; konfirmasi", MAX_COMMENT),
            "opd",
        )
    if host.site:
        entry["site"] = host.site
    if not host.snmp:
        snmp = CommentedMap(enabled=False)
        snmp.fa.set_flow_style()
        entry["snmp"] = snmp
        entry.yaml_add_eol_comment("hanya menjawab ping", "snmp")
    return entry


def _notes(host: HostProposal) -> list[str]:
    head = f"{host.name}: {host.summary or '-'}"
    if host.sys_name:
        head += f" (sysName {host.sys_name!r})"
    lines = [head]
    if host.parent_via:
        lines.append(f"  induk lewat {host.parent_via}")
    lines += [f"  KONFIRMASI: {m}" for m in host.markers if not m.startswith("OPD tebakan")]
    return [clean(line, MAX_COMMENT) for line in lines]


def _block(hosts: Sequence[HostProposal], title: str) -> str:
    """The new entries as YAML lines indented under ``hosts:`` (ruamel emits and quotes)."""
    yaml = round_trip_yaml()
    table = CommentedMap()
    for i, host in enumerate(hosts):
        table[host.name] = _entry(host)
        before = ([clean(title, MAX_COMMENT)] if i == 0 else []) + _notes(host)
        table.yaml_set_comment_before_after_key(host.name, before="\n".join(before), indent=2)
    out = io.StringIO()
    yaml.dump(CommentedMap(hosts=table), out)
    return out.getvalue().split("\n", 1)[1]  # drop the "hosts:" line


def _insert_at(lines: list[str]) -> int | None:
    """The line index after the last line of the block-style ``hosts:`` mapping, or None."""
    starts = [i for i, line in enumerate(lines) if _HOSTS.match(line)]
    if len(starts) != 1:
        return None
    end = next(
        (i for i in range(starts[0] + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines)
    )
    while end > starts[0] + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1  # blank lines and column-0 comments belong to what follows
    return end


def with_hosts(
    text: str, hosts: Sequence[HostProposal], *, title: str, path: str = "inventory.yaml"
) -> str:
    """Return ``text`` with ``hosts`` appended to ``hosts:``; every existing byte is kept.

    The entries are inserted as text after the last host; the result must read as the old
    document plus exactly the new hosts, else the whole file goes through the round trip.
    """
    if not hosts:
        return text
    safe = YAML(typ="safe", pure=True)
    old = safe.load(text)
    if not isinstance(old, dict):
        raise AgentError(f"{path}: not a YAML mapping; nothing written")
    table = old.get("hosts") or {}
    if not isinstance(table, dict):
        raise AgentError(f"{path}: `hosts:` is not a mapping; nothing written")
    for host in hosts:
        if host.name in table:
            raise AgentError(f"{path}: host {host.name!r} already exists; nothing written")
    block = _block(hosts, title)
    lines = text.splitlines(keepends=True)
    at = _insert_at(lines)
    if at is not None:
        if at and not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        after = "".join([*lines[:at], block, *lines[at:]])
        new = safe.load(after)
        added = {h.name for h in hosts}
        if (
            isinstance(new, dict)
            and isinstance(new.get("hosts"), dict)
            and {k: v for k, v in new.items() if k != "hosts"}
            == {k: v for k, v in old.items() if k != "hosts"}
            and {k: v for k, v in new["hosts"].items() if k not in added} == table
            and list(new["hosts"])[-len(added) :] == [h.name for h in hosts]
        ):
            return after
    return _round_trip(text, hosts, title, path)


def _round_trip(text: str, hosts: Sequence[HostProposal], title: str, path: str) -> str:
    """The whole file through ruamel (flow-style or odd ``hosts:``): comments and order kept."""
    yaml = round_trip_yaml()
    doc = yaml.load(text)
    table = doc.get("hosts")
    if table is None:
        table = doc["hosts"] = CommentedMap()
    if not isinstance(table, CommentedMap):
        raise AgentError(f"{path}: `hosts:` is not a mapping; nothing written")
    for i, host in enumerate(hosts):
        table[host.name] = _entry(host)
        before = ([clean(title, MAX_COMMENT)] if i == 0 else []) + _notes(host)
        table.yaml_set_comment_before_after_key(host.name, before="\n".join(before), indent=2)
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def problems_of(path: Path, text: str) -> str:
    """What ``sigap check`` says of ``text`` placed at ``path`` (empty: clean)."""
    trial = path.with_name(f".{path.name}.sigap-check")
    trial.write_text(text, encoding="utf-8")
    try:
        load_inventory(trial)
    except ConfigError as exc:
        return str(exc).replace(str(trial), str(path))
    finally:
        trial.unlink(missing_ok=True)
    return ""


__all__ = ["problems_of", "unified_diff", "with_hosts"]
