"""The printable documents: a ticket's laporan and the monthly recap, laid out as :class:`Doc`.

``ticket_doc`` and ``monthly_doc`` only arrange content (tables, paragraphs, charts) in
Indonesian; ``ticketing.reports.render`` writes it as Markdown or HTML. ``write_monthly`` writes
the recap with its CSV tables and SVG charts (``sigap laporan bulanan``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ticketing.display import write_csv
from ticketing.reports import availability as avail
from ticketing.reports.render import (
    DOC_LABEL,
    MINUTE,
    SOURCE_LABEL,
    Chart,
    Doc,
    Table,
    bar_chart_svg,
    duration_text,
    month_title,
    percent,
    render,
    rupiah,
    when,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime, timedelta
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from ticketing.reports.monthly import Durations, MonthlyReport
    from ticketing.views import EventView, ProgramEntry, StepView, TicketView


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
        PROGRAM_HEADERS,
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
                *_availability_summary(report),
            ),
        )
    )
    if report.availability is not None:
        href = chart_name(report, AVAILABILITY)
        avail.add_sections(doc, report.availability, chart_href=href, all_links=False)
        doc.heading("Uplink tersibuk (p95 trafik 5 menit terhadap bandwidth kontrak)")
        doc.add(avail.busiest_table(report.busiest) if report.busiest else NO_TRAFFIC)
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
    if report.availability is not None:
        doc.add(*avail.DEFINITIONS)
    return doc


AVAILABILITY: Final = "ketersediaan"
NO_TRAFFIC: Final = "Belum ada riwayat trafik uplink untuk bulan ini (SNMP, port bertanda uplink)."


def _availability_summary(report: MonthlyReport) -> tuple[tuple[str, str], ...]:
    found = report.availability
    if found is None:
        return ()
    below = len(found.below_target())
    return (
        (f"OPD di bawah target ketersediaan {found.target:g}%", f"{below} dari {len(found.opds)}"),
    )


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
    if report.availability is not None:
        path = directory / chart_name(report, AVAILABILITY)
        path.write_text(avail.chart_svg(report.availability), encoding="utf-8")
        written.append(path)
        written += avail.write_tables_csv(
            report.availability, directory / f"{base}-{AVAILABILITY}.csv"
        )
    tables: dict[str, tuple[Sequence[str], Sequence[Sequence[str]]]] = {
        "ringkasan": (("ukuran", "keterangan", "nilai"), summary_rows(report)),
        "opd": (("opd", "jumlah"), [(o, str(n)) for o, n in report.by_opd]),
        "minggu": (("tanggal", "jumlah"), [(w, str(n)) for w, n in report.by_week]),
        "kepatuhan": (COMPLIANCE_HEADERS, compliance_rows(report)),
    }
    for name, (headers, rows) in tables.items():
        path = directory / f"{base}-{name}.csv"
        write_csv(path, headers, rows)
        written.append(path)
    return written
