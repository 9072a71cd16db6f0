"""The JSON API /api/v1 through TestClient: tokens, roles, pagination, schema, hostile bodies.

Real database (SQLite and PostgreSQL), real inventory file; tokens are made by the CLI
(``sigap web token buat``) and by the store directly; responses are validated against the
served OpenAPI document with jsonschema.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from typer.testing import CliRunner

from agent.admin.tokens import new_token
from agent.cli import app as cli_app
from agent.config.load import load_inventory
from agent.web import api
from agent.wiring import build_web_app, open_store
from tests.webboard import SECRET, TestClient, write_inventory
from ticketing.admin_log import AdminLog
from ticketing.migrate import migrate
from ticketing.store import TicketStore

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 WITA
PEOPLE_EXTRA = "  - {name: Admin NOC, role: admin, opd: Diskominfo}\n"
PEOPLE = ("Lalu Kadis", "Hj Kabid", "Baiq Kasi", "Teknisi Satu", "PJ RSUD", "Admin NOC")
V1 = "/api/v1"


@pytest.fixture
def office(tmp_path, any_db_url):
    inventory = write_inventory(tmp_path, PEOPLE_EXTRA)
    url = any_db_url
    store = TicketStore(url)
    migrate(store)
    tokens = {}
    log = AdminLog(store)
    for name in PEOPLE:
        token, hashed = new_token()
        log.add_token(name, "tes", hashed, at=NOW)
        tokens[name] = token
    store.close()
    return inventory, url, tokens


@pytest.fixture
def client(office):
    inventory, url, _ = office
    app = build_web_app(inventory, open_store(inventory, url), now=lambda: NOW, secret_key=SECRET)
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def as_(office):
    _, _, tokens = office
    return lambda name: {"Authorization": f"Bearer {tokens[name]}"}


@pytest.fixture
def schema(client):
    reply = client.get(f"{V1}/openapi.json")
    assert reply.status_code == 200
    return reply.json()


def valid(schema: dict, name: str, data: object) -> None:
    root = {"$ref": f"#/components/schemas/{name}", "components": schema["components"]}
    jsonschema.Draft202012Validator(
        root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(data)


def lapor(client, headers, **extra) -> dict:
    body = {
        "sumber": "wa",
        "opd": "RSUD Praya",
        "pelapor": "dr. Ayu",
        "uraian": "Internet mati",
        **extra,
    }
    reply = client.post(f"{V1}/tiket", json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()


# ---------------------------------------------------------------- tokens


def test_no_bad_or_revoked_token_is_401(client, office, as_):
    _, url, tokens = office
    for headers in (
        {},
        {"Authorization": "Bearer sigap_salah"},
        {"Authorization": "Basic eDp5"},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Bearer ünï".encode("latin-1")},
    ):
        reply = client.get(f"{V1}/tiket", headers=headers)
        assert reply.status_code == 401, headers
        assert reply.headers["www-authenticate"].startswith("Bearer")
        assert "galat" in reply.json()
    assert client.get(f"{V1}/tiket", headers=as_("Baiq Kasi")).status_code == 200
    inventory, _, _ = office
    args = ["--inventory", str(inventory.path), "--db", url]
    listed = CliRunner().invoke(cli_app, ["web", "token", "daftar", *args]).output
    assert tokens["Baiq Kasi"] not in listed
    [kasi] = [line.split()[0][1:] for line in listed.splitlines() if "Baiq Kasi" in line]
    assert CliRunner().invoke(cli_app, ["web", "token", "cabut", kasi, *args]).exit_code == 0
    assert client.get(f"{V1}/tiket", headers=as_("Baiq Kasi")).status_code == 401
    assert client.get(f"{V1}/tiket", headers=as_("Hj Kabid")).status_code == 200


def test_token_cli_create_use_and_revoke(client, office):
    inventory, url, _ = office
    runner = CliRunner()
    args = ["--inventory", str(inventory.path), "--db", url]
    made = runner.invoke(
        cli_app, ["web", "token", "buat", "Hj Kabid", "--label", "SRIKANDI", *args]
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert re.fullmatch(r"sigap_[A-Za-z0-9_-]{43}", token)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{V1}/perangkat", headers=headers).status_code == 200
    store = TicketStore(url)
    stored = AdminLog(store).tokens("Hj Kabid")
    store.close()
    assert all(token not in repr(t) for t in stored)  # only the hash is kept
    token_id = next(t for t in stored if t.label == "SRIKANDI").id
    listed = runner.invoke(cli_app, ["web", "token", "daftar", *args])
    assert "SRIKANDI" in listed.output
    assert token not in listed.output
    gone = runner.invoke(cli_app, ["web", "token", "cabut", str(token_id), *args])
    assert gone.exit_code == 0, gone.output
    assert client.get(f"{V1}/perangkat", headers=headers).status_code == 401
    again = runner.invoke(cli_app, ["web", "token", "cabut", str(token_id), *args])
    assert again.exit_code == 1


# ---------------------------------------------------------------- tickets and the SOP


def test_sop_actions_with_role_checks_and_versions(client, as_, schema):
    ticket = lapor(client, as_("Baiq Kasi"))
    valid(schema, "Tiket", ticket)
    number, version = ticket["nomor"], ticket["versi"]
    wrong = client.post(
        f"{V1}/aksi/disposisi",
        json={"nomor": number, "versi": version, "isi": "x"},
        headers=as_("Teknisi Satu"),
    )
    assert wrong.status_code == 403
    done = client.post(
        f"{V1}/aksi/disposisi",
        json={"nomor": number, "versi": version, "isi": "Segera", "sifat": "segera"},
        headers=as_("Hj Kabid"),
    )
    assert done.status_code == 200, done.text
    valid(schema, "Tiket", done.json())
    stale = client.post(
        f"{V1}/aksi/disposisi",
        json={"nomor": number, "versi": version, "isi": "terlambat"},
        headers=as_("Lalu Kadis"),
    )
    assert stale.status_code == 409
    version = done.json()["versi"]
    # the NOC lead (admin) acts as a Kasi
    assigned = client.post(
        f"{V1}/aksi/tugaskan",
        json={"nomor": number, "versi": version, "teknisi": "Teknisi Satu"},
        headers=as_("Admin NOC"),
    )
    assert assigned.status_code == 200, assigned.text
    version = assigned.json()["versi"]
    handled = client.post(
        f"{V1}/aksi/tangani",
        json={"nomor": number, "versi": version, "keputusan": "sederhana"},
        headers=as_("Teknisi Satu"),
    )
    assert handled.status_code == 200, handled.text
    shown = client.get(f"{V1}/tiket/{number}", headers=as_("Baiq Kasi"))
    assert shown.status_code == 200
    valid(schema, "DetailTiket", shown.json())
    done_by = [s["oleh"] for s in shown.json()["langkah_sop"] if s["oleh"]]
    assert {"Hj Kabid", "Admin NOC", "Teknisi Satu"} <= set(done_by)
    pj = client.post(
        f"{V1}/aksi/selesai", json={"nomor": number, "versi": 0}, headers=as_("PJ RSUD")
    )
    assert pj.status_code == 403
    assert client.get(f"{V1}/tiket/GJ/2099/9999", headers=as_("Baiq Kasi")).status_code == 404


def test_list_filters_and_pages(client, as_, schema):
    numbers = [
        lapor(client, as_("Baiq Kasi"), opd="RSUD Praya" if i % 2 else "Sekretariat Daerah")[
            "nomor"
        ]
        for i in range(5)
    ]
    first = client.get(f"{V1}/tiket?per_hal=2", headers=as_("Baiq Kasi"))
    assert first.status_code == 200
    body = first.json()
    valid(schema, "HalamanTiket", body)
    assert (body["jumlah"], body["halaman"], body["hal"]) == (5, 3, 1)
    seen = []
    for page in (1, 2, 3):
        rows = client.get(f"{V1}/tiket?per_hal=2&hal={page}", headers=as_("Baiq Kasi")).json()[
            "tiket"
        ]
        seen += [r["nomor"] for r in rows]
    assert sorted(seen) == sorted(numbers)
    assert len(seen) == len(set(seen))
    rsud = client.get(f"{V1}/tiket?opd=RSUD Praya", headers=as_("Baiq Kasi")).json()
    assert rsud["jumlah"] == 2
    # an OPD contact sees only their OPD whatever they ask
    pj = client.get(f"{V1}/tiket?opd=Sekretariat Daerah", headers=as_("PJ RSUD")).json()
    assert {r["opd"] for r in pj["tiket"]} == {"RSUD Praya"}
    for bad in ("per_hal=500", "hal=0", "hal=abc", "status=nope", "hal=" + "9" * 5000):
        reply = client.get(f"{V1}/tiket?{bad}", headers=as_("Baiq Kasi"))
        assert reply.status_code == 400, bad
        assert "galat" in reply.json()


# ---------------------------------------------------------------- devices and maintenance


def test_devices_and_a_maintenance_window(client, office, as_, schema):
    inventory, _, _ = office
    listed = client.get(f"{V1}/perangkat", headers=as_("Baiq Kasi"))
    assert listed.status_code == 200
    valid(schema, "DaftarPerangkat", listed.json())
    version = listed.json()["versi_inventaris"]
    body = {"versi_inventaris": version, "perangkat": "rsud-r1", "durasi_jam": 2}
    assert (
        client.post(f"{V1}/pemeliharaan", json=body, headers=as_("Teknisi Satu")).status_code == 403
    )
    opened = client.post(f"{V1}/pemeliharaan", json=body, headers=as_("Baiq Kasi"))
    assert opened.status_code == 201, opened.text
    valid(schema, "HasilUbah", opened.json())
    device = load_inventory(inventory.path).devices["rsud-r1"]
    assert device.in_maintenance(NOW + timedelta(hours=1), inventory.tz) is not None
    now_listed = client.get(f"{V1}/perangkat", headers=as_("Baiq Kasi")).json()
    [row] = [d for d in now_listed["perangkat"] if d["nama"] == "rsud-r1"]
    assert row["pemeliharaan_sekarang"] == opened.json()["judul"]
    conflict = client.post(f"{V1}/pemeliharaan", json=body, headers=as_("Admin NOC"))
    assert conflict.status_code == 409
    cancel = {
        "versi_inventaris": opened.json()["versi_inventaris"],
        "perangkat": "rsud-r1",
        "judul": opened.json()["judul"],
    }
    assert (
        client.post(f"{V1}/pemeliharaan/batal", json=cancel, headers=as_("Admin NOC")).status_code
        == 200
    )
    assert load_inventory(inventory.path).devices["rsud-r1"].maintenance == ()
    unknown = {**body, "versi_inventaris": cancel["versi_inventaris"], "perangkat": "tidak-ada"}
    stale = client.post(f"{V1}/pemeliharaan", json=unknown, headers=as_("Admin NOC"))
    assert stale.status_code == 409  # the cancel moved the version on
    fresh = client.get(f"{V1}/perangkat", headers=as_("Admin NOC")).json()["versi_inventaris"]
    missing = client.post(
        f"{V1}/pemeliharaan", json={**unknown, "versi_inventaris": fresh}, headers=as_("Admin NOC")
    )
    assert missing.status_code == 400
    assert "tidak-ada" in missing.json()["galat"]


# ---------------------------------------------------------------- schema and hostile input


def test_openapi_documents_every_route_and_is_valid(client, schema):
    documented = set(schema["paths"])
    for route in api.ROUTES:
        path = route.path.replace("{number:path}", "{nomor}")
        if path.endswith("openapi.json"):
            continue
        assert path in documented, path
    jsonschema.Draft202012Validator.check_schema({"$defs": schema["components"]["schemas"]})
    for item in schema["paths"].values():
        for op in item.values():
            for reply in op["responses"].values():
                ref = reply["content"]["application/json"]["schema"]["$ref"]
                assert ref.split("/")[-1] in schema["components"]["schemas"]


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


HOSTILE = [
    (b"[]", 400),
    (b'"teks"', 400),
    (b"{", 400),
    (b"\xff\xfe{}", 400),
    (nested(100_000)[:60_000], 400),  # cut at the body limit: unterminated
    (b"[" * 50_000 + b"]" * 50_000, 413),
    (b'{"versi": ' + b"9" * 5000 + b"}", 400),
    (
        json.dumps({"sumber": "wa", "opd": "x", "pelapor": "y", "uraian": "z", "lain": 1}).encode(),
        422,
    ),
    (json.dumps({"sumber": "wa", "opd": 5, "pelapor": "y", "uraian": "z"}).encode(), 422),
    (json.dumps({"sumber": "wa", "opd": "x\u0000", "pelapor": "y", "uraian": "z"}).encode(), 422),
    (json.dumps({"sumber": "wa", "opd": "\u202ex", "pelapor": "y", "uraian": "z"}).encode(), 422),
    (json.dumps({"sumber": "wa", "opd": "x" * 201, "pelapor": "y", "uraian": "z"}).encode(), 422),
    (json.dumps({"sumber": "fax", "opd": "x", "pelapor": "y", "uraian": "z"}).encode(), 422),
    (json.dumps({"sumber": "wa", "opd": {"a": [1]}, "pelapor": [], "uraian": None}).encode(), 422),
    (b"x" * 70_000, 413),
]


@pytest.mark.parametrize(("raw", "status"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_get_a_clear_refusal(client, as_, raw, status):
    headers = {**as_("Baiq Kasi"), "Content-Type": "application/json"}
    reply = client.post(f"{V1}/tiket", content=raw, headers=headers)
    assert reply.status_code == status, reply.text[:300]
    if status != 413:
        body = reply.json()
        assert body["galat"]
        if status == 422:
            assert body["rincian"][0]["tempat"]
    good = lapor(client, as_("Baiq Kasi"))  # a good request right after still works
    assert good["nomor"]


def test_hostile_window_bodies(client, as_):
    version = client.get(f"{V1}/perangkat", headers=as_("Baiq Kasi")).json()["versi_inventaris"]
    for body in (
        {"versi_inventaris": "abc", "perangkat": "rsud-r1"},
        {"versi_inventaris": version, "perangkat": "rsud-r1", "durasi_jam": 0},
        {"versi_inventaris": version, "perangkat": "rsud-r1", "durasi_jam": "2"},
        {"versi_inventaris": version, "perangkat": "rsud-r1", "mulai": "2026-12-01T10:00"},
        {"versi_inventaris": version, "perangkat": "rsud-r1", "durasi_jam": 10**30},
    ):
        reply = client.post(f"{V1}/pemeliharaan", json=body, headers=as_("Baiq Kasi"))
        assert reply.status_code == 422, body
