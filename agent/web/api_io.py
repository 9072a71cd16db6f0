"""The JSON API's edge: bearer tokens, request bodies, errors as JSON (issue 21).

Every ``/api/v1`` endpoint is wrapped by :func:`api_get` or :func:`api_post`:

- ``Authorization: Bearer <token>``: the token's sha256 must belong to a live token of a
  person still in the inventory whose web account is not disabled; otherwise 401.
  OPD contacts (``pj_opd``) are read-only and see their OPD only, as on the board.
- a body is read after the board's :class:`~agent.web.limits.BodyLimit` (413 over 64 KiB),
  must be a JSON object (400 for anything else: bad UTF-8, bad JSON, nesting too deep for the
  parser, a number too long to convert) and fit the endpoint's pydantic model
  (``extra="forbid"``, strict types, bounded lengths, no control characters): 422 with
  every problem's place and message;
- every refusal is ``{"galat": "...", "rincian": [...]}`` with its status, never a 500 page.

Handlers are plain functions run in the thread pool (they touch the database).
"""

from __future__ import annotations

import functools
import json
import logging
import unicodedata
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from agent.admin.tokens import MAX_TOKEN, token_hash
from agent.web.auth import find_person, user_of
from agent.web.board import board_of
from ticketing.admin_log import AdminLog

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request
    from starlette.responses import Response

    from agent.web.auth import User
    from agent.web.board import Board

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
LINE_BREAKS: Final = frozenset("\n\r\t")


def _no_controls(value: str) -> str:
    if any(unicodedata.category(ch) in {"Cc", "Cs"} and ch not in LINE_BREAKS for ch in value):
        raise ValueError("berisi karakter kendali")
    return value


def _one_line(value: str) -> str:
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in value):
        raise ValueError("berisi karakter kendali atau tersembunyi")
    return value.strip()


OneLine = Annotated[str, Field(max_length=200), AfterValidator(_one_line)]
Required = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]
Text = Annotated[str, Field(max_length=4000), AfterValidator(_no_controls)]
RequiredText = Annotated[str, Field(min_length=1, max_length=4000), AfterValidator(_no_controls)]


class Body(BaseModel):
    """A request body: unknown keys and wrong types are refused (``"1"`` is not 1)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def error(status: int, message: str, details: list[dict[str, str]] | None = None) -> Response:
    """A refusal as JSON."""
    content: dict[str, Any] = {"galat": message}
    if details:
        content["rincian"] = details
    return JSONResponse(content, status_code=status)


def api_user(request: Request, board: Board) -> User:
    """The token's person; HTTPException 401 otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN or not token.isascii():
        raise HTTPException(401, "Perlu token API: Authorization: Bearer <token>.")
    name = AdminLog(board.store).token_owner(token_hash(token))
    person = find_person(board.inventory, name) if name is not None else None
    state = board.accounts.state(person.name) if person is not None else None
    if person is None or (state is not None and state.disabled):
        raise HTTPException(401, "Token API tidak sah atau sudah dicabut.")
    return user_of(person)


def _refusal(exc: HTTPException) -> Response:
    reply = error(exc.status_code, str(exc.detail))
    if exc.status_code == 401:  # noqa: PLR2004 - the HTTP status
        reply.headers["WWW-Authenticate"] = 'Bearer realm="sigap"'
    return reply


def api_get(
    handler: Callable[[Request, Board, User], Any],
) -> Callable[[Request], Awaitable[Response]]:
    """A GET endpoint: token, then ``handler`` in the thread pool; its value as JSON."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        def run() -> Response:
            board = board_of(request)
            try:
                return JSONResponse(handler(request, board, api_user(request, board)))
            except HTTPException as exc:
                return _refusal(exc)

        return await run_in_threadpool(run)

    return endpoint


def api_post(
    model: type[M], handler: Callable[[Request, Board, User, M], Any], status: int = 200
) -> Callable[[Request], Awaitable[Response]]:
    """A POST endpoint: read and check the body as ``model``, then as :func:`api_get`."""

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        try:
            body = parse(raw, model)
        except HTTPException as exc:
            return _refusal(exc)
        except ValidationError as exc:
            details = [
                {"tempat": ".".join(map(str, e["loc"])) or "(isi)", "pesan": e["msg"]}
                for e in exc.errors(include_url=False, include_input=False)[:50]
            ]
            return error(422, "Isi permintaan tidak sesuai skema.", details)

        def run() -> Response:
            board = board_of(request)
            try:
                user = api_user(request, board)
                return JSONResponse(handler(request, board, user, body), status_code=status)
            except HTTPException as exc:
                return _refusal(exc)

        return await run_in_threadpool(run)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def parse(raw: bytes, model: type[M]) -> M:
    """``raw`` as ``model``: 400 unless a JSON object; ValidationError when it does not fit."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "Isi permintaan bukan UTF-8.") from exc
    except RecursionError as exc:
        raise HTTPException(400, "JSON bersarang terlalu dalam.") from exc
    except ValueError as exc:  # JSONDecodeError, and int() of a 5,000-digit number
        raise HTTPException(400, f"JSON tidak terbaca: {str(exc)[:200]}") from exc
    if not isinstance(data, dict):
        raise HTTPException(400, "Isi permintaan harus objek JSON.")
    return model.model_validate(data)
