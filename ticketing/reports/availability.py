"""The availability report laid out: tables, chart, CSV and XLSX (Indonesian).

``sigap laporan ketersediaan`` prints and writes it for any period; the monthly recap
(``ticketing.reports.documents.monthly_doc``) adds its OPD and ISP link tables and its chart.
Minutes are downtime minutes (one decimal); percentages are cut, never rounded up, so an
OPD with any downtime never shows 100 %.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Final

from openpyxl import Workbook
from openpyxl.styles import Font

from ticketing.display import write_csv
from ticketing.program import sheet_row
from ticketing.reports.render import MINUTE, Chart, Doc, Table, duration_text, html_text, when

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from ticketing.availability import AvailabilityReport, Figures
    from ticketing.rollups import Busy

CHART_WIDTH: Final = 640
LABEL_W: Final = 240
ROW_H: Final = 22
TOP: Final = 34
LABEL_CHARS: Final = 30
FULL: Final = 100.0
MEGA: Final = 1_000_000

OPD_HEADERS: Final = (
    "No", "OPD", "Ketersediaan", "Memenuhi target", "Gangguan (menit)", "Jumlah gangguan",
    "Gangguan terlama", "MTBF",
)  # fmt: skip
LINK_HEADERS: Final = (
    "OPD", "Perangkat uplink", "Ketersediaan", "Gangguan (menit)", "Jumlah gangguan",
    "Gangguan terlama",
)  # fmt: skip
DEVICE_HEADERS: Final = (
    "Perangkat", "OPD", "Ketersediaan", "Gangguan (menit)", "Jumlah gangguan", "Gangguan terlama",
    "MTBF",
)  # fmt: skip
DEFINITIONS: Final = (
    "Ketersediaan = 1 - waktu gangguan / waktu yang dinilai; waktu yang dinilai = periode "
    "dikurangi jendela pemeliharaan. Waktu gangguan perangkat: tiket device_down miliknya "
    "(sejak dibuka sampai pulih) ditambah waktu ia terdampak gangguan perangkat induknya, "
    "digabung bila bertumpuk.",
    "OPD: terganggu selama ada perangkatnya yang terganggu.",
    "Link ISP: perangkat uplink OPD (perangkat OPD yang induknya di luar OPD, biasanya router "
    "OPD), hanya dari tiket device_down miliknya sendiri; waktu terdampak gangguan di sisi "
    "Diskominfo tidak dihitung sebagai gangguan link.",
    "MTBF: rata-rata waktu normal di antara dua gangguan.",
)


def pct_text(value: float | None) -> str:
    """``99.87%``, cut (not rounded) to two decimals; ``-`` when nothing was judged."""
    if value is None:
        return "-"
    return f"{math.floor(value * 100) / 100:.2f}%"


def minutes(value: timedelta) -> str:
    """Downtime minutes with one decimal (``12.0``)."""
    return f"{value.total_seconds() / MINUTE:.1f}"


def opd_rows(report: AvailabilityReport) -> list[tuple[str, ...]]:
    """Ranked OPD rows (best first)."""
    return [
        (
            str(i),
            f.name,
            pct_text(f.percent),
            "ya" if f.meets(report.target) else "tidak",
            minutes(f.downtime),
            str(f.outages),
            duration_text(f.longest) if f.outages else "-",
            duration_text(f.mtbf),
        )
        for i, f in enumerate(report.opds, 1)
    ]


def link_rows(report: AvailabilityReport) -> list[tuple[str, ...]]:
    """ISP links, most downtime first (what an ISP claim starts from)."""
    return [
        (f.opd, f.name, pct_text(f.percent), minutes(f.downtime), str(f.outages),
         duration_text(f.longest) if f.outages else "-")
        for f in report.links
    ]  # fmt: skip


def device_rows(report: AvailabilityReport) -> list[tuple[str, ...]]:
    """Devices, best first."""
    return [
        (f.name, f.opd, pct_text(f.percent), minutes(f.downtime), str(f.outages),
         duration_text(f.longest) if f.outages else "-", duration_text(f.mtbf))
        for f in report.devices
    ]  # fmt: skip


def opd_table(report: AvailabilityReport) -> Table:
    """OPD rows with the target line drawn where the ranking crosses the target."""
    rows = opd_rows(report)
    cut = sum(1 for f in report.opds if f.meets(report.target))
    line = ("", f"--- target {report.target:g}% ---", *("" for _ in OPD_HEADERS[2:]))
    if rows and cut < len(rows):
        rows.insert(cut, line)
    return Table(OPD_HEADERS, tuple(rows), caption=f"Target ketersediaan {report.target:g}%")


BUSY_HEADERS: Final = (
    "OPD", "Perangkat", "Port", "p95 masuk (Mbps)", "p95 keluar (Mbps)", "Bandwidth (Mbps)",
    "p95 / bandwidth",
)  # fmt: skip


def busiest_table(links: Sequence[Busy]) -> Table:
    """Busiest uplinks; an hourly estimate (5-minute buckets expired) is marked."""

    def mbps(v: float | None) -> str:
        return "-" if v is None else f"{v / MEGA:.2f}"

    rows = tuple(
        (b.opd, b.device, b.interface + ("" if b.exact else " (perkiraan per jam)"),
         mbps(b.in_p95), mbps(b.out_p95), mbps(b.bandwidth_bps),
         "-" if b.utilisation is None else f"{b.utilisation * 100:.0f}%")
        for b in links
    )  # fmt: skip
    return Table(BUSY_HEADERS, rows)


def add_sections(
    doc: Doc, report: AvailabilityReport, *, chart_href: str, all_links: bool = True
) -> None:
    """The OPD table, its chart and the ISP links (``all_links``: also those without outage)."""
    doc.heading("Ketersediaan per OPD")
    doc.add(opd_table(report) if report.opds else "Tidak ada OPD di inventory.")
    doc.add(Chart(chart_svg(report), chart_href, "Ketersediaan per OPD"))
    doc.heading("Link ISP (uplink OPD)")
    rows = link_rows(report)
    shown_rows = (
        rows if all_links else [r for r, f in zip(rows, report.links, strict=True) if f.outages]
    )
    if shown_rows:
        doc.add(Table(LINK_HEADERS, tuple(shown_rows)))
    quiet = len(rows) - len(shown_rows)
    if quiet or not rows:
        doc.add(f"{quiet} link ISP lain tanpa gangguan." if rows else "Tidak ada link ISP.")


def availability_doc(
    report: AvailabilityReport, *, tz: ZoneInfo, office: str = "", chart_href: str = ""
) -> Doc:
    """The whole availability report of one period."""
    doc = Doc("Laporan Ketersediaan Jaringan")
    period = f"Periode {when(report.start, tz)} s.d. {when(report.end, tz)}"
    doc.subtitle = [s for s in (office, period) if s]
    add_sections(doc, report, chart_href=chart_href)
    doc.heading("Ketersediaan per perangkat")
    doc.add(Table(DEVICE_HEADERS, tuple(device_rows(report))))
    doc.heading("Definisi")
    doc.add(*DEFINITIONS)
    return doc


def write_tables_csv(report: AvailabilityReport, path: Path) -> list[Path]:
    """``path`` (OPD) and ``<stem>-link.csv``, ``<stem>-perangkat.csv`` beside it."""
    parts = _sheets(report)
    written = []
    for suffix, rows in zip(("", "-link", "-perangkat"), parts.values(), strict=True):
        target = path.with_name(f"{path.stem}{suffix}{path.suffix or '.csv'}")
        write_csv(target, SHEET_HEADERS, rows)
        written.append(target)
    return written


def write_xlsx(report: AvailabilityReport, path: Path, *, title: str = "") -> Path:
    """One workbook, a sheet each for OPD, ISP links and devices."""
    book = Workbook()
    first = book.active
    if first is not None:
        book.remove(first)
    for name, rows in _sheets(report).items():
        sheet = book.create_sheet(name)
        if title:
            sheet_row(sheet, [title])
            sheet.cell(row=1, column=1).font = Font(bold=True)
        sheet_row(sheet, SHEET_HEADERS)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet_row(sheet, row)
    book.save(path)
    return path


SHEET_HEADERS: Final = (
    "peringkat", "opd", "perangkat", "ketersediaan_persen", "memenuhi_target", "gangguan_menit",
    "jumlah_gangguan", "gangguan_terlama_menit", "mtbf_jam",
)  # fmt: skip
HOUR_MINUTES: Final = 60


def sheet_rows(
    report: AvailabilityReport, figures: Sequence[Figures], *, opd_level: bool = False
) -> list[tuple[str | int | float, ...]]:
    """Numbers as numbers (for a spreadsheet): one row per OPD, link or device."""
    rows: list[tuple[str | int | float, ...]] = []
    for i, f in enumerate(figures, 1):
        pct, mtbf = f.percent, f.mtbf
        rows.append(
            (
                i,
                f.name if opd_level else f.opd,
                "" if opd_level else f.name,
                "" if pct is None else round(math.floor(pct * 10_000) / 10_000, 4),
                "ya" if f.meets(report.target) else "tidak",
                round(f.downtime.total_seconds() / MINUTE, 1),
                f.outages,
                round(f.longest.total_seconds() / MINUTE, 1),
                "" if mtbf is None else round(mtbf.total_seconds() / MINUTE / HOUR_MINUTES, 2),
            )
        )
    return rows


def _sheets(report: AvailabilityReport) -> dict[str, list[tuple[str | int | float, ...]]]:
    return {
        "OPD": sheet_rows(report, report.opds, opd_level=True),
        "Link ISP": sheet_rows(report, report.links),
        "Perangkat": sheet_rows(report, report.devices),
    }


# -- chart ----------------------------------------------------------------------------------------


def chart_svg(report: AvailabilityReport) -> str:
    """Availability per OPD as horizontal bars from a floor to 100 %, the target dashed."""
    return percent_chart_svg("Ketersediaan per OPD", _items(report.opds), report.target)


def _items(figures: Sequence[Figures]) -> list[tuple[str, float]]:
    return [(f.name, f.percent) for f in figures if f.percent is not None]


def percent_chart_svg(title: str, items: Sequence[tuple[str, float]], target: float) -> str:
    """Bars of percentages over ``[floor, 100]`` (floor below the lowest value and the target)."""
    lowest = min([target, *(v for _, v in items)])
    floor = max(0.0, math.floor(lowest) - 1.0)
    bar_w = CHART_WIDTH - LABEL_W - 70
    height = TOP + ROW_H * max(len(items), 1) + 24

    def x(value: float) -> int:
        return LABEL_W + round(bar_w * (min(max(value, floor), FULL) - floor) / (FULL - floor))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
        'font-size="12">',
        f"<title>{html_text(title)}</title>",
        f'<text x="8" y="20" font-size="14" font-weight="bold">{html_text(title)}</text>',
    ]
    if not items:
        out.append(f'<text x="8" y="{TOP + 14}" fill="#555">Tidak ada data.</text>')
    for i, (label, value) in enumerate(items):
        y = TOP + i * ROW_H
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        colour = "#2b6cb0" if value >= target else "#c53030"
        out += [
            f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">{html_text(short)}</text>',
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{x(value) - LABEL_W}" '
            f'height="{ROW_H - 6}" fill="{colour}"/>',
            f'<text x="{x(value) + 5}" y="{y + 15}">{pct_text(value)}</text>',
        ]
    bottom = TOP + ROW_H * max(len(items), 1)
    out += [
        f'<line x1="{x(target)}" y1="{TOP - 4}" x2="{x(target)}" y2="{bottom}" '
        'stroke="#c53030" stroke-width="2" stroke-dasharray="5 3"/>',
        f'<text x="{x(target)}" y="{bottom + 16}" text-anchor="middle" fill="#c53030">'
        f"target {target:g}%</text>",
        f'<text x="{LABEL_W}" y="{bottom + 16}" fill="#555">{floor:g}%</text>',
        "</svg>",
    ]
    return "\n".join(out) + "\n"
