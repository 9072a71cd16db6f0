"""The JSON API under ``/api/v1`` (issue 21): tickets, SOP actions, devices, maintenance.

The same service calls as the board and the CLI: SOP actions go to the TicketService with
``by=<the token's person>`` and the ticket ``versi`` the caller read (``expected_version``),
so the service checks the role and a stale caller gets 409; maintenance windows go through
``agent.admin.edits.InventoryEditor`` with the ``versi_inventaris`` the caller read.
Authentication, bodies and errors: :mod:`agent.web.api_io`; the schema: :mod:`agent.web.openapi`
(served at ``/api/v1/openapi.json``, no token needed).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from starlette.exceptions import HTTPException
from starlette.routing import Route

from agent.admin import changes
from agent.admin.edits import EditConflictError
from agent.errors import AgentError, ConfigError
from agent.web.admin import may_administer
from agent.web.api_bodies import (
    Aksi,
    BatalJendela,
    Disposisi,
    Jendela,
    Lapor,
    Selesai,
    Tangani,
    Tugaskan,
)
from agent.web.api_io import api_get, api_post
from agent.web.forms import may_report
from agent.web.inputs import path_text, query_int, query_text
from agent.zones.view import unwatched
from ticketing import board as queries
from ticketing.errors import (
    ConcurrentUpdateError,
    InvalidRoleError,
    StepStateError,
    TicketingError,
    TicketNotFoundError,
    UnknownPersonError,
)
from ticketing.service import ProgramDraft
from ticketing.states import TicketState
from ticketing.workflow import Complexity, Priority, Sifat

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

    from agent.config.model import Device, MaintenanceWindow
    from agent.web.auth import User
    from agent.web.board import Board
    from ticketing.board import BoardRow
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)

PREFIX: Final = "/api/v1"
MAX_PER_PAGE: Final = 200


# ---------------------------------------------------------------- views


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def ticket_json(t: TicketView) -> dict[str, Any]:
    """A ticket as the API shows it."""
    return {
        "nomor": t.number,
        "perangkat": t.device,
        "jenis": t.kind,
        "opd": t.opd,
        "ringkasan": t.summary,
        "status": t.status.value,
        "dibuka": _when(t.opened_at),
        "pulih": _when(t.cleared_at),
        "selesai": _when(t.resolved_at),
        "sop": t.sop,
        "langkah": t.sop_step,
        "teknisi": t.assignee,
        "versi": t.version,
    }


def _row_json(row: BoardRow) -> dict[str, Any]:
    return {
        **ticket_json(row.ticket),
        "langkah_label": row.step_label,
        "langkah_peran": row.step_role,
        "tenggat": _when(row.due_at),
        "terlambat": row.overdue,
    }


def _window_json(w: MaintenanceWindow) -> dict[str, Any]:
    days = sorted(w.days)
    return {
        "judul": w.name,
        "mulai": _when(w.start),
        "selesai": _when(w.end),
        "hari": [changes.WEEKDAYS[d] for d in days],
        "dari": w.start_time.isoformat("minutes") if w.start_time else None,
        "sampai": w.end_time.isoformat("minutes") if w.end_time else None,
    }


# ---------------------------------------------------------------- tickets


def ticket_list(request: Request, board: Board, user: User) -> dict[str, Any]:
    """Tickets, newest first, filtered (status, opd, perangkat, sop) and paginated."""
    status = query_text(request, "status")
    if status and status not in {s.value for s in TicketState}:
        raise HTTPException(
            400, f"Parameter 'status' harus {', '.join(s.value for s in TicketState)}."
        )
    per_page = query_int(request, "per_hal") or 50
    if per_page > MAX_PER_PAGE:
        raise HTTPException(400, f"Parameter 'per_hal' paling banyak {MAX_PER_PAGE}.")
    f = queries.TicketFilter(
        opd=user.opd if user.read_only else query_text(request, "opd"),
        status=TicketState(status) if status else None,
        sop=query_text(request, "sop"),
        device=query_text(request, "perangkat"),
        page=query_int(request, "hal") or 1,
        per_page=per_page,
    )
    result = queries.tickets(board.store, f, now=board.now())
    return {
        "tiket": [_row_json(r) for r in result.rows],
        "hal": result.page,
        "per_hal": result.per_page,
        "jumlah": result.total,
        "halaman": result.pages,
    }


def _visible_ticket(board: Board, user: User, number: str) -> TicketView:
    try:
        ticket = board.store.get(number)
    except TicketNotFoundError as exc:
        raise HTTPException(404, f"Tiket {number} tidak ditemukan.") from exc
    if not user.sees(ticket.opd):
        raise HTTPException(404, f"Tiket {number} tidak ditemukan.")
    return ticket


def ticket_show(request: Request, board: Board, user: User) -> dict[str, Any]:
    """One ticket with its SOP steps."""
    ticket = _visible_ticket(board, user, path_text(request, "number"))
    steps = [
        {
            "posisi": s.position,
            "kegiatan": s.label,
            "peran": s.role,
            "mulai": _when(s.started_at),
            "tenggat": _when(s.due_at),
            "selesai": _when(s.completed_at),
            "oleh": s.completed_by,
        }
        for s in board.svc.steps(ticket.number)
    ]
    return {**ticket_json(ticket), "uraian": ticket.description, "langkah_sop": steps}


def _act(
    board: Board, user: User, body: Aksi, method: Callable[..., object], **fields: Any
) -> dict[str, Any]:
    """``method(nomor, by=user, expected_version=versi, **fields)``; the ticket afterwards."""
    if user.read_only:
        raise HTTPException(403, "Akun OPD hanya dapat melihat.")
    number = _visible_ticket(board, user, body.nomor).number
    try:
        method(number, by=user.name, expected_version=body.versi, **fields)
    except InvalidRoleError as exc:
        raise HTTPException(403, str(exc)) from exc
    except (ConcurrentUpdateError, StepStateError) as exc:
        raise HTTPException(409, f"{exc} - baca ulang tiket (versi) lalu ulangi.") from exc
    except (ValueError, UnknownPersonError) as exc:
        raise HTTPException(400, str(exc)) from exc
    return ticket_json(board.store.get(number))


def dispose(_request: Request, board: Board, user: User, body: Disposisi) -> dict[str, Any]:
    """Disposisi."""
    sifat = Sifat(body.sifat)
    return _act(board, user, body, board.svc.dispose, isi=body.isi, sifat=sifat,
                nomor_agenda=body.nomor_agenda)  # fmt: skip


def assign(_request: Request, board: Board, user: User, body: Tugaskan) -> dict[str, Any]:
    """Tugaskan teknisi."""
    return _act(board, user, body, board.svc.assign, technician=body.teknisi, notes=body.catatan)


def handle(_request: Request, board: Board, user: User, body: Tangani) -> dict[str, Any]:
    """Tangani (sederhana / kompleks)."""
    complexity = Complexity(body.keputusan)
    draft = None
    if complexity is Complexity.KOMPLEKS:
        draft = ProgramDraft(
            proposed_action=body.usulan,
            estimated_cost=body.biaya,
            priority=Priority(body.prioritas),
            budget_year=body.tahun,
        )
    return _act(board, user, body, board.svc.handle, complexity=complexity, reason=body.alasan,
                program=draft, notes=body.catatan)  # fmt: skip


def complete(_request: Request, board: Board, user: User, body: Selesai) -> dict[str, Any]:
    """Selesaikan langkah aktif."""
    document = {"isi": body.laporan} if body.laporan else None
    return _act(board, user, body, board.svc.complete, notes=body.catatan, document=document)


def report(_request: Request, board: Board, user: User, body: Lapor) -> dict[str, Any]:
    """Lapor pengaduan: a complaint ticket."""
    if user.read_only or not may_report(board, user):
        raise HTTPException(403, "Peran Anda tidak mencatat pengaduan.")
    try:
        ticket = board.svc.report(
            source=body.sumber,
            opd=body.opd,
            reporter=body.pelapor,
            description=body.uraian,
            by=user.name,
            device=body.perangkat,
            via_pj=body.via_pj,
        )
    except InvalidRoleError as exc:
        raise HTTPException(403, str(exc)) from exc
    except (TicketingError, ValueError) as exc:
        raise HTTPException(400, str(exc)) from exc
    return ticket_json(ticket)


# ---------------------------------------------------------------- devices, maintenance


def devices(_request: Request, board: Board, user: User) -> dict[str, Any]:
    """Devices the person may see, with their state (active tickets, window now)."""
    down = {d.device: d for d in queries.down_devices(board.store)}
    now = board.now()
    inventory = board.inventory
    unpolled = unwatched(board.silent_zones(now))
    out = []
    for d in sorted(inventory.devices.values(), key=lambda d: d.name):
        if not user.sees(d.opd):
            continue
        window = d.in_maintenance(now, inventory.tz)
        found = down.get(d.name)
        out.append({**_device_json(d, found, window), "terpantau": d.name not in unpolled})
    editor_version = board.editor.snapshot().version if board.editor is not None else None
    return {"perangkat": out, "versi_inventaris": editor_version}


def _device_json(
    d: Device, down: queries.DownDevice | None, window: MaintenanceWindow | None
) -> dict[str, Any]:
    state = "normal"
    if down is not None:
        state = "mati" if down.root else "tak_terjangkau"
    return {
        "nama": d.name,
        "alamat": d.address,
        "opd": d.opd,
        "peran": d.role,
        "platform": d.platform,
        "induk": d.parent,
        "keadaan": state,
        "zona": d.zone,
        "tiket": down.ticket if down is not None else None,
        "pemeliharaan_sekarang": window.name if window is not None else None,
        "jendela": [_window_json(w) for w in d.maintenance],
    }


def _edit(board: Board, user: User, version: str, change: Any, summary: str) -> dict[str, Any]:
    if not may_administer(user):
        raise HTTPException(403, "Perubahan inventaris hanya untuk Kasi ke atas.")
    if board.editor is None:
        raise HTTPException(503, "Penyunting inventaris tidak disiapkan di server ini.")
    try:
        result = board.editor.apply(change, by=user.name, base_version=version, summary=summary)
    except EditConflictError as exc:
        raise HTTPException(409, str(exc)) from exc
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from exc
    except AgentError as exc:
        raise HTTPException(400, str(exc)) from exc
    return {"versi_inventaris": result.version, "muat_ulang": result.reload, "diff": result.diff}


def open_window(request: Request, board: Board, user: User, body: Jendela) -> dict[str, Any]:
    """Open a one-off maintenance window on a device."""
    start = body.mulai or board.now().astimezone(board.tz).replace(second=0, microsecond=0)
    title = body.judul or f"pemeliharaan {start.astimezone(board.tz):%d/%m/%Y %H:%M}"
    change = changes.add_window(
        body.perangkat, title, start, start + timedelta(hours=body.durasi_jam)
    )
    out = _edit(
        board, user, body.versi_inventaris, change, f"API: jendela {body.perangkat}: {title}"
    )
    _refresh(request, board)
    return {**out, "judul": title}


def cancel_window(request: Request, board: Board, user: User, body: BatalJendela) -> dict[str, Any]:
    """Cancel a maintenance window."""
    change = changes.cancel_window(body.perangkat, body.judul)
    out = _edit(
        board, user, body.versi_inventaris, change, f"API: batal {body.perangkat}: {body.judul}"
    )
    _refresh(request, board)
    return out


def _refresh(request: Request, board: Board) -> None:
    if board.editor is not None:
        request.app.state.board = replace(board, inventory=board.editor.snapshot().inventory)


ACTIONS: Final[dict[str, type[Aksi]]] = {
    "disposisi": Disposisi,
    "tugaskan": Tugaskan,
    "tangani": Tangani,
    "selesai": Selesai,
}

ROUTES: Final = [
    Route(f"{PREFIX}/tiket", api_get(ticket_list)),
    Route(f"{PREFIX}/tiket", api_post(Lapor, report, 201), methods=["POST"]),
    Route(f"{PREFIX}/aksi/disposisi", api_post(Disposisi, dispose), methods=["POST"]),
    Route(f"{PREFIX}/aksi/tugaskan", api_post(Tugaskan, assign), methods=["POST"]),
    Route(f"{PREFIX}/aksi/tangani", api_post(Tangani, handle), methods=["POST"]),
    Route(f"{PREFIX}/aksi/selesai", api_post(Selesai, complete), methods=["POST"]),
    Route(f"{PREFIX}/tiket/{{number:path}}", api_get(ticket_show)),
    Route(f"{PREFIX}/perangkat", api_get(devices)),
    Route(f"{PREFIX}/pemeliharaan", api_post(Jendela, open_window, 201), methods=["POST"]),
    Route(f"{PREFIX}/pemeliharaan/batal", api_post(BatalJendela, cancel_window), methods=["POST"]),
]
