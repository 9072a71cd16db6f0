"""The reporter of a complaint hears back (issue 12), against real receivers on 127.0.0.1: the
aiosmtpd server for e-mail and a fake WhatsApp Cloud API (an HTTP server at ``api_base``).
Complaints go through the real intake handler and ledger, the ticket is walked through the SOP
by the real service, and the real notifier delivers. SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from agent.config.load import load_inventory
from agent.intake.handler import WaMessage
from agent.wiring import build_intake_handler, build_notifier, ticket_service
from tests.conftest import unavailable
from ticketing.intake import ack_message_id
from ticketing.migrate import migrate
from ticketing.models import DeliveryStatus, Notification
from ticketing.outbox.enqueue import uninstall
from ticketing.store import TicketStore
from ticketing.workflow import Complexity

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

try:
    from tests.integration.notify_receivers import HOST, SmtpReceiver, free_port
except ImportError as exc:  # aiosmtpd missing
    SmtpReceiver = None  # type: ignore[assignment,misc]
    IMPORT_ERROR = str(exc)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning"),
]

TOKEN = "wa-token-for-tests"  # noqa: S105 - a fake API on 127.0.0.1
PHONE = "6281211112222"
INVENTORY = """\
office: {{name: Dinas Komunikasi dan Informatika, short_name: Diskominfo, timezone: Asia/Makassar}}
defaults: {{platform: mikrotik_routeros, role: router}}
hosts:
  rtr-kominfo: {{address: 10.52.30.9, opd: Dinas Komunikasi dan Informatika}}
  rtr-dinkes: {{address: 10.52.30.1, opd: Dinas Kesehatan}}
people:
  - {{name: Lalu Kadis, role: kadis}}
  - {{name: Hj Kabid, role: kabid}}
  - {{name: Kasi Jaringan, role: kasi}}
  - {{name: Teknisi Satu, role: teknisi}}
  - {{name: Budi Dinkes, role: pj_opd, opd: Dinas Kesehatan, email: budi@dinkes.test,
     phone: "0812-1111-2222"}}
notifications: {{group_window: 1s, reminder_interval: null, retry: {{initial: 0.3s, maximum: 1s}}}}
intake:
  imap: {{host: 127.0.0.1, port: 1, tls: none, user: pengaduan, password_env: T_IMAP,
         reply_url_env: T_REPLY_URL, reply_domain: sigap.test}}
  whatsapp: {{verify_token_env: T_VERIFY, app_secret_env: T_SECRET, access_token_env: T_WA_TOKEN,
             phone_number_id: "1234", api_base: "http://127.0.0.1:{wa_port}/v21.0"}}
"""


@dataclass
class ApiPost:
    path: str
    auth: str
    payload: dict[str, Any]


@dataclass
class CloudApi:
    """A fake WhatsApp Cloud API: records each POST, answers like the API (message id)."""

    port: int = field(default_factory=free_port)
    posts: list[ApiPost] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> CloudApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                auth = self.headers.get("Authorization", "")
                api.posts.append(ApiPost(self.path, auth, payload))
                body = json.dumps({"messages": [{"id": f"wamid.out.{len(api.posts)}"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    if SmtpReceiver is None:
        unavailable(f"aiosmtpd is not installed: {IMPORT_ERROR}")
    receiver = SmtpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def api() -> Iterator[CloudApi]:
    server = CloudApi().start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> list[datetime]:
    return [datetime.now(UTC)]


@pytest.fixture
def setup(tmp_path, monkeypatch, smtp, api, db_url, clock):  # noqa: PLR0917 - fixtures
    monkeypatch.setenv("T_IMAP", "unused")
    monkeypatch.setenv("T_VERIFY", "verify")
    monkeypatch.setenv("T_SECRET", "secret")
    monkeypatch.setenv("T_WA_TOKEN", TOKEN)
    monkeypatch.setenv("T_REPLY_URL", f"mailto://{HOST}:{smtp.port}?from=pengaduan@diskominfo.test")
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.format(wa_port=api.port))
    inventory = load_inventory(path)
    store = TicketStore(db_url, tz="Asia/Makassar")
    migrate(store)
    now = lambda: clock[0]  # noqa: E731 - the injected clock of every part
    notifier = build_notifier(inventory, store, poll=0.2, now=now)  # installs the outbox hook
    handler = build_intake_handler(inventory, store, now)
    yield inventory, store, notifier, handler, ticket_service(inventory, store, now)
    uninstall(store)
    store.close()


def mail(mid: str, sender: str, subject: str, body: str, **headers: str) -> bytes:
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return (
        f"From: {sender}\r\nTo: pengaduan@diskominfo.test\r\nSubject: {subject}\r\n"
        f"Message-ID: {mid}\r\nDate: Thu, 26 Nov 2026 09:00:00 +0800\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def reporter_rows(store: TicketStore) -> list[Notification]:
    with store.transaction(write=False) as s:
        stmt = select(Notification).where(Notification.recipient.like("pelapor:%"))
        return list(s.scalars(stmt.order_by(Notification.id)))


async def deliver_until(notifier, done: Callable[[], bool], limit: float = 20.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run(stop))
    try:
        async with asyncio.timeout(limit):
            while not done():  # noqa: ASYNC110 - polls receivers, nothing to wait on
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task


def resolve(service, number: str) -> None:
    """Walk the complaint SOP to its end (disposition, assignment, handling, report)."""
    service.dispose(number, by="Lalu Kadis", isi="Segera tindak lanjuti")
    service.assign(number, by="Kasi Jaringan", technician="Teknisi Satu")
    service.handle(number, by="Teknisi Satu", complexity=Complexity.SEDERHANA, reason="kabel")
    service.complete(number, by="Teknisi Satu", document={"isi": "Jaringan siap pakai"})


async def test_email_reporter_gets_ack_then_resolved_and_a_reply_joins_without_loop(
    setup, smtp, clock
):
    _inventory, store, notifier, handler, service = setup
    complaint = mail("<c1@dinkes.test>", "Budi <budi@dinkes.test>", "Internet mati", "Sejak pagi.")
    assert handler.mail_blocking(complaint, clock[0]) == "created"
    (ticket,) = store.list(limit=10)
    number = ticket.number

    await deliver_until(notifier, lambda: len(smtp.mails) >= 1)
    (ack,) = smtp.mails
    assert ack.rcpt_tos == ["budi@dinkes.test"]
    assert ack.mail_from == "pengaduan@diskominfo.test"
    assert ack.subject == f"[sigap] Pengaduan {number} diterima"
    assert "Yth. Budi Dinkes" in ack.body
    assert f"Nomor tiket : {number}" in ack.body
    flat = " ".join(ack.body.split())
    assert "paling lama 10 menit sejak masuk" in flat  # the SOP's step-1 standard
    assert "penanganan oleh teknisi paling lama 1 hari" in flat
    ack_id = ack_message_id(store, number, domain="sigap.test", now=lambda: clock[0])
    assert re.fullmatch(r"<sigap\.[0-9a-f]{32}@sigap\.test>", ack_id or "")  # stored, random
    assert ack.header("In-Reply-To") == "<c1@dinkes.test>"
    assert ack.header("References") == f"<c1@dinkes.test> {ack_id}"
    assert ack.header("Auto-Submitted") == "auto-replied"

    # our own acknowledgement arriving in the intake mailbox: screened out, no ticket, no reply
    assert handler.mail_blocking(ack.raw, clock[0]) == "auto_reply"
    # the reporter answers it: the reply joins the ticket by References alone (no number in
    # the subject) and sends nothing back
    reply = mail(
        "<c2@dinkes.test>",
        "budi@dinkes.test",
        "Re: pengaduan saya",
        "Masih mati.",
        In_Reply_To=ack.header("Message-ID"),
        References=f"{ack.header('References')} {ack.header('Message-ID')}",
    )
    assert handler.mail_blocking(reply, clock[0]) == "joined"
    assert [t.number for t in store.list(limit=10)] == [number]
    assert any("Masih mati." in e.detail for e in store.events(number))

    resolve(service, number)
    await deliver_until(notifier, lambda: len(smtp.mails) >= 2)
    await asyncio.sleep(0.5)  # nothing else trickles in
    assert len(smtp.mails) == 2
    done = smtp.mails[1]
    assert done.rcpt_tos == ["budi@dinkes.test"]
    assert done.subject == f"[sigap] Pengaduan {number} selesai ditangani"
    assert done.header("In-Reply-To") == ack_id
    assert ack_id in done.header("References")
    assert "pengaduan Anda sudah selesai ditangani" in done.body
    rows = reporter_rows(store)
    assert [(r.kind, r.status, r.channel) for r in rows] == [
        ("opened", DeliveryStatus.SENT, "mailto"),
        ("resolved", DeliveryStatus.SENT, "mailto"),
    ]
    assert {r.recipient for r in rows} == {"pelapor:budi@dinkes.test"}


async def test_whatsapp_reporter_free_text_within_24h_and_template_outside(setup, api, clock):
    _inventory, store, notifier, handler, service = setup
    message = WaMessage("wamid.in.1", PHONE, "Budi", "Internet Dinkes mati", received_at=clock[0])
    assert handler.whatsapp_blocking(message) == "created"
    (ticket,) = store.list(limit=10)
    number = ticket.number

    await deliver_until(notifier, lambda: len(api.posts) >= 1)
    (ack,) = api.posts
    assert ack.path == "/v21.0/1234/messages"
    assert ack.auth == f"Bearer {TOKEN}"
    assert ack.payload["to"] == PHONE
    assert ack.payload["type"] == "text"  # the reporter wrote seconds ago: free text
    text = ack.payload["text"]["body"]
    assert text.startswith(f"Pengaduan {number} diterima")
    assert "paling lama 10 menit" in text

    clock[0] += timedelta(hours=25)  # handled the next day: the 24-hour window has closed
    resolve(service, number)
    await deliver_until(notifier, lambda: len(api.posts) >= 2)
    await asyncio.sleep(0.5)
    assert len(api.posts) == 2
    late = api.posts[1].payload
    assert late["type"] == "template"
    assert late["template"]["name"] == "sigap_pengaduan"
    assert late["template"]["language"] == {"code": "id"}
    (param,) = late["template"]["components"][0]["parameters"]
    assert param == {"type": "text", "text": f"Pengaduan {number} selesai ditangani"}
    rows = reporter_rows(store)
    assert [(r.kind, r.status, r.channel) for r in rows] == [
        ("opened", DeliveryStatus.SENT, "whatsapp"),
        ("resolved", DeliveryStatus.SENT, "whatsapp"),
    ]


async def test_whatsapp_message_within_window_is_free_text(setup, api, clock):
    _inventory, store, notifier, handler, service = setup
    first = WaMessage("wamid.in.1", PHONE, "Budi", "Internet Dinkes mati", received_at=clock[0])
    assert handler.whatsapp_blocking(first) == "created"
    number = store.list(limit=10)[0].number
    clock[0] += timedelta(hours=23)
    resolve(service, number)
    await deliver_until(notifier, lambda: len(api.posts) >= 2)
    assert [p.payload["type"] for p in api.posts] == ["text", "text"]
    assert api.posts[1].payload["text"]["body"].startswith(f"Pengaduan {number} selesai")
