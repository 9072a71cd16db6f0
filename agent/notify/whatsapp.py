"""Replies to WhatsApp reporters through the Cloud API (``POST {api_base}/{id}/messages``).

WhatsApp lets a business send free text only within 24 hours of the user's last message;
outside that window only an approved template may start the conversation again. The sender
asks the intake ledger when the reporter last wrote (``last_inbound``) against its clock
(``now``, injected): inside the window the message goes as text (title and body), outside it
as the template ``intake.whatsapp.reply_template`` with one body parameter, the message title
(which names the ticket: "Pengaduan GJ/2026/0004 selesai ditangani"). If the API still says
the window is closed (error 131047), the template is sent at once instead.

The access token is sent as a bearer header and never appears in errors or logs. Blocking
(``urllib``): the notifier calls it in a thread, like Apprise.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from agent.notify.reporter import WA_SCHEME
from agent.notify.worker import SendResult, clean_error

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.intake.settings import WhatsAppSettings
    from agent.notify.worker import Sender

WINDOW: Final = timedelta(hours=24)
PROMPT_SCHEME: Final = "sigap-wa-aksi:"  # agent.chat.prompts.SCHEME
TIMEOUT: Final = 15.0
TEXT_MAX_CHARS: Final = 4096
PARAM_MAX_CHARS: Final = 1000
WINDOW_CLOSED: Final = 131047  # Cloud API: "Re-engagement message" (more than 24 h)
PERMANENT_STATUS: Final = frozenset({400, 404})


def message(to: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """One Cloud API message of ``kind`` (text, template, interactive) to ``to``."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
    }


def template_message(
    to: str, name: str, language: str, components: list[dict[str, Any]]
) -> dict[str, Any]:
    """The approved template ``name`` with its filled ``components``."""
    content = {"name": name, "language": {"code": language}, "components": components}
    return message(to, "template", content)


def text_payload(to: str, title: str, body: str) -> dict[str, Any]:
    """A free-text message (inside the 24-hour window)."""
    text = f"{title}\n\n{body}".strip()[:TEXT_MAX_CHARS]
    return message(to, "text", {"preview_url": False, "body": text})


def template_payload(to: str, name: str, language: str, title: str) -> dict[str, Any]:
    """The approved template with the title as its one body parameter."""
    param = " ".join(title.split())[:PARAM_MAX_CHARS]  # no newlines in template parameters
    body = {"type": "body", "parameters": [{"type": "text", "text": param}]}
    return template_message(to, name, language, [body])


class WhatsAppSender:
    """:class:`agent.notify.worker.Sender` for ``sigap-wa:<number>`` addresses."""

    def __init__(
        self,
        settings: WhatsAppSettings,
        *,
        last_inbound: Callable[[str], datetime | None],
        now: Callable[[], datetime],
        timeout: float = TIMEOUT,
    ) -> None:
        """Send with ``settings``; ``last_inbound(number)`` reads when the reporter last wrote."""
        self.settings = settings
        self.last_inbound = last_inbound
        self.now = now
        self.timeout = timeout

    @property
    def endpoint(self) -> str:
        """``{api_base}/{phone_number_id}/messages``."""
        return f"{self.settings.api_base}/{self.settings.phone_number_id}/messages"

    def in_window(self, number: str) -> bool:
        """True when ``number`` wrote within the last 24 hours (free text allowed)."""
        last = self.last_inbound(number)
        return last is not None and self.now() - last < WINDOW

    def send_blocking(self, url: str, title: str, body: str) -> SendResult:
        """Free text inside the window, the template outside it (or when the API says so)."""
        number = url.removeprefix(WA_SCHEME)
        s = self.settings
        template = template_payload(number, s.reply_template, s.template_language, title)
        if not self.in_window(number):
            return self._post(template)
        result = self._post(text_payload(number, title, body))
        if not result.ok and f"({WINDOW_CLOSED})" in result.error:
            return self._post(template)
        return result

    def post(self, payload: dict[str, Any]) -> SendResult:
        """Send one Cloud API message as given (interactive, template or text)."""
        return self._post(payload)

    def _post(self, payload: dict[str, Any]) -> SendResult:
        request = urllib.request.Request(  # noqa: S310 - api_base is configuration (https)
            self.endpoint,
            data=json.dumps(payload).encode(),
            headers={
                "Authorization": f"Bearer {self.settings.access_token}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            error = f"WhatsApp API {exc.code}: {_api_error(exc)}"
            return SendResult(False, self._clean(error), permanent=exc.code in PERMANENT_STATUS)
        except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
            return SendResult(False, self._clean(f"WhatsApp API tidak terjangkau: {exc}"))
        return SendResult(True)

    def _clean(self, text: str) -> str:
        return clean_error(text, [self.settings.access_token])


def _api_error(exc: urllib.error.HTTPError) -> str:
    """``message (code)`` from the API's JSON error body, or the HTTP reason."""
    try:
        error = json.loads(exc.read() or b"{}").get("error", {})
    except (OSError, ValueError, AttributeError):
        return str(exc.reason)
    if not isinstance(error, dict):
        return str(exc.reason)
    return f"{error.get('message', exc.reason)} ({error.get('code', '-')})"


class ReplySender:
    """Routes ``sigap-wa:`` addresses to WhatsApp and everything else to ``other`` (Apprise).

    ``sigap-wa-aksi:`` addresses (a step's buttons, issue 24) go to ``prompts``.
    """

    def __init__(
        self, other: Sender, whatsapp: WhatsAppSender | None, prompts: Sender | None = None
    ) -> None:
        """Dispatch by address."""
        self.other = other
        self.whatsapp = whatsapp
        self.prompts = prompts

    def send_blocking(self, url: str, title: str, body: str) -> SendResult:
        """Send through the sender of ``url``."""
        if url.startswith(PROMPT_SCHEME):
            if self.prompts is None:
                return SendResult(False, "aksi WhatsApp tidak dikonfigurasi", permanent=True)
            return self.prompts.send_blocking(url, title, body)
        if url.startswith(WA_SCHEME):
            if self.whatsapp is None:
                return SendResult(False, "WhatsApp tidak dikonfigurasi", permanent=True)
            return self.whatsapp.send_blocking(url, title, body)
        return self.other.send_blocking(url, title, body)
