"""Program Kegiatan forms (manual entry, status change) and the failed-login limit, through
Starlette's TestClient on a real database (SQLite; the status walk also on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.web import throttle as throttle_module
from agent.web.auth import AuthSettings
from agent.web.throttle import Limits, LoginThrottle
from agent.wiring import build_web_app, open_store
from tests.webboard import SECRET, TestClient, csrf_of, password_of, set_passwords, write_inventory
from ticketing.calendar import OfficeCalendar
from ticketing.service import TicketService
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 WITA


@pytest.fixture
def office(tmp_path):
    inventory = write_inventory(tmp_path)
    url = TicketStore.sqlite_url(tmp_path / "board.db")
    set_passwords(url)
    return inventory, url


@pytest.fixture
def make_client(office):
    inventory, url = office
    clients = []

    def make(auth: AuthSettings | None = None, url_: str | None = None) -> TestClient:
        app = build_web_app(
            inventory,
            open_store(inventory, url_ or url),
            now=lambda: NOW,
            secret_key=SECRET,
            auth=auth,
        )
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def try_login(client: TestClient, name: str, password: str, **headers: str):
    token = csrf_of(client.get("/masuk").text)
    return client.post(
        "/masuk", data={"nama": name, "sandi": password, "csrf": token}, headers=headers
    )


def signed_in(client: TestClient, name: str) -> TestClient:
    assert try_login(client, name, password_of(name)).status_code == 303
    return client


def add_entry(client: TestClient, **fields: str):
    data = {"opd": "RSUD Praya", "perangkat": "rsud-sw1", "masalah": "Switch lantai 2 tua",
            "usulan": "Ganti switch 24 port", "biaya": "7.500.000", "prioritas": "tinggi",
            "tahun": "2027", **fields}  # fmt: skip
    if "csrf" not in data:
        data["csrf"] = csrf_of(client.get("/program").text)
    return client.post("/program/baru", data=data)


def change(client: TestClient, entry: int, status: str, **fields: str):
    data = {"id": str(entry), "status": status, **fields}
    if "csrf" not in data:
        data["csrf"] = csrf_of(client.get("/program?tahun=2027").text)
    return client.post("/program/status", data=data)


def entries(url: str) -> list:
    store = TicketStore(url)
    try:
        svc = TicketService(store, people=[], calendar=OfficeCalendar(holidays={}), now=lambda: NOW)
        return svc.program()
    finally:
        store.close()


# ---------------------------------------------------------------- Program Kegiatan entry


def test_kasi_adds_an_entry_by_hand(make_client, office):
    _inventory, url = office
    kasi = signed_in(make_client(), "Baiq Kasi")
    form = kasi.get("/program/baru")
    assert form.status_code == 200
    assert 'action="/program/baru"' in form.text
    reply = add_entry(kasi)
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/program?tahun=2027"
    page = kasi.get("/program?tahun=2027")
    assert "Entri #1 ditambahkan oleh Baiq Kasi" in page.text
    assert "Switch lantai 2 tua" in page.text
    [entry] = entries(url)
    assert (entry.opd, entry.device, entry.estimated_cost, entry.priority, entry.budget_year,
            entry.status.value, entry.ticket) == (
        "RSUD Praya", "rsud-sw1", 7_500_000, "tinggi", 2027, "usulan", None)  # fmt: skip


@pytest.mark.parametrize("name", ["Teknisi Satu", "PJ RSUD"])
def test_entry_form_refuses_other_roles(make_client, office, name):
    _inventory, url = office
    client = signed_in(make_client(), name)
    assert client.get("/program/baru").status_code == 403
    assert "Tambah entri" not in client.get("/program").text
    assert add_entry(client).status_code == 403
    assert entries(url) == []


def test_entry_needs_csrf_and_a_login(make_client, office):
    _inventory, url = office
    kasi = signed_in(make_client(), "Baiq Kasi")
    assert add_entry(kasi, csrf="forged-token").status_code == 403
    anonymous = make_client()
    token = csrf_of(anonymous.get("/masuk").text)
    reply = add_entry(anonymous, csrf=token)
    assert reply.status_code == 303
    assert reply.headers["location"].startswith("/masuk")
    assert entries(url) == []


def test_entry_bad_input_is_400(make_client, office):
    _inventory, url = office
    kasi = signed_in(make_client(), "Baiq Kasi")
    assert add_entry(kasi, masalah="").status_code == 400
    assert add_entry(kasi, biaya="banyak").status_code == 400
    assert add_entry(kasi, prioritas="darurat").status_code == 400
    assert add_entry(kasi, opd="OPD Khayalan").status_code == 400
    assert entries(url) == []


# ---------------------------------------------------------------- status change


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=[
    pytest.mark.postgres, pytest.mark.integration])])  # fmt: skip
def test_status_walks_usulan_to_selesai_by_managers(make_client, office, backend, request):
    url = office[1] if backend == "sqlite" else request.getfixturevalue("pg_url")
    if backend == "postgresql":
        set_passwords(url)
    kasi = signed_in(make_client(url_=url), "Baiq Kasi")
    assert add_entry(kasi).status_code == 303
    page = kasi.get("/program?tahun=2027").text
    assert 'action="/program/status"' in page
    assert '<option value="disetujui" selected>' in page  # the next status is offered first
    kabid = signed_in(make_client(url_=url), "Hj Kabid")
    kadis = signed_in(make_client(url_=url), "Lalu Kadis")
    for who, status in ((kabid, "disetujui"), (kadis, "dianggarkan"), (kasi, "selesai")):
        reply = change(who, 1, status)
        assert reply.status_code == 303, reply.text
    assert "Entri #1: status selesai (Baiq Kasi)" in kasi.get("/program?tahun=2027").text
    [entry] = entries(url)
    assert entry.status.value == "selesai"
    assert entry.updated_at == NOW


@pytest.mark.parametrize("name", ["Teknisi Satu", "PJ RSUD"])
def test_status_change_refuses_other_roles(make_client, office, name):
    _inventory, url = office
    assert add_entry(signed_in(make_client(), "Baiq Kasi")).status_code == 303
    client = signed_in(make_client(), name)
    assert 'action="/program/status"' not in client.get("/program?tahun=2027").text
    token = csrf_of(client.get("/").text)
    assert change(client, 1, "disetujui", csrf=token).status_code == 403
    assert entries(url)[0].status.value == "usulan"


def test_status_change_needs_csrf_and_valid_input(make_client, office):
    _inventory, url = office
    kasi = signed_in(make_client(), "Baiq Kasi")
    assert add_entry(kasi).status_code == 303
    assert change(kasi, 1, "disetujui", csrf="forged-token").status_code == 403
    assert change(kasi, 1, "dibatalkan").status_code == 400
    assert change(kasi, 99, "disetujui").status_code == 404
    assert entries(url)[0].status.value == "usulan"


# ---------------------------------------------------------------- failed-login limit


class Ticks:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


def test_five_failures_lock_the_account_for_five_minutes(make_client):
    client = make_client()
    ticks = Ticks()
    client.app.state.board.throttle.now = ticks
    for _ in range(5):
        assert try_login(client, "Hj Kabid", "salah-sekali-123").status_code == 401
    locked = try_login(client, "Hj Kabid", password_of("Hj Kabid"))  # right, but locked
    assert locked.status_code == 429
    assert "Terlalu banyak percobaan" in locked.text
    assert locked.headers["retry-after"] == "300"
    assert client.get("/").status_code == 303  # not signed in
    # another account from the same address is not locked (5 failures < 20)
    assert try_login(client, "Baiq Kasi", password_of("Baiq Kasi")).status_code == 303
    ticks.at += 299
    assert try_login(client, "hj kabid", password_of("Hj Kabid")).status_code == 429
    ticks.at += 1
    assert try_login(client, "Hj Kabid", password_of("Hj Kabid")).status_code == 303


def test_success_clears_the_account_count(make_client):
    client = make_client()
    for _ in range(4):
        assert try_login(client, "Hj Kabid", "salah-sekali-123").status_code == 401
    assert try_login(client, "Hj Kabid", password_of("Hj Kabid")).status_code == 303
    for _ in range(4):
        assert try_login(client, "Hj Kabid", "salah-sekali-123").status_code == 401
    assert try_login(client, "Hj Kabid", password_of("Hj Kabid")).status_code == 303


def test_one_address_trying_many_names_is_locked(make_client):
    client = make_client(AuthSettings(login_limits=Limits(per_account=5, per_address=6)))
    for n in range(6):
        assert try_login(client, f"Tebakan {n}", "salah-sekali-123").status_code == 401
    assert try_login(client, "Baiq Kasi", password_of("Baiq Kasi")).status_code == 429


def test_address_behind_the_trusted_proxy_is_the_forwarded_one(make_client):
    proxied = AuthSettings(
        trusted_proxies=frozenset({"testclient"}),  # TestClient's peer plays the TLS proxy
        login_limits=Limits(per_account=50, per_address=3),
    )
    client = make_client(proxied)
    spoof = {"X-Forwarded-For": "10.9.9.9, 10.0.0.5"}  # the proxy appends the real one last
    for n in range(3):
        assert try_login(client, f"Tebakan {n}", "x" * 12, **spoof).status_code == 401
    assert try_login(client, "Tebakan 9", "x" * 12, **spoof).status_code == 429
    elsewhere = {"X-Forwarded-For": "10.9.9.9, 10.0.0.6"}
    assert try_login(client, "Baiq Kasi", password_of("Baiq Kasi"), **elsewhere).status_code == 303


def test_throttle_window_and_bounded_keys():
    ticks = Ticks()
    throttle = LoginThrottle(Limits(per_account=2, per_address=100, window=60), now=ticks)
    throttle.failed("a", "1.1.1.1")
    ticks.at += 30
    throttle.failed("A ", "1.1.1.1")
    assert throttle.retry_after("a", "1.1.1.1") == 30  # the first failure leaves in 30 s
    assert throttle.retry_after("a", "2.2.2.2") == 0  # the name alone is never locked
    ticks.at += 30
    assert throttle.retry_after("a", "1.1.1.1") == 0
    for n in range(throttle_module.MAX_KEYS):  # a sprayer: two new keys per failure
        ticks.at += 0.001
        throttle.failed(f"name-{n}", "3.3.3.3")
    assert len(throttle._failures) == throttle_module.MAX_KEYS
    assert f"name:name-{throttle_module.MAX_KEYS - 1}" in throttle._failures  # the newest stayed
    assert "name:name-0" not in throttle._failures  # the stalest went
    assert "addr:3.3.3.3" in throttle._failures  # failing on and on keeps a key fresh


def test_a_stranger_cannot_lock_a_named_account(make_client, caplog):
    """Issue 17 finding 8: failures from one address lock that pair, not the account."""
    limits = Limits(per_account=5, per_address=100, account_warning=8)
    proxied = AuthSettings(trusted_proxies=frozenset({"testclient"}), login_limits=limits)
    client = make_client(proxied)
    stranger = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(5):
        assert try_login(client, "Lalu Kadis", "salah-sekali-123", **stranger).status_code == 401
    assert try_login(client, "Lalu Kadis", "salah-sekali-123", **stranger).status_code == 429
    office = {"X-Forwarded-For": "10.0.0.7"}
    assert try_login(client, "Lalu Kadis", password_of("Lalu Kadis"), **office).status_code == 303


def test_many_failures_for_one_account_are_logged_not_locked(make_client, caplog):
    limits = Limits(per_account=5, per_address=100, account_warning=6)
    proxied = AuthSettings(trusted_proxies=frozenset({"testclient"}), login_limits=limits)
    client = make_client(proxied)
    for n in range(6):
        spread = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert try_login(client, "Hj Kabid", "salah-sekali-123", **spread).status_code == 401
    assert "many failed logins for 'Hj Kabid'" in caplog.text
    office = {"X-Forwarded-For": "10.0.0.8"}
    assert try_login(client, "Hj Kabid", password_of("Hj Kabid"), **office).status_code == 303
