"""Issue 17, finding 8 (text): no secret survives in an error, a log line or a transcript.

Apprise error redaction missed percent-encoded passwords, ``?pass=``, ``?token=`` and
``Authorization`` values. A corpus of delivery URLs whose secrets hold URL-special characters,
and error texts that quote them in every form (as written, decoded, percent-encoded in either
case, ``+`` for space, HTML and JSON escaped, HTTP Basic, a header, a query of another URL),
goes through every place sigap redacts: the notification worker (any sender), Apprise's
errors, log records and address display, WhatsApp errors and remediation transcripts.
"""

from __future__ import annotations

import base64
import html
import http.server
import json
import logging
import re
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import select

from agent.config.load import load_inventory
from agent.intake.settings import WhatsAppSettings
from agent.notify.apprise_sender import AppriseSender
from agent.notify.whatsapp import WhatsAppSender
from agent.notify.worker import SendResult
from agent.redaction import redact
from agent.remediation.transcript import Transcript
from agent.wiring import build_notifier
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import Notification
from ticketing.outbox.enqueue import uninstall
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [
    pytest.mark.unit,
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
]

PASSWORD = "p@ss w0rd/+&=!ü"  # noqa: S105 - URL-special characters, a space, a non-ASCII letter
TOKEN = "tok-Z9y8X7w6"  # noqa: S105 - a test token
WA_TOKEN = "EAAG/+&=!Z9y8 X7w6"  # noqa: S105 - a bearer token with URL-special characters


class Case(NamedTuple):
    """A delivery URL, the secrets it holds (never to be shown), the user of its user info."""

    url: str
    secrets: tuple[str, ...]
    user: str = ""  # with a password: HTTP Basic of user:password is a form of it too


URLS = (
    Case(f"mailtos://kasi:{quote(PASSWORD, safe='')}@smtp.example.org:465?to=kasi@x.go.id",
         (PASSWORD,), "kasi"),
    Case(f"json://kasi:{quote(PASSWORD, safe='')}@127.0.0.1:9/hook?token={TOKEN}",
         (PASSWORD, TOKEN), "kasi"),
    Case(f"json://127.0.0.1:9/hook?pass={quote_plus(PASSWORD)}&format=text", (PASSWORD,)),
    Case(f"ntfys://kasi:{quote(PASSWORD)}@ntfy.example.org/topik?auth={TOKEN}",
         (PASSWORD, TOKEN), "kasi"),
    Case(f"form://127.0.0.1:9/?-Authorization=Bearer%20{TOKEN}", (TOKEN,)),
    Case(f"tgram://123456:AAE{TOKEN}/987654", (f"AAE{TOKEN}",)),
    Case(f"discord://1122334455/{TOKEN}xyz", (f"{TOKEN}xyz",)),
)  # fmt: skip


def forms(secret: str, user: str = "") -> set[str]:
    """Every way an error text has been seen to quote ``secret`` (``user``: its Basic too)."""
    basic = {base64.b64encode(f"{user}:{secret}".encode()).decode()} if user else set()
    return basic | {
        secret,
        quote(secret, safe=""),
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), quote(secret, safe="")),
        quote(secret),
        quote_plus(secret),
        html.escape(secret),
        json.dumps(secret)[1:-1],
    }


def errors(case: Case) -> list[str]:
    """Error texts quoting the URL and its secrets in every form."""
    out = [
        f"Failed to send to {case.url}: connection refused",
        f"A Connection error occurred sending notification to {case.url.split('://')[1]}.",
    ]
    for secret in case.secrets:
        for form in forms(secret, case.user if secret == PASSWORD else ""):
            out += [
                f"login failed for kasi with {form} (535 5.7.8)",
                f"server said: 401 Unauthorized, Authorization: Basic {form}",
                f'request headers {{"Authorization": "Bearer {form}", "Accept": "*/*"}}',
                f"redirected to https://other.example/x?pass={form}&next=1",
                f"retry with https://kasi:{form}@other.example/ later",
            ]
    return out


def leaked(text: str, case: Case, *, basic: bool = True) -> list[str]:
    """The forms of ``case``'s secrets still readable in ``text`` (``basic``: HTTP Basic too)."""
    user = case.user if basic else ""
    found = {f for s in case.secrets for f in forms(s, user if s == PASSWORD else "")}
    return sorted(f for f in found if len(f) >= 4 and f in text)


@pytest.mark.parametrize("case", URLS, ids=lambda c: c.url.split(":", 1)[0])
def test_the_rule_set_leaves_no_form_of_a_known_secret(case: Case) -> None:
    for text in errors(case):
        assert leaked(redact(text, urls=[case.url]), case) == [], text


@pytest.mark.parametrize(
    "text",
    [
        "GET https://h.example/x?token=abc123def&page=2 -> 403",
        "POST https://h.example/x?user=a&pass=rahasia99 -> 401",
        "POST https://h.example/x?api_key=rahasia99&X-Auth-Token=rahasia99",
        "Authorization: Bearer rahasia99.zz",
        "proxy-authorization=Basic cmFoYXNpYTk5",
        '{"authorization": "Digest username=a, response=rahasia99"}',
        "smtp://kasi:rahasia99@mail.example:587 refused",
        "token: rahasia99, password=rahasia99",
        "X-Api-Key: rahasia99",
    ],
)
def test_secret_looking_values_are_masked_without_knowing_them(text: str) -> None:
    assert "rahasia99" not in redact(text)
    assert "cmFoYXNpYTk5" not in redact(text)


def test_ordinary_error_words_stay() -> None:
    text = "KeyError: 'x'; session closed; 2 tests passed; text format; connection refused"
    assert redact(text) == text


@pytest.mark.parametrize("case", URLS, ids=lambda c: c.url.split(":", 1)[0])
def test_transcripts_keep_no_secret(case: Case) -> None:
    transcript = Transcript(case.secrets)
    for text in errors(case):
        transcript.add("command", text, text)
        transcript.note(text)
    stored = json.dumps(transcript.entries(), ensure_ascii=False)
    assert leaked(stored, case, basic=False) == []  # SSH knows no HTTP user


class EchoingApi(http.server.BaseHTTPRequestHandler):
    """A WhatsApp API on 127.0.0.1 whose 401 quotes the token it got, as servers do."""

    def do_POST(self) -> None:
        token = self.headers["Authorization"].removeprefix("Bearer ")
        case = Case("wa://", (token,))
        message = " | ".join(errors(case))
        body = json.dumps({"error": {"message": message, "code": 190}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def test_whatsapp_api_errors_keep_no_token() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), EchoingApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = WhatsAppSettings("v", "s", "1234", access_token=WA_TOKEN,
                                    api_base=f"http://127.0.0.1:{server.server_port}")  # fmt: skip
        sender = WhatsAppSender(
            settings, last_inbound=lambda _n: None, now=lambda: datetime.now(UTC)
        )  # type: ignore[arg-type]
        result = sender.send_blocking("sigap-wa:62812", "judul", "isi")
    finally:
        server.shutdown()
        server.server_close()
    assert not result.ok
    assert "WhatsApp API 401" in result.error
    assert leaked(result.error, Case("", (WA_TOKEN,))) == []


def test_apprise_errors_logs_and_address_display_keep_no_secret(caplog) -> None:
    """Real Apprise against a closed port on 127.0.0.1: the error and every log record."""
    sender = AppriseSender()
    with caplog.at_level(logging.DEBUG, logger="apprise"):
        for case in URLS[1:5]:  # json, json ?pass=, ntfys, form: connection refused at once
            result = sender.send_blocking(case.url.replace("ntfy.example.org", "127.0.0.1:9"),
                                          "judul", "isi")  # fmt: skip
            assert not result.ok
            assert leaked(result.error, case) == []
            assert leaked(sender.private(case.url), case) == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for case in URLS[1:5]:
        assert leaked(logged, case) == []


# ---------------------------------------------------------------- the worker guards every sender

INVENTORY = """\
office: {{name: Diskominfo}}
hosts:
  rtr-1: {{address: 10.0.0.1, opd: Diskominfo, role: router, platform: linux}}
people:
  - {{name: Baiq Kasi, role: kasi, apprise: [{urls}]}}
notifications:
  group_window: 1s
  reminder_interval: null
"""


class Leaky:
    """A sender whose errors quote its URL and the URL's secrets in every form."""

    def send_blocking(self, url: str, title: str, body: str) -> SendResult:
        case = next(c for c in URLS if c.url == url)
        return SendResult(False, " | ".join(errors(case))[:20_000])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TicketStore]:
    with TicketStore(TicketStore.sqlite_url(tmp_path / "s.db")) as s:
        migrate(s)
        yield s
        uninstall(s)


async def test_no_sender_can_store_a_secret_in_last_error(tmp_path: Path, store) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY.format(urls=", ".join(
        json.dumps(c.url) for c in URLS))), encoding="utf-8")  # fmt: skip
    inventory = load_inventory(path)
    later = datetime.now(UTC) + timedelta(minutes=5)
    notifier = build_notifier(inventory, store, sender=Leaky(), now=lambda: later)
    store.open_fault(Fault("rtr-1", FaultKind.DEVICE_DOWN, "rtr-1 mati"), at=datetime.now(UTC))
    assert await notifier.tick() == len(URLS)
    with store.transaction(write=False) as session:
        stored = [n.last_error for n in session.scalars(select(Notification))]
    assert len(stored) == len(URLS)
    assert all(stored)
    for case in URLS:
        assert [leaked(e, case) for e in stored if leaked(e, case)] == []
