"""``sigap intake``: take complaints in by e-mail (IMAP) and WhatsApp until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from agent.config.load import load_inventory
from agent.errors import AgentError
from collectors.model import utc_now

intake_app = typer.Typer(
    help="Pengaduan lewat e-mail dan WhatsApp / complaint intake.", invoke_without_command=True
)


@intake_app.callback()
def intake(
    inventory_path: Annotated[
        Path, typer.Option("--inventory", "-i", envvar="SIGAP_INVENTORY", help="Inventory file.")
    ] = Path("inventory.yaml"),
    db: Annotated[
        str | None, typer.Option("--db", envvar="SIGAP_DB_URL", help="Database URL.")
    ] = None,
    notify: Annotated[
        bool, typer.Option("--notify/--no-notify", help="Also deliver the outbox (balasan).")
    ] = True,
    webhook: Annotated[
        bool,
        typer.Option(
            "--webhook/--no-webhook",
            help="Serve the WhatsApp webhook here (--no-webhook: `sigap web` serves it).",
        ),
    ] = True,
) -> None:
    """Jalankan penerimaan pengaduan (IMAP, webhook WhatsApp di 127.0.0.1)."""
    from agent.wiring import build_intake_run, open_store  # noqa: PLC0415

    inventory = load_inventory(inventory_path)
    if inventory.intake is None:
        raise AgentError(f"{inventory_path}: tidak ada blok intake:")
    store = open_store(inventory, db)
    store.migrate()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await build_intake_run(inventory, store, utc_now, stop, notify=notify, webhook=webhook)

    try:
        asyncio.run(main())
    finally:
        store.close()
