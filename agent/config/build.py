"""Resolve the checked file into the frozen :mod:`agent.config.model` (host > groups > defaults).

Runs only on a file without problems (see :mod:`agent.config.checks`); secrets are read here,
once. The precedence rules are in :mod:`agent.config.precedence`.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.config import schema
from agent.config.model import (
    CENTRAL_ZONE,
    WEEKDAY_INDEX,
    BackupSettings,
    DetectionSettings,
    Device,
    HaSettings,
    HealthSettings,
    HistorySettings,
    Inventory,
    LabSettings,
    MaintenanceWindow,
    Person,
    PingSettings,
    PortMark,
    QuietHours,
    RemediationPolicy,
    RemediationSettings,
    SopSettings,
    SshSettings,
    StandingSettings,
    TicketSettings,
    TopologySettings,
)
from agent.config.precedence import group_order, merged
from agent.config.secrets import read_secret
from agent.config.snmp import resolve_snmp
from agent.errors import Problem
from agent.events.settings import events_settings
from agent.intake.config import intake_settings
from agent.notify.config import notify_settings, resolve_apprise

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from agent.config.source import Source

PING_DEFAULTS = PingSettings()


def build_inventory(
    file: Path, model: schema.InventoryFile, source: Source, env: Mapping[str, str]
) -> tuple[Inventory, list[Problem]]:
    """Turn the validated file model into frozen objects (precedence host > groups > defaults)."""
    problems: list[Problem] = []
    devices: dict[str, Device] = {}
    for name, host in model.hosts.items():
        levels = [host, *(model.groups[g] for g in group_order(host.groups, model.groups))]
        levels.append(model.defaults)
        device = _device(name, host, levels)
        device = replace(
            device,
            snmp=resolve_snmp(levels, env, file.parent),
            ssh=_ssh(levels, env, file.parent),
            remediation=_remediation(levels),
            ports=_ports(levels),
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
    if model.events is not None:
        events, rule_problems = events_settings(model.events, file.parent)
        inventory = replace(inventory, events=events)
        problems.extend(rule_problems)
    return inventory, problems


def _unset(device: Device, line: int | None) -> list[Problem]:
    """Report a role that no level of the precedence chain sets.

    ``platform`` may be omitted: ``sigap discover`` detects it over SNMP and ``--apply``
    writes it (issue 18).
    """
    allowed = {"role": schema.ROLES}
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
        zone=first("zone") or CENTRAL_ZONE,
    )


def _ping(levels: list[schema.NodeBlock]) -> PingSettings:
    values = merged(levels, "ping")
    seconds = {k: v.total_seconds() for k, v in values.items() if hasattr(v, "total_seconds")}
    return PingSettings(
        interval=seconds.get("interval", PING_DEFAULTS.interval),
        count=values.get("count", PING_DEFAULTS.count),
        spacing=seconds.get("spacing", PING_DEFAULTS.spacing),
        timeout=seconds.get("timeout", PING_DEFAULTS.timeout),
        enabled=values.get("enabled", True),
    )


def _ssh(levels: list[schema.NodeBlock], env: Mapping[str, str], base: Path) -> SshSettings | None:
    """Merge the ``ssh:`` blocks (host first) and read the secrets; None when not set."""
    values = merged(levels, "ssh")
    if not values:
        return None
    return SshSettings(
        user=values.get("user", ""),
        port=values.get("port", 22),
        password=read_secret(values.get("password_env"), values.get("password_file"), env, base),
        secret=read_secret(values.get("secret_env"), values.get("secret_file"), env, base),
    )


def _ports(levels: list[schema.NodeBlock]) -> dict[str, PortMark]:
    """The interface marks of one host by ifName; a port's mark from a higher level wins."""
    marks: dict[str, PortMark] = {}
    for level in reversed(levels):
        for name, mark in level.interfaces.items():
            marks[name] = PortMark(
                name, mark.required_up, mark.uplink, mark.description, mark.bandwidth
            )
    return marks


def _remediation(levels: list[schema.NodeBlock]) -> RemediationPolicy:
    values = merged(levels, "remediation")
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
        health=_health_settings(model.health),
        tickets=TicketSettings(tick.number_prefix, tick.hold_down, tick.reopen_window),
        max_concurrent_probes=model.daemon.max_concurrent_probes,
        sop=_sop_settings(model, file.parent),
        notifications=notify_settings(model.notifications, file.parent),
        remediation=_remediation_settings(model.remediation, file.parent),
        database=model.daemon.database,
        metrics_listen=model.daemon.metrics_listen,
        ha=_ha_settings(model.daemon.ha),
        topology=TopologySettings(model.topology.enabled, model.topology.interval.total_seconds()),
        history=HistorySettings(**model.history.model_dump()),
        backup=_backup_settings(model.backup, file.parent),
        lab=(
            LabSettings(tuple(str(p) for p in model.lab.prefixes), str(model.lab.noc_address))
            if model.lab
            else None
        ),
        _children={k: tuple(v) for k, v in children.items()},
    )


def _ha_settings(b: schema.HaBlock | None) -> HaSettings | None:
    """The ha block; the node defaults to this machine's host name."""
    if b is None or not b.enabled:
        return None
    return HaSettings(b.node or socket.gethostname(), b.cluster, b.lease.total_seconds())


def _backup_settings(block: schema.BackupBlock, base: Path) -> BackupSettings:
    """The backup block with its directory resolved against the inventory's folder."""
    values = block.model_dump()
    return BackupSettings(
        **{**values, "directory": base / block.directory if block.directory else None}
    )


def _health_settings(b: schema.HealthBlock) -> HealthSettings:
    """The health block with durations in seconds."""
    return HealthSettings(
        enabled=b.enabled,
        interval=b.interval.total_seconds(),
        cpu_pct=b.cpu_pct,
        cpu_for=b.cpu_for.total_seconds(),
        temperature_c=b.temperature_c,
        temperature_for=b.temperature_for.total_seconds(),
        voltage_min=b.voltage_min,
        voltage_max=b.voltage_max,
        voltage_for=b.voltage_for.total_seconds(),
        psu_confirm_polls=b.psu_confirm_polls,
        radio_signal_dbm=b.radio_signal_dbm,
        radio_ccq_pct=b.radio_ccq_pct,
        radio_for=b.radio_for.total_seconds(),
        radio_trend=b.radio_trend.total_seconds(),
        pppoe_flaps=b.pppoe_flaps,
        pppoe_window=b.pppoe_window.total_seconds(),
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
