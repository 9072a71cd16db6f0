"""Reading a form post: CSRF first, then who is signed in, then the fields (400 when bad).

Shared by the step posts (``agent.web.actions``) and the Program Kegiatan posts
(``agent.web.program``); they run in the thread pool (``agent.web.board.posted``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.exceptions import HTTPException

from agent.web.auth import check_csrf
from agent.web.board import board_of

if TYPE_CHECKING:
    from starlette.datastructures import FormData
    from starlette.requests import Request

    from agent.web.auth import User
    from agent.web.board import Board

MAX_TEXT: Final = 4000
SEE_OTHER: Final = 303


def form_text(form: FormData, key: str, *, required: bool = False) -> str:
    """The field ``key``, stripped; 400 when required and empty, or longer than MAX_TEXT."""
    value = form.get(key, "")
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise HTTPException(400, f"Isian '{key}' wajib diisi.")
    if len(text) > MAX_TEXT:
        raise HTTPException(400, f"Isian '{key}' terlalu panjang (maks. {MAX_TEXT} karakter).")
    return text


def form_int(form: FormData, key: str, default: int | None = None) -> int | None:
    """The field ``key`` as a whole number (``1.500.000`` too); ``default`` when empty."""
    text = form_text(form, key)
    if not text:
        return default
    try:
        return int(text.replace(".", "").replace(",", ""))
    except ValueError as exc:
        raise HTTPException(400, f"Isian '{key}' harus angka.") from exc


def acting(request: Request, form: FormData) -> tuple[Board, User]:
    """CSRF, then the signed-in person (not read-only): what every step post starts with."""
    board = board_of(request)
    check_csrf(request, form.get("csrf"))
    user = board.require(request)
    if user.read_only:
        raise HTTPException(403, "Akun OPD hanya dapat melihat.")
    return board, user


__all__ = ["MAX_TEXT", "SEE_OTHER", "acting", "form_int", "form_text"]
