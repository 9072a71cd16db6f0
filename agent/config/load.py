"""Load ``inventory.yaml``: validate everything, report every problem at once, resolve eagerly.

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

import os
from dataclasses import replace
from datetime import datetime
from ipaddress import IPv4Address, IPv4Network, ip_network
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from agent.config import schema
from agent.config.model import (
    WEEKDAY_INDEX,
    DetectionSettings,
    Device,
    Inventory,
    LabSettings,
    MaintenanceWindow,
    Person,
    PingSettings,
    QuietHours,
    RemediationPolicy,
    RemediationSettings,
    SopSettings,
    StandingSettings,
    TicketSettings,
    TopologySettings,
)
from agent.config.snmp import (
    resolve_ports,
    resolve_snmp,
    resolve_ssh,
    secret_problems,
    snmp_problems,
)
from agent.config.sop import sop_problems
from agent.config.source import Source, YamlSyntaxError, load_source
from agent.errors import ConfigError, Problem
from agent.intake.config import intake_problems, intake_settings
from agent.notify.config import (
    apprise_problems,
    apprise_warnings,
    notify_problems,
    notify_settings,
    resolve_apprise,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from agent.config.source import Path as YPath

PING_DEFAULTS = PingSettings()


def load_inventory(path: str | Path, *, env: Mapping[str, str] | None = None) -> Inventory:
    """Read, validate and resolve an inventory file; :class:`ConfigError` lists every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), [Problem("(file)", f"cannot read: {exc.strerror}")]) from exc
    try:
        source = load_source(text)
    except YamlSyntaxError as exc:
        raise ConfigError(str(file), [Problem("(yaml)", str(exc), exc.line)]) from exc
    environ = os.environ if env is None else env
    checker = _Checker(source, environ, file.parent)
    model = checker.run()
    if checker.problems or model is None:
        raise ConfigError(str(file), checker.problems)
    inventory, problems = _resolve(file, model, source, environ)
    if problems:
        raise ConfigError(str(file), problems)
    warnings = sorted(checker.warnings, key=lambda p: (p.line or 0, p.path))
    return replace(inventory, warnings=tuple(w.render() for w in warnings))


class _Checker:
    """Collects structural (pydantic) and semantic problems from the raw data."""

    def __init__(self, source: Source, env: Mapping[str, str], base: Path) -> None:
        self.source = source
        self.env = env
        self.base = base
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []  # valid, but worth changing (`sigap check` shows them)
        raw = source.data if isinstance(source.data, dict) else {}
        self.hosts: dict[str, Any] = _dict(raw.get("hosts"))
        self.groups: dict[str, Any] = _dict(raw.get("groups"))
        self.defaults: dict[str, Any] = _dict(raw.get("defaults"))
        self.raw = raw

    def add(self, path: YPath, message: str) -> None:
        self.problems.append(Problem(_dotted(path), message, self.source.line_of(path)))

    def run(self) -> schema.InventoryFile | None:
        for dup_path, first, again in self.source.duplicates:
            message = f"duplicate key {dup_path[-1]!r} (first defined at line {first})"
            self.problems.append(Problem(_dotted(dup_path), message, again))
        if not isinstance(self.source.data, dict):
            self.add((), "expected a mapping with office, defaults, groups, hosts, people")
            return None
        model = self._structure()
        self._check_groups()
        self._check_parents()
        self._check_addresses()
        self._check_secrets()
        self._check_snmp()
        self._check_maintenance()
        self._check_people()
        for where, message in notify_problems(self.raw, self.base):
            self.add(("notifications", *where), message)
        self._check_sop()
        self._check_office()
        for where, message in intake_problems(self.raw, self.env, self.base):
            self.add(("intake", *where), message)
        return model

    def _structure(self) -> schema.InventoryFile | None:
        try:
            return schema.InventoryFile.model_validate(self.source.data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                self.add(tuple(err["loc"]), _describe(err))
            return None

    def _check_groups(self) -> None:
        for kind, items in (("hosts", self.hosts), ("groups", self.groups)):
            for name, node in items.items():
                for index, group in enumerate(_list(_dict(node).get("groups"))):
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
                self.add(where, f"unknown parent device {parent!r}{_close(parent, self.hosts)}")
        reported: set[str] = set()
        for name in parents:
            cycle = _parent_cycle(name, parents)
            if cycle and not reported.intersection(cycle):
                reported.update(cycle)
                self.add(self.where(name, "parent"), f"parent cycle {' -> '.join(cycle)}")

    def _check_addresses(self) -> None:
        seen: dict[str, str] = {}
        lab = _dict(self.raw.get("lab"))
        prefixes = _networks(lab.get("prefixes"))
        for name, node in self.hosts.items():
            address = _dict(node).get("address")
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
                item = _dict(window)
                has_once = "start" in item or "end" in item
                if has_once == ("weekly" in item):
                    self.add((*path, index), "expected either start and end, or weekly")
                elif has_once and not ("start" in item and "end" in item):
                    self.add((*path, index), "a one-off window needs both start and end")
                elif has_once and _not_after(item["start"], item["end"]):
                    self.add((*path, index, "end"), f"end {item['end']} is not after start")

    def _check_people(self) -> None:
        opds = {self.effective(name, "opd") for name in self.hosts}
        for index, person in enumerate(_list(self.raw.get("people"))):
            item = _dict(person)
            opd = item.get("opd")
            if isinstance(opd, str) and opd and opd not in opds:
                self.add(("people", index, "opd"), f"unknown OPD {opd!r}{_close(opd, opds)}")
            if item.get("role") == "pj_opd" and not opd:
                self.add(("people", index, "opd"), "a penanggung jawab (pj_opd) needs an opd")
        people = _list(self.raw.get("people"))
        for where, message in apprise_problems(people, self.env, self.base):
            self.add(("people", *where), message)
        for where, message in apprise_warnings(people):
            path = ("people", *where)
            self.warnings.append(Problem(_dotted(path), message, self.source.line_of(path)))

    def _check_sop(self) -> None:
        block = _dict(self.raw.get("sop"))
        for where, message in sop_problems(block, _list(self.raw.get("people"))):
            self.add(("sop", *where), message)

    def _check_office(self) -> None:
        tz = _dict(self.raw.get("office")).get("timezone")
        if isinstance(tz, str):
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                self.add(("office", "timezone"), f"unknown timezone {tz!r} (e.g. Asia/Makassar)")

    def order(self, host: str) -> list[tuple[YPath, dict[str, Any]]]:
        """Return (path, raw node) from highest to lowest precedence for ``host``."""
        levels: list[tuple[YPath, dict[str, Any]]] = [(("hosts", host), _dict(self.hosts[host]))]
        groups = _group_order(_dict(self.hosts[host]).get("groups"), self.groups)
        levels.extend((("groups", g), _dict(self.groups[g])) for g in groups)
        levels.append((("defaults",), self.defaults))
        return levels

    def effective(self, host: str, key: str) -> Any:
        return next((node[key] for _p, node in self.order(host) if key in node), None)

    def where(self, host: str, key: str) -> YPath:
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
            yield ("groups", name), _dict(node)
        for name, node in self.hosts.items():
            yield ("hosts", name), _dict(node)


def _resolve(
    file: Path, model: schema.InventoryFile, source: Source, env: Mapping[str, str]
) -> tuple[Inventory, list[Problem]]:
    """Turn the validated file model into frozen objects (precedence host > groups > defaults)."""
    problems: list[Problem] = []
    devices: dict[str, Device] = {}
    for name, host in model.hosts.items():
        levels = [host, *(model.groups[g] for g in _group_order(host.groups, model.groups))]
        levels.append(model.defaults)
        device = _device(name, host, levels)
        device = replace(
            device,
            snmp=resolve_snmp(levels, env, file.parent),
            ssh=resolve_ssh(levels, env, file.parent),
            remediation=_remediation(levels),
            ports=resolve_ports(levels),
        )
        problems.extend(_unset(device, source.line_of(("hosts", name))))
        devices[name] = device
    children: dict[str, list[str]] = {}
    for device in devices.values():
        if device.parent is not None:
            children.setdefault(device.parent, []).append(device.name)
    inventory = _inventory(file, model, devices, children, env)
    if model.intake is not None:
        inventory = replace(inventory, intake=intake_settings(model.intake, env, file.parent))
    return inventory, problems


def _unset(device: Device, line: int | None) -> list[Problem]:
    """Report platform/role that no level of the precedence chain sets."""
    allowed = {"platform": schema.PLATFORMS, "role": schema.ROLES}
    return [
        Problem(
            f"hosts.{device.name}.{key}",
            f"not set on the host, its groups or defaults (expected one of {', '.join(values)})",
            line,
        )
        for key, values in allowed.items()
        if getattr(device, key) == ""
    ]


def _device(name: str, host: schema.HostBlock, levels: list[schema.NodeBlock]) -> Device:
    def first(key: str) -> Any:
        return next((v for lvl in levels if (v := getattr(lvl, key)) is not None), None)

    return Device(
        name=name,
        address=str(host.address),
        opd=first("opd") or "",
        site=first("site") or "",
        role=first("role") or "",
        platform=first("platform") or "",
        parent=first("parent"),
        ping=_ping(levels),
        groups=tuple(host.groups),
        tags=tuple(dict.fromkeys(t for lvl in levels for t in lvl.tags)),
        maintenance=tuple(_window(w) for lvl in levels for w in lvl.maintenance),
        description=host.description,
    )


def _merged(levels: list[schema.NodeBlock], block: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for lvl in reversed(levels):  # lowest precedence first, higher levels overwrite
        part = getattr(lvl, block)
        if part is not None:
            merged.update(part.model_dump(exclude_none=True))
    return merged


def _ping(levels: list[schema.NodeBlock]) -> PingSettings:
    values = _merged(levels, "ping")
    seconds = {k: v.total_seconds() for k, v in values.items() if hasattr(v, "total_seconds")}
    return PingSettings(
        interval=seconds.get("interval", PING_DEFAULTS.interval),
        count=values.get("count", PING_DEFAULTS.count),
        spacing=seconds.get("spacing", PING_DEFAULTS.spacing),
        timeout=seconds.get("timeout", PING_DEFAULTS.timeout),
        enabled=values.get("enabled", True),
    )


def _remediation(levels: list[schema.NodeBlock]) -> RemediationPolicy:
    values = _merged(levels, "remediation")
    return RemediationPolicy(
        enabled=values.get("enabled", False),
        playbooks=tuple(values.get("playbooks", ())),
        dry_run=values.get("dry_run", False),
    )


def _remediation_settings(
    block: schema.RemediationSettingsBlock, base: Path
) -> RemediationSettings:
    seconds = {
        k: v.total_seconds() for k, v in block.model_dump().items() if hasattr(v, "total_seconds")
    }
    return RemediationSettings(
        known_hosts=base / block.known_hosts,
        host_key_policy=block.host_key_policy,
        max_runs_per_fault_per_day=block.max_runs_per_fault_per_day,
        max_concurrent=block.max_concurrent,
        playbooks_dir=base / block.playbooks_dir if block.playbooks_dir else None,
        transcript_max_bytes=block.transcript_max_bytes,
        **seconds,
    )


def _window(block: schema.MaintenanceBlock) -> MaintenanceWindow:
    if block.weekly is not None:
        return MaintenanceWindow(
            name=block.name,
            days=frozenset(WEEKDAY_INDEX[d] for d in block.weekly.days),
            start_time=block.weekly.start,
            end_time=block.weekly.end,
        )
    return MaintenanceWindow(name=block.name, start=block.start, end=block.end)


def _inventory(
    file: Path,
    model: schema.InventoryFile,
    devices: dict[str, Device],
    children: dict[str, list[str]],
    env: Mapping[str, str],
) -> Inventory:
    det, tick = model.detection, model.tickets
    return Inventory(
        path=file,
        office_name=model.office.name,
        office_short=model.office.short_name,
        tz=ZoneInfo(model.office.timezone),
        devices=devices,
        people=tuple(
            Person(
                p.name,
                p.role,
                p.jabatan,
                p.opd,
                p.email,
                p.phone,
                resolve_apprise(p, env, file.parent),
                QuietHours(p.quiet_hours.start, p.quiet_hours.end) if p.quiet_hours else None,
            )
            for p in model.people
        ),
        detection=DetectionSettings(
            confirm_rounds=det.confirm_rounds,
            reprobe_interval=det.reprobe_interval.total_seconds(),
            recover_rounds=det.recover_rounds,
            flap_window=det.flap_window.total_seconds(),
            flap_threshold=det.flap_threshold,
            flap_quiet=det.flap_quiet.total_seconds(),
        ),
        tickets=TicketSettings(tick.number_prefix, tick.hold_down, tick.reopen_window),
        max_concurrent_probes=model.daemon.max_concurrent_probes,
        sop=_sop_settings(model, file.parent),
        notifications=notify_settings(model.notifications, file.parent),
        remediation=_remediation_settings(model.remediation, file.parent),
        database=model.daemon.database,
        metrics_listen=model.daemon.metrics_listen,
        topology=TopologySettings(model.topology.enabled, model.topology.interval.total_seconds()),
        lab=(
            LabSettings(tuple(str(p) for p in model.lab.prefixes), str(model.lab.noc_address))
            if model.lab
            else None
        ),
        _children={k: tuple(v) for k, v in children.items()},
    )


def _sop_settings(model: schema.InventoryFile, base: Path) -> SopSettings:
    block, cal = model.sop, model.calendar
    standing = block.standing_disposition
    return SopSettings(
        agent_sop=block.agent_sop,
        by_kind=dict(block.by_kind),
        standing=StandingSettings(**standing.model_dump()) if standing else None,
        agent_all_hours=block.agent_all_hours,
        complaint_all_hours=block.complaint_all_hours,
        holidays_dir=base / cal.holidays_dir if cal.holidays_dir else None,
        friday_break=cal.friday_break,
    )


# ---------------------------------------------------------------- small pure helpers


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dotted(path: YPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


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
    for item in _list(value):
        try:
            net = ip_network(str(item))
        except ValueError:
            continue
        if isinstance(net, IPv4Network):
            nets.append(net)
    return nets


def _close(name: str, known: Any) -> str:
    import difflib  # noqa: PLC0415 - only on the error path

    match = difflib.get_close_matches(name, [k for k in known if isinstance(k, str)], n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _group_order(groups: Any, defined: Mapping[str, Any]) -> list[str]:
    """Depth-first, in listed order, each group once; unknown names are skipped (reported)."""
    order: list[str] = []
    stack = [g for g in reversed(_list(groups)) if isinstance(g, str)]
    while stack:
        group = stack.pop()
        if group in order or group not in defined:
            continue
        order.append(group)
        node = defined[group]
        sub = node.groups if isinstance(node, schema.GroupBlock) else _dict(node).get("groups")
        stack.extend(g for g in reversed(_list(sub)) if isinstance(g, str))
    return order


def _group_cycle(start: str, groups: Mapping[str, Any]) -> list[str]:
    path = [start]
    return _walk_groups(start, groups, path, start)


def _walk_groups(node: str, groups: Mapping[str, Any], path: list[str], start: str) -> list[str]:
    for sub in _list(_dict(groups.get(node)).get("groups")):
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


def _describe(err: Any) -> str:
    """Turn one pydantic error into 'what was expected (got value)'."""
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}" + _allowed(err["loc"])
    if kind == "missing":
        return "required key is missing"
    if kind == "ip_v4_address":
        return f"expected an IPv4 address (got {value!r})"
    message = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message.replace("Input should be", "expected", 1)
    message = message[0].lower() + message[1:] if message else message
    return f"{message} (got {value!r})"


def _allowed(loc: tuple[Any, ...]) -> str:
    """List the keys allowed where an unknown key was found, when the location is a model."""
    model: Any = schema.InventoryFile
    container = False  # the previous field was a dict or list: this part is a key or index
    for part in loc[:-1]:
        fields = getattr(model, "model_fields", {})
        if container:
            container = False
        elif part in fields:
            annotation = fields[part].annotation
            model = _model_of(annotation)
            container = _is_container(annotation)
        else:
            return ""
    fields = getattr(model, "model_fields", None)
    return f" (allowed: {', '.join(fields)})" if fields and not container else ""


def _is_container(annotation: Any) -> bool:
    from typing import get_args, get_origin  # noqa: PLC0415

    if get_origin(annotation) in (dict, list):
        return True
    return any(_is_container(a) for a in get_args(annotation))


def _model_of(annotation: Any) -> Any:
    """Find the pydantic model inside ``X | None``, ``list[X]`` or ``dict[str, X]``."""
    from typing import get_args  # noqa: PLC0415

    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in reversed(get_args(annotation)):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
