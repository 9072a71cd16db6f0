"""``sigap demo``: the lab, the agent in its NOC and a scripted outage scenario (< 3 min)."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli.options import DEFAULT_INVENTORY, InventoryOpt, console, load


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command()(demo)


def demo(
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    keep: Annotated[bool, typer.Option("--keep", help="Leave the lab and agent data.")] = False,
    hold_down: Annotated[float, typer.Option(help="Hold-down for the demo (s).")] = 10.0,
) -> None:
    """Lab + agent + scripted outages: watch tickets open, attach and close (< 3 min)."""
    from agent.lab.demo import Demo  # labnet and the store on use

    ok = Demo(load(inventory_path), console, keep=keep, hold_down=hold_down).run()
    if not ok:
        raise typer.Exit(1)
