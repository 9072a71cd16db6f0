"""The map page of the web board (issue 11): layout, colours from open tickets, stored links
(lost ones marked), the live JSON, script and style from URLs (CSP), OPD contacts limited."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from agent.wiring import build_web_app, open_store
from tests.webboard import (
    SECRET,
    TestClient,
    set_passwords,
    signed_in_clients,
    write_inventory,
)
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.store import TicketStore
from ticketing.topology import NeighbourRecord, TopologyStore

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
UPLINK = ("core-r1", "ether2", "rsud-r1", "ether1")
LAN = ("rsud-r1", "ether3", "rsud-sw1", "Gi0-0")
SPARE = ("core-r1", "ether4", "setda-r1", "ether1")


@pytest.fixture
def office(tmp_path):
    inventory = write_inventory(tmp_path)
    url = TicketStore.sqlite_url(tmp_path / "peta.db")
    set_passwords(url)
    with TicketStore(url) as store:
        migrate(store)
        opened = store.open_fault(Fault("rsud-r1", FaultKind.DEVICE_DOWN, "rsud-r1 mati"), at=AT)
        store.attach(opened.ticket.fault_key or "", "rsud-sw1", at=AT)
        topo = TopologyStore(store)
        links = {UPLINK: ("lldp",), LAN: ("lldp",), SPARE: ("lldp",)}
        topo.save_links(links, seen=list(links), lost={SPARE: "core-r1/link_lost/ether4"}, at=AT)
        printer = NeighbourRecord("rsud-r1", "ether5", "printer-igd", "10.0.1.99", "eth0",
                                  "lldp", "", AT, AT)  # fmt: skip
        topo.record_neighbours([printer], at=AT)
    return inventory, url


@pytest.fixture
def client_of(office):
    inventory, url = office
    with signed_in_clients(inventory, url) as make:
        yield make


def test_map_needs_a_login(office):
    inventory, url = office
    with TestClient(
        build_web_app(inventory, open_store(inventory, url), secret_key=SECRET)
    ) as client:
        reply = client.get("/peta", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"].startswith("/masuk")


def test_map_page_in_the_board_layout_with_states_links_and_no_inline_script(client_of):
    client = client_of("Baiq Kasi")
    page = client.get("/peta")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/peta">Peta</a>' in html  # the menu entry
    assert 'data-device="rsud-r1" data-state="down"' in html
    assert 'data-device="rsud-sw1" data-state="unreachable"' in html
    assert 'data-device="setda-r1" data-state="up"' in html
    assert ">Gi0-0</text>" in html  # ports of the stored links
    assert 'class="link st-lost"' in html
    assert "core-r1 ether4 &harr; setda-r1 ether1" in html  # the lost-link list
    assert "printer-igd" in html
    assert "10.0.1.99" in html
    assert 'data-live="/peta/data.json"' in html
    assert 'data-device-url="/perangkat/{name}"' in html
    # the proxy's CSP allows no inline script or style: only the JSON data block is inline
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' type="application/json" id="sigap-map-data"']
    assert "<style" not in html
    script = client.get("/peta/peta.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "%LABELS%" not in script.text
    assert "tak terjangkau" in script.text
    assert client.get("/peta/peta.css").headers["content-type"].startswith("text/css")


def test_live_json_follows_the_tickets(client_of, office):
    client = client_of("Teknisi Satu")
    data = client.get("/peta/data.json").json()
    state = {n["id"]: n["state"] for n in data["nodes"]}
    assert state == {"core-r1": "up", "rsud-r1": "down", "rsud-sw1": "unreachable",
                     "setda-r1": "up"}  # fmt: skip
    (badge,) = next(n for n in data["nodes"] if n["id"] == "rsud-r1")["tickets"]
    assert badge["kind"] == "device_down"
    assert {(x["a"], x["b"], x["state"]) for x in data["links"]} == {
        ("core-r1", "rsud-r1", "down"),
        ("rsud-r1", "rsud-sw1", "down"),
        ("core-r1", "setda-r1", "lost"),
    }
    _inventory, url = office
    with TicketStore(url) as store:
        store.clear_fault("rsud-r1/device_down", at=AT)
    again = client.get("/peta/data.json").json()
    assert {n["id"]: n["state"] for n in again["nodes"]}["rsud-r1"] == "up"  # recovering
    assert again["counts"]["down"] == 0


def test_opd_contact_sees_only_their_opd(client_of):
    client = client_of("PJ RSUD")
    data = client.get("/peta/data.json").json()
    assert sorted(n["id"] for n in data["nodes"]) == ["rsud-r1", "rsud-sw1"]
    assert [(x["a"], x["b"]) for x in data["links"]] == [("rsud-r1", "rsud-sw1")]
    html = client.get("/peta").text
    assert "setda-r1" not in html
    assert 'data-device="core-r1"' not in html  # named as rsud-r1's parent, not drawn
    assert "printer-igd" not in html  # unknown neighbours are for Diskominfo
    assert json.loads(html.split('id="sigap-map-data">', 1)[1].split("</script>", 1)[0])["groups"]
