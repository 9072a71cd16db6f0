"""The configuration versions page (issue 22): versions with time and trigger, the last change
as a unified diff, any two versions by ``?dari=&ke=``, device text escaped (no script), bad
revisions refused, OPD contacts see only their OPD's devices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.backup.repo import ConfigRepo
from agent.backup.web import line_class
from tests.webboard import set_passwords, signed_in_clients, write_inventory
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
EVIL = '<script>alert("x")</script>\x1b[2J'


@pytest.fixture
def client_of(tmp_path):
    inventory = write_inventory(tmp_path)
    url = TicketStore.sqlite_url(tmp_path / "state" / "sigap.db")
    (tmp_path / "state").mkdir()
    set_passwords(url)
    repo = ConfigRepo(tmp_path / "state" / "konfigurasi" / "repo")  # beside the database
    base = "/system identity set name=rsud-r1\n/interface ethernet set [ find default-name=ether2 ]"
    for i, tail in enumerate(["", " disabled=yes", f" comment={EVIL}"]):
        repo.save_blocking("rsud-r1", base + tail + "\n", at=AT + timedelta(days=i),
                           trigger="jadwal" if i < 2 else "pengguna Baiq Kasi")  # fmt: skip
    from agent.backup.status import StatusFile

    StatusFile(tmp_path / "state" / "konfigurasi" / "status.json").update_blocking(
        "rsud-r1", "host_key", "kunci host SSH BERUBAH <b>", AT, nightly=True
    )
    with signed_in_clients(inventory, url) as make:
        yield make, repo


def test_versions_and_the_last_change_escaped(client_of) -> None:
    make, _ = client_of
    page = make("Baiq Kasi").get("/perangkat/rsud-r1/konfigurasi")
    assert page.status_code == 200, page.text
    text = page.text
    assert text.count("<code>") == 3
    assert "pengguna Baiq Kasi" in text
    assert "GAGAL (host_key)</span>: kunci host SSH BERUBAH &lt;b&gt;" in text
    assert "1 malam berturut-turut" in text
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert" in text
    assert "\x1b" not in text
    assert 'class="diff-add"' in text
    assert (
        'class="diff-del">-/interface ethernet set [ find default-name=ether2 ] disabled=yes'
        in (text)
    )


def test_any_two_versions_and_bad_revisions(client_of) -> None:
    make, repo = client_of
    client = make("Teknisi Satu")
    versions = repo.history_blocking("rsud-r1")
    page = client.get(
        "/perangkat/rsud-r1/konfigurasi",
        params={"dari": versions[2].rev[:10], "ke": versions[1].rev[:10]},
    )
    assert page.status_code == 200
    assert (
        'class="diff-add">+/interface ethernet set [ find default-name=ether2 ] disabled=yes'
        in (page.text)
    )
    for bad in ("HEAD~1", "--output=/tmp/x", "zzzz", "0" * 41):
        reply = client.get("/perangkat/rsud-r1/konfigurasi", params={"dari": bad})
        assert reply.status_code == 400, bad


def test_opd_contacts_see_their_opd_only_and_unknown_devices_are_404(client_of) -> None:
    make, _ = client_of
    pj = make("PJ RSUD")
    assert pj.get("/perangkat/rsud-r1/konfigurasi").status_code == 200
    assert pj.get("/perangkat/core-r1/konfigurasi").status_code == 404
    assert pj.get("/perangkat/nope/konfigurasi").status_code == 404
    empty = make("Baiq Kasi").get("/perangkat/core-r1/konfigurasi")
    assert "Belum ada konfigurasi tersimpan." in empty.text


def test_line_classes() -> None:
    assert [line_class(x) for x in ("+++ b/x", "+a", "-b", "@@ -1 +1 @@", " c", "")] == [
        "meta", "add", "del", "hunk", "ctx", "ctx",
    ]  # fmt: skip
