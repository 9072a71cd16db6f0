"""No endpoint of ``sigap web`` reads or writes the database on the event loop (issue 16).

Every SQL statement the store's engine runs is checked at run time: a statement issued on a
thread that has a running event loop is a handler calling the store or the service from an
``async def`` (directly or through any helper), which blocks every other request. The walk
requests every route of the app ``sigap web`` builds (board, map, WhatsApp webhook) and fails
when a route is left out; planted handlers prove that the check catches a violation.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event
from starlette.responses import JSONResponse
from starlette.routing import Route

from agent.config.load import load_inventory
from agent.intake.whatsapp import signature
from agent.web.app import create_app
from agent.web.board import board_of
from agent.wiring import build_web_app, open_store, ticket_service
from tests.webboard import INVENTORY, SECRET, TestClient, csrf_of, password_of, set_passwords
from ticketing.faults import Fault, FaultKind
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 WITA
APP_SECRET = "whatsapp-app-secret-for-tests"  # noqa: S105 - a test key
WA_PATH = "/intake/whatsapp"
INTAKE = """
intake:
  whatsapp: {verify_token_env: T_WA_VERIFY, app_secret_env: T_WA_SECRET, phone_number_id: "99"}
"""


@dataclass
class LoopWatch:
    """Counts the engine's statements, and those issued on a thread running an event loop."""

    total: int = 0
    on_loop: list[str] = field(default_factory=list)

    def statement(self, _conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        """SQLAlchemy's ``before_cursor_execute`` hook."""
        self.total += 1
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a worker thread: fine
            return
        self.on_loop.append(sql.split(None, 1)[0])


@dataclass(frozen=True)
class Step:
    """One request of the walk: ``route`` is the app's path template it exercises."""

    method: str
    route: str
    url: str
    data: dict[str, str] | None = None
    db: bool = True  # whether the handler must touch the database (proof the watch sees it)


@dataclass(frozen=True)
class Seen:
    """What one request did."""

    step: Step
    status: int
    statements: int
    on_loop: list[str]


def walk(client: TestClient, watch: LoopWatch, steps: list[Step]) -> list[Seen]:
    """Request every step in order; count the statements each one ran, and where."""
    seen = []
    for step in steps:
        token = csrf_of(client.get("/masuk").text) if step.method == "POST" else ""
        total, loop = watch.total, len(watch.on_loop)
        if step.route == WA_PATH and step.method == "POST":
            body = (step.data or {})["body"].encode()
            sig = {"X-Hub-Signature-256": signature(APP_SECRET, body)}
            reply = client.post(step.url, content=body, headers=sig)
        elif step.method == "POST":
            reply = client.post(step.url, data={"csrf": token, **(step.data or {})})
        else:
            reply = client.get(step.url)
        seen.append(Seen(step, reply.status_code, watch.total - total, watch.on_loop[loop:]))
    return seen


def wa_body(phone: str, text: str) -> str:
    """One text message as the WhatsApp Cloud API posts it."""
    message = {"from": phone, "id": "wamid.T1", "timestamp": "1795000000", "type": "text",
               "text": {"body": text}}  # fmt: skip
    value = {"contacts": [{"wa_id": phone, "profile": {"name": "PJ"}}], "messages": [message]}
    return json.dumps({"entry": [{"changes": [{"value": value}]}]})


@pytest.fixture
def office(tmp_path, monkeypatch):
    monkeypatch.setenv("T_WA_VERIFY", "verify-me")
    monkeypatch.setenv("T_WA_SECRET", APP_SECRET)
    text = textwrap.dedent(INVENTORY).replace(
        "{name: PJ RSUD, role: pj_opd, opd: RSUD Praya}",
        '{name: PJ RSUD, role: pj_opd, opd: RSUD Praya, phone: "0812-7000-1000"}',
    )
    path = tmp_path / "inventory.yaml"
    path.write_text(text + INTAKE, encoding="utf-8")
    url = TicketStore.sqlite_url(tmp_path / "threads.db")
    set_passwords(url)
    with TicketStore(url) as store:
        opened = store.open_fault(Fault("rsud-r1", FaultKind.DEVICE_DOWN, "rsud-r1 mati"), at=NOW)
    return load_inventory(path), url, opened.ticket.number


def watched(app: Starlette) -> tuple[TestClient, LoopWatch]:
    """A client of ``app`` with the watch on the engine of the board's store."""
    watch = LoopWatch()
    event.listen(app.state.board.store.engine, "before_cursor_execute", watch.statement)
    return TestClient(app, follow_redirects=False), watch


def sign_in(client: TestClient, name: str) -> None:
    token = csrf_of(client.get("/masuk").text)
    reply = client.post("/masuk", data={"nama": name, "sandi": password_of(name), "csrf": token})
    assert reply.status_code == 303, reply.text


def every_step(number: str) -> list[Step]:
    """A request for every route of the board, the map and the webhook (as the Kasi)."""
    step = {"nomor": number, "versi": "1"}
    entry = {"opd": "RSUD Praya", "masalah": "Switch tua", "biaya": "1.000", "tahun": "2027"}
    verify = f"{WA_PATH}?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=7"
    return [
        Step("GET", "/masuk", "/masuk", db=False),
        Step("POST", "/masuk", "/masuk", {"nama": "Baiq Kasi", "sandi": "salah-sandi-123"}),
        Step("GET", "/", "/"),
        Step("GET", "/tiket", "/tiket?status=open"),
        Step("GET", "/tiket/{number:path}", f"/tiket/{number}"),
        Step("GET", "/perangkat/{name}", "/perangkat/rsud-r1"),
        Step("GET", "/perangkat/{name}/konfigurasi", "/perangkat/rsud-r1/konfigurasi"),
        Step("GET", "/foto/{step}/{number:path}", f"/foto/1/{number}"),
        Step("GET", "/lapor", "/lapor", db=False),
        Step(
            "POST",
            "/lapor",
            "/lapor",
            {"sumber": "wa", "opd": "RSUD Praya", "pelapor": "dr. Ayu", "uraian": "Internet mati"},
        ),
        Step("POST", "/aksi/disposisi", "/aksi/disposisi", {**step, "isi": "Segera"}),
        Step("POST", "/aksi/tugaskan", "/aksi/tugaskan", {**step, "teknisi": "Teknisi Satu"}),
        Step("POST", "/aksi/tangani", "/aksi/tangani", {**step, "keputusan": "sederhana"}),
        Step("POST", "/aksi/selesai", "/aksi/selesai", step),
        Step("GET", "/program/baru", "/program/baru", db=False),
        Step("POST", "/program/baru", "/program/baru", entry),
        Step("POST", "/program/status", "/program/status", {"id": "1", "status": "disetujui"}),
        Step("GET", "/program", "/program?tahun=2027"),
        Step("GET", "/program/ekspor", "/program/ekspor?tahun=2027&format=xlsx"),
        Step("GET", "/laporan", "/laporan?bulan=2026-11"),
        Step("GET", "/peta", "/peta"),
        Step("GET", "/peta/data.json", "/peta/data.json"),
        Step("GET", "/peta/peta.js", "/peta/peta.js", db=False),
        Step("GET", "/peta/peta.css", "/peta/peta.css", db=False),
        Step("GET", WA_PATH, verify, db=False),
        Step("POST", WA_PATH, WA_PATH, {"body": wa_body("6281270001000", "internet mati")}),
        *admin_steps(number),
        Step("POST", "/keluar", "/keluar", db=False),
    ]


def admin_steps(number: str) -> list[Step]:
    """The admin pages (issue 21) and the JSON API (no token here: 401/400 before the database;
    tests/unit/test_api.py drives it with tokens)."""
    window = {"perangkat": "rsud-r1", "mulai": "sekarang", "versi_inventaris": "0" * 64}
    actions = [f"/api/v1/aksi/{a}" for a in ("disposisi", "tugaskan", "tangani", "selesai")]
    api_post = ["/api/v1/tiket", *actions, "/api/v1/pemeliharaan", "/api/v1/pemeliharaan/batal"]
    return [
        Step("GET", "/admin", "/admin"),
        Step("GET", "/admin/orang", "/admin/orang"),
        Step("GET", "/admin/perangkat/{name}", "/admin/perangkat/rsud-r1"),
        Step("POST", "/admin/perangkat", "/admin/perangkat", {**window, "nama": "x"}),
        Step("POST", "/admin/ubah", "/admin/ubah", {**window, "site": "B"}),
        Step("POST", "/admin/pensiun", "/admin/pensiun", window),
        Step("POST", "/admin/port", "/admin/port", {**window, "port": "ether2"}),
        Step("POST", "/admin/jendela", "/admin/jendela", window),
        Step("POST", "/admin/jendela/batal", "/admin/jendela/batal", {**window, "judul": "x"}),
        Step("POST", "/admin/orang", "/admin/orang", {**window, "nama": "Baru", "baru": "1"}),
        Step("POST", "/admin/akun/nonaktifkan", "/admin/akun/nonaktifkan", {"nama": "PJ RSUD"}),
        Step("POST", "/admin/bungkam", "/admin/bungkam", {"nomor": number, "alasan": "PLN"}),
        Step("POST", "/admin/bungkam/batal", "/admin/bungkam/batal", {"nomor": number}),
        Step("GET", "/admin/temukan", "/admin/temukan"),
        # a /8 without paksa: refused before any packet (the walk never probes a network)
        Step("POST", "/admin/temukan", "/admin/temukan", {"rentang": "10.0.0.0/8"}),
        Step("POST", "/admin/temukan/terima", "/admin/temukan/terima", {**window, "usulan": "x"}),
        Step("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", db=False),
        Step("GET", "/api/v1/tiket", "/api/v1/tiket", db=False),
        Step("GET", "/api/v1/tiket/{number:path}", "/api/v1/tiket/GJ/2026/0001", db=False),
        Step("GET", "/api/v1/perangkat", "/api/v1/perangkat", db=False),
        *(Step("POST", path, path, {"x": "1"}, db=False) for path in api_post),
    ]


def routes_of(app: Starlette) -> set[tuple[str, str]]:
    """Every (method, path template) the app serves, HEAD aside (static files: no database)."""
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def test_no_endpoint_touches_the_database_on_the_event_loop(office):
    inventory, url, number = office
    app = build_web_app(inventory, open_store(inventory, url), now=lambda: NOW, secret_key=SECRET)
    steps = every_step(number)
    assert {(s.method, s.route) for s in steps} == routes_of(app)  # a new route joins the walk
    client, watch = watched(app)
    with client:
        sign_in(client, "Baiq Kasi")
        seen = walk(client, watch, steps)
    assert [(s.step.url, s.status) for s in seen if s.status >= 500] == []
    assert [(s.step.method, s.step.url, s.on_loop) for s in seen if s.on_loop] == []
    # the watch saw each database handler's statements (on worker threads): not vacuous
    assert [s.step.url for s in seen if s.step.db and s.statements == 0] == []
    created = [s.status for s in seen if s.step.route in {"/lapor", WA_PATH}]
    assert created == [200, 303, 200, 200], created


async def planted_direct(request: Request) -> Response:
    """A violation: the store called inside an async def."""
    return JSONResponse(len(board_of(request).store.active()))


def count_open(request: Request) -> int:
    return len(board_of(request).svc.program())


async def planted_indirect(request: Request) -> Response:
    """A violation through a helper: the service called from an async def."""
    return JSONResponse(count_open(request))


def planted_sync(request: Request) -> Response:
    """Not a violation: a plain def runs in the thread pool."""
    return JSONResponse(count_open(request))


def test_the_watch_catches_a_planted_async_handler(office):
    inventory, url, _number = office
    store = open_store(inventory, url)
    planted = [
        Route("/tanam/langsung", planted_direct),
        Route("/tanam/lewat", planted_indirect),
        Route("/tanam/benar", planted_sync),
    ]
    svc = ticket_service(inventory, store, lambda: NOW)
    app = create_app(inventory, store, svc, now=lambda: NOW, secret_key=SECRET, routes=planted)
    client, watch = watched(app)
    steps = [Step("GET", r.path, r.path) for r in planted]
    with client:
        seen = walk(client, watch, steps)
    assert [s.status for s in seen] == [200, 200, 200]
    flagged = {s.step.url: bool(s.on_loop) for s in seen}
    assert flagged == {"/tanam/langsung": True, "/tanam/lewat": True, "/tanam/benar": False}
    assert all(s.statements > 0 for s in seen)
