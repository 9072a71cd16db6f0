"""Inventory edits of the admin service: checked as `sigap check`, atomic, audited, conflict-safe.

Real files in tmp_path, the real ticket store on SQLite and PostgreSQL (the shared ``store``
fixture), a reloader that records what it was asked.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from agent.admin import changes
from agent.admin.edits import BACKUPS, EditConflictError, InventoryEditor, version_of
from agent.admin.reload import PidFileReloader, pid_file
from agent.config.load import load_inventory
from agent.errors import ConfigError
from tests.webboard import write_inventory
from ticketing.admin_log import AdminLog

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
COMMENTED = "\n# -- tambahan kecamatan baru di bawah ini\n"


class Recorder:
    def __init__(self) -> None:
        self.asked = 0

    def request(self) -> str:
        self.asked += 1
        return "diminta"


@pytest.fixture
def editor(tmp_path, store):
    write_inventory(tmp_path, COMMENTED)
    return InventoryEditor(
        tmp_path / "inventory.yaml", AdminLog(store), Recorder(), now=lambda: NOW
    )


def test_add_device_writes_checks_audits_and_reloads(editor):
    before = editor.snapshot()
    change = changes.add_host(
        "pkm-r1", {"address": "10.0.3.1", "opd": "Puskesmas Praya", "parent": "core-r1"}
    )
    result = editor.apply(change, by="Baiq Kasi", base_version=before.version, summary="tambah")
    text = editor.path.read_text()
    assert "# -- tambahan kecamatan baru di bawah ini" in text  # comments survive
    assert result.inventory.devices["pkm-r1"].parent == "core-r1"
    assert load_inventory(editor.path).devices["pkm-r1"].address == "10.0.3.1"
    assert result.version == version_of(text) != before.version
    assert "+  pkm-r1:" in result.diff
    assert [ln for ln in result.diff.splitlines() if ln.startswith("-") and ln[1:2] != "-"] == []
    assert "  - {name: Baiq Kasi, role: kasi, opd: Diskominfo}" in text  # lists keep their indent
    assert editor.reloader.asked == 1
    [audit] = editor.log.edits()
    assert (audit.by, audit.summary, audit.version_before) == (
        "Baiq Kasi",
        "tambah",
        before.version,
    )
    assert audit.diff == result.diff
    assert audit.reload == "diminta"
    backups = list((editor.path.parent / BACKUPS).iterdir())
    assert [b.read_text() for b in backups] == [before.text]


def test_invalid_change_gives_the_check_messages_and_writes_nothing(editor, tmp_path):
    before = editor.snapshot()
    bad = changes.add_host("pkm-r1", {"address": "10.0.3.999", "parent": "nowhere"})
    with pytest.raises(ConfigError) as caught:
        editor.apply(bad, by="Baiq Kasi", base_version=before.version, summary="x")
    # the same problems `sigap check` prints for the same file written by hand
    by_hand = tmp_path / "hand" / "inventory.yaml"
    by_hand.parent.mkdir()
    by_hand.write_text(
        before.text.replace(
            "people:", "  pkm-r1: {address: 10.0.3.999, parent: nowhere}\npeople:", 1
        )
    )
    with pytest.raises(ConfigError) as checked:
        load_inventory(by_hand)
    assert [p.message for p in caught.value.problems] == [p.message for p in checked.value.problems]
    assert "hosts.pkm-r1.address" in str(caught.value)
    assert editor.path.read_text() == before.text
    assert editor.log.edits() == []
    assert editor.reloader.asked == 0


def test_second_editor_on_an_old_version_gets_a_conflict(editor):
    base = editor.snapshot().version
    editor.apply(
        changes.edit_host("rsud-r1", {"opd": "Diskominfo"}), by="A", base_version=base, summary="a"
    )
    after_first = editor.path.read_text()
    with pytest.raises(EditConflictError) as caught:
        editor.apply(
            changes.edit_host("rsud-r1", {"site": "Gedung B"}),
            by="B",
            base_version=base,
            summary="b",
        )
    assert caught.value.current == version_of(after_first)
    assert editor.path.read_text() == after_first
    assert len(editor.log.edits()) == 1


def test_concurrent_editors_on_the_same_version_one_wins(editor):
    base = editor.snapshot().version
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def edit(i: int) -> None:
        barrier.wait()
        try:
            editor.apply(
                changes.edit_host("setda-r1", {"site": f"lantai {i}"}),
                by=f"p{i}",
                base_version=base,
                summary=str(i),
            )
            outcomes.append("ok")
        except EditConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "ok"]
    assert len(editor.log.edits()) == 1


def test_maintenance_window_once_weekly_and_cancel(editor):
    start = NOW + timedelta(minutes=5)
    snap = editor.snapshot()
    result = editor.apply(
        changes.add_window("rsud-r1", "kabel fiber", start, start + timedelta(hours=2)),
        by="Baiq Kasi",
        base_version=snap.version,
        summary="jendela",
    )
    device = result.inventory.devices["rsud-r1"]
    assert device.in_maintenance(start + timedelta(hours=1), result.inventory.tz) is not None
    assert device.in_maintenance(start + timedelta(hours=3), result.inventory.tz) is None
    result = editor.apply(
        changes.add_weekly("rsud-r1", "rutin", ["sun"], "01:00", "03:00"),
        by="Baiq Kasi",
        base_version=result.version,
        summary="mingguan",
    )
    assert "weekly: {days: [sun], start: 01:00, end: 03:00}" in editor.path.read_text()
    touched = [ln for ln in result.diff.splitlines() if ln[:1] in "+-" and ln[1:2] not in "+-"]
    assert all("rsud-r1" in ln for ln in touched), touched  # only that host's line changed
    result = editor.apply(
        changes.cancel_window("rsud-r1", "kabel fiber"),
        by="Baiq Kasi",
        base_version=result.version,
        summary="batal",
    )
    names = [w.name for w in result.inventory.devices["rsud-r1"].maintenance]
    assert names == ["rutin"]


def test_window_ending_before_it_starts_is_the_check_message(editor):
    snap = editor.snapshot()
    with pytest.raises(ConfigError) as caught:
        editor.apply(
            changes.add_window("rsud-r1", "salah", NOW, NOW - timedelta(hours=1)),
            by="x",
            base_version=snap.version,
            summary="x",
        )
    assert "is not after start" in str(caught.value)


def test_retire_move_and_mark_ports(editor):
    v = editor.snapshot().version
    with pytest.raises(ConfigError, match="parent"):  # a child still names it
        editor.apply(changes.retire_host("rsud-r1"), by="x", base_version=v, summary="x")
    r = editor.apply(changes.retire_host("rsud-sw1"), by="x", base_version=v, summary="pensiun")
    assert "rsud-sw1" not in r.inventory.devices
    r = editor.apply(
        changes.edit_host("setda-r1", {"opd": "RSUD Praya"}),
        by="x",
        base_version=r.version,
        summary="pindah",
    )
    assert r.inventory.devices["setda-r1"].opd == "RSUD Praya"
    r = editor.apply(
        changes.mark_port("setda-r1", "ether2", required_up=True, uplink=False),
        by="x",
        base_version=r.version,
        summary="port",
    )
    mark = r.inventory.devices["setda-r1"].ports["ether2"]
    assert mark.required_up
    assert not mark.uplink


def test_pid_file_reloader_signals_only_a_sigap_process(tmp_path):
    target = tmp_path / "sigap.pid"
    assert "tidak dihubungi" in PidFileReloader(None).request()
    assert "tidak berjalan" in PidFileReloader(target).request()
    target.write_text("1\n")  # pid 1 is not sigap: no signal
    assert "tidak berjalan" in PidFileReloader(target).request()
    with pid_file(target):
        assert target.read_text().strip().isdigit()
    assert not target.exists()


def test_only_a_sigap_argv_is_signalled():
    from agent.admin.reload import is_sigap

    assert is_sigap([b"/opt/sigap/.venv/bin/sigap", b"run"])
    assert is_sigap([b"/usr/bin/python3", b"-m", b"agent", b"run", b""])
    assert not is_sigap([b"/usr/bin/vim", b"sigap.pid"])
    assert not is_sigap([b"/usr/sbin/sshd", b"-D"])
