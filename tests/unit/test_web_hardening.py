"""Issue 17, findings 4, 5 and 8 on the board and the webhook: the edges under attack.

Body limits while reading (``agent.web.limits.BodyLimit``), sessions that logout, a new
password and ``nonaktifkan`` really end, the proxy's shared secret, and the webhook's hostile
headers and JSON. The 200 MiB bodies against a real ``sigap web`` with the RSS measured are in
``tests/integration/test_web_limits.py``.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from agent import cli
from agent.intake.stats import STATS
from agent.intake.whatsapp import signature
from agent.web.auth import PROXY_SECRET_HEADER, AuthSettings
from agent.web.limits import BodyLimit
from agent.web.throttle import Limits
from agent.wiring import build_web_app, open_store, ticket_service
from tests.hostile_text import CORPUS, NO_NUL, assert_shown, unsafe
from tests.unit.test_web_webhook import APP_SECRET, PATH, client_of, payload
from tests.unit.test_web_webhook import office as webhook_office  # noqa: F401 - a fixture
from tests.webboard import (
    SECRET,
    TestClient,
    csrf_of,
    password_of,
    set_passwords,
    write_inventory,
)
from ticketing.accounts import AccountStore
from ticketing.calendar import OfficeCalendar
from ticketing.errors import DeviceOpdError
from ticketing.service import TicketService
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from starlette.requests import Request

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture
def board(tmp_path, request):
    """A board factory over SQLite or PostgreSQL (``request.param``), passwords set."""
    inventory = write_inventory(tmp_path)
    backend = getattr(request, "param", "sqlite")
    url = (
        TicketStore.sqlite_url(tmp_path / "board.db")
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    set_passwords(url)
    clients: list[TestClient] = []

    def make(auth: AuthSettings | None = None) -> TestClient:
        app = build_web_app(
            inventory, open_store(inventory, url), now=lambda: NOW, secret_key=SECRET, auth=auth
        )
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    make.url = url  # type: ignore[attr-defined]
    yield make
    for c in clients:
        c.__exit__(None, None, None)


def login(client: TestClient, name: str) -> TestClient:
    token = csrf_of(client.get("/masuk").text)
    data = {"nama": name, "sandi": password_of(name), "csrf": token}
    assert client.post("/masuk", data=data).status_code == 303
    return client


def copy_of(client: TestClient, other: TestClient) -> TestClient:
    """``other`` carrying a copy of ``client``'s cookies (as an attacker who stole them)."""
    for cookie in client.cookies.jar:
        other.cookies.set(cookie.name, cookie.value)
    return other


# ---------------------------------------------------------------- finding 5: sessions


@pytest.mark.parametrize("board", BACKENDS, indirect=True)
def test_a_cookie_copied_before_logout_no_longer_works(board):
    kasi = login(board(), "Baiq Kasi")
    stolen = copy_of(kasi, board())
    elsewhere = login(board(), "Baiq Kasi")  # the same person on another computer
    assert stolen.get("/").status_code == 200
    token = csrf_of(kasi.get("/").text)
    assert kasi.post("/keluar", data={"csrf": token}).status_code == 303
    assert stolen.get("/").status_code == 303  # back to the login page
    assert stolen.get("/peta/data.json").status_code == 303
    assert elsewhere.get("/").status_code == 303  # every session of the account ended
    assert login(board(), "Baiq Kasi").get("/").status_code == 200  # a new login works


@pytest.mark.parametrize("board", BACKENDS, indirect=True)
def test_a_new_password_ends_every_session(board):
    kabid = login(board(), "Hj Kabid")
    other = login(board(), "Baiq Kasi")
    store = TicketStore(board.url)
    try:
        AccountStore(store).set_hash("Hj Kabid", "$argon2id$not-a-real-hash", at=NOW)
    finally:
        store.close()
    assert kabid.get("/").status_code == 303
    assert other.get("/").status_code == 200  # other accounts keep their sessions


def test_nonaktifkan_ends_sessions_and_refuses_logins(board, tmp_path, monkeypatch, capsys):
    kadis = login(board(), "Lalu Kadis")
    monkeypatch.setenv("SIGAP_INVENTORY", str(tmp_path / "inventory.yaml"))
    monkeypatch.setenv("SIGAP_DB_URL", board.url)

    def sigap(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sigap", *args])
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        with pytest.raises(SystemExit) as info:
            cli.main()
        out, err = capsys.readouterr()
        return info.value.code, out, " ".join(err.split())

    code, out, err = sigap("web", "pengguna", "nonaktifkan", "lalu kadis")
    assert code == 0, err
    assert "akun web Lalu Kadis dinonaktifkan" in out
    assert kadis.get("/").status_code == 303
    fresh = board()
    token = csrf_of(fresh.get("/masuk").text)
    refused = fresh.post(
        "/masuk", data={"nama": "Lalu Kadis", "sandi": password_of("Lalu Kadis"), "csrf": token}
    )
    assert refused.status_code == 401
    code, out, _ = sigap("web", "pengguna", "list")
    assert "sandi: nonaktif" in out
    code, _, err = sigap("web", "pengguna", "nonaktifkan", "Siapa Saja")
    assert code == 1
    assert "tidak punya akun web" in err
    code, out, err = sigap(
        "web", "pengguna", "set-password", "Lalu Kadis", stdin=password_of("Lalu Kadis") + "\n"
    )
    assert code == 0, err
    assert "semua sesi lama" in out
    assert login(board(), "Lalu Kadis").get("/").status_code == 200  # enabled again


def test_nonaktifkan_help_is_indonesian(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sigap", "web", "pengguna", "--help"])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        cli.main()
    assert "Nonaktifkan akun web" in capsys.readouterr().out


# ---------------------------------------------------------------- finding 4: body limits


def echo_app(limit: int) -> tuple[BodyLimit, list[int]]:
    """An app that reads the whole body behind the limit; the list gets each length read."""
    read_sizes: list[int] = []

    async def read(request: Request) -> PlainTextResponse:
        read_sizes.extend([len(chunk) async for chunk in request.stream()])
        return PlainTextResponse(str(sum(read_sizes)))

    app = Starlette(routes=[Route("/", read, methods=["POST"])])
    return BodyLimit(app, limit=limit), read_sizes


def test_declared_length_over_the_limit_is_refused_before_reading():
    app, _ = echo_app(1000)
    with TestClient(app) as client:
        assert client.post("/", content=b"x" * 1000).text == "1000"
        reply = client.post("/", content=b"x" * 1001)
        assert reply.status_code == 413
        assert "terlalu besar" in reply.text
    for junk in ("1\xb2".encode("latin-1"), b"-1", b"1e9", b"0x10"):
        assert asgi_status(app, [(b"content-length", junk)]) == 400, junk


def asgi_status(app: BodyLimit, headers: list[tuple[bytes, bytes]]) -> int:
    """The status ``app`` answers a POST with ``headers`` and a one-byte body (raw ASGI)."""
    sent: list[dict] = []
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers,
             "query_string": b"", "http_version": "1.1", "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1), "root_path": ""}  # fmt: skip

    async def receive() -> dict:
        return {"type": "http.request", "body": b"x", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return int(sent[0]["status"])


def test_chunked_body_is_cut_off_while_streaming():
    app, read_sizes = echo_app(64 * 1024)

    def chunks():
        for _ in range(8 * 1024):  # 8 MiB of 1 KiB chunks, never built in memory
            yield b"y" * 1024

    with TestClient(app) as client:
        reply = client.post("/", content=chunks())
    assert reply.status_code == 413
    assert "terlalu besar" in reply.text
    assert sum(read_sizes) <= 64 * 1024  # the app never got a byte past the limit


def test_board_form_over_the_limit_is_413_before_csrf(board):
    client = board()
    huge = {"nama": "x" * 100_000, "sandi": "y", "csrf": "z"}
    reply = client.post("/masuk", data=huge)
    assert reply.status_code == 413
    assert "terlalu besar" in reply.text


def test_webhook_limit_is_its_own(webhook_office):  # noqa: F811 - the imported fixture
    tmp_path, url = webhook_office
    with client_of(tmp_path, url) as client:
        body = payload("wamid.L1", "6281270001000", "internet mati " + "x" * 100_000)
        signed = {"X-Hub-Signature-256": signature(APP_SECRET, body)}
        assert client.post(PATH, content=body, headers=signed).status_code == 200  # > 64 KiB
        big = b" " * (3 * 1024 * 1024 + 1)
        assert client.post(PATH, content=big).status_code == 413


# ---------------------------------------------------------------- finding 8: webhook edges


def test_non_ascii_signature_is_401_not_500(webhook_office):  # noqa: F811
    tmp_path, url = webhook_office
    body = payload("wamid.S1", "6281270001000", "internet mati")
    with client_of(tmp_path, url) as client:
        for header in ("sha256=ä" + "0" * 63, "²", "sha256=\u00ff"):
            reply = client.post(
                PATH, content=body, headers={"X-Hub-Signature-256": header.encode("latin-1")}
            )
            assert reply.status_code == 401, header


def test_deeply_nested_json_with_a_valid_signature_is_400(webhook_office):  # noqa: F811
    tmp_path, url = webhook_office
    with client_of(tmp_path, url) as client:
        for depth in (100_000, 500_000):
            body = b"[" * depth + b"]" * depth
            if len(body) > 3 * 1024 * 1024:
                break
            reply = client.post(
                PATH, content=body, headers={"X-Hub-Signature-256": signature(APP_SECRET, body)}
            )
            assert reply.status_code == 400
        nested = json.dumps({"entry": [{"changes": [{"value": {"messages": "x" * 10}}]}]})
        ok = client.post(
            PATH,
            content=nested.encode(),
            headers={"X-Hub-Signature-256": signature(APP_SECRET, nested.encode())},
        )
        assert ok.status_code == 200


# ---------------------------------------------------------------- finding 8d: proxy secret


def test_proxy_headers_need_the_shared_secret(board):
    secret = "rahasia-proxy-0123456789"  # noqa: S105 - a test value
    settings = AuthSettings(
        proxy_header="X-Remote-User",
        trusted_proxies=frozenset({"testclient"}),  # TestClient's peer plays the local proxy
        proxy_secret=secret,
    )
    client = board(settings)
    forged = client.get("/", headers={"X-Remote-User": "Lalu Kadis"})
    assert forged.status_code == 303  # any local process: ignored
    wrong = client.get("/", headers={"X-Remote-User": "Lalu Kadis", PROXY_SECRET_HEADER: "x"})
    assert wrong.status_code == 303
    proxied = client.get("/", headers={"X-Remote-User": "Lalu Kadis", PROXY_SECRET_HEADER: secret})
    assert proxied.status_code == 200
    assert "Lalu Kadis" in proxied.text


# ---------------------------------------------------------------- finding 8a: OPD / device


def lapor(client: TestClient, **fields: str):
    data = {"sumber": "surat", "opd": "Sekretariat Daerah", "pelapor": "Staf Setda",
            "uraian": "RAHASIA SETDA: internet ruang rapat mati", **fields}  # fmt: skip
    data["csrf"] = csrf_of(client.get("/lapor").text)
    return client.post("/lapor", data=data)


def test_a_complaint_naming_another_opds_device_is_refused(board, tmp_path):
    kasi = login(board(), "Baiq Kasi")
    refused = lapor(kasi, perangkat="rsud-r1")
    assert refused.status_code == 400
    assert "milik RSUD Praya" in refused.text
    assert lapor(kasi, perangkat="setda-r1").status_code == 303
    entry = {"opd": "Sekretariat Daerah", "perangkat": "rsud-sw1", "masalah": "Switch tua",
             "csrf": csrf_of(kasi.get("/program").text)}  # fmt: skip
    assert kasi.post("/program/baru", data=entry).status_code == 400
    inventory = write_inventory(tmp_path)
    store = open_store(inventory, board.url)
    try:
        svc = ticket_service(inventory, store, lambda: NOW)
        with pytest.raises(DeviceOpdError) as info:
            svc.report(source="surat", opd="Sekretariat Daerah", reporter="x",
                       description="y", by="Baiq Kasi", device="rsud-sw1")  # fmt: skip
        assert info.value.owner == "RSUD Praya"
        assert [t.device for t in store.list()] == ["setda-r1"]
    finally:
        store.close()


def test_map_and_device_page_hide_other_opds_complaints(board, tmp_path):
    """A complaint stored before the check (or by a service without devices) stays hidden."""
    inventory = write_inventory(tmp_path)
    store = TicketStore(board.url)
    try:
        legacy = TicketService(store, people=inventory.people, calendar=OfficeCalendar(),
                               now=lambda: NOW)  # fmt: skip
        ticket = legacy.report(source="surat", opd="Sekretariat Daerah", reporter="Staf Setda",
                      description="RAHASIA SETDA: ruang rapat", by="Baiq Kasi",
                      device="rsud-r1")  # fmt: skip
    finally:
        store.close()
    pj = login(board(), "PJ RSUD")
    kasi = login(board(), "Baiq Kasi")
    for path, secret in (("/peta/data.json", "RAHASIA SETDA"), ("/peta", "RAHASIA SETDA"),
                         ("/perangkat/rsud-r1", ticket.number)):  # fmt: skip
        assert secret in kasi.get(path).text, path  # Diskominfo sees it
        seen = pj.get(path)
        assert seen.status_code == 200, path
        assert secret not in seen.text, path


# ---------------------------------------------------------------- finding 8c: no 500


PARAM_RE = re.compile(r'query_(?:text|int|month)\(\s*request,\s*"([\w.]+)"|q\.get\("([\w.]+)"')
JUNK = (  # in every query parameter of every route: one of each kind
    "²", "99999999999999999999", "-1", "١٢", "99999-01", "a\x00b", "\u202e\x1b[2J", "%ff",
    "x" * 5000, "😀",
)  # fmt: skip
PATH_JUNK = (*JUNK, "0", " 7 ", "2026-13", "[]", "../../etc", "\x00")


def query_params_in_source() -> set[str]:
    """Every query parameter a page handler reads (agent/web, the map, the webhook)."""
    root = Path(__file__).resolve().parents[2] / "agent"
    files = [*root.joinpath("web").glob("*.py"), root / "topology" / "web.py",
             root / "intake" / "whatsapp.py"]  # fmt: skip
    found = set()
    for path in files:
        for match in PARAM_RE.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) or match.group(2))
    return found


def get_paths(app: Starlette, junk: str) -> list[str]:
    """Every GET route of ``app`` with its path parameters filled with ``junk``."""
    fill = quote(junk, safe="")
    return [
        re.sub(r"\{[^}]+\}", lambda _m: fill, route.path)
        for route in app.routes
        if isinstance(route, Route) and "GET" in (route.methods or ())
    ]


@pytest.mark.parametrize("board", ["sqlite", pytest.param("postgresql", marks=[
    pytest.mark.postgres, pytest.mark.integration])], indirect=True)  # fmt: skip
def test_junk_in_every_query_parameter_of_every_get_route_is_never_500(board):
    params = query_params_in_source()
    assert {"hal", "langkah", "tahun", "bulan", "perangkat", "opd", "hub.mode"} <= params
    client = login(board(), "Baiq Kasi")
    quiet = TestClient(client.app, raise_server_exceptions=False, follow_redirects=False)
    quiet.cookies = client.cookies
    assert quiet.get("/").status_code == 200  # signed in: the pages themselves are fuzzed
    routes = get_paths(client.app, "x")
    assert len(routes) >= 12
    failures = []
    for route in routes:
        for junk in JUNK:
            for key in sorted(params):  # bounded: routes x junk x params requests
                value = junk if junk != "%ff" else None
                url = f"{route}?{quote(key)}=" + (quote(value, safe="") if value else "%ff%fe")
                status = quiet.get(url).status_code
                if status >= 500:
                    failures.append((status, url[:80]))
    failures += [
        (500, path[:80])
        for junk in PATH_JUNK
        for path in get_paths(client.app, junk)
        if quiet.get(path).status_code >= 500
    ]
    assert failures == []


@pytest.mark.parametrize("board", BACKENDS, indirect=True)
def test_the_500s_of_the_review_are_400_with_a_message(board):
    client = login(board(), "Baiq Kasi")
    for url in ("/tiket?hal=%C2%B2", "/tiket?hal=99999999999999999999", "/tiket?langkah=%C2%B2",
                "/program?tahun=%C2%B2", "/program?tahun=99999999", "/laporan?bulan=99999-01",
                "/program/ekspor?tahun=-5", "/tiket?perangkat=" + "x" * 300):  # fmt: skip
        reply = client.get(url)
        assert reply.status_code == 400, url
        assert "Parameter" in reply.text, url
    refused = lapor(client, perangkat="p" * 300)
    assert refused.status_code == 400
    assert "terlalu panjang" in refused.text
    assert lapor(client, pelapor="nul\x00di tengah").status_code == 400


# ---------------------------------------------------------------- finding 8e: shown


@pytest.mark.parametrize("board", BACKENDS, indirect=True)
def test_hostile_text_never_acts_in_the_boards_pages_and_json(board, tmp_path):
    inventory = write_inventory(tmp_path)
    corpus = NO_NUL if board.url.startswith("postgresql") else CORPUS
    store = TicketStore(board.url)
    try:
        svc = ticket_service(inventory, store, lambda: NOW)
        numbers = [
            svc.report(source="email", opd="Diskominfo", reporter="Warga " + h.marker[:20],
                       description=h.text, by="Baiq Kasi", device="core-r1").number
            for h in corpus
        ]  # fmt: skip
    finally:
        store.close()
    kasi = login(board(), "Baiq Kasi")
    pages = [kasi.get(f"/tiket/{quote(n)}").text for n in numbers]
    assert_shown("\n".join(pages), corpus)
    for path in ("/", "/tiket", "/tiket?hal=2", "/peta", "/peta/data.json", "/perangkat/core-r1"):
        reply = kasi.get(path)
        assert reply.status_code == 200, path
        assert unsafe(reply.text) == [], path
    nodes = kasi.get("/peta/data.json").json()["nodes"]
    summaries = [b["summary"] for n in nodes for b in n["tickets"]]
    assert any("\\u202egnp.exe" in s for s in summaries)  # escaped, readable


@pytest.mark.parametrize("board", BACKENDS, indirect=True)
def test_hostile_form_text_is_kept_and_shown_or_refused_with_a_message(board):
    """Every corpus entry (NUL included, on PostgreSQL too) in the complaint form's fields."""
    kasi = login(board(), "Baiq Kasi")
    kept = []
    for h in CORPUS:
        reply = lapor(kasi, uraian=h.text[:4000], pelapor=h.text[:200])
        if reply.status_code == 400:
            assert "berisi karakter kendali" in reply.text or "terlalu panjang" in reply.text
            assert any(
                unicodedata.category(c) in {"Cc", "Cs"} for c in h.text[:4000] + h.text[:200]
            )
            continue
        assert reply.status_code == 303, h.marker
        page = kasi.get(reply.headers["location"]).text
        assert unsafe(page) == []
        assert h.marker[:20] in page
        kept.append(h.marker)
    assert "gnp.exe" in kept  # bidi and zero-width characters: kept, shown escaped
    assert len(kept) >= len(CORPUS) // 2


def test_an_oversized_webhook_post_is_counted(webhook_office):  # noqa: F811
    tmp_path, url = webhook_office
    before = STATS.get("wa", "oversized")

    def chunks():
        for _ in range(5 * 1024):  # 5 MiB, streamed without a Content-Length
            yield b"z" * 1024

    with client_of(tmp_path, url) as client:
        assert client.post(PATH, content=chunks()).status_code == 413
    assert STATS.get("wa", "oversized") == before + 1


def test_forwarded_for_needs_the_shared_secret_too(board):
    """Without the secret a local process cannot dodge the address limit with X-Forwarded-For."""
    secret = "rahasia-proxy-0123456789"  # noqa: S105 - a test value
    limits = Limits(per_account=50, per_address=3)
    client = board(AuthSettings(trusted_proxies=frozenset({"testclient"}), proxy_secret=secret,
                                login_limits=limits))  # fmt: skip

    def fail(n: int, **headers: str) -> int:
        token = csrf_of(client.get("/masuk").text)
        data = {"nama": f"Tebakan {n}", "sandi": "x" * 12, "csrf": token}
        return client.post("/masuk", data=data, headers=headers).status_code

    for n in range(3):  # each from a "new" address, but without the secret: one address
        assert fail(n, **{"X-Forwarded-For": f"192.0.2.{n}"}) == 401
    assert fail(9, **{"X-Forwarded-For": "192.0.2.99"}) == 429
    through = {"X-Forwarded-For": "10.0.0.5", PROXY_SECRET_HEADER: secret}
    assert fail(10, **through) == 401  # the proxy's own forwarded address is believed
