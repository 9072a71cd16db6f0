"""Real local receivers for notification tests (127.0.0.1 only): Apprise json:// and SMTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Post:
    path: str
    title: str
    message: str
    payload: dict[str, Any]


@dataclass
class JsonReceiver:
    """An HTTP server taking Apprise ``json://`` posts; can be stopped, started, slowed."""

    port: int = field(default_factory=free_port)
    posts: list[Post] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering (a slow gateway)
    status: int = 200
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"json://{HOST}:{self.port}/{path}"

    def start(self) -> JsonReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with receiver._lock:
                    receiver.posts.append(
                        Post(
                            self.path.strip("/"),
                            payload.get("title", ""),
                            payload.get("message", ""),
                            payload,
                        )
                    )
                receiver.arrived.set()
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def to(self, path: str) -> list[Post]:
        with self._lock:
            return [p for p in self.posts if p.path == path]


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    body: str
    raw: bytes = b""  # as received (headers for threading tests)

    def header(self, name: str) -> str:
        msg = message_from_bytes(self.raw, policy=policy.default)
        return " ".join(str(msg.get(name, "")).split())


class _Handler:
    def __init__(self, sink: list[Mail]) -> None:
        self.sink = sink

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: Any, _session: Any, envelope: Any
    ) -> str:
        raw = envelope.original_content or envelope.content
        msg = message_from_bytes(raw, policy=policy.default)
        part = msg.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
        self.sink.append(
            Mail(envelope.mail_from, list(envelope.rcpt_tos), str(msg["subject"]), body, raw)
        )
        return "250 OK"


@dataclass
class SmtpReceiver:
    """aiosmtpd on 127.0.0.1 collecting every mail."""

    port: int = field(default_factory=free_port)
    mails: list[Mail] = field(default_factory=list)
    _controller: Controller | None = None

    def url(self, to: str) -> str:
        return f"mailto://{HOST}:{self.port}?from=sigap@diskominfo.test&to={to}"

    def start(self) -> SmtpReceiver:
        self._controller = Controller(_Handler(self.mails), hostname=HOST, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
