"""``sigap web`` serves the WhatsApp webhook next to the board (one public HTTPS endpoint).

The webhook's routes are plain Starlette routes in the board's app: the signature is their
authentication (no login, no CSRF), while every board page and form still wants both.
``sigap intake --no-webhook`` leaves the webhook to the board.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from datetime import UTC, datetime

import pytest

from agent.config.load import load_inventory
from agent.intake.whatsapp import signature
from agent.wiring import build_intake_run, build_web_app, open_store
from tests.webboard import INVENTORY, SECRET, TestClient, csrf_of, password_of, set_passwords
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

APP_SECRET = "whatsapp-app-secret-for-tests"  # noqa: S105 - a test key
PATH = "/intake/whatsapp"
INTAKE = """
intake:
  whatsapp: {verify_token_env: T_WA_VERIFY, app_secret_env: T_WA_SECRET, phone_number_id: "99"}
"""
NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 WITA


def payload(wamid: str, phone: str, text: str) -> bytes:
    """One text message as the Cloud API posts it."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "99"},
        "contacts": [{"wa_id": phone, "profile": {"name": "PJ RSUD"}}],
        "messages": [
            {"from": phone, "id": wamid, "timestamp": "1795000000", "type": "text",
             "text": {"body": text}},
        ],
    }  # fmt: skip
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}  # fmt: skip
    return json.dumps(body).encode()


def inventory_file(tmp_path, *, whatsapp: bool):
    text = textwrap.dedent(INVENTORY).replace(
        "{name: PJ RSUD, role: pj_opd, opd: RSUD Praya}",
        '{name: PJ RSUD, role: pj_opd, opd: RSUD Praya, phone: "0812-7000-1000"}',
    )
    path = tmp_path / "inventory.yaml"
    path.write_text(text + (INTAKE if whatsapp else ""), encoding="utf-8")
    return path


@pytest.fixture
def office(tmp_path, monkeypatch):
    monkeypatch.setenv("T_WA_VERIFY", "verify-me")
    monkeypatch.setenv("T_WA_SECRET", APP_SECRET)
    url = TicketStore.sqlite_url(tmp_path / "board.db")
    set_passwords(url)
    return tmp_path, url


def client_of(tmp_path, url, *, whatsapp: bool = True, webhook: bool = True) -> TestClient:
    inventory = load_inventory(inventory_file(tmp_path, whatsapp=whatsapp))
    app = build_web_app(
        inventory, open_store(inventory, url), now=lambda: NOW, secret_key=SECRET, webhook=webhook
    )
    return TestClient(app, follow_redirects=False)


def post(client: TestClient, body: bytes, key: str = APP_SECRET):
    return client.post(PATH, content=body, headers={"X-Hub-Signature-256": signature(key, body)})


def test_signed_message_becomes_a_ticket_without_a_login(office):
    tmp_path, url = office
    with client_of(tmp_path, url) as client:
        reply = post(client, payload("wamid.W1", "6281270001000", "internet poli mati"))
        assert reply.status_code == 200, reply.text
        assert reply.json()["results"] == ["created"]
        assert "set-cookie" not in reply.headers  # no session for the API
    store = TicketStore(url)
    try:
        [ticket] = store.list()
        assert (ticket.source, ticket.opd, ticket.sop) == ("wa", "RSUD Praya", "gangguan-internet")
    finally:
        store.close()


def test_handshake_and_bad_signature(office):
    tmp_path, url = office
    with client_of(tmp_path, url) as client:
        ok = client.get(
            PATH, params={"hub.mode": "subscribe", "hub.verify_token": "verify-me",
                          "hub.challenge": "1234"},
        )  # fmt: skip
        assert (ok.status_code, ok.text) == (200, "1234")
        body = payload("wamid.W2", "6281270001000", "internet mati")
        assert post(client, body, key="not-the-app-secret").status_code == 401
        unsigned = client.post(PATH, content=body)
        assert unsigned.status_code == 401
    store = TicketStore(url)
    try:
        assert store.list() == []
    finally:
        store.close()


def test_the_board_still_wants_a_login_and_csrf(office):
    tmp_path, url = office
    with client_of(tmp_path, url) as client:
        post(client, payload("wamid.W3", "6281270001000", "internet mati"))
        for path in ("/", "/tiket", "/tiket/GJ/2026/0001"):
            reply = client.get(path)
            assert reply.status_code == 303, path
            assert reply.headers["location"].startswith("/masuk")
        forged = client.post("/aksi/disposisi", data={"nomor": "GJ/2026/0001", "isi": "x"})
        assert forged.status_code == 403
        page = client.get("/masuk")
        name = "Hj Kabid"
        login = client.post(
            "/masuk", data={"nama": name, "sandi": password_of(name), "csrf": csrf_of(page.text)}
        )
        assert login.status_code == 303
        listing = client.get("/tiket")
        assert listing.status_code == 200
        assert "RSUD Praya" in listing.text


def test_no_webhook_without_intake_whatsapp_or_when_turned_off(office):
    tmp_path, url = office
    body = payload("wamid.W4", "6281270001000", "internet mati")
    with client_of(tmp_path, url, whatsapp=False) as client:
        assert post(client, body).status_code in {404, 405}
    with client_of(tmp_path, url, webhook=False) as client:
        assert post(client, body).status_code in {404, 405}


def test_intake_no_webhook_leaves_whatsapp_to_the_board(office, caplog):
    tmp_path, url = office
    inventory = load_inventory(inventory_file(tmp_path, whatsapp=True))
    store = TicketStore(url)
    try:
        stop = asyncio.Event()  # never set: the run must return by itself
        coro = build_intake_run(inventory, store, lambda: NOW, stop, notify=False, webhook=False)
        asyncio.run(asyncio.wait_for(coro, timeout=5))
    finally:
        store.close()
    assert "nothing to run" in caplog.text


def test_cli_options(sigap_help):
    assert "--no-webhook" in sigap_help("web")
    assert "--no-webhook" in sigap_help("intake")


@pytest.fixture
def sigap_help():
    from typer.testing import CliRunner

    from agent.cli import app

    def run(command: str) -> str:
        result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return result.output

    return run
