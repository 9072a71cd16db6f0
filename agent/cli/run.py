"""``sigap check`` (validate the inventory) and ``sigap run`` (the monitoring daemon)."""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - typer reads annotations at runtime
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, console, load

if TYPE_CHECKING:
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


def run(
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
) -> None:
    """Run the monitoring daemon (foreground; systemd runs it as a service)."""
    import asyncio

    from agent.admin.reload import pid_file as pid_written
    from agent.lab.control import refuse_lab_inventory_outside_lab
    from agent.runtime.leader import LOST_EXIT, LeadershipLostError
    from agent.wiring import build_daemon, open_store  # the daemon's stack

    inventory = load(inventory_path)
    refuse_lab_inventory_outside_lab(inventory)
    store = open_store(inventory, db, hold_down=hold_down)

    def reload() -> Inventory:
        fresh = load(inventory_path)
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
