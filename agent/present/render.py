"""Human views of tickets (rich tables, Indonesian labels, office local time) and JSON.

Every cell that holds ticket data is :func:`agent.present.terminal.data`: complaint subjects,
reporters, event details and Program Kegiatan text come from outside and are shown, never
parsed as markup nor sent to the terminal as control sequences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from agent.present.labels import (
    EVENT_LABEL,
    KIND_LABEL,
    KIND_SHORT,
    STATUS_LABEL,
    STATUS_STYLE,
)
from agent.present.terminal import data
from ticketing.calendar import zone_abbreviation
from ticketing.reports.render import DOC_LABEL, duration_text, rupiah

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from agent.config.model import Inventory
    from ticketing.views import EventView, ProgramEntry, StepView, TicketView

WIDE = 110
KEGIATAN_CHARS = 48


def local(at: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Format an aware time in the office timezone (``-`` for None)."""
    if at is None:
        return "-"
    return at.astimezone(tz).strftime(fmt) + local_suffix(tz)


def ticket_table(tickets: Sequence[TicketView], tz: ZoneInfo, width: int = 120) -> Table:
    """One row per ticket, newest first as given; below ``width`` 110 the OPD and kind go."""
    wide = width >= WIDE
    zone = local_suffix(tz).strip()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    if zone:
        table.caption = f"waktu {zone}"
    for title in ("Nomor", "Status", "Perangkat", *(("Gangguan",) if wide else ())):
        table.add_column(title, no_wrap=True)
    table.add_column("Dibuka", no_wrap=True)
    table.add_column("Selesai", no_wrap=True)
    table.add_column("Terdampak" if wide else "Dampak", justify="right", no_wrap=True)
    if wide:
        table.add_column("OPD", overflow="fold")
    for t in tickets:
        current = sum(1 for a in t.affected if a.detached_at is None)
        cells: list[str | Text] = [
            data(t.number),
            Text(STATUS_LABEL[t.status], style=STATUS_STYLE[t.status]),
            data(t.device),
        ]
        if wide:
            cells.append(data(KIND_SHORT.get(t.kind, t.kind)))
        cells += [
            _short(t.opened_at, tz, seconds=wide),
            _short(t.resolved_at, tz, seconds=wide),
            f"{current}/{len(t.affected)}" if t.affected else "-",
        ]
        if wide:
            cells.append(data(t.opd))
        table.add_row(*cells)
    return table


def _short(at: datetime | None, tz: ZoneInfo, *, seconds: bool) -> str:
    return at.astimezone(tz).strftime("%d/%m %H:%M:%S" if seconds else "%d/%m %H:%M") if at else "-"


def local_suffix(tz: ZoneInfo) -> str:
    """`` WITA`` for Asia/Makassar (and WIB/WIT), else empty."""
    name = zone_abbreviation(tz)
    return f" {name}" if name else ""


def ticket_detail(
    ticket: TicketView, events: Sequence[EventView], inventory: Inventory
) -> list[Any]:
    """Header, affected devices and the event log of one ticket."""
    tz = inventory.tz
    device = inventory.devices.get(ticket.device)
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("Tiket", data(ticket.number))
    head.add_row("Status", Text(STATUS_LABEL[ticket.status], style=STATUS_STYLE[ticket.status]))
    head.add_row("Gangguan", data(KIND_LABEL.get(ticket.kind, ticket.kind)))
    head.add_row("Perangkat", data(ticket.device + (f" ({device.address})" if device else "")))
    head.add_row("OPD", data(ticket.opd or "-"))
    if device is not None:
        head.add_row("Lokasi", data(device.site or "-"))
    head.add_row("Ringkasan", data(ticket.summary))
    head.add_row("Dibuka", local(ticket.opened_at, tz))
    head.add_row("Pulih", local(ticket.cleared_at, tz))
    head.add_row("Selesai", local(ticket.resolved_at, tz))
    if ticket.reopen_count:
        head.add_row("Dibuka kembali", f"{ticket.reopen_count} kali")
    parts: list[Any] = [head]
    if ticket.affected:
        table = Table("Perangkat terdampak", "OPD", "Sejak", "Sampai", title="Terdampak")
        for a in ticket.affected:
            other = inventory.devices.get(a.device)
            table.add_row(
                data(a.device),
                data(other.opd if other else ""),
                local(a.attached_at, tz),
                local(a.detached_at, tz),
            )
        parts.append(table)
    log = Table("Waktu", "Kejadian", "Oleh", "Keterangan", title="Riwayat")
    for e in events:
        kind = EVENT_LABEL.get(e.kind, e.kind.value)
        log.add_row(local(e.at, tz), kind, data(e.actor), data(e.detail))
    parts.append(log)
    return parts


def ticket_to_json(t: TicketView) -> dict[str, Any]:
    """A ticket as JSON-ready data (ISO 8601 UTC times)."""

    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "number": t.number,
        "status": t.status.value,
        "device": t.device,
        "kind": t.kind,
        "opd": t.opd,
        "summary": t.summary,
        "fault_key": t.fault_key,
        "opened_at": iso(t.opened_at),
        "cleared_at": iso(t.cleared_at),
        "resolved_at": iso(t.resolved_at),
        "reopen_count": t.reopen_count,
        "affected": [
            {
                "device": a.device,
                "attached_at": iso(a.attached_at),
                "detached_at": iso(a.detached_at),
            }
            for a in t.affected
        ],
    }


# ---------------------------------------------------------------- SOP timeline, program


def _kegiatan(text: str) -> str:
    return text if len(text) <= KEGIATAN_CHARS else text[: KEGIATAN_CHARS - 1] + "…"


def _late_cell(step: StepView, now: datetime) -> Text:
    if step.completed_at is not None:
        if step.late_by:
            return Text("+" + duration_text(step.late_by), style="bold red")
        return Text("tepat", style="green")
    over = step.overdue(now)
    if over is not None:
        return Text(f"+{duration_text(over)} (berjalan)", style="bold red")
    return Text("")


def step_table(steps: Sequence[StepView], tz: ZoneInfo, now: datetime, title: str = "") -> Table:
    """The SOP timeline of a ticket: one row per step, lateness in red, active step marked."""
    table = Table(title=title or "Langkah SOP", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("No", no_wrap=True)
    table.add_column("Kegiatan", overflow="fold", min_width=22)
    table.add_column("Pelaksana", overflow="fold")
    for name in ("Mulai", "Batas", "Selesai"):
        table.add_column(name, no_wrap=True)
    table.add_column("Oleh", overflow="fold")
    table.add_column("Terlambat", no_wrap=True)
    table.add_column("Dokumen", overflow="fold")
    for s in steps:
        active = s.state == "berjalan"
        table.add_row(
            data(("▶ " if active else "") + s.label, style="bold" if active else ""),
            data(_kegiatan(s.kegiatan)),
            data(f"{s.role}: {s.person}" if s.person and s.completed_at is None else s.role),
            _short(s.started_at, tz, seconds=False),
            _short(s.due_at, tz, seconds=False),
            _short(s.completed_at, tz, seconds=False),
            data(f"{s.completed_by} ({s.completed_via})" if s.completed_via else s.completed_by),
            _late_cell(s, now),
            data(DOC_LABEL.get(s.document_kind, s.document_kind) if s.document_kind else ""),
        )
    zone = local_suffix(tz).strip()
    if zone:
        table.caption = f"waktu {zone}"
    return table


def steps_to_json(steps: Sequence[StepView]) -> list[dict[str, Any]]:
    """SOP steps as JSON-ready data (ISO 8601 UTC times, lateness in seconds)."""

    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return [
        {
            "position": s.position,
            "label": s.label,
            "kegiatan": s.kegiatan,
            "state": s.state,
            "role": s.role,
            "roles": list(s.roles),
            "person": s.person,
            "started_at": iso(s.started_at),
            "due_at": iso(s.due_at),
            "completed_at": iso(s.completed_at),
            "completed_by": s.completed_by,
            "completed_via": s.completed_via or None,
            "late_by_s": int(s.late_by.total_seconds()) if s.late_by is not None else None,
            "document_kind": s.document_kind,
            "document": dict(s.document) if s.document else None,
            "notes": s.notes,
            "escalation_level": s.escalation_level,
        }
        for s in steps
    ]


def sop_header(ticket: TicketView, tz: ZoneInfo) -> Table:
    """Complaint and SOP fields of a ticket (source, reporter, SOP, decision, technician)."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("Sumber", data(ticket.source))
    if ticket.reporter:
        head.add_row("Pelapor", data(ticket.reporter))
    if ticket.description and ticket.description != ticket.summary:
        head.add_row("Uraian", data(ticket.description))
    head.add_row("SOP", data(ticket.sop or "-"))
    head.add_row("Keputusan", data(ticket.complexity or "-"))
    head.add_row("Teknisi", data(ticket.assignee or "-"))
    if ticket.sop_done_at:
        head.add_row("SOP selesai", local(ticket.sop_done_at, tz))
    return head


def program_table(entries: Sequence[ProgramEntry], tz: ZoneInfo) -> Table:
    """Program Kegiatan entries, one row each, with the total cost in the caption."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, title="Program Kegiatan")
    for name in ("#", "Tiket", "OPD", "Permasalahan", "Usulan", "Biaya", "Prioritas", "Tahun"):
        table.add_column(name, overflow="fold", justify="right" if name == "Biaya" else "left")
    table.add_column("Status")
    table.add_column("Dicatat", no_wrap=True)
    for e in entries:
        table.add_row(
            str(e.id),
            data(e.ticket or "-"),
            data(e.opd),
            data(e.problem),
            data(e.proposed_action),
            rupiah(e.estimated_cost),
            data(e.priority),
            str(e.budget_year),
            data(e.status.value),
            _short(e.created_at, tz, seconds=False),
        )
    table.caption = f"{len(entries)} entri, jumlah {rupiah(sum(e.estimated_cost for e in entries))}"
    return table
