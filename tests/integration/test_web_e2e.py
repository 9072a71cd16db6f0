"""End to end: the web board in Debian's headless Chromium against a real ``sigap web``.

``sigap web`` runs as its own process on 127.0.0.1 over a real database (PostgreSQL here;
the admin e2e test runs on a SQLite file; the board's pages are tested on both in
tests/unit). In the browser the Kasi records a complaint, the Kabid gives the disposition,
the Kasi assigns the technician, the technician marks it handled (sederhana); the timeline
then names each of them. Screenshots of the main pages (desktop and phone) are written to
``tests/artifacts/web/<database>/`` (ignored by git) for review.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.webboard import password_of, served_board, set_passwords, write_inventory
from ticketing.store import TicketStore

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
PHONE = {"width": 390, "height": 844}


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return TicketStore.sqlite_url(tmp_path / "web.db")
    return str(request.getfixturevalue("pg_url"))


def sign_in(browser, base: str, name: str, **context):
    page = browser.new_context(locale="id-ID", **context).new_page()
    page.goto(f"{base}/masuk")
    page.fill("input[name=nama]", name)
    page.fill("input[name=sandi]", password_of(name))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def shoot(page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_kabid_disposes_and_technician_handles_in_chromium(  # noqa: PLR0915 - one story
    browser, database, tmp_path, request
):
    inventory = write_inventory(tmp_path)
    set_passwords(database)
    shots = ARTIFACTS / request.node.callspec.id
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    with served_board(inventory.path, database, tmp_path) as base:
        login = browser.new_page()
        login.goto(f"{base}/masuk")
        shoot(login, shots, "01-masuk")
        login.close()

        kasi = sign_in(browser, base, "Baiq Kasi")
        kasi.goto(f"{base}/lapor")
        kasi.select_option("select[name=sumber]", "wa")
        kasi.select_option("select[name=opd]", "RSUD Praya")
        kasi.fill("input[name=pelapor]", "dr. Ayu")
        kasi.fill("textarea[name=uraian]", "Internet ruang poli mati sejak pagi")
        shoot(kasi, shots, "02-lapor")
        kasi.click("text=Catat pengaduan")
        kasi.wait_for_selector(".flash")
        number = kasi.url.split("/tiket/", 1)[1]
        assert number.startswith("GJ/")

        kabid = sign_in(browser, base, "Hj Kabid")
        shoot(kabid, shots, "03-dasbor")
        kabid.goto(f"{base}/tiket")
        kabid.click(f"text={number}")
        kabid.fill("input[name=nomor_agenda]", "005/117/Kominfo/2026")
        kabid.select_option("select[name=sifat]", "segera")
        kabid.fill("textarea[name=isi]", "Segera tindak lanjuti, laporkan hasilnya")
        shoot(kabid, shots, "04-tiket-disposisi")
        kabid.click("text=Kirim disposisi")
        assert "Tersimpan oleh Hj Kabid" in kabid.inner_text(".flash")

        kasi.reload()
        kasi.select_option("select[name=teknisi]", "Teknisi Satu")
        kasi.click("button:has-text('Tugaskan')")
        kasi.wait_for_selector(".flash")

        tech = sign_in(browser, base, "Teknisi Satu", viewport=PHONE, is_mobile=True)
        tech.goto(f"{base}/tiket/{number}")
        tech.check("input[value=sederhana]")
        tech.fill("textarea[name=catatan]", "Patch cord diganti")
        shoot(tech, shots, "05-tiket-teknisi-ponsel")
        tech.click("text=Simpan penanganan")
        assert "Tersimpan oleh Teknisi Satu" in tech.inner_text(".flash")

        kabid.goto(f"{base}/tiket/{number}")
        timeline = kabid.inner_text("ol.timeline")
        assert "oleh Baiq Kasi" in timeline  # 1 pengaduan dicatat, 3 perintah ke teknisi
        assert "oleh Hj Kabid" in timeline  # 2 disposisi
        assert "oleh Teknisi Satu" in timeline  # 4 pengecekan: sederhana
        assert "005/117/Kominfo/2026" in timeline
        audit = kabid.inner_text("table.events")
        assert "Keputusan: sederhana" in audit
        shoot(kabid, shots, "06-tiket-alur")

        for path, name in (
            ("/tiket", "07-daftar-tiket"),
            ("/tiket?status=open&terlambat=1", "08-daftar-terlambat"),
            ("/perangkat/rsud-r1", "09-perangkat"),
            ("/program", "10-program-kegiatan"),
            ("/laporan", "11-laporan-bulanan"),
        ):
            kabid.goto(f"{base}{path}")
            shoot(kabid, shots, name)
        tech.goto(f"{base}/tiket")
        shoot(tech, shots, "12-daftar-tiket-ponsel")
        assert tech.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    print(f"\nscreenshots: {shots}")
