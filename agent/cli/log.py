"""``sigap log DEVICE``: what a device said (traps and syslog), newest last, searchable."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Annotated, Final

import typer

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, JsonOpt, console, load
from agent.errors import AgentError

_SPAN: Final = re.compile(r"\A(\d{1,6})\s*(m|h|j|d|hari)\Z")
_UNIT: Final = {"m": 60, "h": 3600, "j": 3600, "d": 86400, "hari": 86400}


def parse_span(text: str) -> timedelta:
    """``30m``, ``1h`` (or ``1j``, jam), ``2d`` (or ``2hari``) as a timedelta."""
    match = _SPAN.match(text.strip().lower())
    if match is None:
        raise typer.BadParameter(f"contoh: 30m, 1h, 2d (bukan {text!r})", param_hint="--sejak")
    return timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])


def log_cmd(
    device: Annotated[str, typer.Argument(help="Nama perangkat (hosts di inventory).")],
    *,
    sejak: Annotated[
        str, typer.Option("--sejak", help="Sejak berapa lama / since: 30m, 1h, 2d.")
    ] = "1h",
    cari: Annotated[
        str, typer.Option("--cari", help="Hanya pesan yang memuat teks ini / containing.")
    ] = "",
    batas: Annotated[int, typer.Option("--batas", "-n", min=1, max=1000)] = 200,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pesan trap dan syslog sebuah perangkat / a device's traps and syslog lines."""
    from agent.present.devicelog import log_json, log_table  # rich tables on use
    from agent.wiring import open_store
    from collectors.model import utc_now
    from ticketing import device_log

    span = parse_span(sejak)
    inventory = load(inventory_path)
    if device not in inventory.devices:
        raise AgentError(f"perangkat {device!r} tidak ada di inventory")
    with open_store(inventory, db) as store:
        lines = device_log.read(store, device, since=utc_now() - span, search=cari, limit=batas)
    if as_json:
        console.print_json(json.dumps(log_json(lines)))
        return
    if not lines:
        console.print(f"tidak ada pesan dari {device} sejak {sejak} lalu", markup=False)
        return
    console.print(
        log_table(lines, inventory.tz, title=f"{device}: {len(lines)} pesan sejak {sejak} lalu")
    )


def register(app: typer.Typer) -> None:
    """Add ``log`` to the main CLI."""
    app.command("log")(log_cmd)
