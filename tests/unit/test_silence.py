"""Silencing a ticket's notifications (issue 21): the outbox holds them until the expiry or
a cancel; other tickets' messages go on. The board's form: Kasi and up, CSRF, reason required.

SQLite and PostgreSQL (the outbox test's router and store, reused).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.wiring import build_web_app, open_store
from tests.unit.test_outbox import FAULT, LEASE, T0, WINDOW, claim, render, router, store
from tests.webboard import SECRET, TestClient, csrf_of, login, set_passwords, write_inventory
from ticketing.admin_log import Silences
from ticketing.errors import TicketNotFoundError
from ticketing.faults import Fault, FaultKind
from ticketing.outbox.queue import Outbox
from ticketing.store import TicketStore

__all__ = ["router", "store"]  # fixtures from the outbox test
OTHER = Fault("rtr-lain", FaultKind.DEVICE_DOWN, "Router lain mati", opd="Diskominfo")


def test_silenced_ticket_waits_others_go_on(store, router):
    silenced = store.open_fault(FAULT, at=T0).ticket.number
    other = store.open_fault(OTHER, at=T0).ticket.number
    until = T0 + timedelta(hours=2)
    Silences(store).silence(silenced, by="Baiq Kasi", reason="sudah diketahui", until=until, at=T0)
    due = T0 + WINDOW + timedelta(seconds=1)
    got = claim(store, due)
    assert {d.ticket for d in got} == {other}
    view = Silences(store).active(silenced, at=due)
    assert view is not None
    assert (view.by, view.reason, view.until) == ("Baiq Kasi", "sudah diketahui", until)
    held = claim(store, until - timedelta(seconds=1))  # still held just before the end
    assert silenced not in {d.ticket for d in held}
    after = claim(store, until + LEASE + timedelta(seconds=1))
    assert silenced in {d.ticket for d in after}  # held, then delivered after the expiry


def test_cancel_releases_at_once(store, router):
    number = store.open_fault(FAULT, at=T0).ticket.number
    silences = Silences(store)
    silences.silence(number, by="x", reason="r", until=T0 + timedelta(days=1), at=T0)
    due = T0 + WINDOW + timedelta(seconds=1)
    assert claim(store, due) == []
    assert silences.cancel(number, at=due) == 1
    assert silences.active(number, at=due) is None
    assert {d.ticket for d in claim(store, due)} == {number}
    with pytest.raises(TicketNotFoundError):
        silences.silence("GJ/2099/9999", by="x", reason="r", until=due, at=due)


def test_outbox_render_is_unchanged_for_unsilenced_rows(store, router):
    number = store.open_fault(FAULT, at=T0).ticket.number
    [first, *_] = Outbox(store).claim(
        now=T0 + WINDOW, owner="w", lease=LEASE, render=render, limit=1
    )
    assert first.ticket == number


# ---------------------------------------------------------------- the board's form


@pytest.fixture
def board(tmp_path):
    inventory = write_inventory(tmp_path)
    url = TicketStore.sqlite_url(tmp_path / "b.db")
    set_passwords(url)
    with TicketStore(url) as s:
        number = s.open_fault(Fault("rsud-r1", FaultKind.DEVICE_DOWN, "mati"), at=T0).ticket.number
    app = build_web_app(inventory, open_store(inventory, url), now=lambda: T0, secret_key=SECRET)
    with TestClient(app, follow_redirects=False) as client:
        yield client, number, url


def test_board_silence_form(board):
    client, number, url = board
    login(client, "Teknisi Satu")
    page = client.get(f"/tiket/{number}")
    assert 'action="/admin/bungkam"' not in page.text
    token = csrf_of(page.text)
    data = {"nomor": number, "alasan": "menunggu PLN", "jam": "3", "csrf": token}
    assert client.post("/admin/bungkam", data=data).status_code == 403
    login(client, "Baiq Kasi")
    page = client.get(f"/tiket/{number}")
    assert 'action="/admin/bungkam"' in page.text
    token = csrf_of(page.text)
    assert client.post("/admin/bungkam", data={**data, "csrf": "palsu"}).status_code == 403
    assert (
        client.post("/admin/bungkam", data={**data, "csrf": token, "alasan": ""}).status_code == 400
    )
    assert (
        client.post("/admin/bungkam", data={**data, "csrf": token, "jam": "0"}).status_code == 400
    )
    assert (
        client.post("/admin/bungkam", data={**data, "csrf": token, "alasan": "a\x00"}).status_code
        == 400
    )
    reply = client.post("/admin/bungkam", data={**data, "csrf": token})
    assert reply.status_code == 303, reply.text
    page = client.get(f"/tiket/{number}")
    assert "Dibungkam oleh Baiq Kasi" in page.text
    assert "menunggu PLN" in page.text
    with TicketStore(url) as s:
        view = Silences(s).active(number, at=T0)
    assert view is not None
    assert view.until == T0 + timedelta(hours=3)
    reply = client.post("/admin/bungkam/batal", data={"nomor": number, "csrf": csrf_of(page.text)})
    assert reply.status_code == 303
    assert "Dibungkam" not in client.get(f"/tiket/{number}").text
    missing = client.post("/admin/bungkam", data={**data, "csrf": token, "nomor": "GJ/2099/1"})
    assert missing.status_code == 404
