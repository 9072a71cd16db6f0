"""``sigap program-kegiatan list|export|status``: the Program Kegiatan register (kompleks work)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, OlehOpt, console, session
from ticketing.states import ProgramStatus  # noqa: TC001 - typer reads annotations at runtime

program_app = typer.Typer(
    help="Program Kegiatan: masalah kompleks untuk dianggarkan / proposals for the budget.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``program-kegiatan`` to ``app``."""
    app.add_typer(program_app, name="program-kegiatan")


class ExportFormat(StrEnum):
    """Program Kegiatan export formats."""

    CSV = "csv"
    XLSX = "xlsx"


@program_app.command("list")
def program_list(
    tahun: Annotated[int | None, typer.Option(help="Tahun anggaran.")] = None,
    status: Annotated[ProgramStatus | None, typer.Option(help="Status entri.")] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Daftar Program Kegiatan / list entries."""
    from agent.present.render import program_table  # rich tables on use

    with session(inventory_path, db, write=False) as (inventory, _store, svc):
        entries = svc.program(year=tahun, status=status)
    if not entries:
        console.print("Tidak ada entri Program Kegiatan.")
        return
    console.print(program_table(entries, inventory.tz))


@program_app.command("export")
def program_export(
    tahun: Annotated[int, typer.Option(help="Tahun anggaran.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv atau xlsx.")] = (
        ExportFormat.XLSX
    ),
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Berkas tujuan.")] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Ekspor Program Kegiatan satu tahun anggaran / export to CSV or XLSX."""
    from ticketing.program import export_csv, export_xlsx  # openpyxl on use

    path = output or Path(f"program-kegiatan-{tahun}.{fmt.value}")
    with session(inventory_path, db, write=False) as (inventory, _store, svc):
        entries = svc.program(year=tahun)
    if fmt is ExportFormat.XLSX:
        count = export_xlsx(
            entries,
            path,
            zone=inventory.tz,
            title=f"Program Kegiatan {tahun} - {inventory.office_name}",
        )
    else:
        count = export_csv(entries, path, zone=inventory.tz)
    console.print(f"{count} entri Program Kegiatan {tahun} ditulis ke {path}")


@program_app.command("status")
def program_status(
    entry: Annotated[int, typer.Argument(help="Nomor entri (kolom #).")],
    ke: Annotated[ProgramStatus, typer.Option("--ke", help="Status baru.")],
    oleh: OlehOpt,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Ubah status entri (Kasi ke atas) / move an entry to another status."""
    with session(inventory_path, db) as (_inventory, _store, svc):
        row = svc.set_program_status(entry, ke, by=oleh)
    console.print(f"Program Kegiatan #{row.id}: status {row.status.value}")
