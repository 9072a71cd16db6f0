"""The SOP workflow from the command line: `sigap tiket lapor ... selesai`, program-kegiatan,
laporan; through agent.cli.main (exit codes) against SQLite in tmp_path and the real clock."""

# ruff: noqa: S314 - the XML parsed here is the SVG sigap wrote, not untrusted input

from __future__ import annotations

import csv
import json
import sys
import textwrap
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from agent import cli

pytestmark = pytest.mark.unit

INVENTORY = """
office:
  name: Diskominfo Lombok Tengah
defaults:
  role: router
  platform: mikrotik_routeros
hosts:
  core-r1: {address: 10.0.0.1, opd: Diskominfo}
  rsud-r1: {address: 10.0.1.1, opd: RSUD Praya, parent: core-r1}
people:
  - {name: Lalu Kadis, role: kadis, opd: Diskominfo}
  - {name: Hj Kabid, role: kabid, opd: Diskominfo}
  - {name: Baiq Kasi, role: kasi, opd: Diskominfo}
  - {name: Teknisi Satu, role: teknisi, opd: Diskominfo}
  - {name: PJ RSUD, role: pj_opd, opd: RSUD Praya}
"""


@pytest.fixture
def sigap(tmp_path, monkeypatch, capsys):
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    monkeypatch.setenv("SIGAP_INVENTORY", str(inventory))
    monkeypatch.setenv("SIGAP_DB_URL", f"sqlite:///{tmp_path / 'sigap.db'}")
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sigap", *args])
        with pytest.raises(SystemExit) as info:
            cli.main()
        out, err = capsys.readouterr()
        return info.value.code, out, " ".join(err.split())

    return run


def lapor(sigap, *extra: str) -> str:
    code, out, err = sigap("tiket", "lapor", "--sumber", "wa", "--opd", "RSUD Praya",
                           "--pelapor", "dr. Ayu", "--uraian", "Internet poli mati",
                           "--oleh", "Baiq Kasi", *extra)  # fmt: skip
    assert code == 0, err
    return out.split("Tiket ", 1)[1].split(" ", 1)[0]


def test_manual_complaint_walks_the_sop(sigap):
    code, out, _ = sigap("tiket", "lapor", "--sumber", "wa", "--opd", "RSUD Praya",
                         "--pelapor", "dr. Ayu", "--uraian", "Internet poli mati",
                         "--oleh", "Baiq Kasi")  # fmt: skip
    assert code == 0
    number = out.split("Tiket ", 1)[1].split(" ", 1)[0]
    assert "SOP Penanganan Gangguan Jaringan Internet" in out
    assert "Langkah pertama batas" in out
    assert "WITA" in out
    assert "Berikutnya: langkah no. 2" in out

    code, out, _ = sigap("tiket", "disposisi", number, "--oleh", "Lalu Kadis", "--isi",
                         "Segera tindak lanjuti", "--sifat", "sangat-segera",
                         "--nomor-agenda", "045/311/DKI")  # fmt: skip
    assert code == 0
    assert "langkah no. 2" in out
    assert "Berikutnya: langkah no. 3" in out

    code, out, _ = sigap("tiket", "selesai", number, "--oleh", "Baiq Kasi")
    assert code == 1  # the assignment step needs `tugaskan`
    code, out, _ = sigap("tiket", "tugaskan", number, "--oleh", "Baiq Kasi",
                         "--teknisi", "Teknisi Satu")  # fmt: skip
    assert code == 0
    assert "oleh Teknisi Satu" in out  # step 4 is the technician's

    code, out, _ = sigap("tiket", "tangani", number, "--oleh", "Teknisi Satu", "--kompleks",
                         "--usulan", "Ganti switch", "--biaya", "7500000",
                         "--prioritas", "tinggi", "--tahun", "2027")  # fmt: skip
    assert code == 0
    assert "Keputusan: kompleks" in out
    assert "Program Kegiatan #1 (tahun 2027" in out

    code, out, _ = sigap("tiket", "selesai", number, "--oleh", "Teknisi Satu",
                         "--laporan", "Switch diganti sementara")  # fmt: skip
    assert code == 0
    assert "langkah no. 5 (membuat laporan) selesai oleh Teknisi Satu" in out
    assert "Semua langkah SOP selesai" in out

    code, out, _ = sigap("tiket", "show", number, "--json")
    data = json.loads(out)
    assert data["status"] == "resolved"
    assert [s["completed_by"] for s in data["steps"]] == [
        "Baiq Kasi", "Lalu Kadis", "Baiq Kasi", "Teknisi Satu", "Teknisi Satu"
    ]  # fmt: skip
    assert data["steps"][1]["document"]["sifat"] == "sangat_segera"
    assert data["steps"][4]["document"] == {"isi": "Switch diganti sementara"}

    code, out, _ = sigap("tiket", "show", number)
    assert code == 0
    assert "Langkah SOP" in out
    assert "Surat disposisi" in out
    assert "Riwayat" in out


def test_wrong_role_and_unknown_person(sigap):
    number = lapor(sigap)
    code, _, err = sigap("tiket", "disposisi", number, "--oleh", "Teknisi Satu", "--isi", "x")
    assert code == 1
    assert "hanya boleh dilakukan oleh kadis / kabid" in err
    assert "Teknisi Satu (teknisi) tidak berwenang" in err
    code, _, err = sigap("tiket", "disposisi", number, "--oleh", "Baiq Kas", "--isi", "x")
    assert code == 1
    assert "orang 'Baiq Kas' tidak ada" in err
    assert "mungkin: Baiq Kasi (kasi)" in err
    code, _, err = sigap("tiket", "tangani", number, "--oleh", "Teknisi Satu", "--sederhana",
                         "--kompleks")  # fmt: skip
    assert code == 2


def test_program_kegiatan_list_and_export(sigap, tmp_path):
    number = lapor(sigap)
    sigap("tiket", "disposisi", number, "--oleh", "Hj Kabid", "--isi", "Tangani")
    sigap("tiket", "tugaskan", number, "--oleh", "Baiq Kasi", "--teknisi", "Teknisi Satu")
    code, _, err = sigap("tiket", "tangani", number, "--oleh", "Teknisi Satu", "--kompleks",
                         "--usulan", "Tarik ulang FO", "--biaya", "12000000",
                         "--tahun", "2027")  # fmt: skip
    assert code == 0, err
    code, out, _ = sigap("program-kegiatan", "list", "--tahun", "2027", "--status", "usulan")
    assert code == 0
    assert "Rp 12.000.000" in out
    code, out, _ = sigap("program-kegiatan", "list", "--tahun", "2026")
    assert "Tidak ada entri" in out

    code, out, _ = sigap("program-kegiatan", "export", "--format", "xlsx", "--tahun", "2027",
                         "-o", "pk.xlsx")  # fmt: skip
    assert code == 0
    assert "1 entri" in out
    sheet = openpyxl.load_workbook(tmp_path / "pk.xlsx")["Program Kegiatan"]
    assert sheet["A1"].value.startswith("Program Kegiatan 2027")
    row = [c.value for c in sheet[3]]
    assert row[1:3] == [number, "RSUD Praya"]
    assert row[5:10] == ["Tarik ulang FO", 12_000_000, "sedang", 2027, "usulan"]

    code, _, _ = sigap("program-kegiatan", "export", "--format", "csv", "--tahun", "2027")
    assert code == 0
    assert (tmp_path / "program-kegiatan-2027.csv").exists()
    code, out, err = sigap("program-kegiatan", "status", "1", "--ke", "disetujui",
                           "--oleh", "Teknisi Satu")  # fmt: skip
    assert code == 1
    code, out, _ = sigap("program-kegiatan", "status", "1", "--ke", "disetujui",
                         "--oleh", "Hj Kabid")  # fmt: skip
    assert "status disetujui" in out


def test_laporan_tiket_and_bulanan(sigap, tmp_path):
    number = lapor(sigap)
    via_pj = lapor(sigap, "--via-pj")
    sigap("tiket", "disposisi", number, "--oleh", "Hj Kabid", "--isi", "Tangani")
    code, out, _ = sigap("tiket", "selesai", via_pj, "--oleh", "PJ RSUD")
    assert "Kepala Seksi memerintah" in out  # PJ reported to the Kasi; the Kasi assigns next

    code, out, _ = sigap("laporan", "tiket", number)
    assert code == 0
    assert out.startswith(f"# Laporan Penanganan Gangguan {number}")
    code, out, _ = sigap("laporan", "tiket", number, "--format", "html", "-o", "t.html")
    assert code == 0
    assert (tmp_path / "t.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Makassar")).strftime("%Y-%m")
    code, out, _ = sigap("laporan", "bulanan", "--bulan", month, "-o", "out")
    assert code == 0
    assert f"{month}: 2 tiket" in out
    out_dir = tmp_path / "out"
    assert (out_dir / f"laporan-bulanan-{month}.md").exists()
    with (out_dir / f"laporan-bulanan-{month}-ringkasan.csv").open(encoding="utf-8-sig") as fh:
        summary = {row["ukuran"]: row["nilai"] for row in csv.DictReader(fh)}
    assert summary["tiket_dibuka"] == "2"
    assert summary["tiket_selesai"] == "0"
    assert summary["mtta_tiket"] == "2"  # disposition of the first, PJ report of the second
    with (out_dir / f"laporan-bulanan-{month}-opd.csv").open(encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh))[1] == ["RSUD Praya", "2"]
    svg = ET.parse(out_dir / f"laporan-bulanan-{month}-opd.svg").getroot()
    assert svg.tag.endswith("svg")

    code, _, err = sigap("laporan", "bulanan", "--bulan", "November")
    assert code == 2
    assert "contoh: 2026-11" in err
