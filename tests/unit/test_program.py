"""Program Kegiatan export: XLSX opened with openpyxl, CSV read back."""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import openpyxl
import pytest

from ticketing.models import ProgramStatus
from ticketing.program import HEADERS, export_csv, export_xlsx
from ticketing.views import ProgramEntry

pytestmark = pytest.mark.unit

ENTRIES = [
    ProgramEntry(1, "GJ/2026/0007", "Dukcapil", "dukcapil-sw1", "switch mati",
                 "Ganti switch 24 port", 7_500_000, "tinggi", 2027, ProgramStatus.USULAN,
                 datetime(2026, 11, 26, 6, 0, tzinfo=UTC)),
    ProgramEntry(2, None, "RSUD Praya", "", "kabel FO putus", "Tarik ulang FO 300 m",
                 12_000_000, "sedang", 2027, ProgramStatus.DISETUJUI,
                 datetime(2026, 11, 27, 1, 0, tzinfo=UTC)),
]  # fmt: skip


def test_xlsx_cells(tmp_path):
    path = tmp_path / "pk.xlsx"
    assert export_xlsx(ENTRIES, path, title="Program Kegiatan 2027") == 2
    sheet = openpyxl.load_workbook(path)["Program Kegiatan"]
    assert sheet["A1"].value == "Program Kegiatan 2027"
    assert tuple(c.value for c in sheet[2]) == HEADERS
    assert [c.value for c in sheet[3]] == [
        1, "GJ/2026/0007", "Dukcapil", "dukcapil-sw1", "switch mati", "Ganti switch 24 port",
        7_500_000, "tinggi", 2027, "usulan", "2026-11-26 14:00",
    ]  # fmt: skip
    assert sheet["B4"].value is None  # no ticket: empty cell
    assert sheet["G4"].value == 12_000_000
    assert sheet["G3"].number_format == '"Rp" #,##0'
    assert (sheet["F5"].value, sheet["G5"].value) == ("Jumlah", 19_500_000)


def test_csv(tmp_path):
    path = tmp_path / "pk.csv"
    assert export_csv(ENTRIES, path) == 2
    with path.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == list(HEADERS)
    assert table[2][2:7] == ["RSUD Praya", "", "kabel FO putus", "Tarik ulang FO 300 m", "12000000"]
    assert table[2][-1] == "2026-11-27 09:00"
