"""Printable reports: Markdown, HTML, CSV and a hand-written SVG bar chart (no template engine).

Both the per-ticket laporan and the monthly recap are first laid out as a small document
(:class:`Doc`: headings, key/value tables, tables, paragraphs, charts) and then written as
Markdown or HTML by one walker each, so the two formats never drift apart.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ticketing.calendar import zone_abbreviation
from ticketing.reports.monthly import NO_OPD

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime, timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from ticketing.reports.monthly import Durations, MonthlyReport
    from ticketing.views import EventView, ProgramEntry, StepView, TicketView

MONTHS: Final = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
SOURCE_LABEL: Final = {
    "agent": "deteksi agen",
    "wa": "WhatsApp",
    "email": "email",
    "surat": "surat",
}
DOC_LABEL: Final = {
    "surat_disposisi": "Surat disposisi",
    "nota_dinas": "Nota dinas",
    "register_gangguan": "Register gangguan",
    "laporan_permasalahan": "Laporan permasalahan",
    "laporan": "Laporan",
}
FORMATS: Final = ("md", "html")
MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86400
CHART_WIDTH: Final = 640
CHART_LABEL_W: Final = 220
CHART_ROW_H: Final = 22
CHART_TOP: Final = 34
LABEL_CHARS: Final = 30


# -- small formatters ---------------------------------------------------------------------------


def duration_text(value: timedelta | None) -> str:
    """Indonesian duration: ``2 hari 3 jam``, ``1 jam 5 menit``, ``12 menit``, ``< 1 menit``."""
    if value is None:
        return "-"
    total = int(value.total_seconds())
    if total < MINUTE:
        return "0 menit" if total <= 0 else "< 1 menit"
    days, rest = divmod(total, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    parts = [f"{days} hari"] if days else []
    if hours:
        parts.append(f"{hours} jam")
    if minutes and not days:  # minutes do not matter once days are counted
        parts.append(f"{minutes} menit")
    return " ".join(parts) or f"{days} hari"


def rupiah(amount: int) -> str:
    """``Rp 7.500.000`` (Indonesian thousands separator)."""
    return "Rp " + f"{amount:,}".replace(",", ".")


def when(at: datetime | None, tz: ZoneInfo) -> str:
    """``2026-11-02 09:00 WITA`` (``-`` for None)."""
    if at is None:
        return "-"
    zone = zone_abbreviation(tz) or tz.key
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") + f" {zone}"


def month_title(year: int, month: int) -> str:
    """``November 2026``."""
    return f"{MONTHS[month - 1]} {year}"


def percent(value: float | None) -> str:
    """``75%`` (``-`` for None)."""
    return "-" if value is None else f"{value:.0f}%"


# -- document model -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    """A table with a header row; ``caption`` printed above it."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG chart: inlined in HTML, linked from Markdown as ``href``."""

    svg: str
    href: str
    alt: str


Block = str | Table | Chart  # a str is a paragraph; "## x" starts a heading


@dataclass(slots=True)
class Doc:
    """A printable document: title, subtitle lines and blocks in order."""

    title: str
    subtitle: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """Start a section."""
        self.blocks.append(f"## {text}")

    def add(self, *blocks: Block) -> None:
        """Append blocks."""
        self.blocks.extend(blocks)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Doc) -> str:
    """The document as GitHub-flavoured Markdown."""
    out = [f"# {doc.title}", ""]
    out += [*(f"{line}  " for line in doc.subtitle), ""] if doc.subtitle else []
    for block in doc.blocks:
        if isinstance(block, Table):
            if block.caption:
                out += [f"**{block.caption}**", ""]
            out.append("| " + " | ".join(_md_cell(h) for h in block.headers) + " |")
            out.append("|" + "|".join("---" for _ in block.headers) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        elif isinstance(block, Chart):
            out.append(f"![{block.alt}]({block.href})")
        else:
            out.append(block)
        out.append("")
    return "\n".join(out)


CSS: Final = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; margin: 2em; color: #111; }
h1 { font-size: 16pt; margin-bottom: 0.2em; } h2 { font-size: 13pt; margin-top: 1.4em; }
.sub { color: #444; margin: 0 0 1em 0; }
table { border-collapse: collapse; margin: 0.4em 0 0.8em 0; width: 100%; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; } caption { text-align: left; font-weight: bold; padding: 4px 0; }
@page { size: A4; margin: 15mm; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; }
  tr { page-break-inside: avoid; } }
"""


def to_html(doc: Doc) -> str:
    """The document as one printable HTML page (charts inlined)."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="id"><head><meta charset="utf-8">',
        f"<title>{e(doc.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(doc.title)}</h1>",
    ]
    if doc.subtitle:
        out.append('<p class="sub">' + "<br>".join(e(s) for s in doc.subtitle) + "</p>")
    for block in doc.blocks:
        if isinstance(block, Table):
            out.append(_html_table(block))
        elif isinstance(block, Chart):
            out.append(f"<figure>{block.svg}<figcaption>{e(block.alt)}</figcaption></figure>")
        elif block.startswith("## "):
            out.append(f"<h2>{e(block[3:])}</h2>")
        else:
            out.append(f"<p>{e(block)}</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_table(table: Table) -> str:
    e = html.escape
    cap = f"<caption>{e(table.caption)}</caption>" if table.caption else ""
    head = "".join(f"<th>{e(h)}</th>" for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(doc: Doc, fmt: str) -> str:
    """``md`` or ``html``; raise ValueError naming the known formats."""
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "html":
        return to_html(doc)
    raise ValueError(f"format {fmt!r} tidak dikenal ({', '.join(FORMATS)})")


# -- chart ----------------------------------------------------------------------------------------


def bar_chart_svg(title: str, items: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar chart as a standalone SVG document (one bar per item, value at its end)."""
    e = html.escape
    top = max((v for _, v in items), default=0) or 1
    bar_w = CHART_WIDTH - CHART_LABEL_W - 50
    height = CHART_TOP + CHART_ROW_H * max(len(items), 1) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
        'font-size="12">',
        f"<title>{e(title)}</title>",
        f'<text x="8" y="20" font-size="14" font-weight="bold">{e(title)}</text>',
    ]
    if not items:
        out.append(f'<text x="8" y="{CHART_TOP + 14}" fill="#555">Tidak ada data.</text>')
    for i, (label, value) in enumerate(items):
        y = CHART_TOP + i * CHART_ROW_H
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        width = round(bar_w * value / top)
        out += [
            f'<text x="{CHART_LABEL_W - 6}" y="{y + 15}" text-anchor="end">{e(short)}</text>',
            f'<rect x="{CHART_LABEL_W}" y="{y + 3}" width="{width}" height="{CHART_ROW_H - 6}" '
            'fill="#2b6cb0"/>',
            f'<text x="{CHART_LABEL_W + width + 5}" y="{y + 15}">{value}</text>',
        ]
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- per-ticket laporan -------------------------------------------------------------------------


def _doc_text(kind: str | None, doc: Mapping[str, object] | None) -> str:
    if not kind:
        return ""
    label = DOC_LABEL.get(kind, kind)
    if not doc:
        return label
    keys = ("nomor_agenda", "tanggal", "sifat", "isi_disposisi", "teknisi", "isi")
    bits = [f"{k.replace('_', ' ')}: {str(doc[k]).replace('_', ' ')}" for k in keys if doc.get(k)]
    if doc.get("disposisi_tetap"):
        bits.insert(0, "disposisi tetap")
    return f"{label} ({'; '.join(bits)})" if bits else label


def step_rows(steps: Sequence[StepView], tz: ZoneInfo, now: datetime) -> list[tuple[str, ...]]:
    """Timeline rows: no, kegiatan, pelaksana, mulai, batas, selesai, oleh, terlambat, dokumen."""
    out: list[tuple[str, ...]] = []
    for s in steps:
        late = s.late_by if s.completed_at is not None else s.overdue(now)
        late_text = duration_text(late) if late else ("tepat waktu" if s.completed_at else "")
        if late and s.completed_at is None:
            late_text += " (berjalan)"
        out.append(
            (
                s.label,
                s.kegiatan,
                s.role if s.completed_at is not None else s.person or s.role,
                when(s.started_at, tz),
                when(s.due_at, tz),
                when(s.completed_at, tz),
                s.completed_by or "",
                late_text,
                _doc_text(s.document_kind, s.document),
            )
        )
    return out


STEP_HEADERS: Final = (
    "No", "Kegiatan", "Pelaksana", "Mulai", "Batas waktu", "Selesai", "Oleh", "Keterlambatan",
    "Dokumen",
)  # fmt: skip


def ticket_doc(
    ticket: TicketView,
    steps: Sequence[StepView],
    events: Sequence[EventView],
    program: Sequence[ProgramEntry],
    *,
    tz: ZoneInfo,
    now: datetime,
    office: str = "",
    sop_title: str = "",
) -> Doc:
    """The printable laporan of one ticket: data, SOP steps, documents, program, history."""
    doc = Doc(f"Laporan Penanganan Gangguan {ticket.number}")
    doc.subtitle = [s for s in (office, f"Dicetak {when(now, tz)}") if s]
    info = [
        ("Nomor tiket", ticket.number),
        ("Sumber", SOURCE_LABEL.get(ticket.source, ticket.source)),
        ("OPD", ticket.opd or "-"),
        ("Pelapor", ticket.reporter or "-"),
        ("Perangkat", ticket.device or "-"),
        ("Uraian", ticket.description or ticket.summary),
        ("Diterima / dibuka", when(ticket.opened_at, tz)),
        ("SOP", sop_title or ticket.sop or "-"),
        ("Keputusan", ticket.complexity or "-"),
        ("Teknisi", ticket.assignee or "-"),
        ("Selesai", when(ticket.resolved_at or ticket.sop_done_at, tz)),
    ]
    doc.add(Table(("Data", "Isi"), tuple(info)))
    doc.heading("Langkah SOP")
    doc.add(Table(STEP_HEADERS, tuple(step_rows(steps, tz, now))))
    if program:
        doc.heading("Program Kegiatan")
        doc.add(_program_table(program))
    doc.heading("Riwayat")
    doc.add(Table(("Waktu", "Oleh", "Keterangan"), tuple(
        (when(e.at, tz), e.actor, e.detail) for e in events
    )))  # fmt: skip
    doc.heading("Pengesahan")
    doc.add(
        f"Dibuat oleh: {ticket.assignee or '....................'}",
        "Mengetahui, Kepala Seksi Infrastruktur Jaringan: ....................",
    )
    return doc


PROGRAM_HEADERS: Final = (
    "Tiket", "OPD", "Permasalahan", "Usulan tindakan", "Biaya", "Prioritas", "Tahun", "Status",
)  # fmt: skip


def _program_table(entries: Sequence[ProgramEntry]) -> Table:
    return Table(
        (
            "Tiket",
            "OPD",
            "Permasalahan",
            "Usulan tindakan",
            "Biaya",
            "Prioritas",
            "Tahun",
            "Status",
        ),
        tuple(
            (
                e.ticket or "-",
                e.opd,
                e.problem,
                e.proposed_action,
                rupiah(e.estimated_cost),
                e.priority,
                str(e.budget_year),
                e.status.value,
            )
            for e in entries
        ),
    )


# -- monthly recap ---------------------------------------------------------------------------------


def _dur(d: Durations) -> str:
    if d.mean is None:
        return f"- (belum ada; {d.pending} tiket menunggu)"
    text = f"{duration_text(d.mean)} (median {duration_text(d.median)}; {d.count} tiket"
    return text + (f", {d.pending} belum)" if d.pending else ")")


def summary_rows(report: MonthlyReport) -> list[tuple[str, str, str]]:
    """(key, label, value) rows of the summary; ``key`` is the CSV's machine name."""

    def minutes(v: timedelta | None) -> str:
        return "" if v is None else f"{v.total_seconds() / MINUTE:.1f}"

    return [
        ("tiket_dibuka", "Tiket dibuka", str(report.total)),
        ("tiket_selesai", "Tiket selesai", str(report.resolved)),
        ("mtta_menit", "MTTA rata-rata (menit)", minutes(report.mtta.mean)),
        ("mtta_median_menit", "MTTA median (menit)", minutes(report.mtta.median)),
        ("mtta_tiket", "Tiket dengan tanggapan", str(report.mtta.count)),
        ("mttr_menit", "MTTR rata-rata (menit)", minutes(report.mttr.mean)),
        ("mttr_median_menit", "MTTR median (menit)", minutes(report.mttr.median)),
        ("mttr_tiket", "Tiket terselesaikan", str(report.mttr.count)),
        ("kepatuhan_persen", "Kepatuhan SOP (%)", _pct_num(report.compliance_percent)),
        ("remediasi", "Remediasi otomatis", str(sum(n for _, n in report.remediation))),
        ("program_kegiatan", "Program Kegiatan baru", str(len(report.program))),
        ("program_biaya_rp", "Perkiraan biaya Program Kegiatan (Rp)", str(report.program_cost)),
    ]


def _pct_num(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


COMPLIANCE_HEADERS: Final = (
    "SOP", "No", "Kegiatan", "Tepat", "Terlambat", "Lewat batas", "Berjalan", "Kepatuhan",
    "Rata-rata keterlambatan",
)  # fmt: skip


def compliance_rows(report: MonthlyReport) -> list[tuple[str, ...]]:
    """One row per SOP step with its on-time counts."""
    return [
        (
            c.sop,
            c.label,
            c.kegiatan,
            str(c.tepat),
            str(c.terlambat),
            str(c.lewat),
            str(c.berjalan),
            percent(c.percent),
            duration_text(c.late_total / c.terlambat) if c.terlambat else "-",
        )
        for c in report.compliance
    ]


def monthly_doc(report: MonthlyReport, *, tz: ZoneInfo, office: str = "") -> Doc:
    """The monthly recap as a document (charts referenced by their file names)."""
    doc = Doc(f"Laporan Bulanan Gangguan Jaringan - {month_title(report.year, report.month)}")
    doc.subtitle = [s for s in (office, f"Data per {when(report.as_of, tz)}") if s]
    doc.heading("Ringkasan")
    doc.add(
        Table(
            ("Ukuran", "Nilai"),
            (
                ("Tiket dibuka", str(report.total)),
                ("Tiket selesai", str(report.resolved)),
                ("MTTA (waktu sampai ditanggapi)", _dur(report.mtta)),
                ("MTTR (waktu sampai selesai)", _dur(report.mttr)),
                ("Kepatuhan SOP", percent(report.compliance_percent)),
                ("Program Kegiatan baru", f"{len(report.program)} ({rupiah(report.program_cost)})"),
            ),
        )
    )
    doc.heading("Tiket per OPD")
    doc.add(Table(("OPD", "Jumlah"), tuple((o, str(n)) for o, n in report.by_opd)))
    doc.add(chart(report, "opd"))
    doc.heading("Tiket per minggu")
    doc.add(Table(("Tanggal", "Jumlah"), tuple((w, str(n)) for w, n in report.by_week)))
    doc.add(chart(report, "minggu"))
    doc.heading("Sumber tiket")
    doc.add(Table(("Sumber", "Jumlah"), tuple(
        (SOURCE_LABEL.get(s, s), str(n)) for s, n in report.by_source
    )))  # fmt: skip
    doc.heading("Kepatuhan SOP per langkah")
    doc.add(Table(COMPLIANCE_HEADERS, tuple(compliance_rows(report))))
    doc.heading("Hasil remediasi")
    if report.remediation:
        doc.add(Table(("Hasil", "Jumlah"), tuple((k, str(n)) for k, n in report.remediation)))
    else:
        doc.add("Belum ada (remediasi otomatis belum dijalankan): 0.")
    doc.heading("Program Kegiatan baru")
    doc.add(_program_table(report.program) if report.program else "Belum ada.")
    doc.heading("Definisi")
    doc.add(*DEFINITIONS)
    return doc


DEFINITIONS: Final = (
    "Tiket bulan ini: tiket yang dibuka (pengaduan: diterima) dalam bulan tersebut, waktu WITA.",
    "MTTA: dari tiket dibuka sampai langkah SOP sesudah penerimaan selesai (disposisi, atau "
    "laporan PJ ke Kasi), oleh pejabat atau oleh sistem di bawah disposisi tetap.",
    "MTTR: dari tiket dibuka sampai tiket selesai (gangguan pulih / langkah SOP terakhir "
    "selesai). Tiket yang belum selesai dihitung terpisah.",
    "Kepatuhan SOP: langkah selesai tepat waktu dibagi langkah yang selesai atau sudah lewat "
    "batas waktu (mutu baku, dihitung pada jam kerja kantor).",
)


def chart_name(report: MonthlyReport, what: str) -> str:
    """File name of a chart: ``laporan-bulanan-2026-11-opd.svg``."""
    return f"laporan-bulanan-{report.label}-{what}.svg"


def chart(report: MonthlyReport, what: str) -> Chart:
    """Tickets per OPD (``opd``) or per week (``minggu``) as a chart block."""
    title = month_title(report.year, report.month)
    if what == "opd":
        items, alt = report.by_opd, f"Tiket per OPD, {title}"
    else:
        items, alt = report.by_week, f"Tiket per minggu (tanggal), {title}"
    return Chart(bar_chart_svg(alt, items), chart_name(report, what), alt)


def write_monthly(
    report: MonthlyReport, directory: Path, *, fmt: str, tz: ZoneInfo, office: str = ""
) -> list[Path]:
    """Write the recap (``md``/``html``), its CSV tables and SVG charts; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    base = f"laporan-bulanan-{report.label}"
    main = directory / f"{base}.{fmt}"
    main.write_text(render(monthly_doc(report, tz=tz, office=office), fmt), encoding="utf-8")
    written = [main]
    for what in ("opd", "minggu"):
        path = directory / chart_name(report, what)
        path.write_text(chart(report, what).svg, encoding="utf-8")
        written.append(path)
    tables: dict[str, tuple[Sequence[str], Sequence[Sequence[str]]]] = {
        "ringkasan": (("ukuran", "keterangan", "nilai"), summary_rows(report)),
        "opd": (("opd", "jumlah"), [(o, str(n)) for o, n in report.by_opd]),
        "minggu": (("tanggal", "jumlah"), [(w, str(n)) for w, n in report.by_week]),
        "kepatuhan": (COMPLIANCE_HEADERS, compliance_rows(report)),
    }
    for name, (headers, rows) in tables.items():
        path = directory / f"{base}-{name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(headers)
            writer.writerows(rows)
        written.append(path)
    return written


__all__ = ["NO_OPD", "Doc", "bar_chart_svg", "duration_text", "monthly_doc", "ticket_doc"]
