"""``sigap laporan tiket|bulanan``: the printable ticket report and the monthly recap."""

from __future__ import annotations

import difflib
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, NumberArg, console, session

laporan_app = typer.Typer(
    help="Laporan tiket dan rekap bulanan / printable reports.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``laporan`` to ``app``."""
    app.add_typer(laporan_app, name="laporan")


class ReportFormat(StrEnum):
    """Report formats."""

    MD = "md"
    HTML = "html"


def _write_or_show(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    output.write_text(text, encoding="utf-8")
    console.print(f"ditulis ke {output}")


@laporan_app.command("tiket")
def laporan_tiket(
    number: NumberArg,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md atau html.")] = ReportFormat.MD,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Berkas tujuan.")] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Laporan penanganan satu tiket (siap cetak) / printable per-ticket report."""
    from collectors.model import utc_now
    from ticketing.reports.documents import ticket_doc  # on use
    from ticketing.reports.render import render

    with session(inventory_path, db, write=False) as s:
        inventory = s.inventory
        ticket = s.store.get(number)
        steps = s.svc.steps(number)
        events = s.store.events(number)
        program = [e for e in s.svc.program() if e.ticket == number]
        title = s.svc.sops.get(ticket.sop).title if ticket.sop else ""
    doc = ticket_doc(
        ticket, steps, events, program, tz=inventory.tz, now=utc_now(),
        office=inventory.office_name, sop_title=title,
    )  # fmt: skip
    _write_or_show(render(doc, fmt.value), output)


@laporan_app.command("bulanan")
def laporan_bulanan(
    bulan: Annotated[str, typer.Option(help="Bulan, mis. 2026-11.")],
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md atau html.")] = ReportFormat.MD,
    output: Annotated[Path, typer.Option("--output", "-o", help="Direktori tujuan.")] = Path(),
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Rekap bulanan: tiket per OPD, MTTA/MTTR, kepatuhan SOP, ketersediaan (+CSV, SVG)."""
    from agent.history.availability import month_scope
    from collectors.model import utc_now
    from ticketing.reports.documents import write_monthly  # on use
    from ticketing.reports.monthly import parse_month
    from ticketing.reports.query import month_report
    from ticketing.reports.render import duration_text, percent

    try:
        year, month = parse_month(bulan)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--bulan") from exc
    with session(inventory_path, db, write=False) as s:
        inventory = s.inventory
        report = month_report(
            s.store, s.svc.sops, s.svc.program(),
            year=year, month=month, tz=inventory.tz, as_of=utc_now(),
            scope=month_scope(inventory, year, month),
        )  # fmt: skip
    paths = write_monthly(
        report, output, fmt=fmt.value, tz=inventory.tz, office=inventory.office_name
    )
    out = console
    out.print(
        f"{report.label}: {report.total} tiket, {report.resolved} selesai; "
        f"MTTA {duration_text(report.mtta.mean)}, MTTR {duration_text(report.mttr.mean)}; "
        f"kepatuhan SOP {percent(report.compliance_percent)}; "
        f"{len(report.program)} Program Kegiatan baru"
    )
    for path in paths:
        out.print(f"  {path}")


@laporan_app.command("ketersediaan")
def laporan_ketersediaan(  # keyword-only: typer passes options by name
    *,
    dari: Annotated[str, typer.Option(help="Tanggal awal, mis. 2026-11-01 (WITA).")],
    sampai: Annotated[str, typer.Option(help="Tanggal akhir, ikut dihitung, mis. 2026-11-30.")],
    opd: Annotated[str | None, typer.Option(help="Hanya OPD ini (nama di inventory).")] = None,
    target: Annotated[
        float | None, typer.Option(help="Target ketersediaan, persen (default: history.target).")
    ] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Tulis tabel ke CSV.")] = None,
    xlsx_path: Annotated[Path | None, typer.Option("--xlsx", help="Tulis ke XLSX.")] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Ketersediaan per OPD, link ISP dan perangkat untuk satu periode / availability report."""
    from agent.history.availability import period, report
    from agent.history.view import availability_view
    from collectors.model import utc_now
    from ticketing.reports.availability import write_tables_csv, write_xlsx  # on use

    if target is not None and not (math.isfinite(target) and 0 <= target <= 100):  # noqa: PLR2004
        raise typer.BadParameter(f"{target} bukan persen 0-100", param_hint="--target")
    with session(inventory_path, db, write=False) as s:
        inventory = s.inventory
        target = inventory.history.target if target is None else target
        try:
            start, end = period(dari, sampai, inventory.tz)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        if opd is not None and opd not in inventory.opds():
            raise typer.BadParameter(unknown_opd(opd, inventory.opds()), param_hint="--opd")
        result = report(
            s.store, inventory, start=start, end=end, as_of=utc_now(), opd=opd, target=target
        )
    for renderable in availability_view(result, tz=inventory.tz, devices=opd is not None):
        console.print(renderable)
    title = f"Ketersediaan jaringan {dari} s.d. {sampai}"
    written = write_tables_csv(result, csv_path) if csv_path is not None else []
    if xlsx_path is not None:
        written.append(write_xlsx(result, xlsx_path, title=title))
    for path in written:
        console.print(f"ditulis ke {path}")


def unknown_opd(name: str, known: list[str]) -> str:
    """``OPD 'X' tidak ada di inventory; mungkin: A, B``."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    close += [k for k in known if name.casefold() in k.casefold() and k not in close]
    names = ", ".join(close or known)
    return f"OPD {name!r} tidak ada di inventory; {'mungkin' if close else 'yang dikenal'}: {names}"


@laporan_app.command("trafik")
def laporan_trafik(  # keyword-only: typer passes options by name
    *,
    perangkat: Annotated[str, typer.Option(help="Nama perangkat di inventory.")],
    port: Annotated[
        str | None, typer.Option(help="Interface (default: uplink, else semua yang tercatat).")
    ] = None,
    dari: Annotated[str | None, typer.Option(help="Tanggal awal (default: 6 hari lalu).")] = None,
    sampai: Annotated[str | None, typer.Option(help="Tanggal akhir (default: hari ini).")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Tulis tabel ke CSV.")] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Riwayat trafik port per hari: rata-rata, p95, utilisasi puncak, error / traffic history."""
    from agent.history.availability import default_days, period
    from agent.history.view import rich_table
    from collectors.model import utc_now
    from ticketing.display import write_csv
    from ticketing.reports.render import Table
    from ticketing.reports.traffic import HEADERS, days, rows
    from ticketing.rollups import FINE, HOURLY, read, stored_ports

    with session(inventory_path, db, write=False) as s:
        inventory = s.inventory
        device = inventory.devices.get(perangkat)
        if device is None:
            raise typer.BadParameter(
                unknown_opd(perangkat, list(inventory.devices)).replace("OPD", "perangkat", 1),
                param_hint="--perangkat",
            )
        first, last = default_days(utc_now(), inventory.tz)
        try:
            start, end = period(dari or first, sampai or last, inventory.tz)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
        stored = stored_ports(s.store, perangkat)
        uplinks = [n for n, m in device.ports.items() if m.uplink and n in stored]
        ports = [port] if port is not None else (uplinks or stored)
        found = {
            p: days(
                read(s.store, perangkat, p, step=FINE, start=start, end=end)
                + read(s.store, perangkat, p, step=HOURLY, start=start, end=end),
                inventory.tz,
            )
            for p in ports
        }
    if not ports:
        console.print(f"Belum ada riwayat trafik untuk {perangkat}.")
    csv_rows = []
    for name, found_days in found.items():
        mark = device.ports.get(name)
        contract = (
            f", bandwidth {mark.bandwidth_mbps:g} Mbps" if mark and mark.bandwidth_mbps else ""
        )
        table = Table(HEADERS, tuple(rows(found_days)))
        console.print(rich_table(table, f"{perangkat} {name}{contract}"))
        if not found_days:
            console.print("  (tidak ada data pada periode ini)")
        csv_rows += [(perangkat, name, *row) for row in table.rows]
    if csv_path is not None:
        write_csv(csv_path, ("Perangkat", "Port", *HEADERS), csv_rows)
        console.print(f"ditulis ke {csv_path}")
