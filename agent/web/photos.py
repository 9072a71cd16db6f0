"""A step's photo (sent from WhatsApp with "selesai <nomor>"), for signed-in board users only.

``/foto/<langkah>/<nomor>`` answers the picture the step's document names, with the type
decided when it was received (magic bytes), ``nosniff`` and no caching; anyone not signed in
is sent to the login page, and a ticket of an OPD the user may not see is a 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Route

from agent.web.board import board_of
from agent.web.inputs import path_text
from ticketing.chat import step_photo
from ticketing.errors import TicketNotFoundError

if TYPE_CHECKING:
    from starlette.requests import Request

ALLOWED: Final = frozenset({"image/jpeg", "image/png", "image/webp"})


def photo(request: Request) -> Response:
    """The picture of step ``langkah`` of ticket ``nomor``."""
    board = board_of(request)
    user = board.require(request)
    number = path_text(request, "number")
    step = path_text(request, "step")
    try:
        opd = board.store.get(number).opd
    except TicketNotFoundError as exc:
        raise HTTPException(404, "Foto tidak ditemukan.") from exc
    if not step.isdigit() or not user.sees(opd):
        raise HTTPException(404, "Foto tidak ditemukan.")
    found = step_photo(board.store, number, int(step))
    if found is None or found.content_type not in ALLOWED:
        raise HTTPException(404, "Foto tidak ditemukan.")
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Disposition": "inline",
    }
    return Response(found.content, media_type=found.content_type, headers=headers)


ROUTES: Final = [Route("/foto/{step}/{number:path}", photo)]
