"""The :class:`~agent.notify.worker.Sender` through Apprise, the one module that imports it.

Apprise loads ~100 plugins when imported: only ``agent.wiring``'s notification builders import
this module (inside the builder), so commands that never send do not pay for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

import apprise

from agent.notify.worker import SendResult, redact

if TYPE_CHECKING:
    from collections.abc import Iterator


class _ThreadLog(logging.Handler):
    """Collects the apprise logger's warnings of the current thread only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())


class AppriseSender:
    """:class:`Sender` through Apprise; errors come from Apprise's log, redacted."""

    def send_blocking(self, url: str, title: str, body: str) -> SendResult:
        """One ``Apprise.notify`` with only ``url`` attached."""
        client = apprise.Apprise()
        if not client.add(_plain_text(url)):
            return SendResult(False, "alamat Apprise tidak dikenali", permanent=True)
        with _capture() as log:
            ok = bool(client.notify(body=body, title=title))
        if ok:
            return SendResult(True)
        return SendResult(False, redact("; ".join(log.lines) or "pengiriman gagal", url))

    @staticmethod
    def private(url: str) -> str:
        """The URL as Apprise shows it with secrets masked (never the raw URL)."""
        hidden = url.split("://", 1)[0] + "://..."
        try:
            plugin = apprise.Apprise.instantiate(url)
        except Exception:  # noqa: BLE001 - a malformed URL still gets a line in the table
            return hidden
        if not plugin:
            return hidden
        return str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]


def _plain_text(url: str) -> str:
    """Ask Apprise's e-mail plugins for text/plain (the templates are text) unless set."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in {"mailto", "mailtos"} or "format=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "format=text"


@contextlib.contextmanager
def _capture() -> Iterator[_ThreadLog]:
    handler = _ThreadLog()
    log = logging.getLogger("apprise")
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
