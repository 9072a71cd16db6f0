"""``sigap tiket ...``: list and show tickets, and walk them through the SOP.

``tiket lapor|disposisi|tugaskan|tangani|selesai``: every human action names who acts
(``--oleh``); the engine checks the role. Errors are left to ``agent.cli.main`` (exit 1), except
that an unknown person is re-raised with the close names (``options.session``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from agent.cli.options import (
    DEFAULT_INVENTORY,
    DbOpt,
    InventoryOpt,
    JsonOpt,
    NumberArg,
    OlehOpt,
    console,
    load,
    session,
)
from agent.errors import AgentError
from ticketing.states import TicketState  # noqa: TC001 - typer reads annotations at runtime
from ticketing.workflow import Complexity, Priority, Sifat

CONTEXT_BEFORE = timedelta(minutes=10)  # device messages shown before the fault (no events:)

if TYPE_CHECKING:
    from pathlib import Path

    from agent.config.model import Inventory
    from ticketing.service import TicketService
    from ticketing.views import StepView

tiket_app = typer.Typer(help="Tiket gangguan / trouble tickets.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``tiket`` to ``app``."""
    app.add_typer(tiket_app, name="tiket")


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


# ---------------------------------------------------------------- list, show


@tiket_app.command("list")
def tiket_list(
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    status: Annotated[
        list[TicketState] | None,
        typer.Option("--status", "-s", help="open / recovering / resolved (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Daftar tiket / list tickets."""
    from agent.present.render import ticket_table, ticket_to_json
    from agent.wiring import open_store  # SQLAlchemy only when needed

    inventory = load(inventory_path)
    with open_store(inventory, db) as store:
        tickets = store.list(status=status or None, limit=limit)
    if as_json:
        console.print_json(json.dumps([ticket_to_json(t) for t in tickets]))
        return
    if not tickets:
        console.print("Tidak ada tiket.")
        return
    console.print(ticket_table(tickets, inventory.tz, console.width))


@tiket_app.command("show")
def tiket_show(
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. GJ/2026/0001.")],
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    as_json: JsonOpt = False,
    transkrip: Annotated[
        bool, typer.Option("--transkrip/--tanpa-transkrip", help="Transkrip perbaikan otomatis.")
    ] = True,
) -> None:
    """Rincian tiket / show one ticket: devices, SOP timeline, events, remediation transcripts."""
    show_ticket(number, inventory_path, db, as_json=as_json, transcripts=transkrip)


def show_ticket(
    number: str, inventory_path: Path, db: str | None, *, as_json: bool, transcripts: bool = True
) -> None:
    """Body of ``sigap tiket show``: ticket, affected devices, SOP timeline, event log."""
    from agent.cli.remediasi import runs_json, runs_section
    from agent.present.devicelog import log_json, log_table
    from agent.present.render import (
        sop_header,
        step_table,
        steps_to_json,
        ticket_detail,
        ticket_to_json,
    )
    from collectors.model import utc_now
    from ticketing import device_log
    from ticketing.remediation import RemediationLog

    with session(inventory_path, db, write=False) as s:
        inventory = s.inventory
        ticket = s.store.get(number)
        events = s.store.events(number)
        steps = s.svc.steps(number)
        runs = RemediationLog(s.store).runs(number)
        before = inventory.events.context_before if inventory.events else CONTEXT_BEFORE
        said = device_log.context(s.store, ticket, before, now=utc_now())
    out = console
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
            device_messages=log_json(said),
        )
        out.print_json(json.dumps(data))
        return
    parts = ticket_detail(ticket, events, inventory)
    parts.insert(1, sop_header(ticket, inventory.tz))
    if steps:
        parts.insert(2, step_table(steps, inventory.tz, utc_now()))
    if runs:
        parts.append(runs_section(runs, inventory.tz, transcripts=transcripts))
    if said:
        title = f"Pesan perangkat {ticket.device} (trap/syslog) sekitar gangguan: {len(said)}"
        parts.append(log_table(said, inventory.tz, title=title))
    for part in parts:
        out.print(part)


# ---------------------------------------------------------------- SOP actions


def _step_line(step: StepView) -> str:
    return f"no. {step.label} ({step.kegiatan})"


def _report_progress(svc: TicketService, number: str, done: StepView, inventory: Inventory) -> None:
    """Print which step was completed (late or on time) and which one is next."""
    from ticketing.reports.render import duration_text  # on use

    out = console
    late = (
        Text(f"terlambat {duration_text(done.late_by)}", style="bold red")
        if done.late_by
        else Text("tepat waktu")
    )
    done_by = f"{number}: langkah {_step_line(done)} selesai oleh {done.completed_by}, "
    out.print(Text.assemble(done_by, late, "."))
    ticket = svc.ticket(number)
    if ticket.sop_step is None:
        out.print(
            f"Semua langkah SOP selesai; tiket selesai {_local(ticket.sop_done_at, inventory)}."
        )
        return
    nxt = svc.steps(number)[ticket.sop_step - 1]
    who = nxt.person or " / ".join(nxt.roles)
    due = _local(nxt.due_at, inventory)
    out.print(f"Berikutnya: langkah {_step_line(nxt)} oleh {who}, batas {due}.")


def _local(at: datetime | None, inventory: Inventory) -> str:
    from agent.present.render import local  # rich tables on use

    return local(at, inventory.tz)


def _parse_local(text: str, inventory: Inventory) -> datetime:
    try:
        naive = datetime.strptime(text, "%Y-%m-%d %H:%M")  # noqa: DTZ007 - local office time
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: pakai 'YYYY-MM-DD HH:MM' (WITA)") from exc
    return naive.replace(tzinfo=inventory.tz).astimezone(UTC)


@tiket_app.command("lapor")
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
    with session(inventory_path, db) as (inventory, store, svc):
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
        console.print(Text.assemble("Tiket ", (ticket.number, "bold"), f" dibuat: {title}."))
        console.print(f"Langkah pertama batas {_local(steps[0].due_at, inventory)}.")
        for event in store.events(ticket.number):
            if event.data and event.data.get("bukti"):  # "internet lambat": the uplink's traffic
                console.print(event.detail)  # a SafeConsole: shown, no markup
        _report_progress(svc, ticket.number, steps[0], inventory)


@tiket_app.command("disposisi")
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
    with session(inventory_path, db) as (inventory, _store, svc):
        done = svc.dispose(
            number,
            by=oleh,
            isi=isi,
            sifat=Sifat(sifat.value.replace("-", "_")),
            nomor_agenda=nomor_agenda,
        )
        _report_progress(svc, number, done, inventory)


@tiket_app.command("tugaskan")
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
    with session(inventory_path, db) as (inventory, _store, svc):
        done = svc.assign(number, by=oleh, technician=teknisi, notes=catatan)
        _report_progress(svc, number, done, inventory)


@tiket_app.command("tangani")
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
    from ticketing.service import ProgramDraft  # SQLAlchemy on use

    draft = ProgramDraft(usulan, biaya, prioritas, tahun) if kompleks else None
    with session(inventory_path, db) as (inventory, _store, svc):
        done = svc.handle(
            number, by=oleh, complexity=choice, reason=alasan, program=draft, notes=catatan
        )
        ticket = svc.ticket(number)
        console.print(Text.assemble("Keputusan: ", (f"{ticket.complexity}", "bold"), "."))
        if ticket.complexity == Complexity.KOMPLEKS:
            entry = [e for e in svc.program() if e.ticket == number][-1]
            console.print(
                f"Masuk Program Kegiatan #{entry.id} (tahun {entry.budget_year}, "
                f"prioritas {entry.priority})."
            )
        _report_progress(svc, number, done, inventory)


@tiket_app.command("selesai")
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
    with session(inventory_path, db) as (inventory, _store, svc):
        _refuse_special_step(svc, number)
        done = svc.complete(number, by=oleh, notes=catatan, document=document)
        _report_progress(svc, number, done, inventory)


def _refuse_special_step(svc: TicketService, number: str) -> None:
    """Point at the right command when the active step needs a decision or a technician."""
    from ticketing.sop import StepKind  # the SOP files on use

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
