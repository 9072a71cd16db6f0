"""WhatsApp webhook: handshake, signature (401 and no ticket when wrong), messages -> tickets."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from agent.config.load import load_inventory
from agent.intake.stats import IntakeStats
from agent.intake.whatsapp import routes, signature
from agent.wiring import build_intake_handler
from ticketing.migrate import migrate
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

INVENTORY = """\
office: {name: Dinas Komunikasi dan Informatika, timezone: Asia/Makassar}
defaults: {platform: mikrotik_routeros, role: router}
hosts:
  rtr-dinkes: {address: 10.52.30.1, opd: Dinas Kesehatan}
people:
  - {name: Kasi Jaringan, role: kasi}
  - {name: Budi Dinkes, role: pj_opd, opd: Dinas Kesehatan, phone: "0812-1111-2222"}
intake:
  whatsapp: {verify_token_env: T_VERIFY, app_secret_env: T_SECRET, phone_number_id: "1234"}
"""
SECRET = "app-secret-for-tests"  # noqa: S105


def payload(wamid: str, phone: str, text: str) -> bytes:
    """What the Cloud API posts for one text message (shape of the API's webhook)."""
    msg = {
        "from": phone,
        "id": wamid,
        "timestamp": "1795000000",
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "1234"},
        "contacts": [{"wa_id": phone, "profile": {"name": "Budi"}}],
        "messages": [msg],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("T_VERIFY", "verify-me")
    monkeypatch.setenv("T_SECRET", SECRET)
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    inventory = load_inventory(path)
    store = TicketStore(TicketStore.sqlite_url(tmp_path / "wa.db"))
    migrate(store)
    handler = build_intake_handler(inventory, store, lambda: datetime.now(UTC))
    handler.stats = IntakeStats()
    asgi = Starlette(routes=routes(inventory.intake.whatsapp, handler))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://wa.test")
    yield client, store, handler
    store.close()


async def test_verification_handshake(app):
    client, _store, _h = app
    ok = await client.get(
        "/intake/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"},
    )
    assert ok.status_code == 200
    assert ok.text == "42"
    bad = await client.get(
        "/intake/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"},
    )
    assert bad.status_code == 403


async def test_bad_signature_is_401_and_no_ticket(app):
    client, store, handler = app
    body = payload("wamid.A", "6281211112222", "internet mati")
    for header in (signature("wrong-secret", body), "", "sha256=00"):
        r = await client.post(
            "/intake/whatsapp", content=body, headers={"X-Hub-Signature-256": header}
        )
        assert r.status_code == 401
    assert store.list() == []
    assert handler.stats.get("wa", "bad_signature") == 3


async def test_signed_message_from_known_number_becomes_then_joins_ticket(app):
    client, store, handler = app
    for wamid, text in (("wamid.1", "internet mati di dinkes"), ("wamid.2", "masih mati")):
        body = payload(wamid, "6281211112222", text)
        r = await client.post(
            "/intake/whatsapp",
            content=body,
            headers={"X-Hub-Signature-256": signature(SECRET, body)},
        )
        assert r.status_code == 200
    # the API retries: the same wamid again is a duplicate, not a third entry
    body = payload("wamid.1", "6281211112222", "internet mati di dinkes")
    r = await client.post(
        "/intake/whatsapp", content=body, headers={"X-Hub-Signature-256": signature(SECRET, body)}
    )
    assert r.json()["results"] == ["duplicate"]
    tickets = store.list()
    assert len(tickets) == 1
    assert tickets[0].opd == "Dinas Kesehatan"
    assert tickets[0].source == "wa"
    assert handler.stats.get("wa", "created") == 1
    assert handler.stats.get("wa", "joined") == 1
    unknown = payload("wamid.3", "6289999999999", "halo")
    r = await client.post(
        "/intake/whatsapp",
        content=unknown,
        headers={"X-Hub-Signature-256": signature(SECRET, unknown)},
    )
    assert r.json()["results"] == ["unknown_sender"]
    assert len(store.list()) == 1
