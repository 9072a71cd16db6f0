"""``sigap check`` (validate the inventory) and ``sigap run`` (the monitoring daemon)."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - typer reads annotations at runtime
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.options import (
    DEFAULT_INVENTORY,
    DbOpt,
    InventoryOpt,
    console,
    err_console,
    load,
)
from agent.zones import DEFAULT_BUFFER

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent.config.model import Inventory


def register(app: typer.Typer) -> None:
    """Add ``check`` and ``run`` to ``app``."""
    app.command()(check)
    app.command()(run)


def check(
    file: Annotated[Path, typer.Argument(help="Inventory file to validate.")] = DEFAULT_INVENTORY,
) -> None:
    """Validate the inventory; list every problem with its line (exit 2 on problems)."""
    inventory = load(file)
    routers = sum(1 for d in inventory.devices.values() if d.role == "router")
    console.print(
        f"{file}: OK - {len(inventory.devices)} devices ({routers} routers), "
        f"{len(inventory.opds())} OPD, {len(inventory.people)} people"
    )
    if inventory.warnings:
        count = len(inventory.warnings)
        console.print(f"{file}: {count} warning{'s' if count != 1 else ''}", markup=False)
        for warning in inventory.warnings:
            console.print(f"  {warning}", markup=False, soft_wrap=True)


def run(  # keyword-only: typer passes options by name
    *,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    ready_file: Annotated[
        Path | None, typer.Option(help="Write this file once every device was polled.")
    ] = None,
    hold_down: Annotated[
        float | None, typer.Option(help="Override tickets.hold_down (seconds).")
    ] = None,
    pid_file: Annotated[
        Path | None,
        typer.Option(
            envvar="SIGAP_PID_FILE", help="Write the pid here (sigap web reloads through it)."
        ),
    ] = None,
    zona: Annotated[
        list[str] | None,
        typer.Option(
            "--zona",
            help="Run as the poller of this zone (repeatable): poll its devices, ship to the "
            "centre's PostgreSQL; no tickets or notifications here.",
        ),
    ] = None,
    node: Annotated[
        str | None, typer.Option(help="This process's name in the cluster (default: host name).")
    ] = None,
    metrics_listen: Annotated[
        str | None, typer.Option(help="Override daemon.metrics_listen (host:port, '' = off).")
    ] = None,
    buffer: Annotated[
        int,
        typer.Option(
            help="Poller: rows kept while the database is away, oldest dropped "
            "(a ping or poll is 1, +1 per interface, sensor or radio)."
        ),
    ] = DEFAULT_BUFFER,
) -> None:
    """Run the monitoring daemon (foreground; systemd runs it as a service)."""
    import asyncio

    from agent.admin.reload import pid_file as pid_written
    from agent.lab.control import refuse_lab_inventory_outside_lab
    from agent.runtime.leader import LOST_EXIT, LeadershipLostError
    from agent.wiring import build_daemon, open_store  # the daemon's stack

    inventory = overridden(load(inventory_path), node=node, metrics_listen=metrics_listen)
    refuse_lab_inventory_outside_lab(inventory, poller=bool(zona))
    if zona:
        _run_poller(
            inventory,
            inventory_path,
            db,
            zona,
            node=node,
            buffer=buffer,
            reload=lambda: overridden(
                load(inventory_path), node=node, metrics_listen=metrics_listen
            ),
        )
        return
    store = open_store(inventory, db, hold_down=hold_down)

    def reload() -> Inventory:
        fresh = overridden(load(inventory_path), node=node, metrics_listen=metrics_listen)
        refuse_lab_inventory_outside_lab(fresh)
        return fresh

    daemon = build_daemon(inventory, store, ready_file=ready_file, reload=reload)
    try:
        with pid_written(pid_file):
            asyncio.run(daemon.run())
    except* LeadershipLostError as lost:
        # another daemon of the cluster leads now; systemd starts this one again as a standby
        console.print(f"leadership lost: {lost.exceptions[0]}; stopping", markup=False)
        raise typer.Exit(LOST_EXIT) from None
    finally:
        store.close()


def overridden(inventory: Inventory, *, node: str | None, metrics_listen: str | None) -> Inventory:
    """The inventory with ``--node`` (the HA node name) and ``--metrics-listen`` applied."""
    from dataclasses import replace

    from agent.config.listen import parse_listen

    if metrics_listen is not None:
        try:
            if metrics_listen:
                parse_listen(metrics_listen)
        except ValueError as exc:
            err_console.print(f"--metrics-listen: {exc}", markup=False)
            raise typer.Exit(2) from None
        inventory = replace(inventory, metrics_listen=metrics_listen)
    if node is not None and inventory.ha is not None:
        inventory = replace(inventory, ha=replace(inventory.ha, node=node))
    return inventory


def _run_poller(
    inventory: Inventory,
    inventory_path: Path,
    db: str | None,
    zones: list[str],
    *,
    node: str | None,
    buffer: int,
    reload: Callable[[], Inventory],
) -> None:
    """``sigap run --zona``: poll the zones' devices and ship their results to the centre."""
    import asyncio

    from agent.wiring import build_poller, database_url, open_store
    from agent.zones.settings import PollerConfigError, poller_settings, poller_url

    try:
        settings = poller_settings(
            inventory, zones, database_url(inventory, db), node=node, buffer=buffer
        )
    except PollerConfigError as exc:
        err_console.print(f"sigap run --zona: {exc}", markup=False)
        raise typer.Exit(2) from None
    store = open_store(inventory, poller_url(database_url(inventory, db), settings.lease))
    try:
        poller = build_poller(
            inventory, store, settings, inventory_path=inventory_path, reload=reload
        )
        asyncio.run(poller.run())
    finally:
        store.close()
