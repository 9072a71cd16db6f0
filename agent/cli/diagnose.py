"""``sigap diagnose TARGET`` and ``sigap poll-once DEVICE`` (issue 9).

Exit codes of both: 0 healthy, 1 degraded, 2 down or unreachable, 3 usage or configuration
error (a bad option, an unknown target, an invalid inventory, a lab inventory outside the lab).
"""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from typer.core import TyperCommand
from typer.exceptions import TyperException

from agent.cli.options import DEFAULT_INVENTORY, InventoryOpt, JsonOpt, console, err_console, load
from agent.errors import AgentError, ConfigError
from collectors.errors import CollectorError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.console import Console

    from agent.config.model import Device, Inventory
    from agent.diagnose.report import Diagnosis, TicketsReport
    from agent.diagnose.runner import Options, SshCollect
    from agent.topology.scan import Walker
    from ticketing.store import TicketStore

USAGE: Final = 3


class UsageError(Exception):
    """The command line names something that is not there (exit 3)."""


class _UsageExitsThree(TyperCommand):
    """Option and argument errors of these commands exit 3 (the issue's contract), not 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        """Parse; a usage error is shown and becomes exit 3."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except TyperException as exc:  # typer's click: UsageError, BadParameter, ...
            show = getattr(exc, "show", None)
            if callable(show):
                show()
            raise typer.Exit(USAGE) from exc


def register(app: typer.Typer) -> None:
    """Add ``diagnose`` and ``poll-once`` to the ``sigap`` app."""
    app.command("diagnose", cls=_UsageExitsThree)(diagnose)
    app.command("poll-once", cls=_UsageExitsThree)(poll_once)


def diagnose(
    target: Annotated[
        str | None, typer.Argument(help="Nama perangkat, nama OPD, atau alamat IPv4.")
    ] = None,
    *,  # typer passes options by name
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="SIGAP_DB_URL", help="Ticket database (read only)."),
    ] = None,
    count: Annotated[int, typer.Option("--count", "-c", min=1, max=100, help="Echoes.")] = 5,
    sample: Annotated[
        float, typer.Option(min=0.1, max=60, help="Seconds between the two SNMP samples.")
    ] = 1.0,
    mtu: Annotated[bool, typer.Option("--mtu", help="Path MTU check (DF pings).")] = False,
    ssh: Annotated[bool, typer.Option("--ssh", help="Read-only SSH commands.")] = False,
    as_json: JsonOpt = False,
    schema: Annotated[bool, typer.Option("--schema", help="Print the JSON schema.")] = False,
) -> None:
    """Diagnosa perangkat / OPD / alamat: ping, jalur, SNMP, SSH, tiket (exit 0/1/2/3)."""
    import asyncio

    from agent.diagnose import render  # the diagnose stack on use
    from agent.diagnose.runner import Options
    from agent.diagnose.schema import SCHEMA

    if schema:
        console.print_json(json.dumps(SCHEMA))
        return
    try:
        inventory = _inventory(inventory_path)
        kind, devices = resolve(inventory, target)
        store = _open_store(inventory, db)
    except (UsageError, ConfigError, AgentError) as exc:
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(USAGE) from exc
    options = Options(count=count, sample=sample, mtu=mtu, ssh=ssh)
    assert target is not None  # noqa: S101 - resolve() refused None
    try:
        result = asyncio.run(
            _run(inventory, (target, kind, devices), options, store, quiet=as_json)
        )
    except CollectorError as exc:  # e.g. no permission for ICMP sockets
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(USAGE) from exc
    finally:
        if store is not None:
            store.close()
    if as_json:
        console.print_json(json.dumps(result.to_json()))
    else:
        console.print(render.diagnosis(result, inventory.tz))
    raise typer.Exit(result.health.exit_code)


def _inventory(path: Path) -> Inventory:
    from agent.lab.control import refuse_lab_inventory_outside_lab

    inventory = load(path)
    refuse_lab_inventory_outside_lab(inventory)
    return inventory


def resolve(inventory: Inventory, target: str | None) -> tuple[str, list[Device]]:
    """Return (kind, devices) for a device name, an OPD name or an IPv4 address."""
    from agent.diagnose.runner import address_device

    if target is None:
        raise UsageError("sebutkan TARGET: nama perangkat, nama OPD, atau alamat IPv4")
    devices = inventory.devices
    if target in devices:
        return "device", [devices[target]]
    opd = [d for d in devices.values() if d.opd.casefold() == target.casefold()]
    if opd:
        return "opd", opd
    try:
        address = ipaddress.IPv4Address(target)
    except ValueError:
        names = [*devices, *inventory.opds()]
        close = difflib.get_close_matches(target, names, n=3)
        hint = f" (mungkin: {', '.join(close)})" if close else ""
        raise UsageError(
            f"{target!r} bukan nama perangkat, nama OPD, atau alamat IPv4 di {inventory.path}{hint}"
        ) from None
    known = [d for d in devices.values() if d.address == str(address)]
    return ("device", known) if known else ("address", [address_device(str(address))])


def _open_store(inventory: Inventory, db: str | None) -> TicketStore | None:
    """The ticket database if one exists (never created, never migrated: diagnose only reads)."""
    from agent.wiring import database_url, open_store  # SQLAlchemy on use

    url = database_url(inventory, db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        if not db and not inventory.database:
            return None  # no database configured and none made by `sigap run` here
        raise UsageError(f"basis data tiket {url} tidak ada")
    return open_store(inventory, db)


def _history(inventory: Inventory, store: TicketStore) -> Callable[[str], TicketsReport]:
    from agent.diagnose.history import TicketHistory
    from agent.wiring import ticket_service
    from collectors.model import utc_now

    service = ticket_service(inventory, store, utc_now)
    return TicketHistory(store, service).recent_blocking


async def _run(
    inventory: Inventory,
    what: tuple[str, str, Sequence[Device]],
    options: Options,
    store: TicketStore | None,
    *,
    quiet: bool,
) -> Diagnosis:
    from agent.diagnose.runner import Runner
    from agent.wiring import snmp_collector
    from collectors.ping import PingCollector  # keep `--help` light

    target, kind, devices = what

    progress = _Progress(None if quiet or not err_console.is_terminal else err_console)
    async with contextlib.AsyncExitStack() as stack:
        pinger = await stack.enter_async_context(PingCollector())
        poller = None
        if any(d.snmp is not None for d in devices):
            poller = await stack.enter_async_context(snmp_collector())
        df = None
        if options.mtu:
            df = await stack.enter_async_context(PingCollector(dont_fragment=True))
        runner = Runner(
            inventory,
            pinger,
            poller,
            df_pinger=df,
            history=_history(inventory, store) if store is not None else None,
            health=poller,
            ssh=_read_only_ssh() if options.ssh else None,
            options=options,
            progress=progress.update,
        )
        with progress:
            return await runner.run(target, kind, devices)
    raise AssertionError("unreachable")  # pragma: no cover - mypy: the stack may swallow


def _read_only_ssh() -> SshCollect:
    from agent.diagnose.readonly import collect  # netmiko only with --ssh

    return collect


class _Progress:
    """A live status line on stderr (terminals only): what is still running."""

    def __init__(self, console: Console | None) -> None:
        self._console = console
        self._pending: dict[tuple[str, str], None] = {}
        self._status: Any = None

    def __enter__(self) -> _Progress:
        if self._console is not None:
            self._status = self._console.status("memulai diagnosa ...")
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)

    def update(self, device: str, step: str, done: bool) -> None:
        if done:
            self._pending.pop((device, step), None)
        else:
            self._pending[(device, step)] = None
        if self._status is not None:
            waiting = ", ".join(f"{s} {d}" for d, s in self._pending) or "menyusun laporan"
            self._status.update(f"menunggu: {waiting}")


# ---------------------------------------------------------------- poll-once


def poll_once(
    device: Annotated[str, typer.Argument(help="Device name in the inventory.")],
    *,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    as_json: JsonOpt = False,
) -> None:
    """One ping round and one SNMP poll, printed raw as the daemon would record them."""
    import asyncio

    try:
        inventory = _inventory(inventory_path)
        _known_device(inventory, device)
    except (UsageError, ConfigError, AgentError) as exc:
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(USAGE) from exc
    try:
        ping, snmp, platform, health = asyncio.run(_poll_once(inventory.devices[device]))
    except CollectorError as exc:
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(USAGE) from exc
    if as_json:
        data = {"ping": ping, "snmp": snmp, "platform": platform}
        data |= {"health": health} if health else {}
        console.print_json(json.dumps(data, default=_json_default))
    else:
        _print_raw("ping", ping)
        if snmp is not None:
            _print_raw("snmp", snmp)
        if platform is not None:
            _print_platform(platform)
        if health is not None:
            _print_health(health)
    code = 0 if ping["status"] == "ok" else 2
    if code == 0 and snmp is not None and snmp["status"] != "ok":
        code = 1
    raise typer.Exit(code)


def _known_device(inventory: Inventory, device: str) -> None:
    if device not in inventory.devices:
        close = difflib.get_close_matches(device, list(inventory.devices), n=3)
        hint = f" (mungkin: {', '.join(close)})" if close else ""
        raise UsageError(f"perangkat {device!r} tidak ada di {inventory.path}{hint}")


async def _poll_once(
    device: Device,
) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
    """Ping, SNMP, and when SNMP answers the platform and one health poll (issue 18)."""
    import asyncio

    from agent.wiring import snmp_collector
    from collectors.ping import PingCollector

    async with PingCollector() as pinger:
        target = device.snmp_target()
        if target is None:
            return asdict(await pinger.probe(device.ping_target())), None, None, None
        async with snmp_collector() as poller:
            ping, snmp = await asyncio.gather(
                pinger.probe(device.ping_target()), poller.poll(target)
            )
            if snmp.status != "ok":
                return asdict(ping), asdict(snmp), None, None
            platform = await _platform(device, poller)
            health = asdict(await poller.poll_health(target))
    return asdict(ping), asdict(snmp), platform, health


async def _platform(device: Device, walker: Walker) -> dict[str, Any]:
    """What the device says it is (issue 18), against the inventory's ``platform``."""
    from agent.topology.model import platform_status
    from agent.topology.scan import read_platform

    target = device.snmp_target()
    assert target is not None  # noqa: S101 - only called for SNMP devices
    found = await read_platform(walker, target)
    if isinstance(found, str):
        return {"error": found, "inventory": device.platform}
    status = platform_status(device.platform, found)
    return {**asdict(found), "inventory": device.platform, "status": status}


def _print_platform(data: dict[str, Any]) -> None:
    """``platform: vendor=... model=... os=... version=... device_type=...`` and a mismatch."""
    console.print(f"platform: {_pairs(data)}", markup=False, soft_wrap=True)
    if data.get("status") == "conflict":
        console.print(
            f"  peringatan: inventory menulis platform {data['inventory']}, perangkat "
            f"melaporkan {data['device_type']} (platform inventory tetap dipakai)",
            markup=False,
            soft_wrap=True,
        )
    elif data.get("status") == "new":
        console.print(
            f"  platform belum ditulis di inventory: terdeteksi {data['device_type']} "
            "(`sigap discover --apply` menuliskannya)",
            markup=False,
            soft_wrap=True,
        )


def _print_health(data: dict[str, Any]) -> None:
    """``health: key=value ...`` then one line per sensor, radio link and note."""
    sensors, radios, notes = data.pop("sensors", ()), data.pop("radios", ()), data.pop("notes", ())
    lines = [f"health: {_pairs(data)}"]
    lines += [f"  sensor: {_pairs(x)}" for x in sensors]
    lines += [f"  radio: {_pairs(x)}" for x in radios]
    lines += [f"  note: {json.dumps(n)}" for n in notes]
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _print_raw(label: str, data: dict[str, Any]) -> None:
    """``label: key=value ...`` then one line per system group and interface row."""
    rows = data.pop("interfaces", ())
    system = data.pop("system", None)
    lines = [f"{label}: {_pairs(data)}"]
    if system:
        lines.append(f"  system: {_pairs(system)}")
    lines += [f"  if: {_pairs(row)}" for row in rows]
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)


def _pairs(data: dict[str, Any]) -> str:
    return " ".join(f"{k}={json.dumps(v, default=_json_default)}" for k, v in data.items())
