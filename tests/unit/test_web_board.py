"""The web ticket board through Starlette's TestClient: every form, roles, CSRF, sessions.

The app runs on a real database (SQLite in tmp_path; the SOP walk also on PostgreSQL) with a
fixed clock; actions go through the TicketService exactly as the CLI's do.
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from agent import cli
from agent.web import auth as web_auth
from agent.web.auth import AuthSettings
from agent.wiring import build_web_app, open_store
from tests.webboard import (
    SECRET,
    TestClient,
    csrf_of,
    password_of,
    set_passwords,
    write_inventory,
)
from ticketing.faults import Fault, FaultKind
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 WITA, office hours


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def office(tmp_path):
    inventory = write_inventory(tmp_path)
    url = TicketStore.sqlite_url(tmp_path / "board.db")
    set_passwords(url)
    return inventory, url


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_client(office, clock):
    inventory, url = office
    clients = []

    def make(auth: AuthSettings | None = None) -> TestClient:
        app = build_web_app(
            inventory, open_store(inventory, url), now=clock, secret_key=SECRET, auth=auth
        )
        client = TestClient(app, follow_redirects=False)
        client.__enter__()  # runs the lifespan: the store is closed at __exit__
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def login(client: TestClient, name: str) -> TestClient:
    page = client.get("/masuk")
    reply = client.post(
        "/masuk",
        data={"nama": name, "sandi": password_of(name), "csrf": csrf_of(page.text), "lanjut": "/"},
    )
    assert reply.status_code == 303, reply.text
    return client


@pytest.fixture
def as_person(make_client):
    def make(name: str) -> TestClient:
        return login(make_client(), name)

    return make


def csrf(client: TestClient, path: str = "/") -> str:
    return csrf_of(client.get(path).text)


def lapor(client: TestClient, **extra: str) -> str:
    data = {
        "sumber": "wa",
        "opd": "RSUD Praya",
        "pelapor": "dr. Ayu",
        "uraian": "Internet poli mati",
        "csrf": csrf(client, "/lapor"),
        **extra,
    }
    reply = client.post("/lapor", data=data)
    assert reply.status_code == 303, reply.text
    return reply.headers["location"].removeprefix("/tiket/")


def act(client: TestClient, number: str, action: str, **fields: str):
    page = client.get(f"/tiket/{number}")
    version = page.text.split('name="versi" value="', 1)[1].split('"', 1)[0]
    data = {"nomor": number, "versi": version, "csrf": csrf_of(page.text), **fields}
    return client.post(f"/aksi/{action}", data=data)


# ---------------------------------------------------------------- access


def test_pages_need_a_login(make_client):
    client = make_client()
    for path in ("/", "/tiket", "/tiket/GJ/2026/0001", "/program", "/laporan", "/perangkat/x"):
        reply = client.get(path)
        assert reply.status_code == 303, path
        assert reply.headers["location"].startswith("/masuk?lanjut=")


def test_login_wrong_password_and_unknown_person(make_client):
    client = make_client()
    token = csrf(client, "/masuk")
    bad = client.post(
        "/masuk", data={"nama": "Hj Kabid", "sandi": "salah-sekali-123", "csrf": token}
    )
    assert bad.status_code == 401
    assert "Nama atau kata sandi salah" in bad.text
    nobody = client.post("/masuk", data={"nama": "Siapa", "sandi": "x" * 12, "csrf": token})
    assert nobody.status_code == 401
    assert client.get("/").status_code == 303


def test_login_without_csrf_is_refused(make_client):
    client = make_client()
    client.get("/masuk")
    reply = client.post("/masuk", data={"nama": "Hj Kabid", "sandi": password_of("Hj Kabid")})
    assert reply.status_code == 403
    assert "Token formulir tidak sah" in reply.text


def test_login_redirects_only_within_the_site(make_client):
    client = make_client()
    token = csrf(client, "/masuk")
    data = {"nama": "Hj Kabid", "sandi": password_of("Hj Kabid"), "csrf": token}
    reply = client.post("/masuk", data={**data, "lanjut": "//evil.example/x"})
    assert reply.headers["location"] == "/"
    client2 = make_client()
    data["csrf"] = csrf(client2, "/masuk")
    reply = client2.post("/masuk", data={**data, "lanjut": "/tiket?status=open"})
    assert reply.headers["location"] == "/tiket?status=open"


def test_logout_needs_csrf_and_ends_the_session(as_person):
    client = as_person("Hj Kabid")
    assert client.post("/keluar", data={"csrf": "nope"}).status_code == 403
    assert client.get("/").status_code == 200
    assert client.post("/keluar", data={"csrf": csrf(client)}).status_code == 303
    assert client.get("/").status_code == 303


def test_session_cookie_is_signed_strict_and_http_only(make_client):
    client = make_client()
    reply = client.get("/masuk")
    cookie = reply.headers["set-cookie"]
    assert cookie.startswith("sigap_sesi=")
    assert "httponly" in cookie.lower()
    assert "samesite=strict" in cookie.lower()
    client.cookies.set("sigap_sesi", "eyJ1c2VyIjogIkhqIEthYmlkIn0=.forged.sig")
    assert client.get("/").status_code == 303


def test_session_ends_after_its_absolute_lifetime(as_person, monkeypatch):
    client = as_person("Hj Kabid")
    assert client.get("/").status_code == 200
    later = web_auth.time.time() + AuthSettings().absolute + 1
    monkeypatch.setattr(web_auth.time, "time", lambda: later)
    assert client.get("/").status_code == 303


def test_session_ends_when_idle(office, clock):
    inventory, url = office
    app = build_web_app(
        inventory,
        open_store(inventory, url),
        now=clock,
        secret_key=SECRET,
        auth=AuthSettings(idle=1),
    )
    with TestClient(app, follow_redirects=False) as client:
        login(client, "Hj Kabid")
        assert client.get("/").status_code == 200
        # the signed cookie carries its own timestamp; itsdangerous refuses it after max_age
        import time

        time.sleep(2.1)
        assert client.get("/").status_code == 303


def test_reverse_proxy_header_from_a_trusted_peer(make_client):
    trusted = make_client(
        AuthSettings(proxy_header="X-Remote-User", trusted_proxies=frozenset({"testclient"}))
    )
    reply = trusted.get("/", headers={"X-Remote-User": "baiq kasi"})
    assert reply.status_code == 200
    assert "Baiq Kasi" in reply.text
    assert trusted.get("/", headers={"X-Remote-User": "Orang Lain"}).status_code == 303
    untrusted = make_client(AuthSettings(proxy_header="X-Remote-User"))  # peer is not 127.0.0.1
    assert untrusted.get("/", headers={"X-Remote-User": "Baiq Kasi"}).status_code == 303


# ---------------------------------------------------------------- the SOP walk


def walk(as_person, clock) -> str:
    kasi = as_person("Baiq Kasi")
    number = lapor(kasi)
    kabid = as_person("Hj Kabid")
    page = kabid.get(f"/tiket/{number}")
    assert 'action="/aksi/disposisi"' in page.text
    clock.at += timedelta(minutes=5)
    reply = act(kabid, number, "disposisi", isi="Segera tindak lanjuti", sifat="segera",
                nomor_agenda="005/117/2026")  # fmt: skip
    assert reply.status_code == 303
    assert "Tersimpan oleh Hj Kabid" in kabid.get(f"/tiket/{number}").text
    clock.at += timedelta(minutes=5)
    assert act(kasi, number, "tugaskan", teknisi="Teknisi Satu").status_code == 303
    tech = as_person("Teknisi Satu")
    clock.at += timedelta(minutes=30)
    assert (
        act(tech, number, "tangani", keputusan="sederhana", catatan="ganti patch cord").status_code
        == 303
    )
    page = tech.get(f"/tiket/{number}")
    assert 'action="/aksi/selesai"' in page.text
    assert 'name="laporan"' in page.text
    clock.at += timedelta(minutes=10)
    assert (
        act(tech, number, "selesai", laporan="Patch cord diganti, internet normal").status_code
        == 303
    )
    return number


def test_complaint_walks_the_sop_through_the_forms(as_person, clock, office):
    number = walk(as_person, clock)
    page = as_person("Lalu Kadis").get(f"/tiket/{number}")
    html = page.text
    assert "selesai" in html
    for who in ("Baiq Kasi", "Hj Kabid", "Teknisi Satu"):
        assert f"oleh <b>{who}</b>" in html
    assert "005/117/2026" in html
    assert "Patch cord diganti" in html
    assert 'action="/aksi/' not in html  # nothing left to do
    _, url = office
    store = TicketStore(url)
    actors = [e.actor for e in store.events(number)]
    store.close()
    assert actors.count("Hj Kabid") == 1
    assert "Baiq Kasi" in actors
    assert "Teknisi Satu" in actors


@pytest.mark.postgres
def test_sop_walk_on_postgresql(tmp_path, pg_url, clock):
    inventory = write_inventory(tmp_path)
    set_passwords(pg_url)
    app = build_web_app(inventory, open_store(inventory, pg_url), now=clock, secret_key=SECRET)
    clients = []

    def person(name: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        clients.append(client)
        return login(client, name)

    with TestClient(app):  # the lifespan closes the store at the end
        try:
            number = walk(person, clock)
            assert "Teknisi Satu" in person("Hj Kabid").get(f"/tiket/{number}").text
        finally:
            for c in clients:
                c.close()


def test_forms_show_only_for_the_role_of_the_active_step(as_person):
    kasi = as_person("Baiq Kasi")
    number = lapor(kasi)
    assert 'action="/aksi/' not in kasi.get(f"/tiket/{number}").text  # disposisi is Kadis/Kabid
    assert 'action="/aksi/disposisi"' in as_person("Lalu Kadis").get(f"/tiket/{number}").text
    assert 'action="/aksi/' not in as_person("Teknisi Satu").get(f"/tiket/{number}").text


def test_wrong_role_is_refused_by_the_server(as_person, office):
    kasi = as_person("Baiq Kasi")
    number = lapor(kasi)
    tech = as_person("Teknisi Satu")
    token = csrf(tech, f"/tiket/{number}")
    reply = tech.post("/aksi/disposisi", data={"nomor": number, "isi": "saya saja", "csrf": token})
    assert reply.status_code == 403
    assert "teknisi" in reply.text
    _, url = office
    store = TicketStore(url)
    assert store.get(number).sop_step == 2  # still waiting for the disposition
    store.close()


def test_wrong_step_kind_is_a_conflict(as_person):
    kasi = as_person("Baiq Kasi")
    number = lapor(kasi)
    kabid = as_person("Hj Kabid")
    token = csrf(kabid, f"/tiket/{number}")
    reply = kabid.post(
        "/aksi/tugaskan", data={"nomor": number, "teknisi": "Teknisi Satu", "csrf": token}
    )
    assert reply.status_code == 409


def test_action_with_a_bad_csrf_token_changes_nothing(as_person, office):
    kasi = as_person("Baiq Kasi")
    number = lapor(kasi)
    kabid = as_person("Hj Kabid")
    kabid.get(f"/tiket/{number}")
    for token in ("", "forged", csrf(kasi)):  # another session's token is no good either
        reply = kabid.post("/aksi/disposisi", data={"nomor": number, "isi": "x", "csrf": token})
        assert reply.status_code == 403
    assert kasi.post("/lapor", data={"sumber": "wa", "opd": "RSUD Praya", "pelapor": "a",
                                     "uraian": "b"}).status_code == 403  # fmt: skip
    _, url = office
    store = TicketStore(url)
    assert store.get(number).sop_step == 2
    assert len(store.list()) == 1
    store.close()


def test_stale_page_is_refused(as_person):
    kasi = as_person("Baiq Kasi")
    number = lapor(kasi)
    kabid = as_person("Hj Kabid")
    kadis = as_person("Lalu Kadis")
    stale = kabid.get(f"/tiket/{number}").text
    assert act(kadis, number, "disposisi", isi="Kadis lebih dulu").status_code == 303
    data = {"nomor": number, "versi": stale.split('name="versi" value="', 1)[1].split('"', 1)[0],
            "isi": "terlambat", "csrf": csrf_of(stale)}  # fmt: skip
    reply = kabid.post("/aksi/disposisi", data=data)
    assert reply.status_code == 409
    assert "muat ulang" in reply.text


def test_bad_input_is_a_400(as_person):
    kasi = as_person("Baiq Kasi")
    token = csrf(kasi, "/lapor")
    reply = kasi.post("/lapor", data={"sumber": "telepon", "opd": "RSUD Praya", "pelapor": "a",
                                      "uraian": "b", "csrf": token})  # fmt: skip
    assert reply.status_code == 400
    reply = kasi.post("/lapor", data={"sumber": "wa", "opd": "RSUD Praya", "pelapor": "",
                                      "uraian": "b", "csrf": token})  # fmt: skip
    assert reply.status_code == 400


def test_kompleks_decision_goes_to_program_kegiatan_and_exports(as_person):
    kasi = as_person("Baiq Kasi")
    number = lapor(kasi)
    assert act(as_person("Hj Kabid"), number, "disposisi", isi="Tindak lanjuti").status_code == 303
    assert act(kasi, number, "tugaskan", teknisi="Teknisi Satu").status_code == 303
    tech = as_person("Teknisi Satu")
    reply = act(tech, number, "tangani", keputusan="kompleks", usulan="Ganti router",
                biaya="12.500.000", prioritas="tinggi", tahun="2027")  # fmt: skip
    assert reply.status_code == 303
    page = kasi.get("/program?tahun=2027").text
    assert "Ganti router" in page
    assert "12.500.000" in page
    assert number in page
    csv_reply = kasi.get("/program/ekspor?tahun=2027&format=csv")
    assert csv_reply.status_code == 200
    assert "Ganti router" in csv_reply.content.decode("utf-8-sig")
    xlsx = kasi.get("/program/ekspor?tahun=2027&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert any("Ganti router" in str(c.value) for row in sheet.iter_rows() for c in row)


def test_user_text_is_escaped(as_person):
    kasi = as_person("Baiq Kasi")
    number = lapor(kasi, uraian="<script>alert(1)</script> putus")
    html = kasi.get(f"/tiket/{number}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ---------------------------------------------------------------- OPD contacts


def test_opd_contact_sees_only_their_opd_and_cannot_act(as_person, office, clock):
    kasi = as_person("Baiq Kasi")
    own = lapor(kasi)
    other = lapor(kasi, opd="Sekretariat Daerah", uraian="Setda putus")
    pj = as_person("PJ RSUD")
    listing = pj.get("/tiket").text
    assert own in listing
    assert other not in listing
    assert pj.get("/tiket?opd=Sekretariat+Daerah").text.count(other) == 0
    assert pj.get(f"/tiket/{own}").status_code == 200
    assert pj.get(f"/tiket/{other}").status_code == 404
    assert 'action="/aksi/' not in pj.get(f"/tiket/{own}").text
    token = csrf(pj, f"/tiket/{own}")
    assert pj.post("/aksi/selesai", data={"nomor": own, "csrf": token}).status_code == 403
    assert pj.get("/lapor").status_code == 403
    assert pj.get("/laporan").status_code == 403
    assert pj.get("/perangkat/setda-r1").status_code == 404
    assert pj.get("/perangkat/rsud-r1").status_code == 200


# ---------------------------------------------------------------- pages


def open_outage(url: str, clock: Clock) -> str:
    store = TicketStore(url)
    fault = Fault("rsud-r1", FaultKind.DEVICE_DOWN, "Router rsud-r1 mati", opd="RSUD Praya")
    number = store.open_fault(fault, at=clock.at).ticket.number
    store.attach(fault.key, "rsud-sw1", at=clock.at)
    store.close()
    return number


def test_dashboard_shows_down_devices_steps_and_overdue(as_person, office, clock):
    _, url = office
    outage = open_outage(url, clock)
    kasi = as_person("Baiq Kasi")
    complaint = lapor(kasi)
    clock.at += timedelta(days=3)  # the disposition (10 menit) is long overdue
    html = kasi.get("/").text
    assert "RSUD Praya" in html
    assert "rsud-r1" in html
    assert f"rsud-sw1</a> (di belakang, {outage})" in html
    assert "Tiket terbuka per langkah SOP" in html
    assert f'<li class="late"><a href="/tiket/{complaint}">' in html
    listing = kasi.get("/tiket?terlambat=1").text
    assert complaint in listing
    assert outage not in listing  # an agent ticket without a SOP has no step to be late


def test_ticket_list_filters_and_htmx_partial(as_person, office, clock):
    _, url = office
    outage = open_outage(url, clock)
    kasi = as_person("Baiq Kasi")
    complaint = lapor(kasi, opd="Sekretariat Daerah")
    html = kasi.get("/tiket?opd=RSUD+Praya").text
    assert outage in html
    assert complaint not in html
    partial = kasi.get("/tiket?status=open&sop=gangguan-internet", headers={"HX-Request": "true"})
    assert complaint in partial.text
    assert outage not in partial.text
    assert "<html" not in partial.text
    assert kasi.get("/tiket?perangkat=rsud-r1").text.count(outage) >= 1


def test_ticket_pages_paginate(as_person):
    kasi = as_person("Baiq Kasi")
    for i in range(55):
        lapor(kasi, uraian=f"gangguan {i}")
    first = kasi.get("/tiket").text
    assert "55 tiket, halaman 1 dari 2" in first
    assert "hal=2" in first
    assert "gangguan 54" in first
    second = kasi.get("/tiket?hal=2").text
    assert "gangguan 0" in second


def test_device_page_shows_status_and_history(as_person, office, clock):
    _, url = office
    outage = open_outage(url, clock)
    kasi = as_person("Baiq Kasi")
    html = kasi.get("/perangkat/rsud-sw1").text
    assert "10.0.1.2" in html
    assert "bermasalah" in html
    assert outage in html
    assert "di belakang rsud-r1" in html
    assert "normal" in kasi.get("/perangkat/setda-r1").text
    assert kasi.get("/perangkat/tidak-ada").status_code == 404


def test_monthly_report_page_has_its_chart(as_person, clock):
    kasi = as_person("Baiq Kasi")
    lapor(kasi)
    html = kasi.get("/laporan?bulan=2026-11").text
    assert "Laporan Bulanan Gangguan Jaringan" in html
    assert "<svg" in html
    assert "RSUD Praya" in html
    assert kasi.get("/laporan?bulan=2026-13").status_code == 400


def test_ticket_page_lists_notifications_and_transcripts(office, clock, tmp_path):
    inventory, url = office
    store = TicketStore(url)
    from ticketing.models import RunStatus
    from ticketing.remediation import RemediationLog

    number = open_outage(url, clock)
    RemediationLog(store).begin(
        number,
        playbook="pulihkan-wan",
        interface="ether1",
        actor="sistem",
        at=clock.at,
        status=RunStatus.DRY_RUN,
        transcript=[{"cmd": "/interface enable ether1", "out": "ok"}],
    )
    store.close()
    app = build_web_app(inventory, open_store(inventory, url), now=clock, secret_key=SECRET)
    with TestClient(app, follow_redirects=False) as client:
        html = login(client, "Baiq Kasi").get(f"/tiket/{number}").text
    assert "pulihkan-wan" in html
    assert "/interface enable ether1" in html
    assert "Notifikasi terkirim" in html


# ---------------------------------------------------------------- command line


@pytest.fixture
def sigap(tmp_path, monkeypatch, capsys):
    write_inventory(tmp_path)
    monkeypatch.setenv("SIGAP_INVENTORY", str(tmp_path / "inventory.yaml"))
    monkeypatch.setenv("SIGAP_DB_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sigap", *args])
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        with pytest.raises(SystemExit) as info:
            cli.main()
        out, err = capsys.readouterr()
        return info.value.code, out, " ".join(err.split())

    return run


def test_set_password_reads_stdin_and_stores_an_argon2_hash(sigap, tmp_path):
    code, out, err = sigap(
        "web", "pengguna", "set-password", "hj kabid", stdin="rahasia-kabid-2026\n"
    )
    assert code == 0, err
    assert "Hj Kabid" in out
    store = TicketStore(f"sqlite:///{tmp_path / 'cli.db'}")
    from ticketing.accounts import AccountStore

    stored = AccountStore(store).hash_of("Hj Kabid")
    store.close()
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "rahasia" not in stored
    code, out, _ = sigap("web", "pengguna", "list")
    assert "Hj Kabid" in out
    assert "sandi: ada" in out
    code, _, err = sigap("web", "pengguna", "set-password", "Hj Kabid", stdin="pendek\n")
    assert code == 1
    assert "minimal" in err
    code, _, err = sigap("web", "pengguna", "set-password", "Siapa", stdin="panjang-sekali-123\n")
    assert code == 1
    assert "tidak ada di people" in err


def test_serve_refuses_every_interface_unless_asked(sigap, tmp_path):
    secret = tmp_path / "secret"
    code, _, err = sigap("web", "--listen", "0.0.0.0:8080", "--secret-file", str(secret))
    assert code == 1
    assert "--semua-antarmuka" in err
    code, _, err = sigap("web", "--listen", ":8080")
    assert code == 2
    assert not secret.exists()


# ---------------------------------------------------------------- device events (issue 20)


def test_ticket_and_device_pages_show_what_the_device_said(office, as_person, clock):
    from datetime import timedelta

    from ticketing import device_log
    from ticketing.faults import Fault, FaultKind

    inventory, url = office
    with open_store(inventory, url, migrate=True) as store:
        fault = Fault("rsud-r1", FaultKind.LOGIN_FAILURES, "20 kali login gagal", "RSUD Praya",
                      "10.0.1.1", "203.0.113.45")  # fmt: skip
        number = store.open_fault(fault, at=NOW).ticket.number
        device_log.write(
            store,
            [
                device_log.LogLine("rsud-r1", NOW - timedelta(minutes=2), "syslog", "10.0.1.1",
                                   "login failure from 203.0.113.45 <script>alert(1)</script>"),
                device_log.LogLine("rsud-r1", NOW - timedelta(hours=2), "trap", "10.0.1.1",
                                   "linkDown ifName.2=ether2 jauh-sebelumnya", app="linkDown"),
            ],
        )  # fmt: skip
    kasi = as_person("Baiq Kasi")
    page = kasi.get(f"/tiket/{number}").text
    assert "Pesan perangkat sekitar gangguan" in page
    assert "login failure from 203.0.113.45 &lt;script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "jauh-sebelumnya" not in page  # before events.context_before (10 min)
    device = kasi.get("/perangkat/rsud-r1").text
    assert "Pesan perangkat 24 jam terakhir" in device
    assert "jauh-sebelumnya" in device
    clock.at = NOW + timedelta(days=2)
    assert "Tidak ada pesan" in kasi.get("/perangkat/rsud-r1").text
