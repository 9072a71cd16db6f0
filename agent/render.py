"""Human views of tickets (rich tables, Indonesian labels, office local time) and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from ticketing.states import EventKind, TicketState

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from agent.inventory import Inventory
    from ticketing.views import EventView, TicketView

STATUS_LABEL = {
    TicketState.OPEN: "terbuka",
    TicketState.RECOVERING: "pemulihan",
    TicketState.RESOLVED: "selesai",
}
STATUS_STYLE = {
    TicketState.OPEN: "bold red",
    TicketState.RECOVERING: "yellow",
    TicketState.RESOLVED: "green",
}
KIND_LABEL = {"device_down": "perangkat mati", "flapping": "naik-turun (flapping)"}
EVENT_LABEL = {
    EventKind.OPENED: "dibuka",
    EventKind.CLEARED: "pulih, menunggu hold-down",
    EventKind.RECURRED: "gangguan muncul lagi",
    EventKind.RESOLVED: "selesai",
    EventKind.REOPENED: "dibuka kembali",
    EventKind.ATTACHED: "perangkat terdampak",
    EventKind.DETACHED: "perangkat tidak lagi terdampak",
    EventKind.NOTE: "catatan",
}


def local(at: datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """Format an aware time in the office timezone (``-`` for None)."""
    if at is None:
        return "-"
    suffix = {"Asia/Makassar": " WITA", "Asia/Jakarta": " WIB", "Asia/Jayapura": " WIT"}
    return at.astimezone(tz).strftime(fmt) + suffix.get(tz.key, "")


def ticket_table(tickets: Sequence[TicketView], tz: ZoneInfo) -> Table:
    """One row per ticket, newest first as given."""
    table = Table(
        "Nomor", "Status", "Perangkat", "OPD", "Gangguan", "Dibuka", "Selesai", "Terdampak"
    )
    for t in tickets:
        current = sum(1 for a in t.affected if a.detached_at is None)
        affected = f"{current} (total {len(t.affected)})" if t.affected else "-"
        table.add_row(
            t.number,
            Text(STATUS_LABEL[t.status], style=STATUS_STYLE[t.status]),
            t.device,
            t.opd,
            KIND_LABEL.get(t.kind, t.kind),
            local(t.opened_at, tz, "%d-%m %H:%M:%S"),
            local(t.resolved_at, tz, "%d-%m %H:%M:%S"),
            affected,
        )
    return table


def ticket_detail(
    ticket: TicketView, events: Sequence[EventView], inventory: Inventory
) -> list[Any]:
    """Header, affected devices and the event log of one ticket."""
    tz = inventory.tz
    device = inventory.devices.get(ticket.device)
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("Tiket", ticket.number)
    head.add_row("Status", Text(STATUS_LABEL[ticket.status], style=STATUS_STYLE[ticket.status]))
    head.add_row("Gangguan", KIND_LABEL.get(ticket.kind, ticket.kind))
    head.add_row("Perangkat", f"{ticket.device}" + (f" ({device.address})" if device else ""))
    head.add_row("OPD", ticket.opd or "-")
    if device is not None:
        head.add_row("Lokasi", device.site or "-")
    head.add_row("Ringkasan", ticket.summary)
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
                a.device,
                other.opd if other else "",
                local(a.attached_at, tz),
                local(a.detached_at, tz),
            )
        parts.append(table)
    log = Table("Waktu", "Kejadian", "Oleh", "Keterangan", title="Riwayat")
    for e in events:
        log.add_row(local(e.at, tz), EVENT_LABEL.get(e.kind, e.kind.value), e.actor, e.detail)
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
