"""``sigap`` commands of the SOP workflow (registered by ``agent.cli``).

``tiket lapor|disposisi|tugaskan|tangani|selesai`` and the body of ``tiket show``,
``program-kegiatan list|export|status``, ``laporan tiket|bulanan``.

Every human action names who acts (``--oleh``); the engine checks the role. Errors are left to
``agent.cli.main`` (exit 1), except that an unknown person is re-raised with the close names.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from agent.cli.remediasi import runs_json, runs_section
from agent.config.load import load_inventory
from agent.errors import AgentError
from agent.present.render import (
    local,
    program_table,
    sop_header,
    step_table,
    steps_to_json,
    ticket_detail,
    ticket_to_json,
)
from agent.wiring import ticket_service
from collectors.model import utc_now
from ticketing.errors import UnknownPersonError
from ticketing.models import ProgramStatus  # noqa: TC001 - typer reads annotations at runtime
from ticketing.program import export_csv, export_xlsx
from ticketing.remediation import RemediationLog
from ticketing.reports.documents import ticket_doc, write_monthly
from ticketing.reports.monthly import parse_month
from ticketing.reports.query import month_report
from ticketing.reports.render import duration_text, percent, render
from ticketing.service import ProgramDraft
from ticketing.sop import StepKind
from ticketing.workflow import Complexity, Priority, Sifat

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console

    from agent.config.model import Inventory
    from ticketing.service import TicketService
    from ticketing.store import TicketStore
    from ticketing.views import StepView

CLOSE_CUTOFF: Final = 0.5

tiket_sop_app = typer.Typer()  # no name: its commands join `sigap tiket`
program_app = typer.Typer(
    help="Program Kegiatan: masalah kompleks untuk dianggarkan / proposals for the budget.",
    no_args_is_help=True,
)
laporan_app = typer.Typer(
    help="Laporan tiket dan rekap bulanan / printable reports.", no_args_is_help=True
)

# Same options as agent.cli (which imports this module, so they cannot be imported from it).
InventoryOpt = Annotated[
    Path,
    typer.Option(
        "--inventory", "-i", envvar="SIGAP_INVENTORY", help="Inventory file (inventory.yaml)."
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", envvar="SIGAP_DB_URL", help="Database URL (default: as `sigap run`)."),
]
OlehOpt = Annotated[
    str, typer.Option("--oleh", help="Nama yang bertindak (people di inventory) / who acts.")
]
NumberArg = Annotated[str, typer.Argument(help="Nomor tiket, mis. GJ/2026/0001.")]
DEFAULT_INVENTORY = Path("inventory.yaml")


class Sumber(StrEnum):
    """Channel of a complaint."""

    WA = "wa"
    EMAIL = "email"
    SURAT = "surat"


class SifatOpt(StrEnum):
    """Urgency of a surat disposisi as typed on the command line."""

    BIASA = "biasa"
    SEGERA = "segera"
    SANGAT_SEGERA = "sangat-segera"


class ExportFormat(StrEnum):
    """Program Kegiatan export formats."""

    CSV = "csv"
    XLSX = "xlsx"


class ReportFormat(StrEnum):
    """Report formats."""

    MD = "md"
    HTML = "html"


def _console() -> Console:
    from agent.cli import console  # noqa: PLC0415 - agent.cli imports this module

    return console


@dataclass(frozen=True, slots=True)
class _Session:
    """What a command works with: the inventory, the store and the workflow service."""

    inventory: Inventory
    store: TicketStore
    svc: TicketService


@contextlib.contextmanager
def _session(inventory_path: Path, db: str | None) -> Iterator[_Session]:
    """Load the inventory, open and migrate the store, build the service; close the store.

    Migrating is idempotent; it lets the office record a complaint before the daemon ever ran.
    """
    from agent.wiring import open_store  # noqa: PLC0415

    inventory = load_inventory(inventory_path)
    with open_store(inventory, db) as store, _known_people(inventory):
        store.migrate()
        yield _Session(inventory, store, ticket_service(inventory, store, utc_now))


@contextlib.contextmanager
def _service(inventory_path: Path, db: str | None) -> Iterator[tuple[Inventory, TicketService]]:
    """:func:`_session` as (inventory, service)."""
    with _session(inventory_path, db) as s:
        yield s.inventory, s.svc


@contextlib.contextmanager
def _known_people(inventory: Inventory) -> Iterator[None]:
    """Re-raise an unknown person as AgentError naming the closest people of the inventory."""
    try:
        yield
    except UnknownPersonError as exc:
        raise AgentError(unknown_person_message(exc.name, inventory)) from exc


def unknown_person_message(name: str, inventory: Inventory) -> str:
    """``orang 'X' tidak ada di people inventory; mungkin: A (kasi), B (kasi)``."""
    roles = {p.name: p.role for p in inventory.people}
    folded = {n.casefold(): n for n in roles}
    needle = name.casefold()
    close = [folded[n] for n in difflib.get_close_matches(needle, folded, n=3, cutoff=CLOSE_CUTOFF)]
    close += [n for k, n in folded.items() if needle in k and n not in close]
    shown = close or sorted(roles)
    label = "mungkin" if close else "yang dikenal"
    names = ", ".join(f"{n} ({roles[n]})" for n in shown)
    return f"orang {name!r} tidak ada di people {inventory.path.name}; {label}: {names}"


def _step_line(step: StepView) -> str:
    return f"no. {step.label} ({step.kegiatan})"


def _report_progress(svc: TicketService, number: str, done: StepView, inventory: Inventory) -> None:
    """Print which step was completed (late or on time) and which one is next."""
    out = _console()
    late = (
        f"[bold red]terlambat {duration_text(done.late_by)}[/]" if done.late_by else "tepat waktu"
    )
    out.print(f"{number}: langkah {_step_line(done)} selesai oleh {done.completed_by}, {late}.")
    ticket = svc.ticket(number)
    if ticket.sop_step is None:
        out.print(
            f"Semua langkah SOP selesai; tiket selesai {local(ticket.sop_done_at, inventory.tz)}."
        )
        return
    nxt = svc.steps(number)[ticket.sop_step - 1]
    who = nxt.person or " / ".join(nxt.roles)
    due = local(nxt.due_at, inventory.tz)
    out.print(f"Berikutnya: langkah {_step_line(nxt)} oleh {who}, batas {due}.")


# ---------------------------------------------------------------- tiket (SOP actions)


def _parse_local(text: str, inventory: Inventory) -> datetime:
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M")  # noqa: DTZ007 - local office time
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: pakai 'YYYY-MM-DD HH:MM' (WITA)") from exc
    return naive.replace(tzinfo=inventory.tz).astimezone(UTC)


@tiket_sop_app.command("lapor")
def lapor(  # keyword-only: typer passes options by name
    *,
    sumber: Annotated[Sumber, typer.Option(help="Saluran pengaduan / channel.")],
    opd: Annotated[str, typer.Option(help="OPD yang melapor.")],
    pelapor: Annotated[str, typer.Option(help="Nama pelapor / reporter.")],
    uraian: Annotated[str, typer.Option(help="Uraian gangguan / what is wrong.")],
    oleh: OlehOpt,
    via_pj: Annotated[
        bool, typer.Option("--via-pj", help="Lewat penanggung jawab jaringan OPD (SOP tabel 2).")
    ] = False,
    perangkat: Annotated[str, typer.Option(help="Perangkat terkait (opsional).")] = "",
    diterima: Annotated[
        str | None,
        typer.Option(help="Waktu diterima 'YYYY-MM-DD HH:MM' WITA (default: sekarang)."),
    ] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Catat pengaduan / record a complaint (surat, email, wa) and start its SOP."""
    with _service(inventory_path, db) as (inventory, svc):
        received = _parse_local(diterima, inventory) if diterima else None
        ticket = svc.report(
            source=sumber.value,
            opd=opd,
            reporter=pelapor,
            description=uraian,
            by=oleh,
            device=perangkat,
            received_at=received,
            via_pj=via_pj,
        )
        steps = svc.steps(ticket.number)
        title = svc.sops.get(ticket.sop or "").title
        out = _console()
        out.print(f"Tiket [bold]{ticket.number}[/] dibuat: {title}.")
        out.print(f"Langkah pertama batas {local(steps[0].due_at, inventory.tz)}.")
        _report_progress(svc, ticket.number, steps[0], inventory)


@tiket_sop_app.command("disposisi")
def disposisi(  # keyword-only: typer passes options by name
    *,
    number: NumberArg,
    oleh: OlehOpt,
    isi: Annotated[str, typer.Option(help="Isi disposisi.")],
    sifat: Annotated[SifatOpt, typer.Option(help="Sifat surat disposisi.")] = SifatOpt.BIASA,
    nomor_agenda: Annotated[str, typer.Option(help="Nomor agenda surat.")] = "",
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Disposisi (Kadis/Kabid) / dispose the ticket down the chain with a surat disposisi."""
    with _service(inventory_path, db) as (inventory, svc):
        done = svc.dispose(
            number,
            by=oleh,
            isi=isi,
            sifat=Sifat(sifat.value.replace("-", "_")),
            nomor_agenda=nomor_agenda,
        )
        _report_progress(svc, number, done, inventory)


@tiket_sop_app.command("tugaskan")
def tugaskan(  # keyword-only: typer passes options by name
    *,
    number: NumberArg,
    oleh: OlehOpt,
    teknisi: Annotated[str, typer.Option(help="Teknisi yang ditugaskan.")],
    catatan: Annotated[str, typer.Option(help="Catatan / nota dinas.")] = "",
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Tugaskan teknisi (Kasi) / assign a technician."""
    with _service(inventory_path, db) as (inventory, svc):
        done = svc.assign(number, by=oleh, technician=teknisi, notes=catatan)
        _report_progress(svc, number, done, inventory)


@tiket_sop_app.command("tangani")
def tangani(  # keyword-only: typer passes options by name
    *,
    number: NumberArg,
    oleh: OlehOpt,
    sederhana: Annotated[bool, typer.Option("--sederhana", help="Langsung ditangani.")] = False,
    kompleks: Annotated[
        bool, typer.Option("--kompleks", help="Masuk Program Kegiatan / needs a budget.")
    ] = False,
    alasan: Annotated[str, typer.Option(help="Alasan (wajib bila menyimpang dari aturan).")] = "",
    usulan: Annotated[str, typer.Option(help="Usulan tindakan (kompleks).")] = "",
    biaya: Annotated[int, typer.Option(min=0, help="Perkiraan biaya, Rp (kompleks).")] = 0,
    prioritas: Annotated[Priority, typer.Option(help="Prioritas (kompleks).")] = Priority.SEDANG,
    tahun: Annotated[
        int | None, typer.Option(help="Tahun anggaran (default: tahun depan).")
    ] = None,
    catatan: Annotated[str, typer.Option(help="Catatan penanganan.")] = "",
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Keputusan teknisi: sederhana atau kompleks / handle the ticket and decide."""
    if sederhana and kompleks:
        raise typer.BadParameter("pilih salah satu: --sederhana atau --kompleks")
    if not kompleks and (usulan or biaya or tahun is not None):
        raise typer.BadParameter("--usulan/--biaya/--tahun hanya untuk --kompleks")
    choice = Complexity.KOMPLEKS if kompleks else Complexity.SEDERHANA if sederhana else None
    draft = ProgramDraft(usulan, biaya, prioritas, tahun) if kompleks else None
    with _service(inventory_path, db) as (inventory, svc):
        done = svc.handle(
            number, by=oleh, complexity=choice, reason=alasan, program=draft, notes=catatan
        )
        ticket = svc.ticket(number)
        _console().print(f"Keputusan: [bold]{ticket.complexity}[/].")
        if ticket.complexity == Complexity.KOMPLEKS:
            entry = [e for e in svc.program() if e.ticket == number][-1]
            _console().print(
                f"Masuk Program Kegiatan #{entry.id} (tahun {entry.budget_year}, "
                f"prioritas {entry.priority})."
            )
        _report_progress(svc, number, done, inventory)


@tiket_sop_app.command("selesai")
def selesai(  # keyword-only: typer passes options by name
    *,
    number: NumberArg,
    oleh: OlehOpt,
    catatan: Annotated[str, typer.Option(help="Catatan.")] = "",
    laporan: Annotated[str, typer.Option(help="Isi laporan (langkah laporan).")] = "",
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Selesaikan langkah aktif / complete the active SOP step."""
    document = {"isi": laporan} if laporan else None
    with _service(inventory_path, db) as (inventory, svc):
        _refuse_special_step(svc, number)
        done = svc.complete(number, by=oleh, notes=catatan, document=document)
        _report_progress(svc, number, done, inventory)


def _refuse_special_step(svc: TicketService, number: str) -> None:
    """Point at the right command when the active step needs a decision or a technician."""
    ticket = svc.ticket(number)
    if ticket.sop is None or ticket.sop_step is None:
        return  # the engine says why
    step = svc.sops.get(ticket.sop).step(ticket.sop_step)
    hint = (
        "sigap tiket tangani NOMOR --sederhana|--kompleks --oleh NAMA"
        if step.decision
        else "sigap tiket tugaskan NOMOR --teknisi NAMA --oleh NAMA"
        if step.kind is StepKind.PENUGASAN
        else ""
    )
    if hint:
        raise AgentError(f"tiket {number}: langkah aktif {step.title} diselesaikan dengan `{hint}`")


def show_ticket(
    number: str, inventory_path: Path, db: str | None, *, as_json: bool, transcripts: bool = True
) -> None:
    """Body of ``sigap tiket show``: ticket, affected devices, SOP timeline, event log."""
    with _session(inventory_path, db) as s:
        inventory = s.inventory
        ticket = s.store.get(number)
        events = s.store.events(number)
        steps = s.svc.steps(number)
        runs = RemediationLog(s.store).runs(number)
    out = _console()
    if as_json:
        data = ticket_to_json(ticket)
        data["events"] = [
            {"at": e.at.isoformat(), "kind": e.kind.value, "actor": e.actor, "detail": e.detail}
            for e in events
        ]
        data.update(
            source=ticket.source,
            sop=ticket.sop,
            sop_step=ticket.sop_step,
            complexity=ticket.complexity,
            assignee=ticket.assignee,
            steps=steps_to_json(steps),
            remediation=ticket.remediation,
            remediation_runs=runs_json(runs),
        )
        out.print_json(json.dumps(data))
        return
    parts = ticket_detail(ticket, events, inventory)
    parts.insert(1, sop_header(ticket, inventory.tz))
    if steps:
        parts.insert(2, step_table(steps, inventory.tz, utc_now()))
    if runs:
        parts.append(runs_section(runs, inventory.tz, transcripts=transcripts))
    for part in parts:
        out.print(part)


# ---------------------------------------------------------------- program-kegiatan


@program_app.command("list")
def program_list(
    tahun: Annotated[int | None, typer.Option(help="Tahun anggaran.")] = None,
    status: Annotated[ProgramStatus | None, typer.Option(help="Status entri.")] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Daftar Program Kegiatan / list entries."""
    with _service(inventory_path, db) as (inventory, svc):
        entries = svc.program(year=tahun, status=status)
    if not entries:
        _console().print("Tidak ada entri Program Kegiatan.")
        return
    _console().print(program_table(entries, inventory.tz))


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
    path = output or Path(f"program-kegiatan-{tahun}.{fmt.value}")
    with _service(inventory_path, db) as (inventory, svc):
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
    _console().print(f"{count} entri Program Kegiatan {tahun} ditulis ke {path}")


@program_app.command("status")
def program_status(
    entry: Annotated[int, typer.Argument(help="Nomor entri (kolom #).")],
    ke: Annotated[ProgramStatus, typer.Option("--ke", help="Status baru.")],
    oleh: OlehOpt,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Ubah status entri (Kasi ke atas) / move an entry to another status."""
    with _service(inventory_path, db) as (_inventory, svc):
        row = svc.set_program_status(entry, ke, by=oleh)
    _console().print(f"Program Kegiatan #{row.id}: status {row.status.value}")


# ---------------------------------------------------------------- laporan


def _write_or_show(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    output.write_text(text, encoding="utf-8")
    _console().print(f"ditulis ke {output}")


@laporan_app.command("tiket")
def laporan_tiket(
    number: NumberArg,
    fmt: Annotated[ReportFormat, typer.Option("--format", help="md atau html.")] = ReportFormat.MD,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Berkas tujuan.")] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Laporan penanganan satu tiket (siap cetak) / printable per-ticket report."""
    with _session(inventory_path, db) as s:
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
    """Rekap bulanan: tiket per OPD, MTTA/MTTR, kepatuhan SOP, Program Kegiatan (+CSV, SVG)."""
    try:
        year, month = parse_month(bulan)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--bulan") from exc
    with _session(inventory_path, db) as s:
        inventory = s.inventory
        report = month_report(
            s.store, s.svc.sops, s.svc.program(),
            year=year, month=month, tz=inventory.tz, as_of=utc_now(),
        )  # fmt: skip
    paths = write_monthly(
        report, output, fmt=fmt.value, tz=inventory.tz, office=inventory.office_name
    )
    out = _console()
    out.print(
        f"{report.label}: {report.total} tiket, {report.resolved} selesai; "
        f"MTTA {duration_text(report.mtta.mean)}, MTTR {duration_text(report.mttr.mean)}; "
        f"kepatuhan SOP {percent(report.compliance_percent)}; "
        f"{len(report.program)} Program Kegiatan baru"
    )
    for path in paths:
        out.print(f"  {path}")
