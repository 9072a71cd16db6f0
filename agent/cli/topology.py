"""``sigap discover`` and ``sigap peta``: topology discovery and the network map (issue 11)."""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 - typer reads annotations at runtime
from typing import TYPE_CHECKING, Annotated, Final

import typer

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, load, write_inventory
from agent.present.terminal import SafeConsole, safe_console

if TYPE_CHECKING:
    from agent.config.model import Inventory
    from agent.topology.mapdata import MapDevice
    from agent.topology.model import DeviceScan, Discovery, Link

STATUS_LABEL: Final = {
    "same": "sesuai",
    "new": "BARU",
    "conflict": "KONFLIK (induk tulisan tangan dipertahankan)",
    "root": "inti",
    "unlinked": "tanpa jalur ke inti",
}


def _console() -> SafeConsole:
    """Neighbour names and ports come from SNMP agents: shown, never sent (NULs, ESC)."""
    return safe_console(soft_wrap=True)


def run_discovery(inventory: Inventory, roots: list[str] | None = None) -> Discovery:
    """Scan every inventory device (refused for the lab outside its NOC) and discover."""
    import asyncio

    from agent.lab.control import refuse_lab_inventory_outside_lab
    from agent.topology.graph import discover
    from agent.topology.scan import MAX_IN_FLIGHT, known_devices, scan
    from agent.wiring import snmp_collector  # the SNMP stack on use

    refuse_lab_inventory_outside_lab(inventory)

    async def walk_all() -> list[DeviceScan]:
        async with snmp_collector(max_in_flight=MAX_IN_FLIGHT) as collector:
            return await scan(collector, inventory.devices.values())

    return discover(asyncio.run(walk_all()), known_devices(inventory), roots or None)


def _print(found: Discovery, out: SafeConsole) -> None:
    out.print(f"Inti: {', '.join(found.roots) or '-'}")
    out.print(f"Tautan ({len(found.links)}):")
    for link in found.links:
        out.print(
            f"  {link.a} {link.a_port} <-> {link.b} {link.b_port}  [{','.join(link.protocols)}]"
        )
    out.print("Usulan induk:")
    for p in found.parents:
        if p.status in ("same", "root"):
            continue
        now = p.current or "-"
        out.print(f"  {p.device}: {now} -> {p.proposed or '-'}  {STATUS_LABEL[p.status]}  {p.via}")
    same = sum(1 for p in found.parents if p.status == "same")
    out.print(f"  ({same} perangkat sudah sesuai)")
    if found.unknown:
        out.print(f"Tetangga tak dikenal ({len(found.unknown)}):")
        for u in found.unknown:
            addr = f" {u.address}" if u.address else ""
            seen = f"terlihat dari {u.seen_by} {u.port} [{u.protocol}]"
            out.print(f"  {u.name}{addr} port {u.remote_port or '?'}, {seen}")
    for device, why in sorted(found.silent.items()):
        out.print(f"Tidak terbaca: {device}: {why}")
    _print_platforms(found, out)


PLATFORM_LABEL: Final = {
    "same": "sesuai",
    "new": "BARU (belum ditulis di inventory)",
    "conflict": "BEDA (platform tulisan tangan dipakai)",
    "unknown": "tidak dikenali",
}


def _print_platforms(found: Discovery, out: SafeConsole) -> None:
    """One line per scanned device: vendor, model, OS and version; and the inventory's."""
    if not found.platforms:
        return
    out.print("Platform (vendor, model, OS):")
    for p in found.platforms:
        written = f"inventory: {p.current}" if p.current else "inventory: -"
        out.print(f"  {p.device}: {p.found.summary()}  {written}  {PLATFORM_LABEL[p.status]}")


def discover_cmd(
    *,  # typer passes options by name
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output for scripts.")] = False,
    do_apply: Annotated[
        bool, typer.Option("--apply", help="Write new parents into the inventory (diff shown).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    root: Annotated[
        list[str] | None, typer.Option("--root", help="Core device (default: tag `core`).")
    ] = None,
    scan: Annotated[
        str | None,
        typer.Option(
            "--scan",
            metavar="CIDR[,CIDR...]",
            help="Find new devices in these ranges (ping + SNMP + neighbours) and propose "
            "host entries.",
        ),
    ] = None,
    paksa: Annotated[
        bool, typer.Option("--paksa", help="Allow --scan ranges larger than /16.")
    ] = False,
    laju: Annotated[
        int,
        typer.Option("--laju", min=1, max=2000, help="--scan: addresses pinged per second."),
    ] = 256,
) -> None:
    """Temukan tautan, induk dan perangkat baru / discover links, parents and new devices."""
    if scan is not None:
        from agent.cli.discover_scan import scan_cmd

        scan_cmd(
            inventory_path, scan, force=paksa, rate=laju, do_apply=do_apply, yes=yes,
            as_json=as_json, db=db,
        )  # fmt: skip
        return
    from agent.topology import apply as inv_apply  # ruamel round trip on use

    inventory = load(inventory_path)
    found = run_discovery(inventory, root)
    out = _console()
    if as_json:
        out.print_json(json.dumps(found.to_json()))
    else:
        _print(found, out)
    if not do_apply:
        return
    changes, platforms = found.changes(), found.platform_changes()
    if not changes and not platforms:
        out.print("Tidak ada induk atau platform baru untuk ditulis.")
        return
    before = inventory_path.read_text()
    after = inv_apply.with_keys(before, "parent", changes, path=str(inventory_path))
    after = inv_apply.with_keys(after, "platform", platforms, path=str(inventory_path))
    out.print(inv_apply.unified_diff(before, after, inventory_path.name), markup=False)
    what = f"{len(changes)} induk dan {len(platforms)} platform"
    if not yes and not typer.confirm(f"Tulis {what} ke {inventory_path}?"):
        out.print("Dibatalkan; inventory tidak diubah.")
        raise typer.Exit(1)
    reload = write_inventory(inventory, db, before, after, summary=f"sigap discover: {what}")
    out.print(f"{inventory_path}: {what} ditulis (cadangan dan jejak audit tersimpan). {reload}")


def _map_devices(inventory: Inventory) -> list[MapDevice]:
    from agent.topology.mapdata import MapDevice

    return [
        MapDevice(d.name, d.address, d.opd, d.site, d.role, d.parent)
        for d in inventory.devices.values()
    ]


def _links_from(path: Path) -> list[Link]:
    from agent.topology.model import Link

    data = json.loads(path.read_text())
    return [
        Link(x["a"], x["a_port"], x["b"], x["b_port"], tuple(x.get("protocols", ())))
        for x in data["links"]
    ]


def peta_cmd(
    html: Annotated[Path, typer.Option("--html", help="Write the map page to this file.")],
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    links: Annotated[
        Path | None,
        typer.Option(
            "--links", help="Links from `sigap discover --json` (default: the daemon's, stored)."
        ),
    ] = None,
    live: Annotated[
        bool, typer.Option("--discover", help="Discover the links now (SNMP).")
    ] = False,
) -> None:
    """Ekspor peta jaringan (HTML mandiri) / export the network map as one HTML file."""
    from agent.topology.mapdata import map_json
    from agent.topology.maphtml import render_map_html
    from agent.topology.model import Link
    from agent.wiring import open_store, zone_watch
    from agent.zones.view import unwatched
    from collectors.model import utc_now
    from ticketing.topology import TopologyStore  # SQLAlchemy on use

    inventory = load(inventory_path)
    found = run_discovery(inventory).links if live else None
    if links is not None:
        found = tuple(_links_from(links))
    with open_store(inventory, db, migrate=True) as store:
        tickets = store.active()
        stored = TopologyStore(store).links()  # what the daemon's re-discovery remembers
        silent = zone_watch(store)
        unmonitored = unwatched(silent(inventory, store, utc_now())) if silent else frozenset()
    lost = {r.key for r in stored if r.lost_at is not None} if found is None else set()
    if found is None and stored:
        found = tuple(Link(r.a, r.a_port, r.b, r.b_port, r.protocols) for r in stored)
    data = map_json(
        _map_devices(inventory),
        tickets,
        links=None if found is None else list(found),
        lost=lost,
        unmonitored=unmonitored,
        title=f"Peta jaringan {inventory.office_short or inventory.office_name}".strip(),
        at=utc_now().astimezone(inventory.tz),
    )
    html.write_text(render_map_html(data))
    counts = ", ".join(f"{k} {v}" for k, v in data["counts"].items())
    _console().print(
        f"{html}: {len(data['nodes'])} perangkat, {len(data['links'])} tautan ({counts})"
    )


def register(app: typer.Typer) -> None:
    """Add ``discover`` and ``peta`` to the main CLI."""
    app.command("discover")(discover_cmd)
    app.command("peta")(peta_cmd)
