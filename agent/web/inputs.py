"""Every value a request brings, checked at the edge: 400 with an Indonesian message, never 500.

Form posts: CSRF first, then who is signed in, then the fields (:func:`form_text`,
:func:`form_int`), shared by the step posts (``agent.web.actions``) and the Program Kegiatan
posts (``agent.web.program``); they run in the thread pool (``agent.web.board.posted``).
Query and path parameters of the pages (``agent.web.pages``) go through :func:`query_text`,
:func:`query_int`, :func:`query_month` and :func:`path_text`.

The rules are one table each: a field's length is bounded by the column it ends up in
(``FIELD_LIMITS``; PostgreSQL refuses a longer value with an error), numbers are ASCII digits
inside a range the database and ``datetime`` can hold (``QUERY_RANGES``: ``²`` is a digit
to ``str.isdigit`` but not to ``int``), and no value holds NUL or another control character
(PostgreSQL refuses NUL in text; a form's multi-line text keeps its line breaks).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Final

from starlette.exceptions import HTTPException

from agent.web.auth import check_csrf
from agent.web.board import board_of
from ticketing.display import hidden
from ticketing.reports.monthly import parse_month

if TYPE_CHECKING:
    from starlette.datastructures import FormData
    from starlette.requests import Request

    from agent.web.auth import User
    from agent.web.board import Board

MAX_TEXT: Final = 4000
MAX_QUERY: Final = 200
SEE_OTHER: Final = 303
# fields and parameters that end up in a column: its length (ticketing.models)
FIELD_LIMITS: Final = {
    "perangkat": 128,  # tickets.device, program_kegiatan.device
    "opd": 200,
    "pelapor": 200,
    "nama": 200,
    "teknisi": 200,
    "nomor": 32,  # tickets.number
    "sop": 64,
    "sumber": 16,
    "sifat": 16,
    "keputusan": 16,
    "prioritas": 16,
    "status": 16,
    "lanjut": 500,
}
MULTI_LINE: Final = frozenset({"\n", "\r", "\t"})
# whole-number parameters: (lowest, highest) accepted
QUERY_RANGES: Final = {
    "hal": (1, 100_000),
    "langkah": (1, 999),
    "tahun": (2000, 2100),
    "id": (1, 2**31 - 1),
    "versi": (0, 2**31 - 1),
    "biaya": (0, 10**15),
}
YEARS: Final = QUERY_RANGES["tahun"]


def bad(what: str, key: str, reason: str) -> HTTPException:
    """The 400 for a bad ``what`` ("Isian", "Parameter") ``key``."""
    return HTTPException(400, f"{what} '{key}' {reason}.")


def refused(ch: str, *, lines: bool) -> bool:
    """Whether ``ch`` may not be in a value: a control or hidden character.

    A form's text (``lines``) keeps line breaks and format characters a paste from a phone
    brings (bidi marks, zero-width joiners: pages show them escaped); it refuses C0/C1
    controls (NUL first) and lone surrogates. A query or path value refuses every hidden one.
    """
    if lines:
        return ch not in MULTI_LINE and unicodedata.category(ch) in {"Cc", "Cs"}
    return hidden(ch)


def clean(value: str, key: str, *, what: str, lines: bool = False) -> str:
    """``value`` stripped; 400 when too long for its column or holding control characters."""
    text = value.strip()
    limit = FIELD_LIMITS.get(key, MAX_TEXT if lines else MAX_QUERY)
    if len(text) > limit:
        raise bad(what, key, f"terlalu panjang (maks. {limit} karakter)")
    if not text.isprintable() and any(refused(ch, lines=lines) for ch in text):
        raise bad(what, key, "berisi karakter kendali")
    return text


def form_text(form: FormData, key: str, *, required: bool = False) -> str:
    """The field ``key``, stripped; 400 when required and empty, too long or with controls."""
    value = form.get(key, "")
    text = clean(value, key, what="Isian", lines=True) if isinstance(value, str) else ""
    if required and not text:
        raise HTTPException(400, f"Isian '{key}' wajib diisi.")
    return text


def form_int(form: FormData, key: str, default: int | None = None) -> int | None:
    """The field ``key`` as a whole number (``1.500.000`` too); ``default`` when empty."""
    text = form_text(form, key)
    if not text:
        return default
    return whole(text.replace(".", "").replace(",", ""), key, what="Isian")


def whole(text: str, key: str, *, what: str) -> int:
    """``text`` as a whole number inside ``QUERY_RANGES[key]``; 400 otherwise."""
    lo, hi = QUERY_RANGES.get(key, (-(2**31), 2**31 - 1))
    if not (text.isascii() and text.isdigit()):
        raise bad(what, key, "harus angka")
    number = int(text) if len(text) <= len(str(hi)) else hi + 1  # no 10,000-digit int()
    if not lo <= number <= hi:
        raise bad(what, key, f"harus antara {lo} dan {hi}")
    return number


def query_text(request: Request, key: str, default: str = "") -> str:
    """The query parameter ``key``, stripped and checked (:func:`clean`)."""
    return clean(request.query_params.get(key, default), key, what="Parameter")


def query_int(request: Request, key: str) -> int | None:
    """The query parameter ``key`` as a whole number in its range; None when absent or empty."""
    text = query_text(request, key)
    return whole(text, key, what="Parameter") if text else None


def query_month(request: Request, key: str, default: str) -> tuple[int, int]:
    """The query parameter ``key`` as ``YYYY-MM`` (year inside ``YEARS``); ``default`` if empty."""
    text = query_text(request, key) or default
    try:
        year, month = parse_month(text)
    except ValueError as exc:
        raise bad("Parameter", key, f"tidak terbaca: {exc}") from exc
    if not YEARS[0] <= year <= YEARS[1]:
        raise bad("Parameter", key, f"harus bulan antara {YEARS[0]} dan {YEARS[1]}")
    return year, month


def path_text(request: Request, key: str) -> str:
    """The path parameter ``key``, checked as a query parameter is."""
    value = request.path_params.get(key, "")
    return clean(value if isinstance(value, str) else "", key, what="Alamat")


def acting(request: Request, form: FormData) -> tuple[Board, User]:
    """CSRF, then the signed-in person (not read-only): what every step post starts with."""
    board = board_of(request)
    check_csrf(request, form.get("csrf"))
    user = board.require(request)
    if user.read_only:
        raise HTTPException(403, "Akun OPD hanya dapat melihat.")
    return board, user


__all__ = [
    "FIELD_LIMITS",
    "MAX_TEXT",
    "QUERY_RANGES",
    "SEE_OTHER",
    "acting",
    "form_int",
    "form_text",
    "path_text",
    "query_int",
    "query_month",
    "query_text",
]
