"""``sigap intake``: take complaints in by e-mail (IMAP) and WhatsApp until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, console, load
from agent.errors import AgentError

intake_app = typer.Typer(
    help="Pengaduan lewat e-mail dan WhatsApp / complaint intake.", invoke_without_command=True
)


def register(app: typer.Typer) -> None:
    """Add ``intake`` to ``app``."""
    app.add_typer(intake_app, name="intake")


@intake_app.callback()
def intake(
    ctx: typer.Context,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
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
    if ctx.invoked_subcommand is not None:
        return
    import asyncio

    from agent.wiring import build_intake_run, open_store
    from collectors.model import utc_now

    inventory = load(inventory_path)
    if inventory.intake is None:
        raise AgentError(f"{inventory_path}: tidak ada blok intake:")
    store = open_store(inventory, db, migrate=True)

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


@intake_app.command("karantina")
def karantina(
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    limit: Annotated[int, typer.Option(help="Paling banyak sekian baris.")] = 50,
) -> None:
    """Pesan yang dikarantina (tidak bisa diproses) / quarantined messages, newest first."""
    from rich.table import Table

    from agent.present.render import local
    from agent.present.terminal import data
    from agent.wiring import open_store
    from ticketing.intake import quarantined

    inventory = load(inventory_path)
    with open_store(inventory, db, migrate=True) as store:
        rows = quarantined(store, limit)
    if not rows:
        console.print("Tidak ada pesan yang dikarantina.")
        return
    table = Table(title=f"Pesan dikarantina ({len(rows)})")
    for column in ("Diterima", "Saluran", "Pengirim", "Subjek", "Alasan", "Rincian"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            local(row.received_at, inventory.tz),
            row.channel,
            data(row.sender[:60]),
            data(row.subject[:60]),
            row.reason,
            data(row.detail[:120]),
        )
    console.print(table)
