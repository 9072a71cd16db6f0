"""Program Kegiatan export: CSV and XLSX (openpyxl) for a budget year.

Problems and proposed actions come from complaints (e-mail subjects, WhatsApp text): every
text cell is :func:`ticketing.display.shown`, and in the XLSX stored as text (never a formula,
``quotePrefix`` when it looks like one); the CSV follows :func:`ticketing.display.write_csv`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from ticketing.display import formula_like, shown, write_csv

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from openpyxl.worksheet.worksheet import Worksheet

    from ticketing.views import ProgramEntry

HEADERS: Final = (
    "No",
    "Tiket",
    "OPD",
    "Perangkat",
    "Permasalahan",
    "Usulan Tindakan",
    "Perkiraan Biaya (Rp)",
    "Prioritas",
    "Tahun Anggaran",
    "Status",
    "Dicatat",
)
RUPIAH_FORMAT: Final = '"Rp" #,##0'
OFFICE_ZONE: Final = ZoneInfo("Asia/Makassar")


def rows(entries: Iterable[ProgramEntry], zone: ZoneInfo) -> list[list[str | int]]:
    """Table rows (numbered from 1); times in local ``zone`` as ``YYYY-MM-DD HH:MM``."""
    return [
        [
            i,
            e.ticket or "",
            e.opd,
            e.device,
            e.problem,
            e.proposed_action,
            e.estimated_cost,
            e.priority,
            e.budget_year,
            e.status.value,
            e.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        ]
        for i, e in enumerate(entries, start=1)
    ]


def export_csv(entries: Iterable[ProgramEntry], path: Path, *, zone: ZoneInfo = OFFICE_ZONE) -> int:
    """Write entries as CSV (UTF-8 with BOM, for Excel); return how many were written."""
    return write_csv(path, HEADERS, rows(entries, zone))


def sheet_row(sheet: Worksheet, values: Iterable[str | int | float]) -> None:
    """One row; text cells shown and typed as text, so no value is ever read as a formula."""
    sheet.append([shown(v) if isinstance(v, str) else v for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.quotePrefix = formula_like(cell.value)


def export_xlsx(
    entries: Iterable[ProgramEntry], path: Path, *, zone: ZoneInfo = OFFICE_ZONE, title: str = ""
) -> int:
    """Write entries as an XLSX sheet "Program Kegiatan"; return how many were written."""
    table = rows(entries, zone)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook always has one sheet
    sheet.title = "Program Kegiatan"
    if title:
        sheet_row(sheet, [title])
        sheet.cell(row=1, column=1).font = Font(bold=True, size=12)
    sheet_row(sheet, HEADERS)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in table:
        sheet_row(sheet, row)
        sheet.cell(row=sheet.max_row, column=7).number_format = RUPIAH_FORMAT
    total_row = sheet.max_row + 1
    sheet.cell(row=total_row, column=6, value="Jumlah").font = Font(bold=True)
    if table:
        total = sheet.cell(row=total_row, column=7, value=sum(int(r[6]) for r in table))
        total.number_format = RUPIAH_FORMAT
        total.font = Font(bold=True)
    for column, width in zip(
        "ABCDEFGHIJK", (5, 14, 24, 18, 40, 40, 20, 10, 10, 12, 17), strict=True
    ):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = f"A{header_row + 1}"
    book.save(path)
    return len(table)
