"""``/admin/temukan`` (issue 21): the discovery scan on the board, accepted line by line.

The scan runs ``service.scan`` for real over fake probes handed in through the seam the board
is built with (``build_web_app(scan_probes=...)``, as ``agent.wiring`` builds it); the
inventory file in tmp_path is written by the admin edit service; the ticket database (the
audit row) is SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import difflib
import html
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory, load_inventory_text
from agent.discovery.model import Proposal
from agent.errors import AgentError
from agent.web.auth import AuthSettings
from agent.web.temukan import KEEP, Proposals
from agent.wiring import build_web_app, open_store
from tests.hostile_text import CORPUS
from tests.unit.test_discover_scan import INVENTORY, FakePinger, FakeWalker, lab_answers
from tests.webboard import SECRET, TestClient, csrf_of, login, set_passwords
from ticketing.admin_log import AdminLog
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)
PEOPLE = """people:
  - {name: Lalu Kadis, role: kadis, opd: Dinas Komunikasi dan Informatika}
  - {name: Hj Kabid, role: kabid, opd: Dinas Komunikasi dan Informatika}
  - {name: Baiq Kasi, role: kasi, opd: Dinas Komunikasi dan Informatika}
  - {name: Teknisi Satu, role: teknisi, opd: Dinas Komunikasi dan Informatika}
  - {name: PJ RSUD, role: pj_opd, opd: Dinas Kesehatan}
"""
ALIVE = {"10.9.12.1", "10.9.12.2", "10.9.12.9"}  # opd-dinkes, sw-dinkes, ping-only
PING_ONLY = "perangkat-10-9-12-9"
RANGES = "10.9.12.0/24"  # one batch of pings: no pause between batches
VERSION_RE = re.compile(r'name="versi_inventaris" value="([0-9a-f]{64})"')
KEY_RE = re.compile(r'name="usulan" value="([^"]+)"')


@pytest.fixture
def office(tmp_path: Path, any_db_url: str) -> tuple[Path, str]:
    (tmp_path / "community-lama").write_text("lama\n")
    (tmp_path / "auth").write_text("auth-key-12345678\n")
    (tmp_path / "priv").write_text("priv-key-12345678\n")
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY + PEOPLE)
    set_passwords(any_db_url)
    return path, any_db_url


@pytest.fixture
def probes() -> dict[str, object]:
    return {"pinger": FakePinger(ALIVE), "walker": FakeWalker(lab_answers()), "scans": 0}


class StoppedError(AgentError):
    """Raised by the fake probes when a test only wants to see the scan start."""


@pytest.fixture
def as_person(office, probes):
    path, url = office
    clients: list[TestClient] = []

    @contextlib.asynccontextmanager
    async def collectors() -> AsyncIterator[tuple[FakePinger, FakeWalker]]:
        probes["scans"] = int(str(probes["scans"])) + 1
        during = probes.get("during")
        if callable(during):
            during()
        if probes.get("stop"):
            raise StoppedError("pemindaian uji dihentikan")
        yield probes["pinger"], probes["walker"]  # type: ignore[misc]

    inventory = load_inventory(path)
    app = build_web_app(
        inventory,
        open_store(inventory, url),
        now=lambda: NOW,
        secret_key=SECRET,
        auth=AuthSettings(),
        scan_probes=collectors,
    )

    def make(name: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return login(client, name)

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def scanned(client: TestClient, ranges: str = RANGES, **extra: str):
    token = csrf_of(client.get("/admin/temukan").text)
    return client.post("/admin/temukan", data={"csrf": token, "rentang": ranges, **extra})


def accept_form(page: str, chosen: list[str]) -> dict[str, str | list[str]]:
    """The fields "Terima yang dipilih" posts from a result ``page``, ``chosen`` ticked."""
    return {
        "csrf": csrf_of(page),
        "versi_inventaris": VERSION_RE.search(page).group(1),
        "usulan": KEY_RE.search(page).group(1),
        "pilih": chosen,
    }


def test_the_scan_page_shows_each_proposal_with_markers_and_the_diff(as_person, probes):
    client = as_person("Baiq Kasi")
    assert 'href="/admin/temukan"' in client.get("/admin").text
    reply = scanned(client)
    assert reply.status_code == 200, reply.text
    page = reply.text
    for name in ("opd-dinkes", "sw-dinkes", PING_ONLY):
        assert f'name="pilih" value="{name}"' in page
    assert page.count('name="pilih"') == 3
    assert "hanya ping" in page
    assert "KONFIRMASI: " in page
    assert "Dinas Kesehatan" in page
    assert "keyakinan tinggi" in page
    assert "+  sw-dinkes:" in page  # the diff
    assert probes["scans"] == 1


def test_accepting_two_of_three_writes_exactly_those_through_the_edit_service(as_person, office):
    path, url = office
    before = path.read_text()
    client = as_person("Baiq Kasi")
    data = accept_form(scanned(client).text, ["sw-dinkes", PING_ONLY])  # not opd-dinkes, the parent
    reply = client.post("/admin/temukan/terima", data=data)
    assert reply.status_code == 303, reply.text
    after = path.read_text()
    changed = difflib.ndiff(before.splitlines(), after.splitlines())
    assert not [line for line in changed if line.startswith("- ")]  # only lines added
    loaded = load_inventory(path)  # what `sigap check` runs
    new = set(loaded.devices) - set(load_inventory_text(before, path).devices)
    assert new == {"sw-dinkes", PING_ONLY}
    assert loaded.devices["sw-dinkes"].parent is None
    assert "induk opd-dinkes tidak diterima" in after
    assert list((path.parent / ".sigap-backups").iterdir())  # the edit service's backup
    store = TicketStore(url)
    try:
        edits = AdminLog(store).edits(5)
    finally:
        store.close()
    assert edits[0].by == "Baiq Kasi"
    assert f"terima sw-dinkes, {PING_ONLY}" in edits[0].summary
    assert "sw-dinkes" in client.get("/admin").text


def test_a_stale_version_is_409_and_writes_nothing(as_person, office):
    path, _ = office
    client = as_person("Hj Kabid")
    data = accept_form(scanned(client).text, ["opd-dinkes"])
    path.write_text(path.read_text() + "# edited by hand meanwhile\n")
    edited = path.read_text()
    reply = client.post("/admin/temukan/terima", data=data)
    assert reply.status_code == 409
    assert "sudah diubah" in reply.text
    forged = {**data, "versi_inventaris": "0" * 64}  # a version that is not the scan's
    assert client.post("/admin/temukan/terima", data=forged).status_code == 409
    assert path.read_text() == edited


def test_wrong_role_is_403_and_nothing_is_probed(as_person, probes):
    for name in ("Teknisi Satu", "PJ RSUD"):
        client = as_person(name)
        assert client.get("/admin/temukan").status_code == 403
        token = csrf_of(client.get("/masuk").text)
        sent = {"csrf": token, "rentang": RANGES}
        assert client.post("/admin/temukan", data=sent).status_code == 403
        sent = {"csrf": token, "versi_inventaris": "0" * 64, "usulan": "x", "pilih": "sw-dinkes"}
        assert client.post("/admin/temukan/terima", data=sent).status_code == 403
    assert probes["scans"] == 0


def test_both_forms_need_the_csrf_token(as_person, office, probes):
    path, _ = office
    before = path.read_text()
    client = as_person("Lalu Kadis")
    page = scanned(client).text
    assert probes["scans"] == 1
    accept = accept_form(page, ["opd-dinkes"])
    good = accept.pop("csrf")
    for token in (None, "forged", good[:-1]):
        extra = {} if token is None else {"csrf": token}
        assert client.post("/admin/temukan", data={"rentang": RANGES, **extra}).status_code == 403
        reply = client.post("/admin/temukan/terima", data={**accept, **extra})
        assert reply.status_code == 403
    assert probes["scans"] == 1
    assert path.read_text() == before


@pytest.mark.parametrize(
    ("ranges", "says"),
    [
        ("10.0.0.0/8", "centang kotak 'paksa'"),
        ("10.8.0.0/15", "lebih besar dari /16"),
        ("10.9.12.0/24\x00", "karakter kendali"),
        ("10.9.12.0/24\x1b[2J", "karakter kendali"),
        ("1" * 5000, "terlalu panjang"),
        ("10.9.12.0/24," * 300, "terlalu banyak rentang"),
        ("10.9.12.1/24", "bukan rentang IPv4"),
        ("<script>alert(1)</script>", "bukan rentang IPv4"),
        ("", "wajib diisi"),
        (" , ,", "wajib diisi"),
        ("224.0.0.0/24", "multicast"),
    ],
)
def test_hostile_ranges_are_400_with_a_clear_message(as_person, probes, ranges, says):
    reply = scanned(as_person("Baiq Kasi"), ranges)
    assert reply.status_code == 400, reply.text
    assert says in html.unescape(reply.text)
    assert "<script>alert" not in reply.text  # escaped
    assert probes["scans"] == 0


def test_the_hostile_text_corpus_never_crashes_the_scan_form(as_person, probes):
    client = as_person("Baiq Kasi")
    for hostile in CORPUS:
        reply = scanned(client, hostile.text)
        assert reply.status_code == 400, (hostile, reply.status_code)
    assert probes["scans"] == 0


def test_paksa_allows_a_large_range_and_the_lab_rule_still_holds(as_person, office, probes):
    path, _ = office
    client = as_person("Baiq Kasi")
    assert scanned(client, "10.8.0.0/15").status_code == 400
    assert probes["scans"] == 0
    probes["stop"] = True  # the scan starts: that is all this test needs to see
    reply = scanned(client, "10.8.0.0/15", paksa="1")
    assert reply.status_code == 400
    assert "pemindaian uji dihentikan" in reply.text
    assert probes["scans"] == 1
    reply = scanned(client, "10.0.0.0/8", paksa="1")  # beyond /12: never, even forced
    assert reply.status_code == 400
    assert "juga dengan kotak &#39;paksa&#39;" in reply.text
    probes["stop"] = False
    lab = "lab: {prefixes: [10.9.0.0/16], noc_address: 10.9.255.254}\n"
    path.write_text(path.read_text() + lab)
    reply = scanned(client, "10.9.12.0/24")  # a lab inventory outside the lab NOC: refused
    assert reply.status_code == 400
    assert "lab" in reply.text
    assert sum(probes["pinger"].batches) == 0  # type: ignore[attr-defined]


def test_unknown_or_empty_choices_and_forgotten_proposals_are_refused(as_person, office):
    path, _ = office
    before = path.read_text()
    client = as_person("Baiq Kasi")
    data = accept_form(scanned(client).text, [])
    url = "/admin/temukan/terima"
    assert client.post(url, data=data).status_code == 400  # nothing ticked
    assert client.post(url, data={**data, "pilih": "core"}).status_code == 400  # not proposed
    assert client.post(url, data={**data, "pilih": "a\x00b"}).status_code == 400
    assert (
        client.post(url, data={**data, "usulan": "gone", "pilih": "opd-dinkes"}).status_code == 404
    )
    assert path.read_text() == before


def test_the_board_keeps_only_the_last_proposals() -> None:
    kept = Proposals()
    keys = [kept.keep(Proposal(ranges=(f"10.9.{i}.0/24",), hosts=())) for i in range(KEEP + 1)]
    assert kept.get(keys[0]) is None  # the oldest forgotten: "pindai ulang"
    assert [p.ranges if (p := kept.get(k)) else None for k in keys[1:]] == [
        (f"10.9.{i}.0/24",) for i in range(1, KEEP + 1)
    ]
    assert len(set(keys)) == KEEP + 1


def test_one_scan_at_a_time(as_person, probes):
    client = as_person("Baiq Kasi")
    second: list[int] = []

    def once() -> None:  # a second scan asked while the first one runs
        probes["during"] = None
        second.append(scanned(client).status_code)

    probes["during"] = once
    assert scanned(client).status_code == 200
    assert second == [429]
    assert probes["scans"] == 1
    assert scanned(client).status_code == 200  # free again afterwards


def test_probes_that_cannot_open_are_503_and_a_broken_file_400(as_person, office, probes):
    path, _ = office
    client = as_person("Baiq Kasi")

    def no_socket() -> None:
        raise PermissionError(1, "Operation not permitted")

    probes["during"] = no_socket
    reply = scanned(client)
    assert reply.status_code == 503
    assert "Operation not permitted" in reply.text
    probes["during"] = None
    path.write_text(path.read_text().replace("  dist:\n", "  dist:\n    bogus: 1\n"))
    reply = scanned(client)
    assert reply.status_code == 400
    assert "bogus" in reply.text
