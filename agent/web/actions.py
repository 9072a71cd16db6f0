"""The board's form posts: login/logout and the SOP's human steps, as ``agent.cli.tiket`` does.

Every handler checks the CSRF token first, then who is signed in, then hands the action to
the TicketService with ``by=<the person>`` and the version the page showed
(``expected_version``); the service checks the role and records the actor in the ticket's
audit trail. Refusals come back on the ticket page: 403 wrong role, 409 stale page or a step
that moved on, 400 bad input. Each handler is a plain function wrapped in
``agent.web.board.posted``: the form is read on the event loop, the rest runs in the thread pool.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agent.web.auth import check_csrf, find_person, from_proxy, sign_in, sign_out, verify
from agent.web.board import board_of, posted
from agent.web.forms import may_report
from agent.web.inputs import SEE_OTHER, acting, form_int, form_text
from agent.web.throttle import client_address
from ticketing.errors import (
    ConcurrentUpdateError,
    InvalidRoleError,
    StepStateError,
    TicketingError,
    TicketNotFoundError,
    UnknownPersonError,
)
from ticketing.service import ProgramDraft
from ticketing.workflow import Complexity, Priority, Sifat, Source

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.datastructures import FormData
    from starlette.requests import Request

    from agent.web.auth import User
    from agent.web.board import Board

logger = logging.getLogger(__name__)


def ticket_url(number: str) -> str:
    """Path of a ticket page."""
    return "/tiket/" + quote(number)


def _step_action(
    request: Request, form: FormData, act: Callable[[Board, User, FormData, str], Any]
) -> Response:
    board, user = acting(request, form)
    number = form_text(form, "nomor", required=True)
    try:
        _visible(board, user, number)
        act(board, user, form, number)
    except TicketNotFoundError as exc:
        raise HTTPException(404, f"Tiket {number} tidak ditemukan.") from exc
    except InvalidRoleError as exc:
        logger.warning("web: %s refused on %s: %s", user.name, number, exc)
        raise HTTPException(403, str(exc)) from exc
    except (ConcurrentUpdateError, StepStateError) as exc:
        raise HTTPException(
            409, f"{exc} - halaman sudah usang atau langkah sudah berpindah; muat ulang."
        ) from exc
    except (ValueError, UnknownPersonError) as exc:
        raise HTTPException(400, str(exc)) from exc
    request.session["flash"] = f"Tersimpan oleh {user.name}."
    return RedirectResponse(ticket_url(number), status_code=SEE_OTHER)


def _visible(board: Board, user: User, number: str) -> None:
    """Raise TicketNotFoundError unless the ticket exists and ``user`` may see it."""
    if not user.sees(board.store.get(number).opd):
        raise TicketNotFoundError(number)


def _version(form: FormData) -> int | None:
    return form_int(form, "versi")


def _dispose(board: Board, user: User, form: FormData, number: str) -> None:
    sifat = form_text(form, "sifat") or Sifat.BIASA.value
    board.svc.dispose(
        number,
        by=user.name,
        isi=form_text(form, "isi", required=True),
        sifat=Sifat(sifat),
        nomor_agenda=form_text(form, "nomor_agenda"),
        expected_version=_version(form),
    )


def _assign(board: Board, user: User, form: FormData, number: str) -> None:
    board.svc.assign(
        number,
        by=user.name,
        technician=form_text(form, "teknisi", required=True),
        notes=form_text(form, "catatan"),
        expected_version=_version(form),
    )


def _handle(board: Board, user: User, form: FormData, number: str) -> None:
    choice = form_text(form, "keputusan", required=True)
    complexity = Complexity(choice)
    draft = None
    if complexity is Complexity.KOMPLEKS:
        draft = ProgramDraft(
            proposed_action=form_text(form, "usulan"),
            estimated_cost=form_int(form, "biaya", 0) or 0,
            priority=Priority(form_text(form, "prioritas") or Priority.SEDANG.value),
            budget_year=form_int(form, "tahun"),
        )
    board.svc.handle(
        number,
        by=user.name,
        complexity=complexity,
        reason=form_text(form, "alasan"),
        program=draft,
        notes=form_text(form, "catatan"),
        expected_version=_version(form),
    )


def _complete(board: Board, user: User, form: FormData, number: str) -> None:
    report = form_text(form, "laporan")
    board.svc.complete(
        number,
        by=user.name,
        notes=form_text(form, "catatan"),
        document={"isi": report} if report else None,
        expected_version=_version(form),
    )


@posted
def dispose(request: Request, form: FormData) -> Response:
    """Disposisi (Kadis/Kabid): nomor agenda, sifat, isi."""
    return _step_action(request, form, _dispose)


@posted
def assign(request: Request, form: FormData) -> Response:
    """Tugaskan teknisi (Kasi)."""
    return _step_action(request, form, _assign)


@posted
def handle(request: Request, form: FormData) -> Response:
    """Tangani: sederhana, or kompleks with a Program Kegiatan entry (teknisi)."""
    return _step_action(request, form, _handle)


@posted
def complete(request: Request, form: FormData) -> Response:
    """Selesaikan langkah aktif (with the laporan text where the step produces one)."""
    return _step_action(request, form, _complete)


@posted
def report(request: Request, form: FormData) -> Response:
    """Lapor pengaduan: a complaint ticket on the complaint SOP, intake done by the person."""
    board, user = acting(request, form)
    if not may_report(board, user):
        raise HTTPException(403, "Peran Anda tidak mencatat pengaduan.")
    source = form_text(form, "sumber", required=True)
    if source not in {Source.SURAT, Source.EMAIL, Source.WA}:
        raise HTTPException(400, "Sumber: surat, email atau wa.")
    try:
        ticket = board.svc.report(
            source=source,
            opd=form_text(form, "opd", required=True),
            reporter=form_text(form, "pelapor", required=True),
            description=form_text(form, "uraian", required=True),
            by=user.name,
            device=form_text(form, "perangkat"),
            via_pj=form_text(form, "via_pj") == "1",
        )
    except InvalidRoleError as exc:
        raise HTTPException(403, str(exc)) from exc
    except (TicketingError, ValueError) as exc:
        raise HTTPException(400, str(exc)) from exc
    request.session["flash"] = f"Pengaduan dicatat sebagai {ticket.number}."
    return RedirectResponse(ticket_url(ticket.number), status_code=SEE_OTHER)


@posted
def login(request: Request, form: FormData) -> Response:
    """Check name and password (unless too many failed lately: 429); start a session."""
    board = board_of(request)
    check_csrf(request, form.get("csrf"))
    name = form_text(form, "nama")
    address = client_address(request, via_proxy=from_proxy(request, board.auth))
    wait = board.throttle.retry_after(name, address)
    if wait:  # the password is not even checked: a guess during the lockout tells nothing
        logger.warning("web: login for %r from %s refused for %d s", name[:64], address, wait)
        error = (
            "Terlalu banyak percobaan masuk yang gagal. "
            f"Coba lagi dalam {math.ceil(wait / 60)} menit."
        )
        context = {"lanjut": form_text(form, "lanjut") or "/", "error": error}
        reply = board.render(request, "login.html", context, status=429)
        reply.headers["Retry-After"] = str(wait)
        return reply
    person = find_person(board.inventory, name)
    password = form.get("sandi", "")
    if not isinstance(password, str) or not verify(board.accounts, person, password):
        guessed = board.throttle.failed(name, address)
        logger.warning("web: failed login for %r from %s", name[:64], address)
        if guessed:
            logger.warning(
                "web: many failed logins for %r from several addresses (not locked: a "
                "stranger must not lock an account; each address is limited)",
                name[:64],
            )
        context = {
            "lanjut": form_text(form, "lanjut") or "/",
            "error": "Nama atau kata sandi salah.",
        }
        return board.render(request, "login.html", context, status=401)
    state = board.accounts.state(person.name) if person is not None else None
    assert person is not None  # noqa: S101 - verify() is False for unknown people
    assert state is not None  # noqa: S101 - verify() is False without an account
    board.throttle.succeeded(name, address)
    sign_in(request, person, state.epoch)
    target = form_text(form, "lanjut")
    # only paths of this site: no open redirect to another host
    safe = target if target.startswith("/") and not target.startswith("//") else "/"
    return RedirectResponse(safe, status_code=SEE_OTHER)


@posted
def logout(request: Request, form: FormData) -> Response:
    """End the session."""
    check_csrf(request, form.get("csrf"))
    sign_out(request, board_of(request).accounts)
    return RedirectResponse("/masuk", status_code=SEE_OTHER)


ROUTES: Final = [
    Route("/masuk", login, methods=["POST"]),
    Route("/keluar", logout, methods=["POST"]),
    Route("/lapor", report, methods=["POST"]),
    Route("/aksi/disposisi", dispose, methods=["POST"]),
    Route("/aksi/tugaskan", assign, methods=["POST"]),
    Route("/aksi/tangani", handle, methods=["POST"]),
    Route("/aksi/selesai", complete, methods=["POST"]),
]
