"""The board's pages (GET): dashboard, ticket list and page, Program Kegiatan, report.

The device page and the traffic on a ticket page are in ``agent.web.devicepage``.

Plain ``def`` handlers: Starlette runs them in its thread pool, so their database reads never
block the event loop.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from agent.history.availability import month_scope, uplinks
from agent.web.admin import may_administer
from agent.web.board import board_of
from agent.web.devicepage import ticket_traffic
from agent.web.forms import forms_for, may_report
from agent.web.inputs import path_text, query_int, query_month, query_text
from agent.web.program import may_plan, next_status
from agent.web.zoneview import silent_banners
from agent.zones.view import unwatched
from ticketing import board as queries
from ticketing import device_log
from ticketing.admin_log import Silences
from ticketing.errors import TicketNotFoundError
from ticketing.gauges import ticket_gauges
from ticketing.models import ProgramStatus
from ticketing.program import export_csv, export_xlsx
from ticketing.remediation import RemediationLog
from ticketing.reports.documents import monthly_doc
from ticketing.reports.query import month_report
from ticketing.reports.render import Chart, Table
from ticketing.states import TicketState

if TYPE_CHECKING:
    from starlette.requests import Request

    from agent.web.auth import User
    from agent.web.board import Board

XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def dashboard(request: Request) -> Response:
    """Dasbor: zones tak terpantau, devices down by OPD, open steps, overdue, remediation today."""
    board = board_of(request)
    user = board.require(request)
    now = board.now()
    silent = board.silent_zones(now)
    unpolled = unwatched(silent)  # their last known state is not shown as a current one
    found = queries.down_devices(board.store)
    down: dict[str, list[queries.DownDevice]] = defaultdict(list)
    for d in found:
        if d.device in unpolled:
            continue
        device = board.inventory.devices.get(d.device)
        opd = device.opd if device is not None else d.opd
        if user.sees(opd):
            down[opd or "-"].append(d)
    overdue = [r for r in queries.overdue_steps(board.store, now=now) if user.sees(r.ticket.opd)]
    midnight = datetime.combine(now.astimezone(board.tz).date(), time(), board.tz)
    runs = [
        r
        for r in queries.remediation_since(board.store, midnight)
        if user.sees(_opd_of(board, r.device))
    ]
    banners = silent_banners(board, user, silent, found)
    steps = [] if user.read_only else _step_counts(board, now)
    links = sorted((o, names) for o, names in uplinks(board.inventory).items() if user.sees(o))
    context = {
        "down": sorted(down.items()),
        "overdue": overdue,
        "runs": runs,
        "steps": steps,
        "uplinks": links,
        "silent": banners,
        "unpolled": sum(len(b.devices) for b in banners),
    }
    return board.render(request, "dashboard.html", context)


def _opd_of(board: Board, device: str) -> str:
    found = board.inventory.devices.get(device)
    return found.opd if found is not None else ""


def _step_counts(board: Board, now: datetime) -> list[dict[str, Any]]:
    out = []
    for c in ticket_gauges(board.store, now=now).steps:
        sop = board.svc.sops.get(c.sop) if c.sop in board.svc.sops else None
        kegiatan = sop.step(int(c.step)).kegiatan if sop is not None else ""
        out.append(
            {
                "sop": c.sop,
                "sop_title": sop.title if sop is not None else c.sop,
                "step": c.step,
                "label": c.label,
                "kegiatan": kegiatan,
                "open": c.open,
                "overdue": c.overdue,
            }
        )
    return out


def _filter(request: Request, user: User) -> queries.TicketFilter:
    status = query_text(request, "status")
    opd = query_text(request, "opd")
    return queries.TicketFilter(
        opd=user.opd if user.read_only else opd,
        status=TicketState(status) if status in {s.value for s in TicketState} else None,
        sop=query_text(request, "sop"),
        step=query_int(request, "langkah"),
        overdue=query_text(request, "terlambat") == "1",
        device=query_text(request, "perangkat"),
        page=query_int(request, "hal") or 1,
    )


def ticket_list(request: Request) -> Response:
    """Daftar tiket with filters; an htmx request gets only the table."""
    board = board_of(request)
    user = board.require(request)
    f = _filter(request, user)
    result = queries.tickets(board.store, f, now=board.now())
    params = {k: v for k, v in request.query_params.items() if k != "hal" and v}
    context = {
        "page": result,
        "f": f,
        "params": params,
        "opds": board.inventory.opds(),
        "sops": list(board.svc.sops),
        "statuses": list(TicketState),
    }
    name = "_tickets.html" if request.headers.get("HX-Request") else "tickets.html"
    return board.render(request, name, context)


def ticket_page(request: Request) -> Response:
    """One ticket: SOP timeline, devices, remediation transcripts, notifications, audit trail."""
    board = board_of(request)
    user = board.require(request)
    number = path_text(request, "number")
    try:
        ticket = board.store.get(number)
    except TicketNotFoundError as exc:
        raise HTTPException(404, f"Tiket {number} tidak ditemukan.") from exc
    if not user.sees(ticket.opd):
        raise HTTPException(404, f"Tiket {number} tidak ditemukan.")
    steps = board.svc.steps(number)
    sop = board.svc.sops.get(ticket.sop) if ticket.sop else None
    context = {
        "t": ticket,
        "sop": sop,
        "steps": steps,
        "events": board.store.events(number),
        "runs": RemediationLog(board.store).runs(number),
        "said": device_log.context(board.store, ticket, _before(board), now=board.now()),
        "notes": queries.notifications(board.store, number),
        "form": forms_for(board, user, ticket),
        "technicians": [p for p in board.inventory.people if p.role == "teknisi"],
        "device": board.inventory.devices.get(ticket.device),
        "flash": request.session.pop("flash", None),
        "traffic": ticket_traffic(board, ticket),
        "silence": Silences(board.store).active(number, at=board.now()),
        "may_silence": may_administer(user) and ticket.status is not TicketState.RESOLVED,
    }
    return board.render(request, "ticket.html", context)


def _before(board: Board) -> timedelta:
    """How long before a fault the device's messages are shown (``events.context_before``)."""
    events = board.inventory.events
    return events.context_before if events is not None else timedelta(minutes=10)


def _year(request: Request, board: Board) -> int:
    year = query_int(request, "tahun")
    return year if year is not None else board.now().astimezone(board.tz).year + 1


def program_page(request: Request) -> Response:
    """Program Kegiatan register of one budget year, with export links."""
    board = board_of(request)
    user = board.require(request)
    year = _year(request, board)
    entries = [e for e in board.svc.program(year=year) if user.sees(e.opd)]
    total = sum(e.estimated_cost for e in entries)
    context = {
        "entries": entries,
        "year": year,
        "total": total,
        "planner": may_plan(user),
        "statuses": list(ProgramStatus),
        "next_status": next_status,
        "flash": request.session.pop("flash", None),
    }
    return board.render(request, "program.html", context)


def program_export(request: Request) -> Response:
    """The register as CSV or XLSX (the same files as ``sigap program-kegiatan export``)."""
    board = board_of(request)
    user = board.require(request)
    year = _year(request, board)
    fmt = query_text(request, "format", "xlsx")
    if fmt not in {"csv", "xlsx"}:
        raise HTTPException(400, "format: csv atau xlsx")
    entries = [e for e in board.svc.program(year=year) if user.sees(e.opd)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"program-kegiatan-{year}.{fmt}"
        if fmt == "xlsx":
            title = f"Program Kegiatan {year} - {board.inventory.office_name}"
            export_xlsx(entries, path, zone=board.tz, title=title)
        else:
            export_csv(entries, path, zone=board.tz)
        body = path.read_bytes()
    media = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    disposition = f'attachment; filename="{path.name}"'
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


def report_page(request: Request) -> Response:
    """Laporan bulanan: the monthly recap with its charts (as ``sigap laporan bulanan``)."""
    board = board_of(request)
    user = board.require(request)
    if user.read_only:
        raise HTTPException(403, "Laporan bulanan hanya untuk Diskominfo.")
    now = board.now()
    year, month = query_month(request, "bulan", now.astimezone(board.tz).strftime("%Y-%m"))
    # aggregates computed by the database: < 30 ms for a month of 10,000 tickets (RESULTS.md)
    report = month_report(
        board.store, board.svc.sops, board.svc.program(),
        year=year, month=month, tz=board.tz, as_of=now,
        scope=month_scope(board.inventory, year, month),
    )  # fmt: skip
    doc = monthly_doc(report, tz=board.tz, office=board.inventory.office_name)
    blocks = [_block(b) for b in doc.blocks]
    context = {"doc": doc, "blocks": blocks, "bulan": report.label}
    return board.render(request, "report.html", context)


def _block(block: str | Table | Chart) -> dict[str, Any]:
    if isinstance(block, Table):
        return {"table": block}
    if isinstance(block, Chart):
        # the SVG is built by ticketing.reports.render, which escapes every label
        return {"svg": Markup(block.svg), "alt": block.alt}  # noqa: S704
    if block.startswith("## "):
        return {"heading": block[3:]}
    return {"text": block}


def login_page(request: Request) -> Response:
    """The login form."""
    board = board_of(request)
    return board.render(request, "login.html", {"lanjut": query_text(request, "lanjut", "/")})


def report_form(request: Request) -> Response:
    """The complaint form (lapor pengaduan)."""
    board = board_of(request)
    user = board.require(request)
    if not may_report(board, user):
        raise HTTPException(403, "Peran Anda tidak mencatat pengaduan.")
    return board.render(request, "lapor.html", {"opds": board.inventory.opds(), "error": ""})


ROUTES: Final = [
    Route("/", dashboard),
    Route("/tiket", ticket_list),
    Route("/tiket/{number:path}", ticket_page),
    Route("/program", program_page),
    Route("/program/ekspor", program_export),
    Route("/laporan", report_page),
    Route("/masuk", login_page),
    Route("/lapor", report_form),
]
