"""Request body limits enforced while the body is read, and the uvicorn limits of every server.

Plain ASGI, no starlette import: ``agent.cli.web`` reads the defaults at start-up.

:class:`BodyLimit` is a pure ASGI middleware in front of the board and of the WhatsApp webhook:
a ``Content-Length`` over the limit is answered 413 before a byte of the body is read; a body
without one (chunked) is counted as it streams and cut off with 413 at the first chunk over the
limit. Nothing behind it (form parser, JSON, signature check) ever sees more than the limit,
so memory stays bounded whatever a client sends.

Defaults: board forms 64 KiB (the longest field is 4,000 characters, ``agent.web.inputs``);
the WhatsApp webhook 3 MiB, the largest payload Meta documents for Cloud API webhooks (a
message carries text of at most 4,096 characters and media only as an id, so real payloads
are a few KiB; batching several messages is what makes them larger).

:func:`server_options` are the uvicorn settings both ``sigap web`` and ``sigap intake`` use:
a cap on concurrent connections, a short keep-alive and a bound on the request head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORM_LIMIT: Final = 64 * 1024
WEBHOOK_LIMIT: Final = 3 * 1024 * 1024
TOO_LARGE: Final = "Isi permintaan terlalu besar (maks. {limit} byte)."


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What one uvicorn server accepts (``sigap web``, ``sigap intake``'s webhook)."""

    form_bytes: int = FORM_LIMIT  # any request body, unless a path has its own limit
    webhook_bytes: int = WEBHOOK_LIMIT  # the WhatsApp webhook's path
    concurrency: int = 100  # open connections + tasks; more are answered 503
    keep_alive: int = 5  # seconds an idle keep-alive connection stays open
    header_bytes: int = 8 * 1024  # an unfinished request head (h11; its default is 16 KiB)


class BodyTooLargeError(Exception):
    """The body went over the limit while it was read (answered 413 by :class:`BodyLimit`)."""

    def __init__(self, limit: int) -> None:
        """Carry the limit that was passed."""
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


def declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None when absent; -1 when it is not a number."""
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else -1
    return None


class BodyLimit:
    """Answer 413 to any HTTP request whose body is larger than its path's limit."""

    def __init__(
        self, app: ASGIApp, *, limit: int = FORM_LIMIT, paths: Mapping[str, int] | None = None
    ) -> None:
        """``limit`` bytes for every path except those in ``paths`` (exact path -> bytes)."""
        self.app = app
        self.limit = limit
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, then count the body as the app reads it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope.get("path", ""), self.limit)
        declared = declared_length(scope)
        if declared is not None and (declared < 0 or declared > limit):
            await _refuse(send, 400 if declared < 0 else 413, limit)
            return
        guard = _Guard(receive, send, limit)
        try:
            await self.app(scope, guard.receive, guard.send)
        except BodyTooLargeError:
            if not guard.refused:  # the app had answered before it read past the limit
                raise


class _Guard:
    """One request's body counter: answers 413 at the first chunk over the limit."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.seen = 0
        self.started = self.refused = False

    async def receive(self) -> Message:
        """The next message; BodyTooLargeError once the body passes the limit."""
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                if not self.started:  # answer now: whatever the app sends after is dropped
                    await _refuse(self._send, 413, self.limit)
                    self.started = self.refused = True
                raise BodyTooLargeError(self.limit)
        return message

    async def send(self, message: Message) -> None:
        """Pass the app's message on, unless the 413 went out already."""
        if self.refused:
            return
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


async def _refuse(send: Send, status: int, limit: int) -> None:
    text = TOO_LARGE.format(limit=limit) if status == 413 else "Content-Length tidak sah."  # noqa: PLR2004
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def server_options(limits: ServerLimits) -> dict[str, Any]:
    """uvicorn.Config keyword arguments that bound connections, keep-alive and headers."""
    return {
        "http": "h11",  # the header bound below is h11's
        "limit_concurrency": limits.concurrency,
        "timeout_keep_alive": limits.keep_alive,
        "h11_max_incomplete_event_size": limits.header_bytes,
    }


__all__ = [
    "FORM_LIMIT",
    "WEBHOOK_LIMIT",
    "BodyLimit",
    "BodyTooLargeError",
    "ServerLimits",
    "server_options",
]
