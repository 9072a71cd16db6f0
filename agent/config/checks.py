"""Checks on the inventory file as written: every problem at once, each with its path and line.

Structure comes from the pydantic models (:mod:`agent.config.schema`, errors worded by
:mod:`agent.config.wording`); everything the models cannot see (unknown groups and parents,
cycles, duplicate addresses, secrets, SNMP, windows, people, SOP, office, notifications, intake)
is checked here on the raw data, following the precedence of :mod:`agent.config.precedence`.
"""

from __future__ import annotations

from datetime import datetime
from ipaddress import IPv4Address, IPv4Network, ip_network
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from agent.config import schema
from agent.config.precedence import group_order
from agent.config.secrets import secret_problems
from agent.config.snmp import snmp_problems
from agent.config.sop import sop_problems
from agent.config.source import as_dict, as_list
from agent.config.wording import describe, did_you_mean, dotted
from agent.errors import Problem
from agent.intake.config import intake_problems
from agent.notify.config import apprise_problems, apprise_warnings, notify_problems

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from agent.config.source import Path as YPath
    from agent.config.source import Source


class Checker:
    """Collects structural (pydantic) and semantic problems from the raw data."""

    def __init__(self, source: Source, env: Mapping[str, str], base: Path) -> None:
        """Check ``source``; ``env`` and ``base`` (the inventory's folder) resolve secrets."""
        self.source = source
        self.env = env
        self.base = base
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []  # valid, but worth changing (`sigap check` shows them)
        raw = source.data if isinstance(source.data, dict) else {}
        self.hosts: dict[str, Any] = as_dict(raw.get("hosts"))
        self.groups: dict[str, Any] = as_dict(raw.get("groups"))
        self.defaults: dict[str, Any] = as_dict(raw.get("defaults"))
        self.raw = raw

    def add(self, path: YPath, message: str) -> None:
        """Record a problem at ``path`` (with the line it was written on)."""
        self.problems.append(Problem(dotted(path), message, self.source.line_of(path)))

    def run(self) -> schema.InventoryFile | None:
        """Run every check; the file model, or None when its structure is wrong."""
        for dup_path, first, again in self.source.duplicates:
            message = f"duplicate key {dup_path[-1]!r} (first defined at line {first})"
            self.problems.append(Problem(dotted(dup_path), message, again))
        if not isinstance(self.source.data, dict):
            self.add((), "expected a mapping with office, defaults, groups, hosts, people")
            return None
        model = self._structure()
        for check in (
            self._check_groups,
            self._check_parents,
            self._check_addresses,
            self._check_secrets,
            self._check_snmp,
            self._check_maintenance,
            self._check_people,
            self._check_notifications,
            self._check_sop,
            self._check_office,
            self._check_intake,
        ):
            try:
                check()
            except (TypeError, AttributeError, ValueError, KeyError, IndexError, RecursionError):
                if model is not None:
                    raise  # a well-formed file must never trip a check: that is a bug
                # a value of the wrong type is already listed by the structure check, with its
                # line; this check read it anyway: the file's other checks still run
        return model

    def _structure(self) -> schema.InventoryFile | None:
        try:
            return schema.InventoryFile.model_validate(self.source.data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                self.add(tuple(err["loc"]), describe(err))
            return None

    def _check_groups(self) -> None:
        for kind, items in (("hosts", self.hosts), ("groups", self.groups)):
            for name, node in items.items():
                for index, group in enumerate(as_list(as_dict(node).get("groups"))):
                    if isinstance(group, str) and group not in self.groups:
                        known = ", ".join(sorted(self.groups)) or "none"
                        self.add(
                            (kind, name, "groups", index),
                            f"unknown group {group!r} (defined: {known})",
                        )
        for name in self.groups:
            cycle = _group_cycle(name, self.groups)
            if cycle:
                self.add(("groups", name, "groups"), f"group cycle {' -> '.join(cycle)}")

    def _check_parents(self) -> None:
        parents = {name: self.effective(name, "parent") for name in self.hosts}
        for name, parent in parents.items():
            if parent is None or not isinstance(parent, str):
                continue
            where = self.where(name, "parent")
            if parent == name:
                self.add(where, "a device cannot be its own parent")
            elif parent not in self.hosts:
                hint = did_you_mean(parent, self.hosts)
                self.add(where, f"unknown parent device {parent!r}{hint}")
        reported: set[str] = set()
        for name in parents:
            cycle = _parent_cycle(name, parents)
            if cycle and not reported.intersection(cycle):
                reported.update(cycle)
                self.add(self.where(name, "parent"), f"parent cycle {' -> '.join(cycle)}")

    def _check_addresses(self) -> None:
        seen: dict[str, str] = {}
        lab = as_dict(self.raw.get("lab"))
        prefixes = _networks(lab.get("prefixes"))
        for name, node in self.hosts.items():
            address = as_dict(node).get("address")
            if not isinstance(address, str) or not _is_ipv4(address):
                continue
            if address in seen:
                first = self.source.line_of(("hosts", seen[address], "address"))
                self.add(
                    ("hosts", name, "address"),
                    f"address {address} already used by {seen[address]!r} (line {first})",
                )
            seen.setdefault(address, name)
            if prefixes and not any(IPv4Address(address) in net for net in prefixes):
                nets = ", ".join(str(n) for n in prefixes)
                self.add(("hosts", name, "address"), f"{address} is outside lab prefixes {nets}")
        noc = lab.get("noc_address")
        if isinstance(noc, str) and noc in seen:
            self.add(("lab", "noc_address"), f"{noc} is already the address of {seen[noc]!r}")

    def _check_secrets(self) -> None:
        for kind in ("ssh", "snmp"):
            for path, block in self._blocks(kind):
                for where, message in secret_problems(path, block, kind, self.env, self.base):
                    self.add(where, message)

    def _check_snmp(self) -> None:
        seen: set[tuple[YPath, str]] = set()
        for host in self.hosts:
            for where, message in snmp_problems(self.order(host)):
                if (where, message) not in seen:  # a mistake in defaults is reported once
                    seen.add((where, message))
                    self.add(where, message)

    def _check_maintenance(self) -> None:
        for path, windows in self._lists("maintenance"):
            for index, window in enumerate(windows):
                item = as_dict(window)
                has_once = "start" in item or "end" in item
                if has_once == ("weekly" in item):
                    self.add((*path, index), "expected either start and end, or weekly")
                elif has_once and not ("start" in item and "end" in item):
                    self.add((*path, index), "a one-off window needs both start and end")
                elif has_once and _not_after(item["start"], item["end"]):
                    self.add((*path, index, "end"), f"end {item['end']} is not after start")

    def _check_people(self) -> None:
        opds = {o for name in self.hosts if isinstance(o := self.effective(name, "opd"), str)}
        for index, person in enumerate(as_list(self.raw.get("people"))):
            item = as_dict(person)
            opd = item.get("opd")
            if isinstance(opd, str) and opd and opd not in opds:
                self.add(("people", index, "opd"), f"unknown OPD {opd!r}{did_you_mean(opd, opds)}")
            if item.get("role") == "pj_opd" and not opd:
                self.add(("people", index, "opd"), "a penanggung jawab (pj_opd) needs an opd")
        people = as_list(self.raw.get("people"))
        for where, message in apprise_problems(people, self.env, self.base):
            self.add(("people", *where), message)
        for where, message in apprise_warnings(people):
            path = ("people", *where)
            self.warnings.append(Problem(dotted(path), message, self.source.line_of(path)))

    def _check_notifications(self) -> None:
        for where, message in notify_problems(self.raw, self.base):
            self.add(("notifications", *where), message)

    def _check_intake(self) -> None:
        for where, message in intake_problems(self.raw, self.env, self.base):
            self.add(("intake", *where), message)

    def _check_sop(self) -> None:
        block = as_dict(self.raw.get("sop"))
        for where, message in sop_problems(block, as_list(self.raw.get("people"))):
            self.add(("sop", *where), message)

    def _check_office(self) -> None:
        tz = as_dict(self.raw.get("office")).get("timezone")
        if isinstance(tz, str):
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                self.add(("office", "timezone"), f"unknown timezone {tz!r} (e.g. Asia/Makassar)")

    def order(self, host: str) -> list[tuple[YPath, dict[str, Any]]]:
        """Return (path, raw node) from highest to lowest precedence for ``host``."""
        levels: list[tuple[YPath, dict[str, Any]]] = [(("hosts", host), as_dict(self.hosts[host]))]
        groups = group_order(as_dict(self.hosts[host]).get("groups"), self.groups)
        levels.extend((("groups", g), as_dict(self.groups[g])) for g in groups)
        levels.append((("defaults",), self.defaults))
        return levels

    def effective(self, host: str, key: str) -> Any:
        """The raw value of ``key`` that wins for ``host``, or None."""
        return next((node[key] for _p, node in self.order(host) if key in node), None)

    def where(self, host: str, key: str) -> YPath:
        """The path where the winning ``key`` of ``host`` is written."""
        return next(((*p, key) for p, node in self.order(host) if key in node), ("hosts", host))

    def _blocks(self, key: str) -> Iterator[tuple[YPath, dict[str, Any]]]:
        for path, node in self._levels():
            if isinstance(node.get(key), dict):
                yield (*path, key), node[key]

    def _lists(self, key: str) -> Iterator[tuple[YPath, list[Any]]]:
        for path, node in self._levels():
            if isinstance(node.get(key), list):
                yield (*path, key), node[key]

    def _levels(self) -> Iterator[tuple[YPath, dict[str, Any]]]:
        yield ("defaults",), self.defaults
        for name, node in self.groups.items():
            yield ("groups", name), as_dict(node)
        for name, node in self.hosts.items():
            yield ("hosts", name), as_dict(node)


# ---------------------------------------------------------------- small pure helpers


def _not_after(start: Any, end: Any) -> bool:
    """True when both parse as aware ISO times and ``end <= start`` (offsets respected)."""
    try:
        begin, finish = datetime.fromisoformat(str(start)), datetime.fromisoformat(str(end))
    except ValueError:
        return False  # malformed times are reported by the schema check
    return begin.tzinfo is not None and finish.tzinfo is not None and finish <= begin


def _is_ipv4(value: str) -> bool:
    try:
        IPv4Address(value)
    except ValueError:
        return False
    return True


def _networks(value: Any) -> list[IPv4Network]:
    nets = []
    for item in as_list(value):
        try:
            net = ip_network(str(item))
        except ValueError:
            continue
        if isinstance(net, IPv4Network):
            nets.append(net)
    return nets


def _group_cycle(start: str, groups: Mapping[str, Any]) -> list[str]:
    path = [start]
    return _walk_groups(start, groups, path, start)


def _walk_groups(node: str, groups: Mapping[str, Any], path: list[str], start: str) -> list[str]:
    for sub in as_list(as_dict(groups.get(node)).get("groups")):
        if sub == start:
            return [*path, sub]
        if isinstance(sub, str) and sub not in path and sub in groups:
            found = _walk_groups(sub, groups, [*path, sub], start)
            if found:
                return found
    return []


def _parent_cycle(start: str, parents: Mapping[str, Any]) -> list[str]:
    chain = [start]
    current = parents.get(start)
    while isinstance(current, str) and current in parents:
        if current in chain:
            return [*chain[chain.index(current) :], current] if current == start else []
        chain.append(current)
        current = parents.get(current)
    return []
