"""Program Kegiatan forms: a manual entry and the status change, as ``sigap program-kegiatan``.

Both are for Kasi, Kabid and Kadis (``ticketing.service.MANAGERS``): the form shows only to
them, and the TicketService checks the role again (``add_program``, ``set_program_status``),
so a forged post gets the service's refusal (403). CSRF first, as every post of the board.
The status moves usulan -> disetujui -> dianggarkan -> selesai; the form offers the next
one first, and any other (a correction) as the service allows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agent.web.board import board_of, posted
from agent.web.inputs import SEE_OTHER, acting, form_int, form_text
from ticketing.errors import (
    DeviceOpdError,
    StepStateError,
    TicketNotFoundError,
    UnknownPersonError,
)
from ticketing.models import ProgramStatus
from ticketing.people import Role
from ticketing.service import MANAGERS, ProgramDraft
from ticketing.workflow import Priority

if TYPE_CHECKING:
    from starlette.datastructures import FormData
    from starlette.requests import Request

    from agent.web.auth import User

logger = logging.getLogger(__name__)

ORDER: Final = tuple(ProgramStatus)  # usulan, disetujui, dianggarkan, selesai


def may_plan(user: User | None) -> bool:
    """Whether ``user`` may add entries and change their status (Kasi and above)."""
    return user is not None and not user.read_only and Role(user.role) in MANAGERS


def next_status(status: ProgramStatus) -> ProgramStatus | None:
    """The status after ``status`` in the register's order (None after selesai)."""
    position = ORDER.index(status)
    return ORDER[position + 1] if position + 1 < len(ORDER) else None


def _refuse_unless_planner(user: User) -> None:
    if not may_plan(user):
        raise HTTPException(403, "Hanya Kasi, Kabid atau Kadis yang mengelola Program Kegiatan.")


def new_form(request: Request) -> Response:
    """The manual entry form."""
    board = board_of(request)
    user = board.require(request)
    _refuse_unless_planner(user)
    year = board.now().astimezone(board.tz).year + 1
    context = {"opds": board.inventory.opds(), "year": year, "priorities": list(Priority)}
    return board.render(request, "program_baru.html", context)


@posted
def add(request: Request, form: FormData) -> Response:
    """Add an entry by hand (no ticket): OPD, device, problem, action, cost, priority, year."""
    board, user = acting(request, form)
    _refuse_unless_planner(user)
    priority = form_text(form, "prioritas") or Priority.SEDANG.value
    if priority not in {p.value for p in Priority}:
        raise HTTPException(400, "Prioritas: tinggi, sedang atau rendah.")
    draft = ProgramDraft(
        problem=form_text(form, "masalah", required=True),
        proposed_action=form_text(form, "usulan"),
        estimated_cost=form_int(form, "biaya", 0) or 0,
        priority=Priority(priority),
        budget_year=form_int(form, "tahun"),
    )
    if draft.estimated_cost < 0:
        raise HTTPException(400, "Perkiraan biaya tidak boleh negatif.")
    opd = form_text(form, "opd", required=True)
    if opd not in board.inventory.opds():
        raise HTTPException(400, f"OPD {opd!r} tidak ada di inventaris.")
    try:
        entry = board.svc.add_program(
            draft, by=user.name, opd=opd, device=form_text(form, "perangkat")
        )
    except DeviceOpdError as exc:
        raise HTTPException(400, str(exc)) from exc
    except (StepStateError, UnknownPersonError) as exc:
        logger.warning("web: %s may not add to Program Kegiatan: %s", user.name, exc)
        raise HTTPException(403, str(exc)) from exc
    request.session["flash"] = f"Entri #{entry.id} ditambahkan oleh {user.name}."
    return RedirectResponse(f"/program?tahun={entry.budget_year}", status_code=SEE_OTHER)


@posted
def set_status(request: Request, form: FormData) -> Response:
    """Move an entry to another status."""
    board, user = acting(request, form)
    _refuse_unless_planner(user)
    entry_id = form_int(form, "id")
    status = form_text(form, "status", required=True)
    if entry_id is None:
        raise HTTPException(400, "Isian 'id' wajib diisi.")
    if status not in {s.value for s in ProgramStatus}:
        raise HTTPException(400, "Status: " + ", ".join(s.value for s in ProgramStatus) + ".")
    try:
        entry = board.svc.set_program_status(entry_id, ProgramStatus(status), by=user.name)
    except TicketNotFoundError as exc:
        raise HTTPException(404, f"Entri Program Kegiatan #{entry_id} tidak ada.") from exc
    except (StepStateError, UnknownPersonError) as exc:
        logger.warning("web: %s may not change Program Kegiatan #%s: %s", user.name, entry_id, exc)
        raise HTTPException(403, str(exc)) from exc
    logger.info("web: Program Kegiatan #%d -> %s by %s", entry.id, entry.status.value, user.name)
    request.session["flash"] = f"Entri #{entry.id}: status {entry.status.value} ({user.name})."
    return RedirectResponse(f"/program?tahun={entry.budget_year}", status_code=SEE_OTHER)


ROUTES: Final = [
    Route("/program/baru", new_form, methods=["GET"]),
    Route("/program/baru", add, methods=["POST"]),
    Route("/program/status", set_status, methods=["POST"]),
]
