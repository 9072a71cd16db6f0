"""The map page of a real ``sigap web`` in Debian's headless Chromium (issue 11).

The database is seeded as the daemon writes it (``open_fault`` + ``attach``, stored links),
no lab needed. Checked: computed colours of the dead router and the switch behind it on a
phone viewport, the detail panel's click-through to the ticket, a second outage recoloured
by the page's own polling (no reload). Screenshot: ``tests/artifacts/web/peta/``.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.webboard import password_of, served_board, set_passwords, write_inventory
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.store import TicketStore
from ticketing.topology import TopologyStore

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "web" / "peta"
PHONE = {"width": 390, "height": 844}
RED, GREY, GREEN = "rgb(198, 40, 40)", "rgb(141, 141, 141)", "rgb(46, 125, 50)"
LINKS = {
    ("core-r1", "ether2", "rsud-r1", "ether1"): ("lldp",),
    ("rsud-r1", "ether3", "rsud-sw1", "Gi0-0"): ("lldp",),
    ("core-r1", "ether4", "setda-r1", "ether1"): ("lldp",),
}


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        unavailable("Debian's chromium is not installed (/usr/bin/chromium)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"playwright is not installed: {exc}")
    with sync_playwright() as pw:
        handle = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield handle
        finally:
            handle.close()


def fill_of(page, device: str) -> str:
    selector = f'g.node[data-device="{device}"] circle.dot'
    return str(page.eval_on_selector(selector, "e => getComputedStyle(e).fill"))


def test_map_page_colours_a_dead_router_and_follows_a_new_outage(browser, tmp_path):
    inventory = write_inventory(tmp_path)
    url = TicketStore.sqlite_url(tmp_path / "peta.db")
    set_passwords(url)
    at = datetime.now(UTC)
    with TicketStore(url) as store:
        migrate(store)
        opened = store.open_fault(Fault("rsud-r1", FaultKind.DEVICE_DOWN, "rsud-r1 mati"), at=at)
        store.attach(opened.ticket.fault_key or "", "rsud-sw1", at=at)
        TopologyStore(store).save_links(LINKS, seen=list(LINKS), lost={}, at=at)
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with served_board(inventory.path, url, tmp_path) as base:
        page = browser.new_context(locale="id-ID", viewport=PHONE, is_mobile=True).new_page()
        page.goto(f"{base}/masuk?lanjut=/peta")
        page.fill("input[name=nama]", "Baiq Kasi")
        page.fill("input[name=sandi]", password_of("Baiq Kasi"))
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/peta")
        assert fill_of(page, "rsud-r1") == RED
        assert fill_of(page, "rsud-sw1") == GREY
        assert fill_of(page, "setda-r1") == GREEN
        page.click('g.node[data-device="rsud-r1"]')
        link = page.wait_for_selector("#panel a[href^='/tiket/']")
        assert link.get_attribute("href") == f"/tiket/{opened.ticket.number}"
        page.screenshot(path=str(SHOTS / "peta-ponsel.png"), full_page=True)
        with TicketStore(url) as store:
            store.open_fault(Fault("setda-r1", FaultKind.DEVICE_DOWN, "setda-r1 mati"), at=at)
        page.wait_for_function(
            "() => document.querySelector('g.node[data-device=\"setda-r1\"]')"
            ".dataset.state === 'down'",
            timeout=15000,
        )  # the page polls /peta/data.json every 10 s
        assert fill_of(page, "setda-r1") == RED
        assert page.inner_text("#count-down") == "2"
        page.screenshot(path=str(SHOTS / "peta-ponsel-setelah.png"), full_page=True)
