"""Tak terpantau on the web board (issue 23): a zone whose poller is silent, rendered.

The heartbeat rows are written to a real database (SQLite in tmp_path; the table is the
same on PostgreSQL, where ``tests/integration/test_web_zones_pg.py`` runs the real wiring).
SQLite has no zones in production, so ``sigap web`` reads none there: these tests hand the
board the PostgreSQL reader (``agent.zones.view.silent_zones``) themselves.
"""

from __future__ import annotations

import dataclasses
import html
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import jsonschema
import pytest

from agent.admin.tokens import new_token
from agent.config.load import load_inventory
from agent.web.zoneview import MAX_NODES
from agent.wiring import build_web_app, open_store, zone_watch
from agent.zones.view import cluster_lease, read_zones, silent_zones
from tests.webboard import (
    SECRET,
    ZONED_INVENTORY,
    TestClient,
    csrf_of,
    password_of,
    set_passwords,
    write_inventory,
)
from ticketing.admin_log import AdminLog
from ticketing.faults import Fault, FaultKind
from ticketing.store import TicketStore
from ticketing.zones import Beat, beat

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from agent.config.model import Inventory

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 09:30 WITA
SILENT_SINCE = NOW - timedelta(minutes=10)  # 09:20 WITA: far past 2 x lease (15 s)
CLUSTER = "sigap"  # no daemon.ha: the default cluster
ZONED = ZONED_INVENTORY
HOSTILE = "<script>alert(1)</script>\x1b[31m\u202e" + "x" * 5000


@pytest.fixture
def office(tmp_path: Path) -> tuple[Inventory, str]:
    path = tmp_path / "inventory.yaml"
    path.write_text(ZONED, encoding="utf-8")
    inventory = load_inventory(path)
    assert inventory.remote_zones() == ["kec-jonggat", "kec-praya"]
    url = TicketStore.sqlite_url(tmp_path / "board.db")
    set_passwords(url)
    return inventory, url


@pytest.fixture
def store(office: tuple[Inventory, str]) -> Iterator[TicketStore]:
    with TicketStore(office[1]) as s:
        yield s


def heartbeat(store: TicketStore, node: str, zones: tuple[str, ...], seen: datetime) -> None:
    beat(store, CLUSTER, Beat(node, zones, seen - timedelta(hours=1), seen))


@pytest.fixture
def person(office: tuple[Inventory, str]) -> Iterator[Callable[..., TestClient]]:
    inventory, url = office
    clients: list[TestClient] = []

    def make(name: str, *, zones: bool = True) -> TestClient:
        app = build_web_app(
            inventory, open_store(inventory, url), now=lambda: NOW, secret_key=SECRET
        )
        if zones:  # what zone_watch hands a board on PostgreSQL
            app.state.board = dataclasses.replace(app.state.board, zones=silent_zones)
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        page = client.get("/masuk")
        reply = client.post(
            "/masuk",
            data={"nama": name, "sandi": password_of(name), "csrf": csrf_of(page.text)},
        )
        assert reply.status_code == 303, reply.text
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def down_card(page: str) -> str:
    return page.split("<h2>Perangkat mati per OPD</h2>", 1)[1].split("</div>", 1)[0]


def banners(page: str) -> list[str]:
    return [part.split("</section>", 1)[0] for part in page.split('class="card unmonitored"')[1:]]


def outage(store: TicketStore) -> str:
    fault = Fault("rsud-r1", FaultKind.DEVICE_DOWN, "Router rsud-r1 mati", opd="RSUD Praya")
    number = store.open_fault(fault, at=SILENT_SINCE - timedelta(minutes=5)).ticket.number
    store.attach(fault.key, "rsud-sw1", at=SILENT_SINCE - timedelta(minutes=5))
    return number


# ---------------------------------------------------------------- dashboard


def test_a_silent_zone_is_a_banner_and_its_devices_leave_the_down_list(person, store) -> None:
    number = outage(store)
    heartbeat(store, "pol-praya", ("kec-praya",), SILENT_SINCE)
    heartbeat(store, "pol-jonggat", ("kec-jonggat",), NOW - timedelta(seconds=4))
    page = person("Baiq Kasi").get("/").text
    [banner] = banners(page)  # kec-jonggat's poller is live: no banner
    assert "Zona kec-praya: 2 perangkat" in banner
    assert '<span class="st-unmonitored">tak terpantau</span>' in banner
    assert "Poller <b>pol-praya</b> tidak melapor sejak 24/11/2026 09:20 WITA" in banner
    assert "bukan keadaan sekarang" in banner
    # the last known outage is beside the zone, greyed, with its ticket
    assert '<p class="small stale">Terakhir diketahui bermasalah: ' in banner
    assert f'rsud-r1</a> (mati sejak 24/11/2026 09:15, <a href="/tiket/{number}">' in banner
    assert "rsud-sw1</a> (di belakang sejak" in banner
    assert "rsud-r1" not in down_card(page)  # not shown as down now
    assert "Semua perangkat yang terpantau menjawab." in down_card(page)
    assert "tak terpantau</span> 2 perangkat (poller zonanya diam" in down_card(page)
    assert "kec-jonggat" not in page


def test_a_fresh_heartbeat_makes_the_board_normal_again(person, store) -> None:
    number = outage(store)
    heartbeat(store, "pol-praya", ("kec-praya",), SILENT_SINCE)
    heartbeat(store, "pol-jonggat", ("kec-jonggat",), NOW)
    kasi = person("Baiq Kasi")
    assert len(banners(kasi.get("/").text)) == 1
    heartbeat(store, "pol-praya", ("kec-praya",), NOW - timedelta(seconds=2))
    page = kasi.get("/").text
    assert banners(page) == []
    assert "tak terpantau" not in page
    assert f"rsud-sw1</a> (di belakang, {number})" in down_card(page)


def test_a_zone_that_never_had_a_poller_says_so(person, store) -> None:
    heartbeat(store, "pol-praya", ("kec-praya",), NOW)
    [banner] = banners(person("Baiq Kasi").get("/").text)
    assert "Zona kec-jonggat: 1 perangkat" in banner
    assert "Belum pernah ada poller zona ini yang melapor" in banner
    assert "Terakhir diketahui bermasalah" not in banner


def test_the_banner_links_the_pollers_own_ticket(person, store) -> None:
    heartbeat(store, "pol-praya", ("kec-praya",), SILENT_SINCE)
    heartbeat(store, "pol-jonggat", ("kec-jonggat",), NOW)
    fault = Fault("poller:pol-praya", FaultKind.POLLER_DOWN, "Poller zona kec-praya diam")
    number = store.open_fault(fault, at=SILENT_SINCE + timedelta(seconds=30)).ticket.number
    [banner] = banners(person("Baiq Kasi").get("/").text)
    assert f'(tiket <a href="/tiket/{number}">{number}</a>)' in banner


def test_an_opd_contact_sees_only_the_zones_of_their_devices(person, store) -> None:
    heartbeat(store, "pol-praya", ("kec-praya",), SILENT_SINCE)  # RSUD's devices
    page = person("PJ RSUD").get("/").text
    assert [b.split("</h2>", 1)[0].rsplit("Zona ", 1)[1] for b in banners(page)] == [
        "kec-praya: 2 perangkat"
    ]  # kec-jonggat never had a poller, but only Setda's device is there


def test_hostile_poller_names_from_the_database_are_escaped_and_cut(person, store) -> None:
    heartbeat(store, HOSTILE, ("kec-praya", "<img src=x onerror=alert(2)>", ""), SILENT_SINCE)
    heartbeat(store, "pol-jonggat", ("kec-jonggat,,\x00",), NOW)  # a zone no device has
    page = person("Baiq Kasi").get("/").text
    [banner] = banners(page)
    assert "Zona kec-praya" in banner
    assert "<script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in banner
    assert "\x1b" not in page
    assert "\u202e" not in page
    assert "\\x1b[31m" in banner  # shown as its escape
    assert "x" * 100 not in page  # cut to a name's length
    assert len(page) < 20_000


def test_many_silent_pollers_are_counted_not_all_named(person, store) -> None:
    for i in range(40):
        heartbeat(
            store, f"pol-{i:02d}", ("kec-praya", "kec-jonggat"), SILENT_SINCE + timedelta(seconds=i)
        )
    page = person("Baiq Kasi").get("/").text
    for banner in banners(page):
        assert "<b>pol-39</b>" in banner  # the last heard first
        assert banner.count("<b>pol-") == MAX_NODES
        assert f"dan {40 - MAX_NODES} lainnya tidak melapor sejak 24/11/2026 09:20 WITA" in banner


def test_sqlite_boards_read_no_zones(person, store) -> None:
    heartbeat(store, "pol-praya", ("kec-praya",), SILENT_SINCE)
    number = outage(store)
    page = person("Baiq Kasi", zones=False).get("/").text
    assert banners(page) == []
    assert f"rsud-sw1</a> (di belakang, {number})" in down_card(page)
    assert zone_watch(store) is None  # what build_web_app hands the board on SQLite


# ---------------------------------------------------------------- device page


def test_the_device_page_says_tak_terpantau_beside_the_last_known_state(person, store) -> None:
    number = outage(store)
    heartbeat(store, "pol-praya", ("kec-praya",), SILENT_SINCE)
    heartbeat(store, "pol-jonggat", ("kec-jonggat",), NOW)
    kasi = person("Baiq Kasi")
    page = kasi.get("/perangkat/rsud-r1").text
    [banner] = banners(page)
    assert "Poller <b>pol-praya</b> tidak melapor sejak 24/11/2026 09:20 WITA" in banner
    assert "Daftar perangkat" not in banner  # the device page names its zone only
    assert "<dt>Zona</dt><dd>kec-praya</dd>" in page
    status = html.unescape(page.split("<dt>Status sekarang</dt><dd>", 1)[1].split("</dd>", 1)[0])
    assert status.startswith(
        '<span class="st-unmonitored">tak terpantau</span> (poller zona diam) '
        '<span class="stale">terakhir diketahui: <span class="st-open">bermasalah</span>'
    )
    assert number in status
    live = kasi.get("/perangkat/setda-r1").text
    assert banners(live) == []
    assert "tak terpantau" not in live
    assert '<span class="st-resolved">normal</span>' in live
    centre = kasi.get("/perangkat/core-r1").text
    assert "<dt>Zona</dt>" not in centre
    assert "tak terpantau" not in centre


# ---------------------------------------------------------------- the reader


def test_the_reader_uses_the_clusters_rows_and_the_status_window(store, office, tmp_path) -> None:
    inventory, _ = office
    assert cluster_lease(inventory) == ("sigap", 15.0)
    heartbeat(store, "pol-praya", ("kec-praya",), NOW - timedelta(seconds=30))  # 2 x lease
    beat(store, "other", Beat("pol-jonggat", ("kec-jonggat",), NOW, NOW))  # another cluster
    zones = {z.zone: z for z in read_zones(inventory, store, NOW)}
    assert zones["kec-praya"].monitored
    assert zones["kec-praya"].devices == ("rsud-r1", "rsud-sw1")
    assert not zones["kec-jonggat"].monitored
    assert zones["kec-jonggat"].since is None
    later = NOW + timedelta(seconds=1)
    assert [z.zone for z in silent_zones(inventory, store, later)] == ["kec-jonggat", "kec-praya"]
    (tmp_path / "plain").mkdir()
    assert silent_zones(write_inventory(tmp_path / "plain"), store, NOW) == []  # no zones


# ---------------------------------------------------------------- map


def test_the_map_draws_a_silent_zones_devices_as_tak_terpantau(person, store) -> None:
    outage(store)
    heartbeat(store, "pol-praya", ("kec-praya",), SILENT_SINCE)
    heartbeat(store, "pol-jonggat", ("kec-jonggat",), NOW)
    kasi = person("Baiq Kasi")
    data = kasi.get("/peta/data.json").json()
    state = {n["id"]: n["state"] for n in data["nodes"]}
    assert state == {
        "core-r1": "up",
        "rsud-r1": "unmonitored",  # down when last heard of: its ticket stays a badge
        "rsud-sw1": "unmonitored",
        "setda-r1": "up",
    }
    assert data["counts"]["unmonitored"] == 2
    assert data["counts"]["down"] == 0
    page = kasi.get("/peta").text
    [banner] = banners(page)
    assert "Poller <b>pol-praya</b> tidak melapor sejak 24/11/2026 09:20 WITA" in banner
    assert 'class="node st-unmonitored" data-device="rsud-r1"' in page
    heartbeat(store, "pol-praya", ("kec-praya",), NOW)
    again = kasi.get("/peta/data.json").json()
    assert {n["id"]: n["state"] for n in again["nodes"]}["rsud-r1"] == "down"


# ---------------------------------------------------------------- JSON API


def test_the_api_says_which_devices_nobody_polls(person, store) -> None:
    outage(store)
    heartbeat(store, "pol-praya", ("kec-praya",), SILENT_SINCE)
    heartbeat(store, "pol-jonggat", ("kec-jonggat",), NOW)
    token, hashed = new_token()
    AdminLog(store).add_token("Baiq Kasi", "tes", hashed, at=NOW)
    client = person("Baiq Kasi")
    reply = client.get("/api/v1/perangkat", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    rows = {d["nama"]: d for d in reply.json()["perangkat"]}
    assert {n: (d["zona"], d["terpantau"], d["keadaan"]) for n, d in rows.items()} == {
        "core-r1": ("pusat", True, "normal"),
        "rsud-r1": ("kec-praya", False, "mati"),  # last known, not current
        "rsud-sw1": ("kec-praya", False, "tak_terjangkau"),
        "setda-r1": ("kec-jonggat", True, "normal"),
    }
    schema = client.get("/api/v1/openapi.json").json()
    root = {"$ref": "#/components/schemas/DaftarPerangkat", "components": schema["components"]}
    jsonschema.Draft202012Validator(root).validate(reply.json())
    device = schema["components"]["schemas"]["Perangkat"]["properties"]
    assert device["terpantau"]["type"] == "boolean"
