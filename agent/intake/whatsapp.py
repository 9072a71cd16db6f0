"""The WhatsApp Business Cloud API webhook as Starlette routes (mount them anywhere).

``GET``: the verification handshake (``hub.mode=subscribe``, ``hub.verify_token``; the answer
is ``hub.challenge``). ``POST``: ``X-Hub-Signature-256`` must be ``sha256=`` + the HMAC-SHA256
of the raw body keyed by the app secret (compared in constant time) or the answer is 401 and
nothing is read; then every ``entry[].changes[].value.messages[]`` is handed to the handler
(in a thread: it writes the database). The body never exceeds the webhook's limit: the
app serving these routes cuts it off while reading (``agent.web.limits.BodyLimit``, 413).
The API retries a POST that is not answered 200, and
the ledger drops the copy by its ``wamid``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from agent.chat.desk import as_complaint
from agent.intake.handler import WaMessage
from agent.intake.mail import Rejection
from agent.web.limits import WEBHOOK_LIMIT, BodyTooLargeError
from collectors.model import utc_now

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from starlette.requests import Request

    from agent.chat.actions import ChatActions
    from agent.intake.handler import IntakeHandler
    from agent.intake.settings import WhatsAppSettings

logger = logging.getLogger(__name__)

MAX_BODY: Final = WEBHOOK_LIMIT  # a second guard; BodyLimit has cut the body off already
SIGNATURE_PREFIX: Final = "sha256="


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value the API sends for ``body``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of the header against the body (any non-ASCII header: False)."""
    if not secret or not header or not header.isascii():
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode())


def messages(payload: Any) -> Iterator[WaMessage]:
    """Every message of a webhook payload (statuses and other changes are skipped)."""
    for entry in _items(payload, "entry"):
        for change in _items(entry, "changes"):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            names = {
                str(c.get("wa_id", "")): str(_get(c, "profile", "name"))
                for c in _items(value, "contacts")
            }
            for m in _items(value, "messages"):
                wamid, phone = str(m.get("id", "")), str(m.get("from", ""))
                if not wamid or not phone:
                    continue
                kind = str(m.get("type", "text"))
                text = str(_get(m, "text", "body")) if kind == "text" else ""
                reply, title = _reply(m, kind)
                if kind == "image":
                    title, media = _get(m, "image", "caption"), _get(m, "image", "id")
                else:
                    media = ""
                name = names.get(phone, "")
                yield WaMessage(wamid, phone, name, text or title, _ts(m), kind, reply, media)


def _items(obj: Any, key: str) -> list[dict[str, Any]]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _get(obj: dict[str, Any], key: str, sub: str) -> str:
    inner = obj.get(key)
    return str(inner.get(sub, "")) if isinstance(inner, dict) else ""


def _reply(message: dict[str, Any], kind: str) -> tuple[str, str]:
    """(id, title) of a tapped reply button, list row or template quick reply; else ("", "")."""
    if kind == "button":  # a template's quick-reply button
        return _get(message, "button", "payload"), _get(message, "button", "text")
    if kind != "interactive":
        return "", ""
    inner = message.get("interactive")
    if not isinstance(inner, dict):
        return "", ""
    for key in ("button_reply", "list_reply"):
        if inner.get("type") == key:
            return _get(inner, key, "id"), _get(inner, key, "title")
    return "", ""


def _ts(message: dict[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(int(message.get("timestamp", "")), UTC)
    except (TypeError, ValueError, OverflowError):
        return utc_now()


def dispatch(handler: IntakeHandler, chat: ChatActions | None, m: WaMessage) -> str:
    """One message to the SOP actions (``chat``) or to intake as a complaint (blocking)."""
    if chat is not None:
        complaint = as_complaint(m)  # "lapor <teks>": the text is the complaint, for intake
        if complaint is not m:
            return handler.whatsapp_blocking(complaint)
        if chat.wants(m):
            return chat.handle_blocking(m)
    return handler.whatsapp_blocking(m)


def routes(
    settings: WhatsAppSettings,
    handler: IntakeHandler,
    *,
    run_blocking: Callable[..., Any] | None = None,
    chat: ChatActions | None = None,
) -> list[Route]:
    """The webhook's routes at ``settings.path``, to mount in any Starlette app.

    With ``chat``, button replies and dialogue answers are SOP actions
    (:mod:`agent.chat.actions`); every other message is a complaint for ``handler``.
    """
    blocking = run_blocking or asyncio.to_thread

    one = partial(dispatch, handler, chat)

    async def verify(request: Request) -> Response:
        q = request.query_params
        token = q.get("hub.verify_token", "")
        if q.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode(), settings.verify_token.encode()
        ):
            return PlainTextResponse(q.get("hub.challenge", ""))
        return PlainTextResponse("forbidden", status_code=403)

    async def receive(request: Request) -> Response:
        try:
            body = await request.body()
        except BodyTooLargeError:  # BodyLimit answers 413; counted here
            handler.stats.count("wa", Rejection.OVERSIZED.value)
            raise
        if len(body) > MAX_BODY:
            handler.stats.count("wa", Rejection.OVERSIZED.value)
            return PlainTextResponse("too large", status_code=413)
        if not signature_ok(settings.app_secret, body, request.headers.get("x-hub-signature-256")):
            handler.stats.count("wa", Rejection.BAD_SIGNATURE.value)
            logger.warning("WhatsApp webhook: bad signature from %s", request.client)
            return PlainTextResponse("bad signature", status_code=401)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the stack
            handler.stats.count("wa", Rejection.MALFORMED.value)
            return PlainTextResponse("bad json", status_code=400)
        results = [await blocking(one, m) for m in messages(payload)]
        return JSONResponse({"ok": True, "results": results})

    return [
        Route(settings.path, verify, methods=["GET"]),
        Route(settings.path, receive, methods=["POST"]),
    ]
