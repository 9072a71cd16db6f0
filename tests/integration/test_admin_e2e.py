"""End to end in Debian's headless Chromium: the Kasi adds a device and opens a maintenance
window on it from the admin pages of a real ``sigap web`` (SQLite; the board's e2e test runs on
PostgreSQL, the admin pages are tested on both in tests/unit); the file on disk changes as
`sigap check` accepts it. Screenshots go to ``tests/artifacts/web-admin/``.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.config.load import load_inventory
from tests.integration.test_web_e2e import browser, database, shoot, sign_in
from tests.webboard import served_board, set_passwords, write_inventory

pytestmark = pytest.mark.integration
__all__ = ["browser", "database"]  # fixtures of the board's e2e test

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web-admin"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_kasi_adds_a_device_and_opens_a_window_in_chromium(browser, database, tmp_path, request):
    inventory = write_inventory(tmp_path)
    set_passwords(database)
    shots = ARTIFACTS / request.node.callspec.id
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    with served_board(inventory.path, database, tmp_path) as base:
        page = sign_in(browser, base, "Baiq Kasi")
        page.click("nav >> text=Admin")  # click 1 of the window's two
        page.wait_for_url(f"{base}/admin")
        page.fill("input[name=nama]", "pkm-r1")
        page.fill("input[name=address]", "10.0.3.1")
        page.fill("input[name=opd]", "Puskesmas Praya")
        page.fill("input[name=parent]", "core-r1")
        page.click("form[action='/admin/perangkat'] button[type=submit]")
        page.wait_for_url(f"{base}/admin")
        assert "Tersimpan: perangkat baru pkm-r1" in page.inner_text("p.flash")
        shoot(page, shots, "01-perangkat-baru")
        before = datetime.now(UTC)
        page.click("button[data-perangkat='pkm-r1']")  # click 2: "Pemeliharaan 2 jam"
        page.wait_for_url(f"{base}/admin")
        assert "jendela pemeliharaan pkm-r1" in page.inner_text("p.flash")
        shoot(page, shots, "02-jendela")
        fresh = load_inventory(inventory.path)
        device = fresh.devices["pkm-r1"]
        assert device.parent == "core-r1"
        assert device.in_maintenance(before + timedelta(minutes=60), fresh.tz) is not None
        assert device.in_maintenance(before + timedelta(hours=3), fresh.tz) is None
        # an address `sigap check` refuses: its message on the page, the file unchanged
        text = inventory.path.read_text()
        page.fill("input[name=nama]", "pkm-r2")
        page.fill("input[name=address]", "10.0.3.999")
        page.click("form[action='/admin/perangkat'] button[type=submit]")
        assert "hosts.pkm-r2.address" in page.inner_text("main")
        shoot(page, shots, "03-ditolak")
        assert inventory.path.read_text() == text
