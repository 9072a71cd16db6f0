"""``sigap konfigurasi ambil|riwayat|diff|status``: configuration backups (issue 22).

``ambil`` reads devices now (the same guard, redaction and history as the daemon's night) and
writes a change on the device's ticket; ``riwayat``, ``diff`` and ``status`` only read the
history under ``backup.directory`` (no device, no database).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, load
from agent.errors import AgentError
from agent.present.terminal import data, safe_console

if TYPE_CHECKING:
    from agent.backup.repo import ConfigRepo
    from agent.backup.service import BackupResult
    from agent.config.model import Device, Inventory

konfigurasi_app = typer.Typer(
    help="Cadangan dan riwayat konfigurasi perangkat / configuration backups.",
    no_args_is_help=True,
)
DeviceArg = Annotated[str, typer.Argument(help="Nama perangkat di inventory.")]


def register(app: typer.Typer) -> None:
    """Add ``konfigurasi`` to ``app``."""
    app.add_typer(konfigurasi_app, name="konfigurasi")


def _device(inventory: Inventory, name: str) -> Device:
    device = inventory.devices.get(name)
    if device is None:
        raise AgentError(f"perangkat {name!r} tidak ada di {inventory.path.name}")
    return device


def _repo(inventory: Inventory, db: str | None) -> ConfigRepo:
    from agent.backup.repo import ConfigRepo
    from agent.wiring import backup_directory

    return ConfigRepo(backup_directory(inventory, db) / "repo")


@konfigurasi_app.command("ambil")
def konfigurasi_ambil(
    device: Annotated[str | None, typer.Argument(help="Nama perangkat.")] = None,
    semua: Annotated[bool, typer.Option("--semua", help="Semua perangkat ber-SSH.")] = False,
    oleh: Annotated[str, typer.Option("--oleh", help="Yang meminta (tercatat).")] = "",
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Ambil konfigurasi sekarang / back up now (DEVICE or --semua)."""
    import asyncio
    import getpass

    from agent.backup.service import backed_up
    from agent.lab.control import refuse_lab_inventory_outside_lab

    inventory = load(inventory_path)
    if (device is None) == (not semua):
        raise typer.BadParameter("sebut satu DEVICE atau --semua", param_hint="DEVICE")
    refuse_lab_inventory_outside_lab(inventory)
    devices = backed_up(inventory) if semua else [_device(inventory, device or "")]
    if not devices:
        raise AgentError("tidak ada perangkat dengan SSH dan platform yang dapat dicadangkan")
    who = oleh or getpass.getuser()
    results = asyncio.run(_ambil(inventory, db, devices, who))
    out = safe_console(soft_wrap=True)
    for r in results:
        out.print(data(_line(r)))
    if any(not r.ok for r in results):
        raise typer.Exit(1)


def _line(r: BackupResult) -> str:
    if not r.ok:
        return f"{r.device}: GAGAL ({r.kind}): {r.reason}"
    if r.rev is None:
        return f"{r.device}: tersimpan, tidak berubah"
    from agent.backup.tracking import changed_lines

    added, removed = changed_lines(r.diff)
    return f"{r.device}: BERUBAH, versi {r.rev[:10]} (+{added} -{removed} baris)"


async def _ambil(
    inventory: Inventory, db: str | None, devices: list[Device], who: str
) -> list[BackupResult]:
    from agent.backup.service import by_user
    from agent.wiring import backup_service, open_store

    with open_store(inventory, db, migrate=True) as store:
        service = backup_service(inventory, store)
        return await service.backup_many(devices, by_user(who))


@konfigurasi_app.command("riwayat")
def konfigurasi_riwayat(
    device: DeviceArg, inventory_path: InventoryOpt = DEFAULT_INVENTORY, db: DbOpt = None
) -> None:
    """Versi konfigurasi tersimpan, terbaru dulu / saved versions, newest first."""
    inventory = load(inventory_path)
    _device(inventory, device)
    versions = _repo(inventory, db).history_blocking(device)
    out = safe_console(soft_wrap=True)
    if not versions:
        out.print(f"{device}: belum ada konfigurasi tersimpan")
        return
    table = Table("versi", "waktu (WITA)" if inventory.tz.key == "Asia/Makassar" else "waktu",
                  "pemicu", title=f"Riwayat konfigurasi {device}")  # fmt: skip
    for v in versions:
        when = v.at.astimezone(inventory.tz).strftime("%d-%m-%Y %H:%M:%S")
        table.add_row(v.rev[:10], when, data(v.trigger))
    out.print(table)


@konfigurasi_app.command("diff")
def konfigurasi_diff(
    device: DeviceArg,
    dari: Annotated[str | None, typer.Option("--dari", help="Versi lama (awal hex).")] = None,
    ke: Annotated[str | None, typer.Option("--ke", help="Versi baru (awal hex).")] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Beda antara dua versi (bawaan: perubahan terakhir) / unified diff of two versions."""
    inventory = load(inventory_path)
    _device(inventory, device)
    text = _repo(inventory, db).diff_blocking(device, dari, ke)
    out = safe_console(soft_wrap=True)
    out.print(data(text.rstrip("\n")) if text else f"{device}: tidak ada perbedaan")


@konfigurasi_app.command("status")
def konfigurasi_status(inventory_path: InventoryOpt = DEFAULT_INVENTORY, db: DbOpt = None) -> None:
    """Hasil pencadangan terakhir tiap perangkat / last backup per device."""
    from agent.backup.service import backed_up
    from agent.backup.status import StatusFile
    from agent.wiring import backup_directory

    inventory = load(inventory_path)
    states = StatusFile(backup_directory(inventory, db) / "status.json").read_blocking()
    table = Table("perangkat", "hasil", "malam gagal", "terakhir berhasil", "alasan")
    for d in backed_up(inventory):
        s = states.get(d.name)
        if s is None:
            table.add_row(d.name, "belum pernah", "", "", "")
            continue
        table.add_row(d.name, "ok" if s.ok else f"GAGAL ({s.kind})", str(s.failed_nights),
                      s.last_ok or "-", data(s.reason))  # fmt: skip
    safe_console(soft_wrap=True).print(table)
