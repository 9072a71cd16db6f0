"""The SOP walked from WhatsApp (issue 24): a fake Cloud API on 127.0.0.1 records what sigap
sends; the test taps the buttons it sent through the signed webhook, as each phone would.

Runs on SQLite and PostgreSQL (the shared ``store`` fixture).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from starlette.applications import Starlette

from agent.chat.signing import sign, verify
from agent.config.load import load_inventory
from agent.intake.whatsapp import signature
from agent.notify.worker import SendResult
from agent.wiring import build_notifier, install_outbox, ticket_service, webhook_routes
from ticketing.models import ProgramKegiatan, TicketEvent
from ticketing.states import EventKind

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ticketing.store import TicketStore

APP_SECRET = "app-secret-for-tests"  # noqa: S105
ACTION_SECRET = "action-secret-for-tests-0123456789"  # noqa: S105
PHONES = {
    "Pak Kadis": "6281100000001",
    "Bu Kabid": "6281100000002",
    "Baiq Kasi": "6281100000003",
    "Teknisi Satu": "6281100000004",
    "Teknisi Dua": "6281100000005",
    "Budi Dinkes": "6281211112222",
}
STRANGER = "6289999999999"
T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # Thursday 09:00 WITA


def inventory_text(port: int, extra: str = "") -> str:
    people = "\n".join(
        f'  - {{name: {name}, role: {role}, phone: "{PHONES[name]}"{opd}}}'
        for name, role, opd in (
            ("Pak Kadis", "kadis", ""),
            ("Bu Kabid", "kabid", ""),
            ("Baiq Kasi", "kasi", ""),
            ("Teknisi Satu", "teknisi", ""),
            ("Teknisi Dua", "teknisi", ""),
            ("Budi Dinkes", "pj_opd", ", opd: Dinas Kesehatan"),
        )
    )
    return f"""\
office: {{name: Dinas Komunikasi dan Informatika, timezone: Asia/Makassar}}
defaults: {{platform: mikrotik_routeros, role: router}}
hosts:
  rtr-dinkes: {{address: 10.52.30.1, opd: Dinas Kesehatan}}
people:
{people}
notifications:
  link: "https://sigap.test/tiket/{{nomor}}"
intake:
  whatsapp:
    verify_token_env: T_VERIFY
    app_secret_env: T_SECRET
    access_token_env: T_TOKEN
    action_secret_env: T_ACTION
    phone_number_id: "1234"
    api_base: "http://127.0.0.1:{port}"
  max_attachment_bytes: 4096
{extra}"""


class CloudApi(ThreadingHTTPServer):
    """The Cloud API's send endpoint on 127.0.0.1: records every message posted."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.sent: list[dict[str, Any]] = []
        self.media: dict[str, bytes] = {}
        self.window_closed: set[str] = set()  # numbers whose interactive messages get 131047
        self.lock = threading.Lock()

    def to(self, name: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.sent if m.get("to") == PHONES.get(name, name)]

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            out, self.sent = self.sent, []
            return out


class _Handler(BaseHTTPRequestHandler):
    server: CloudApi

    def do_POST(self) -> None:
        size = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(size))
        assert self.path == "/1234/messages"
        assert self.headers["Authorization"] == "Bearer token-for-tests"
        if body.get("type") == "interactive" and body.get("to") in self.server.window_closed:
            error = {"error": {"message": "Re-engagement message", "code": 131047}}
            self.send_response(400)
            self.end_headers()
            self.wfile.write(json.dumps(error).encode())
            return
        with self.server.lock:
            self.server.sent.append(body)
        reply = json.dumps({"messages": [{"id": f"wamid.out.{len(self.server.sent)}"}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(reply.encode())

    def do_GET(self) -> None:
        assert self.headers["Authorization"] == "Bearer token-for-tests"
        media_id = self.path.rsplit("/", 1)[-1]
        if media_id not in self.server.media:
            self.send_error(404)
            return
        if self.path.startswith("/dl/"):
            data = self.server.media[media_id]
        else:
            port = self.server.server_address[1]
            data = json.dumps({"url": f"http://127.0.0.1:{port}/dl/{media_id}"}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


class NoApprise:
    def send_blocking(self, url: str, title: str, body: str) -> SendResult:
        return SendResult(False, "no apprise in this test", permanent=True)


class Office:
    """The webhook, the notifier and the fake API around one store."""

    def __init__(self, store: TicketStore, api: CloudApi, tmp_path: Any, extra: str = "") -> None:
        path = tmp_path / "inventory.yaml"
        path.write_text(inventory_text(api.server_address[1], extra))
        self.inventory = load_inventory(path)
        self.store = store
        self.api = api
        self.clock = Clock()
        install_outbox(store, self.inventory)
        self.svc = ticket_service(self.inventory, store, self.clock)
        asgi = Starlette(routes=webhook_routes(self.inventory, store, self.clock))
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://wa.test"
        )
        self.notifier = build_notifier(
            self.inventory, store, sender=NoApprise(), now=self.clock, poll=0.01
        )
        self.n = 0

    async def post(self, message: dict[str, Any], phone: str) -> httpx.Response:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": "1234"},
            "contacts": [{"wa_id": phone, "profile": {"name": "x"}}],
            "messages": [
                {"from": phone, "timestamp": str(int(self.clock.at.timestamp())), **message}
            ],
        }
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"value": value}]}],
            }
        ).encode()
        return await self.client.post(
            "/intake/whatsapp",
            content=body,
            headers={"X-Hub-Signature-256": signature(APP_SECRET, body)},
        )

    def wamid(self) -> str:
        self.n += 1
        return f"wamid.in.{self.n}"

    async def say(self, name: str, text: str, wamid: str | None = None) -> str:
        msg = {"id": wamid or self.wamid(), "type": "text", "text": {"body": text}}
        r = await self.post(msg, PHONES.get(name, name))
        assert r.status_code == 200, r.text
        return str(r.json()["results"][0])

    async def tap(self, name: str, reply_id: str, wamid: str | None = None) -> str:
        msg = {
            "id": wamid or self.wamid(),
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": "x"}},
        }
        r = await self.post(msg, PHONES.get(name, name))
        assert r.status_code == 200, r.text
        return str(r.json()["results"][0])

    async def pick(self, name: str, reply_id: str) -> str:
        msg = {
            "id": self.wamid(),
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": reply_id, "title": "x"}},
        }
        r = await self.post(msg, PHONES[name])
        return str(r.json()["results"][0])

    async def tap_template(self, name: str, payload: str) -> str:
        msg = {
            "id": self.wamid(),
            "type": "button",
            "button": {"payload": payload, "text": "Buka tindakan"},
        }
        r = await self.post(msg, PHONES[name])
        return str(r.json()["results"][0])

    async def deliver(self) -> int:
        """Let the group window pass and run the notifier once."""
        self.clock.at += timedelta(seconds=31)
        return await self.notifier.tick()


@pytest.fixture
def api() -> Iterator[CloudApi]:
    server = CloudApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def office(store: TicketStore, api: CloudApi, tmp_path: Any, monkeypatch: Any) -> Office:
    monkeypatch.setenv("T_VERIFY", "verify-me")
    monkeypatch.setenv("T_SECRET", APP_SECRET)
    monkeypatch.setenv("T_TOKEN", "token-for-tests")
    monkeypatch.setenv("T_ACTION", ACTION_SECRET)
    return Office(store, api, tmp_path)


STANDING = """\
sop:
  standing_disposition:
    {signer: Pak Kadis, reference: 800/1/Diskominfo/2026, technician: Teknisi Satu}
"""


@pytest.fixture
def standing(office: Office, tmp_path: Any) -> Office:
    """The same office under a standing disposition (monitoring tickets skip the officials)."""
    return Office(office.store, office.api, tmp_path, STANDING)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """title -> id of an interactive message's buttons or list rows."""
    inner = message["interactive"]
    if inner["type"] == "button":
        return {b["reply"]["title"]: b["reply"]["id"] for b in inner["action"]["buttons"]}
    rows = inner["action"]["sections"][0]["rows"]
    return {r["title"]: r["id"] for r in rows}


def template_button(message: dict[str, Any]) -> str:
    assert message["type"] == "template"
    comps = message["template"]["components"]
    return str(comps[1]["parameters"][0]["payload"])


def last_text(api: CloudApi, name: str) -> str:
    texts = [m["text"]["body"] for m in api.to(name) if m["type"] == "text"]
    return texts[-1] if texts else ""


async def open_complaint(office: Office) -> str:
    assert await office.say("Budi Dinkes", "internet mati di dinkes sejak pagi") == "created"
    (ticket,) = office.store.list()
    await office.deliver()
    return ticket.number


async def menu(office: Office, name: str) -> dict[str, str]:
    """Tap the template's one button; return the step buttons that come back."""
    (tpl,) = [m for m in office.api.to(name) if m["type"] == "template"][-1:]
    assert await office.tap_template(name, template_button(tpl)) == "menu"
    interactive = [m for m in office.api.to(name) if m["type"] == "interactive"]
    return buttons(interactive[-1])


def step_events(store: TicketStore, number: str) -> list[tuple[str, Any, str]]:
    with store.transaction(write=False) as session:
        ticket_id = store.get(number).id
        rows = (
            session.query(TicketEvent)
            .filter(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == EventKind.STEP_DONE)
            .order_by(TicketEvent.id)
        )
        return [(e.actor, (e.data or {}).get("via"), e.detail) for e in rows]


async def test_a_complaint_walks_every_step_from_phones_only(office: Office) -> None:
    api = office.api
    number = await open_complaint(office)
    # step 2 (disposisi) is Kadis' or Kabid's: both get one message; nobody wrote in 24 h,
    # so it is the approved template with one quick-reply button
    for name in ("Pak Kadis", "Bu Kabid"):
        (msg,) = api.to(name)
        assert msg["type"] == "template"
        assert msg["template"]["name"] == "sigap_aksi"
        params = [p["text"] for p in msg["template"]["components"][0]["parameters"]]
        assert params[0] == number
        assert "internet mati" in params[1]
    assert api.to("Baiq Kasi") == []
    assert api.to("Teknisi Satu") == []
    kadis = await menu(office, "Pak Kadis")
    assert set(kadis) == {"Setujui (biasa)", "Setujui (segera)", "Tulis isi disposisi"}
    assert await office.tap("Pak Kadis", kadis["Setujui (segera)"]) == "done"
    assert "Tersimpan: disposisi (segera)" in last_text(api, "Pak Kadis")
    # the Kabid's message of the same step is now stale
    kabid_tpl = template_button(api.to("Bu Kabid")[0])
    assert await office.tap_template("Bu Kabid", kabid_tpl) == "refused:stale"
    assert "sudah diproses oleh Pak Kadis" in last_text(api, "Bu Kabid")

    await walk_the_rest(office, number)


async def walk_the_rest(office: Office, number: str) -> None:
    """Steps 3-5 from the phones of the Kasi and the technician, then the audit trail."""
    api = office.api
    await office.deliver()  # step 3: the Kasi assigns a technician
    kasi = await menu(office, "Baiq Kasi")
    assert set(kasi) == {"Teknisi Satu", "Teknisi Dua"}
    assert await office.pick("Baiq Kasi", kasi["Teknisi Satu"]) == "done"

    await office.deliver()  # step 4: only the assigned technician is asked
    assert api.to("Teknisi Dua") == []
    tech = await menu(office, "Teknisi Satu")
    assert set(tech) == {"Sederhana", "Kompleks"}
    assert await office.tap("Teknisi Satu", tech["Kompleks"]) == "asked"
    assert "usulan" in last_text(api, "Teknisi Satu")
    assert await office.say("Teknisi Satu", "Ganti switch distribusi lantai 2") == "asked"
    assert "biaya" in last_text(api, "Teknisi Satu")
    assert await office.say("Teknisi Satu", "sekitar dua juta") == "asked"  # not a number
    assert await office.say("Teknisi Satu", "Rp 2.500.000") == "done"

    await office.deliver()  # step 5 (laporan): the technician wrote lately: interactive at once
    (prompt,) = [m for m in api.to("Teknisi Satu") if m["type"] == "interactive"][-1:]
    assert "Langkah SOP" in prompt["interactive"]["body"]["text"]
    assert "https://sigap.test/tiket/" + number in prompt["interactive"]["body"]["text"]
    assert await office.tap("Teknisi Satu", buttons(prompt)["Selesai"]) == "asked"
    assert await office.say("Teknisi Satu", "Switch diganti, jaringan siap pakai") == "done"
    assert "SOP tiket selesai" in last_text(api, "Teknisi Satu")

    ticket = office.svc.ticket(number)
    assert ticket.status.value == "resolved"
    steps = office.svc.steps(number)
    assert [s.completed_by for s in steps] == [
        "sistem",
        "Pak Kadis",
        "Baiq Kasi",
        "Teknisi Satu",
        "Teknisi Satu",
    ]
    assert [s.completed_via for s in steps] == ["", *["whatsapp"] * 4]
    assert (steps[1].document or {})["sifat"] == "segera"
    assert (steps[2].document or {})["teknisi"] == "Teknisi Satu"
    assert steps[4].document == {"isi": "Switch diganti, jaringan siap pakai"}
    events = step_events(office.store, number)
    assert [(actor, via) for actor, via, _ in events] == [
        ("sistem", None),
        ("Pak Kadis", "whatsapp"),
        ("Baiq Kasi", "whatsapp"),
        ("Teknisi Satu", "whatsapp"),
        ("Teknisi Satu", "whatsapp"),
    ]
    assert all(detail.endswith("lewat whatsapp") for _, _, detail in events[1:])
    with office.store.transaction(write=False) as session:
        (entry,) = session.query(ProgramKegiatan).all()
        assert entry.estimated_cost == 2_500_000
        assert entry.proposed_action == "Ganti switch distribusi lantai 2"


async def refused_without_change(office: Office, number: str, outcome: str, coro: Any) -> None:
    before = office.svc.ticket(number).version
    assert await coro == outcome
    assert office.svc.ticket(number).version == before


async def test_refusals_change_nothing_and_say_why(office: Office) -> None:
    api = office.api
    number = await open_complaint(office)
    kadis = await menu(office, "Pak Kadis")
    good = kadis["Setujui (biasa)"]
    # a stranger's number with the Kadis' button
    await refused_without_change(office, number, "refused:unknown", office.tap(STRANGER, good))
    assert "tidak terdaftar" in last_text(api, STRANGER)
    # the Kadis' button forwarded to the Kabid (same role, other phone): forged
    await refused_without_change(office, number, "refused:forged", office.tap("Bu Kabid", good))
    assert "tidak sah" in last_text(api, "Bu Kabid")
    # a changed MAC, or not ours at all
    bad = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    await refused_without_change(office, number, "refused:forged", office.tap("Pak Kadis", bad))
    await refused_without_change(
        office, number, "refused:malformed", office.tap("Pak Kadis", "hapus semua")
    )
    # wrong role: a button properly signed for the technician on the Kadis' step
    payload = verify(ACTION_SECRET.encode(), good, office.clock(), PHONES["Pak Kadis"])
    for_tech = sign(ACTION_SECRET.encode(), payload, PHONES["Teknisi Satu"])
    await refused_without_change(
        office, number, "refused:role", office.tap("Teknisi Satu", for_tech)
    )
    assert "bukan bagian Anda" in last_text(api, "Teknisi Satu")
    # expired: three days later the same button does nothing
    office.clock.at += timedelta(days=3, seconds=1)
    await refused_without_change(office, number, "refused:expired", office.tap("Pak Kadis", good))
    assert "kedaluwarsa" in last_text(api, "Pak Kadis")


async def test_replayed_webhook_acts_once(office: Office) -> None:
    number = await open_complaint(office)
    kadis = await menu(office, "Pak Kadis")
    assert await office.tap("Pak Kadis", kadis["Setujui (biasa)"], wamid="wamid.tap") == "done"
    version = office.svc.ticket(number).version
    replies = len(office.api.to("Pak Kadis"))
    for _ in range(3):
        assert await office.tap("Pak Kadis", kadis["Setujui (biasa)"], "wamid.tap") == "duplicate"
    assert office.svc.ticket(number).version == version
    assert len(office.api.to("Pak Kadis")) == replies  # nothing said twice
    # the same button again under a new wamid: the step has moved on
    assert await office.tap("Pak Kadis", kadis["Setujui (biasa)"]) == "refused:stale"
    assert "sudah diproses oleh Pak Kadis" in last_text(office.api, "Pak Kadis")


async def test_dialogue_can_be_cancelled_and_belongs_to_its_phone(office: Office) -> None:
    number = await open_complaint(office)
    kadis = await menu(office, "Pak Kadis")
    assert await office.tap("Pak Kadis", kadis["Tulis isi disposisi"]) == "asked"
    # another official's text is not an answer to the Kadis' question
    assert await office.say("Bu Kabid", "isi palsu") == "help"
    assert await office.say("Pak Kadis", "batal") == "cancelled"
    assert office.svc.steps(number)[1].completed_by is None
    # the Kabid disposes this time, with a typed isi
    kabid = await menu(office, "Bu Kabid")
    assert await office.tap("Bu Kabid", kabid["Tulis isi disposisi"]) == "asked"
    assert await office.say("Bu Kabid", "Segera cek jaringan Dinkes") == "done"
    step = office.svc.steps(number)[1]
    assert step.completed_by == "Bu Kabid"
    assert (step.document or {})["isi_disposisi"] == "Segera cek jaringan Dinkes"


def hostile_messages(phone: str) -> list[Any]:
    """Messages of every wrong shape, from a registered phone."""
    deep: Any = {"id": "x"}
    for _ in range(60):
        deep = {"button_reply": deep}
    base = {"from": phone, "timestamp": "1795000000"}
    return [
        {**base, "id": "h1", "type": "interactive", "interactive": "button_reply"},
        {**base, "id": "h2", "type": "interactive", "interactive": {"type": "button_reply",
                                                                   "button_reply": []}},
        {**base, "id": "h3", "type": "interactive",
         "interactive": {"type": "list_reply", "list_reply": {"id": {"a": 1}}}},
        {**base, "id": "h4", "type": "interactive",
         "interactive": {"type": "button_reply", "button_reply": {"id": 12345}}},
        {**base, "id": "h5", "type": "button", "button": {"payload": "sg1." + "A" * 100_000}},
        {**base, "id": "h6", "type": "button", "button": {"payload": "sg1.\x00\x1b[2J.\u202e"}},
        {**base, "id": "h7", "type": "interactive", "interactive": deep},
        {**base, "id": "h8", "type": "button", "button": None},
        {**base, "id": ["h9"], "type": "interactive"},
        {**base, "id": "h10", "type": ["interactive"], "interactive": {}},
        {**base, "id": "h11", "type": "text", "text": {"body": {"nested": True}}},
        "not a message",
        None,
    ]  # fmt: skip


async def test_hostile_webhook_bodies_change_nothing_and_lose_no_good_tap(office: Office) -> None:
    number = await open_complaint(office)
    kadis = await menu(office, "Pak Kadis")
    version = office.svc.ticket(number).version
    phone = PHONES["Pak Kadis"]
    tapped = {"id": kadis["Setujui (biasa)"], "title": "ok"}
    good = {"from": phone, "id": "wamid.good", "timestamp": "1795000000", "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": tapped}}  # fmt: skip
    value = {"contacts": [{"wa_id": phone}], "messages": [*hostile_messages(phone)]}
    body = json.dumps({"entry": [{"changes": [{"value": value}]}]}).encode()
    r = await office.client.post(
        "/intake/whatsapp", content=body,
        headers={"X-Hub-Signature-256": signature(APP_SECRET, body)},
    )  # fmt: skip
    assert r.status_code == 200
    assert all(x not in {"done", "refused:error"} for x in r.json()["results"])
    assert office.svc.ticket(number).version == version
    # the same hostile messages with one good tap at the end: the good one acts
    value["messages"] = [*hostile_messages(phone), good]
    body = json.dumps({"entry": [{"changes": [{"value": value}]}]}).encode()
    r = await office.client.post(
        "/intake/whatsapp", content=body,
        headers={"X-Hub-Signature-256": signature(APP_SECRET, body)},
    )  # fmt: skip
    assert r.json()["results"][-1] == "done"
    assert office.svc.steps(number)[1].completed_by == "Pak Kadis"


async def test_oversized_and_too_deep_bodies_are_refused_before_any_action(office: Office) -> None:
    number = await open_complaint(office)
    version = office.svc.ticket(number).version
    nested = b'{"entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    huge = b'{"entry": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    for body, status in ((nested, 400), (huge, 413)):
        r = await office.client.post(
            "/intake/whatsapp", content=body,
            headers={"X-Hub-Signature-256": signature(APP_SECRET, body)},
        )  # fmt: skip
        assert r.status_code == status
    assert office.svc.ticket(number).version == version


async def test_opd_contact_reports_with_lapor_and_asks_status(office: Office) -> None:
    assert await office.say("Budi Dinkes", "lapor internet di ruang rapat mati") == "created"
    (ticket,) = office.store.list()
    assert ticket.description == "internet di ruang rapat mati"
    assert ticket.opd == "Dinas Kesehatan"
    assert await office.say("Budi Dinkes", "STATUS") == "status"
    reply = last_text(office.api, "Budi Dinkes")
    assert reply.startswith("Status Dinas Kesehatan:")
    assert "rtr-dinkes (tidak ada tiket)" in reply
    assert ticket.number in reply
    assert f"- {ticket.number}: internet di ruang rapat mati (langkah 2 oleh Kabid" in reply
    assert "tenggat 03/12 09:10" in reply  # 10 menit after 09:00 WITA
    # an official's chatter is not a complaint; "lapor" is
    assert await office.say("Baiq Kasi", "ok, terima kasih") == "help"
    assert "lapor <uraian>" in last_text(office.api, "Baiq Kasi")
    assert len(office.store.list()) == 1
    assert await office.say("Baiq Kasi", "lapor: wifi setda putus") == "created"
    assert len(office.store.list()) == 2
    # a stranger's "status" is a complaint attempt for intake (unknown sender), not an answer
    assert await office.say(STRANGER, "status") == "unknown_sender"
    assert last_text(office.api, STRANGER) == ""


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200


async def to_technician_steps(office: Office) -> str:
    """A complaint disposed by the Kadis and assigned by the Kasi, from their phones."""
    number = await open_complaint(office)
    kadis = await menu(office, "Pak Kadis")
    assert await office.tap("Pak Kadis", kadis["Setujui (biasa)"]) == "done"
    await office.deliver()
    kasi = await menu(office, "Baiq Kasi")
    assert await office.pick("Baiq Kasi", kasi["Teknisi Satu"]) == "done"
    return number


async def send_photo(office: Office, name: str, caption: str, media_id: str) -> str:
    msg = {"id": office.wamid(), "type": "image",
           "image": {"id": media_id, "mime_type": "image/png", "caption": caption}}  # fmt: skip
    r = await office.post(msg, PHONES[name])
    assert r.status_code == 200, r.text
    return str(r.json()["results"][0])


async def test_technician_closes_with_a_photo_served_only_to_signed_in_users(
    office: Office,
) -> None:
    number = await to_technician_steps(office)
    # the decision step by text: selesai = handled directly (sederhana)
    assert await office.say("Teknisi Dua", f"selesai {number} bukan saya") == "refused:role"
    assert await office.say("Teknisi Satu", f"selesai {number} konektor diganti") == "done"
    assert office.svc.ticket(number).complexity == "sederhana"
    # the laporan step with photos: a text file, an oversized picture: refused, no change
    office.api.media |= {"m1": b"bukan gambar sama sekali", "m2": PNG + b"x" * 5000, "m3": PNG}
    version = office.svc.ticket(number).version
    for media_id in ("m1", "m2", "nope"):
        outcome = await send_photo(office, "Teknisi Satu", f"selesai {number} siap", media_id)
        assert outcome == "refused:photo"
        assert "Foto ditolak" in last_text(office.api, "Teknisi Satu")
    assert office.svc.ticket(number).version == version
    caption = f"selesai {number.lower()} jaringan siap pakai"
    assert await send_photo(office, "Teknisi Satu", caption, "m3") == "done"
    assert "Foto tersimpan" in last_text(office.api, "Teknisi Satu")
    step = office.svc.steps(number)[4]
    assert step.completed_by == "Teknisi Satu"
    doc = dict(step.document or {})
    assert doc["isi"] == "jaringan siap pakai"
    assert doc["foto"]["jenis"] == "image/png"
    assert office.svc.ticket(number).status.value == "resolved"

    from agent.wiring import build_web_app
    from tests.webboard import SECRET, TestClient, csrf_of, password_of, set_passwords

    set_passwords(office.store.engine.url.render_as_string(hide_password=False))
    app = build_web_app(office.inventory, office.store, now=office.clock, secret_key=SECRET)
    with TestClient(app, follow_redirects=False) as client:
        anon = client.get(f"/foto/5/{number}")
        assert anon.status_code == 303
        assert anon.headers["location"].startswith("/masuk")
        page = client.get("/masuk")
        form = {"nama": "Baiq Kasi", "sandi": password_of("Baiq Kasi"),
                "csrf": csrf_of(page.text), "lanjut": "/"}  # fmt: skip
        assert client.post("/masuk", data=form).status_code == 303
        got = client.get(f"/foto/5/{number}")
        assert got.status_code == 200
        assert got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.content == PNG
        assert client.get(f"/foto/4/{number}").status_code == 404  # no photo on that step
        ticket_page = client.get(f"/tiket/{number}")
        assert f'href="/foto/5/{number}"' in ticket_page.text
        assert "lewat whatsapp" in ticket_page.text


async def test_steps_a_standing_order_completes_send_nothing(standing: Office) -> None:
    from ticketing.faults import Fault, FaultKind

    fault = Fault("rtr-dinkes", FaultKind.DEVICE_DOWN, "rtr-dinkes mati", opd="Dinas Kesehatan")
    number = standing.store.open_fault(fault, at=standing.clock()).ticket.number
    standing.svc.start(number)  # intake, disposition and assignment by "sistem"
    await standing.deliver()
    for name in ("Pak Kadis", "Bu Kabid", "Baiq Kasi", "Teknisi Dua"):
        assert standing.api.to(name) == [], name
    (prompt,) = standing.api.to("Teknisi Satu")  # one message: the step that waits for them
    assert prompt["type"] == "template"
    params = prompt["template"]["components"][0]["parameters"]
    assert params[0]["text"] == number
    assert "Menganalisa" in params[2]["text"]


async def test_window_the_api_says_is_closed_falls_back_to_the_template(office: Office) -> None:
    number = await to_technician_steps(office)
    assert await office.say("Teknisi Satu", f"selesai {number} konektor diganti") == "done"
    office.api.window_closed.add(PHONES["Teknisi Satu"])  # sigap's ledger says: open
    await office.deliver()  # the old step-4 prompt (skipped: the step is done)
    await office.deliver()  # the step-5 prompt
    last = office.api.to("Teknisi Satu")[-1]
    assert last["type"] == "template"
    assert template_button(last).startswith("sg1.")


async def test_a_button_of_a_changed_ticket_is_refused_and_fresh_ones_follow(
    office: Office,
) -> None:
    from ticketing.models import Ticket

    number = await open_complaint(office)
    old = await menu(office, "Pak Kadis")
    with office.store.transaction() as session:  # the Kasi corrected the OPD meanwhile
        ticket = session.query(Ticket).filter(Ticket.number == number).one()
        ticket.description += " (ruang rapat lantai 2)"
    assert await office.tap("Pak Kadis", old["Setujui (biasa)"]) == "refused:stale"
    assert office.svc.steps(number)[1].completed_by is None
    texts = [m for m in office.api.to("Pak Kadis") if m["type"] == "text"]
    assert "berubah sejak pesan ini" in texts[-1]["text"]["body"]
    fresh = buttons(office.api.to("Pak Kadis")[-1])
    assert fresh["Setujui (biasa)"] != old["Setujui (biasa)"]
    assert await office.tap("Pak Kadis", fresh["Setujui (biasa)"]) == "done"


async def test_hostile_dialogue_answers_are_stored_clean(office: Office) -> None:
    from tests.hostile_text import CORPUS

    number = await open_complaint(office)
    kadis = await menu(office, "Pak Kadis")
    assert await office.tap("Pak Kadis", kadis["Tulis isi disposisi"]) == "asked"
    hostile = " ".join(h.text for h in CORPUS)  # NUL, escapes, bidi, 10,000 x
    assert await office.say("Pak Kadis", hostile) == "done"
    isi = str((office.svc.steps(number)[1].document or {})["isi_disposisi"])
    assert len(isi) <= 1000
    assert not any(c in isi for c in "\x00\x1b\x07\r\n\x9b")
    assert "klik" in isi  # the first entry's marker is still readable
