"""The :class:`~agent.notify.worker.Sender` through Apprise, the one module that imports it.

Apprise loads ~100 plugins when imported: only ``agent.wiring``'s notification builders import
this module (inside the builder), so commands that never send do not pay for it.

The body is plain text (``body_format=text``): Apprise escapes it for HTML targets (Telegram),
so a complaint's ``<a href>`` stays text. Chat services that render Markdown from whatever text
they receive (Discord, Mattermost, Rocket.Chat, Matrix, Teams, Zulip) get Apprise's text
unchanged, so there the body is escaped here (:func:`as_plain`): a complaint's
``[klik](http://...)``, ``@everyone`` or ``**`` shows as written; Slack gets its own escaping
(``&lt;`` ``&gt;`` ``&amp;``: no ``<http://...|klik>`` link, no ``<!channel>``). While a URL is
loaded or a message sent, every
record of the ``apprise`` logger from this thread is redacted with the URL
(:func:`agent.redaction.redact`) before any handler sees it: the error stored in the outbox
and the daemon's log alike (Apprise logs a URL it cannot load in full).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from typing import TYPE_CHECKING, Final

import apprise

from agent.notify.worker import SendResult, clean_error
from agent.redaction import redact

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


class _Redact(logging.Filter):
    """On the apprise logger: this thread's records lose the URL's secrets, at every level."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread == self.thread:
            record.msg = redact(record.getMessage(), urls=[self.url])
            record.args = ()
        return True


class AppriseSender:
    """:class:`Sender` through Apprise; errors come from Apprise's log, redacted."""

    def send_blocking(self, url: str, title: str, body: str) -> SendResult:
        """One ``Apprise.notify`` with only ``url`` attached."""
        client = apprise.Apprise()
        with _capture(url) as log:  # Apprise logs a URL it cannot load: the whole URL
            if not client.add(_plain_text(url)):
                return SendResult(False, "alamat Apprise tidak dikenali", permanent=True)
            scheme = url.split("://", 1)[0].lower()
            ok = bool(
                client.notify(
                    body=as_plain(scheme, body),
                    title=as_plain(scheme, title),
                    body_format=apprise.NotifyFormat.TEXT,
                )
            )
        if ok:
            return SendResult(True)
        error = "; ".join(log.lines) or "pengiriman gagal"
        return SendResult(False, clean_error(error, urls=[url]))

    @staticmethod
    def private(url: str) -> str:
        """The URL as Apprise shows it with secrets masked (never the raw URL), redacted again.

        Apprise's privacy mode keeps custom headers (``-Authorization=Bearer%20...``).
        """
        hidden = url.split("://", 1)[0] + "://..."
        try:
            with _capture(url):
                plugin = apprise.Apprise.instantiate(url)
        except Exception:  # noqa: BLE001 - a malformed URL still gets a line in the table
            return hidden
        if not plugin:
            return hidden
        return redact(str(plugin.url(privacy=True)))  # type: ignore[no-untyped-call]


MARKDOWN_SCHEMES: Final = frozenset(
    {"discord", "mmost", "mmosts", "rocket", "rockets", "matrix", "matrixs", "msteams", "zulip"}
)
SLACK_SCHEMES: Final = frozenset({"slack"})
_MARKDOWN: Final = re.compile(r"([\\`*_~\[\]()<>#|@!])")
_SLACK: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def as_plain(scheme: str, text: str) -> str:
    """``text`` escaped so that the service behind ``scheme`` shows it as written."""
    if scheme in MARKDOWN_SCHEMES:
        return _MARKDOWN.sub(r"\\\1", text)
    if scheme in SLACK_SCHEMES:
        return text.translate(_SLACK)
    return text


def _plain_text(url: str) -> str:
    """Ask Apprise's e-mail plugins for text/plain (the templates are text) unless set."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in {"mailto", "mailtos"} or "format=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "format=text"


@contextlib.contextmanager
def _capture(url: str) -> Iterator[_ThreadLog]:
    handler, redacting = _ThreadLog(), _Redact(url)
    log = logging.getLogger("apprise")
    log.addFilter(redacting)  # before every handler: ours and the daemon's log
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.removeFilter(redacting)
