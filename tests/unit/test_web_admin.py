"""The board's admin pages through TestClient: roles, CSRF, check messages, conflicts, windows.

A real inventory file in tmp_path is edited through the pages; the ticket database is SQLite
and PostgreSQL (the shared ``store`` fixture gives the URL's database, migrated).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from agent.config.load import load_inventory
from agent.errors import ConfigError
from agent.web.auth import AuthSettings
from agent.wiring import build_web_app, open_store
from tests.hostile_text import CORPUS
from tests.webboard import (
    SECRET,
    TestClient,
    csrf_of,
    login,
    set_passwords,
    write_inventory,
)
from tests.webboard import _hash as hashed
from ticketing.accounts import AccountStore
from ticketing.admin_log import AdminLog
from ticketing.store import TicketStore

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 WITA
PEOPLE_EXTRA = "  - {name: Admin NOC, role: admin, opd: Diskominfo}\n"
VERSION_RE = re.compile(r'name="versi_inventaris" value="([0-9a-f]{64})"')


@pytest.fixture
def office(tmp_path, any_db_url):
    inventory = write_inventory(tmp_path, PEOPLE_EXTRA)
    url = any_db_url
    set_passwords(url)
    store = TicketStore(url)
    AccountStore(store).set_hash("Admin NOC", hashed("Admin NOC"), at=NOW)
    store.close()
    return inventory, url


@pytest.fixture
def make_client(office):
    inventory, url = office
    clients = []

    def make() -> TestClient:
        app = build_web_app(
            inventory,
            open_store(inventory, url),
            now=lambda: NOW,
            secret_key=SECRET,
            auth=AuthSettings(),
        )
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def as_person(make_client):
    return lambda name: login(make_client(), name)


def form_of(client: TestClient, path: str = "/admin") -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return {"csrf": csrf_of(page.text), "versi_inventaris": VERSION_RE.search(page.text).group(1)}


def test_admin_pages_are_for_kasi_and_up(as_person):
    for name in ("Teknisi Satu", "PJ RSUD"):
        client = as_person(name)
        assert client.get("/admin").status_code == 403
        assert client.get("/admin/perangkat/rsud-r1").status_code == 403
    for name in ("Baiq Kasi", "Hj Kabid", "Lalu Kadis", "Admin NOC"):
        assert as_person(name).get("/admin").status_code == 200, name
    assert as_person("Baiq Kasi").get("/admin/orang").status_code == 403
    assert as_person("Admin NOC").get("/admin/orang").status_code == 200


def test_wrong_role_post_is_403_and_writes_nothing(as_person, office):
    inventory, _ = office
    before = inventory.path.read_text()
    kasi = as_person("Baiq Kasi")
    fields = form_of(kasi)
    tech = as_person("Teknisi Satu")
    token = csrf_of(tech.get("/tiket").text)
    reply = tech.post(
        "/admin/jendela",
        data={**fields, "csrf": token, "perangkat": "rsud-r1", "mulai": "sekarang"},
    )
    assert reply.status_code == 403
    reply = kasi.post("/admin/orang", data={**fields, "nama": "Baru", "role": "kasi", "baru": "1"})
    assert reply.status_code == 403
    assert inventory.path.read_text() == before


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/perangkat", {"nama": "x", "address": "10.9.9.9"}),
        ("/admin/ubah", {"perangkat": "rsud-r1", "site": "B"}),
        ("/admin/pensiun", {"perangkat": "rsud-sw1"}),
        ("/admin/port", {"perangkat": "rsud-r1", "port": "ether2", "wajib_up": "1"}),
        ("/admin/jendela", {"perangkat": "rsud-r1", "mulai": "sekarang"}),
        ("/admin/jendela/batal", {"perangkat": "rsud-r1", "judul": "x"}),
        ("/admin/orang", {"nama": "Baru", "role": "teknisi", "baru": "1"}),
    ],
)
def test_every_form_needs_the_csrf_token(as_person, office, path, data):
    inventory, _ = office
    before = inventory.path.read_text()
    client = as_person("Admin NOC")
    fields = form_of(client)
    for token in (None, "forged", fields["csrf"][:-1]):
        sent = {**data, "versi_inventaris": fields["versi_inventaris"]}
        if token is not None:
            sent["csrf"] = token
        assert client.post(path, data=sent).status_code == 403
    assert inventory.path.read_text() == before


def test_two_click_maintenance_window_and_cancel(as_person, office):
    inventory, url = office
    client = as_person("Baiq Kasi")
    page = client.get("/admin")
    assert 'data-perangkat="rsud-r1">Pemeliharaan 2 jam' in page.text
    reply = client.post(
        "/admin/jendela",
        data={
            **form_of(client),
            "perangkat": "rsud-r1",
            "mulai": "sekarang",
            "durasi": "2",
            "kembali": "admin",
        },
    )
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/admin"
    device = load_inventory(inventory.path).devices["rsud-r1"]
    assert device.in_maintenance(NOW + timedelta(minutes=90), inventory.tz) is not None
    assert device.in_maintenance(NOW + timedelta(minutes=150), inventory.tz) is None
    page = client.get("/admin")
    assert "Tersimpan: jendela pemeliharaan rsud-r1" in page.text
    assert "tanpa --daemon-pid-file" in page.text  # the reload result is shown
    [title] = [w.name for w in device.maintenance]
    reply = client.post(
        "/admin/jendela/batal",
        data={**form_of(client), "perangkat": "rsud-r1", "judul": title, "kembali": "admin"},
    )
    assert reply.status_code == 303, reply.text
    assert load_inventory(inventory.path).devices["rsud-r1"].maintenance == ()
    store = open_store(inventory, url)
    try:
        summaries = [e.summary for e in AdminLog(store).edits()]
    finally:
        store.close()
    assert summaries[0].startswith("batalkan jendela rsud-r1")
    assert summaries[1].startswith("jendela pemeliharaan rsud-r1")


def test_weekly_window_and_bad_days(as_person, office):
    inventory, _ = office
    client = as_person("Baiq Kasi")
    data = {
        "perangkat": "setda-r1",
        "judul": "rutin",
        "hari": ["sat", "sun"],
        "dari": "22:00",
        "sampai": "02:00",
    }
    reply = client.post("/admin/jendela", data={**form_of(client), **data})
    assert reply.status_code == 303, reply.text
    [window] = load_inventory(inventory.path).devices["setda-r1"].maintenance
    assert window.days == frozenset({5, 6})
    bad = client.post("/admin/jendela", data={**form_of(client), **data, "hari": ["sabtu"]})
    assert bad.status_code == 400
    assert "Isian &#39;hari&#39;" in bad.text or "Isian 'hari'" in bad.text


def test_add_device_and_malformed_values_give_the_check_messages(as_person, office, tmp_path):
    inventory, _ = office
    client = as_person("Admin NOC")
    ok = client.post(
        "/admin/perangkat",
        data={
            **form_of(client),
            "nama": "pkm-r1",
            "address": "10.0.3.1",
            "opd": "Puskesmas Praya",
            "parent": "core-r1",
        },
    )
    assert ok.status_code == 303, ok.text
    assert load_inventory(inventory.path).devices["pkm-r1"].parent == "core-r1"
    before = inventory.path.read_text()
    bad = {"nama": "pkm-r2", "address": "10.0.3.300", "parent": "core-r9", "role": "toaster"}
    reply = client.post("/admin/perangkat", data={**form_of(client), **bad})
    assert reply.status_code == 400
    assert inventory.path.read_text() == before
    # what `sigap check` says for the same host written by hand
    hand = tmp_path / "hand"
    hand.mkdir()
    (hand / "inventory.yaml").write_text(
        before.replace(
            "people:", "  pkm-r2: {address: 10.0.3.300, parent: core-r9, role: toaster}\npeople:", 1
        )
    )
    with pytest.raises(ConfigError) as checked:
        load_inventory(hand / "inventory.yaml")
    for problem in checked.value.problems:
        assert problem.message.replace("'", "&#39;") in reply.text, problem.message


def test_conflicting_edits_second_gets_409(as_person, office):
    inventory, _ = office
    first, second = as_person("Baiq Kasi"), as_person("Admin NOC")
    f1, f2 = form_of(first, "/admin/perangkat/rsud-r1"), form_of(second, "/admin/perangkat/rsud-r1")
    ok = first.post("/admin/ubah", data={**f1, "perangkat": "rsud-r1", "site": "Gedung A"})
    assert ok.status_code == 303, ok.text
    after = inventory.path.read_text()
    late = second.post("/admin/ubah", data={**f2, "perangkat": "rsud-r1", "site": "Gedung B"})
    assert late.status_code == 409
    assert "sudah diubah orang lain" in late.text
    assert inventory.path.read_text() == after
    assert load_inventory(inventory.path).devices["rsud-r1"].site == "Gedung A"


def test_move_opd_mark_port_retire_and_people(as_person, office):
    inventory, _ = office
    client = as_person("Admin NOC")
    steps = [
        ("/admin/ubah", {"perangkat": "setda-r1", "opd": "RSUD Praya"}),
        ("/admin/port", {"perangkat": "setda-r1", "port": "ether5", "uplink": "1"}),
        ("/admin/pensiun", {"perangkat": "rsud-sw1"}),
        (
            "/admin/orang",
            {"nama": "Teknisi Dua", "role": "teknisi", "opd": "Diskominfo", "baru": "1"},
        ),
        ("/admin/orang", {"nama": "Teknisi Satu", "role": "kasi"}),
    ]
    for path, data in steps:
        reply = client.post(path, data={**form_of(client), **data})
        assert reply.status_code == 303, (path, reply.text)
    fresh = load_inventory(inventory.path)
    assert fresh.devices["setda-r1"].opd == "RSUD Praya"
    assert fresh.devices["setda-r1"].ports["ether5"].uplink
    assert "rsud-sw1" not in fresh.devices
    roles = {p.name: p.role for p in fresh.people}
    assert roles["Teknisi Dua"] == "teknisi"
    assert roles["Teknisi Satu"] == "kasi"


HOSTILE = [
    h.text
    for h in CORPUS
    if h.marker in {"PWNED-judul", "kendali", "gnp.exe", "html-mentah", "klik"}
]


@pytest.mark.parametrize("hostile", [*HOSTILE, "x" * 100_000, "-1", "1e9", "[bold]x[/bold]"])
def test_hostile_form_values_never_crash_nor_break_the_file(as_person, office, hostile):
    inventory, _ = office
    client = as_person("Admin NOC")
    for path, key in (
        ("/admin/perangkat", "nama"),
        ("/admin/ubah", "site"),
        ("/admin/jendela", "mulai"),
        ("/admin/jendela", "durasi"),
        ("/admin/port", "port"),
    ):
        data = {
            **form_of(client),
            "perangkat": "rsud-r1",
            "nama": "n",
            "address": "10.0.9.9",
            "port": "p",
            key: hostile,
        }
        reply = client.post(path, data=data)
        assert reply.status_code in {303, 400, 413}, (path, key, reply.status_code)
        if not hostile.isprintable() or len(hostile) > 200:
            assert reply.status_code in {400, 413}, (path, key)
        load_inventory(inventory.path)  # whatever was accepted, the file still passes the check


def test_disable_a_web_account_from_the_people_page(as_person, make_client):
    admin = as_person("Admin NOC")
    page = admin.get("/admin/orang")
    assert 'action="/admin/akun/nonaktifkan"' in page.text
    tech = as_person("Teknisi Satu")
    token = csrf_of(page.text)
    assert as_person("Baiq Kasi").post(
        "/admin/akun/nonaktifkan",
        data={"nama": "Teknisi Satu", "csrf": csrf_of(as_person("Baiq Kasi").get("/tiket").text)},
    ).status_code in {403}
    assert admin.post("/admin/akun/nonaktifkan", data={"nama": "Teknisi Satu"}).status_code == 403
    reply = admin.post("/admin/akun/nonaktifkan", data={"nama": "Teknisi Satu", "csrf": token})
    assert reply.status_code == 303
    assert tech.get("/tiket").status_code == 303  # its session ended: back to the login page
    assert "nonaktif" in admin.get("/admin/orang").text
    self_off = admin.post("/admin/akun/nonaktifkan", data={"nama": "Admin NOC", "csrf": token})
    assert self_off.status_code == 400
    nobody = admin.post("/admin/akun/nonaktifkan", data={"nama": "Tak Ada", "csrf": token})
    assert nobody.status_code == 404
