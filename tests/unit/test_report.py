"""Monthly recap against a hand-computed fixture: tickets built through the real TicketService
on SQLite with an injected clock (November 2026, office calendar without holidays). The
production path (SQL aggregates) is checked against the numbers and against the oracle that
computes the recap from whole records (``tests/report_oracle.py``)."""

# ruff: noqa: S314 - the XML parsed here is the SVG this code wrote, not untrusted input

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.report_oracle import monthly, records
from ticketing.calendar import OfficeCalendar
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import TicketEvent
from ticketing.reports.documents import monthly_doc, ticket_doc, write_monthly
from ticketing.reports.monthly import parse_month, week_labels
from ticketing.reports.query import month_report
from ticketing.reports.render import bar_chart_svg, duration_text, render, rupiah
from ticketing.service import ProgramDraft, TicketService
from ticketing.states import EventKind
from ticketing.store import TicketStore
from ticketing.workflow import Complexity, Priority, StandingDisposition, WorkflowConfig

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
MIN = timedelta(minutes=1)


@dataclass(frozen=True)
class P:
    name: str
    role: str
    opd: str = "Diskominfo"


PEOPLE = [P("Lalu Kadis", "kadis"), P("Hj Kabid", "kabid"), P("Baiq Kasi", "kasi"),
          P("Teknisi Satu", "teknisi")]  # fmt: skip


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=WITA).astimezone(UTC)


class Clock:
    def __init__(self) -> None:
        self.at = local(2026, 11, 2, 9, 0)

    def __call__(self) -> datetime:
        return self.at

    def set(self, *args: int) -> None:
        self.at = local(*args)


@pytest.fixture
def built(tmp_path):
    """Five complaints/faults around November 2026; numbers computed by hand in the tests."""
    store = TicketStore(TicketStore.sqlite_url(tmp_path / "r.db"), hold_down=timedelta(minutes=30))
    yield build(store)
    store.close()


def build(store: TicketStore) -> dict:
    """The fixture's tickets in ``store``."""
    migrate(store)
    clock = Clock()
    config = WorkflowConfig(standing=StandingDisposition("Lalu Kadis", "800/1/DKI/2026"))
    svc = TicketService(store, people=PEOPLE, calendar=OfficeCalendar(holidays={}), now=clock,
                        config=config)  # fmt: skip

    # E: a letter received Sunday 1 Nov 06:00 WITA (still 31 Oct in UTC), recorded Monday
    # 08:00: intake due Mon 07:40 -> 20 min late; disposition (due 08:10) never done.
    clock.set(2026, 11, 2, 8, 0)
    e = svc.report(source="surat", opd="RSUD Praya", reporter="Direktur", by="Baiq Kasi",
                   description="Jaringan lantai 2 putus",
                   received_at=local(2026, 11, 1, 6, 0))  # fmt: skip
    # A: WA Mon 2 Nov 09:00, recorded 09:05 (on time); disposed 09:30 (due 09:15: 15 min
    # late); assigned 09:35 (due 09:40); decided kompleks Tue 10:00 (due Tue 09:35: 25 min
    # late); report 10:05 (due 10:10) -> resolved after 25 h 5 min, acknowledged after 30 min.
    clock.set(2026, 11, 2, 9, 5)
    a = svc.report(source="wa", opd="RSUD Praya", reporter="dr. Ayu", by="Baiq Kasi",
                   description="Internet poli mati",
                   received_at=local(2026, 11, 2, 9, 0))  # fmt: skip
    clock.set(2026, 11, 2, 9, 30)
    svc.dispose(a.number, by="Lalu Kadis", isi="Tindak lanjuti")
    clock.set(2026, 11, 2, 9, 35)
    svc.assign(a.number, by="Baiq Kasi", technician="Teknisi Satu")
    clock.set(2026, 11, 3, 10, 0)
    svc.handle(a.number, by="Teknisi Satu", complexity=Complexity.KOMPLEKS,
               program=ProgramDraft("Ganti switch", 7_500_000, Priority.TINGGI, 2027))  # fmt: skip
    clock.set(2026, 11, 3, 10, 5)
    svc.complete(a.number, by="Teknisi Satu", document={"isi": "selesai"})
    # B: email Mon 9 Nov 10:00, disposed 10:05 (on time, acknowledged after 5 min); the
    # assignment (due 10:15) is never done.
    clock.set(2026, 11, 9, 10, 0)
    b = svc.report(source="email", opd="Dukcapil", reporter="Kabid Dafduk", by="Baiq Kasi",
                   description="Tidak bisa akses SIAK")  # fmt: skip
    clock.set(2026, 11, 9, 10, 5)
    svc.dispose(b.number, by="Hj Kabid", isi="Kasi tangani")
    # C: agent fault Tue 17 Nov 08:00; the standing disposition completes intake, disposition
    # and assignment at once (acknowledged after 0 s); analysis due 09:00 never done; the
    # device is back 09:00 and the ticket resolves at 10:00 -> resolved after 2 h.
    clock.set(2026, 11, 17, 8, 0)
    c = store.open_fault(Fault("rsud-r1", FaultKind.DEVICE_DOWN, "rsud-r1 mati", opd="RSUD Praya"),
                         at=clock()).ticket  # fmt: skip
    svc.start(c.number)
    store.clear_fault(c.fault_key or "", at=local(2026, 11, 17, 9, 0))
    store.resolve_due(now=local(2026, 11, 17, 10, 0))
    # F: Tue 1 Dec 07:00 WITA (still 30 Nov in UTC): not November. Program entry of December.
    clock.set(2026, 12, 1, 7, 0)
    svc.report(source="wa", opd="Bappeda", reporter="x", by="Baiq Kasi", description="y")
    svc.add_program(ProgramDraft("Tarik FO", 12_000_000), by="Baiq Kasi", opd="Bappeda")

    return {"program": svc.program(), "numbers": (a, b, c, e), "svc": svc, "store": store}


def november(built, as_of=None):
    as_of = as_of or local(2026, 11, 30, 12, 0)
    return month_report(built["store"], built["svc"].sops, built["program"], year=2026,
                        month=11, tz=WITA, as_of=as_of)  # fmt: skip


def test_counts_per_opd_week_and_source(built):
    report = november(built)
    assert report.total == 4  # A, B, C, E; F is December in WITA
    assert report.by_opd == (("RSUD Praya", 3), ("Dukcapil", 1))
    assert report.by_week == (("1-7", 2), ("8-14", 1), ("15-21", 1), ("22-28", 0), ("29-30", 0))
    assert dict(report.by_source) == {"wa": 1, "email": 1, "surat": 1, "agent": 1}
    assert report.resolved == 2


def test_mtta_and_mttr(built):
    report = november(built)
    # MTTA: A 30 min, B 5 min, C 0 (standing disposition); E not acknowledged
    assert (report.mtta.count, report.mtta.pending) == (3, 1)
    assert report.mtta.mean == timedelta(seconds=700)  # 35 min / 3
    assert report.mtta.median == 5 * MIN
    # MTTR: A 25 h 5 min, C 2 h; B and E open
    assert (report.mttr.count, report.mttr.pending) == (2, 2)
    assert report.mttr.mean == (1505 * MIN + 120 * MIN) / 2
    assert report.mttr.median == report.mttr.mean


def test_sop_compliance_per_step(built):
    report = november(built)
    table = {(c.sop, c.position): (c.tepat, c.terlambat, c.lewat, c.berjalan)
             for c in report.compliance}  # fmt: skip
    assert table == {
        ("gangguan-internet", 1): (2, 1, 0, 0),  # A, B on time; E 20 min late
        ("gangguan-internet", 2): (1, 1, 1, 0),  # B on time; A 15 min late; E past due
        ("gangguan-internet", 3): (1, 0, 1, 0),  # A on time; B past due
        ("gangguan-internet", 4): (0, 1, 0, 0),  # A 25 min late
        ("gangguan-internet", 5): (1, 0, 0, 0),
        ("pemeliharaan", 1): (1, 0, 0, 0),
        ("pemeliharaan", 2): (1, 0, 0, 0),  # standing disposition
        ("pemeliharaan", 3): (1, 0, 0, 0),  # standing assignment
        ("pemeliharaan", 4): (0, 0, 1, 0),  # analysis due 09:00, never done
    }
    first = next(c for c in report.compliance if (c.sop, c.position) == ("gangguan-internet", 1))
    assert first.late_total == 20 * MIN
    assert report.compliance_percent == pytest.approx(100 * 8 / 14)


def test_program_and_remediation(built):
    report = november(built)
    assert [e.ticket for e in report.program] == [built["numbers"][0].number]
    assert report.program_cost == 7_500_000
    assert report.remediation == ()


@pytest.mark.parametrize(
    "backend",
    ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration])],
)
@pytest.mark.parametrize("as_of", [local(2026, 11, 9, 10, 10), local(2026, 11, 30, 12, 0)])
def test_sql_aggregates_give_the_same_report(backend, as_of, tmp_path, request):
    """month_report (GROUP BY in the database) equals the oracle's monthly() on records."""
    url = (
        TicketStore.sqlite_url(tmp_path / "r.db")
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    store = TicketStore(url, hold_down=timedelta(minutes=30))
    try:
        data = build(store)
        sops = data["svc"].sops
        c = data["numbers"][2]  # the agent fault: one remediation outcome on its log
        with store.transaction() as session:
            event = TicketEvent(ticket_id=c.id, at=local(2026, 11, 17, 8, 1), actor="sistem",
                                kind=EventKind.REMEDIATION, detail="aktifkan-port")  # fmt: skip
            session.add(event)
        every = records(store, data["svc"])
        for year, month in ((2026, 11), (2026, 12), (2026, 10)):
            expected = monthly(every, data["program"], year=year, month=month, tz=WITA,
                               as_of=as_of)  # fmt: skip
            got = month_report(store, sops, data["program"], year=year, month=month, tz=WITA,
                               as_of=as_of)  # fmt: skip
            assert got == expected, (year, month)
        november = month_report(store, sops, data["program"], year=2026, month=11, tz=WITA,
                                as_of=as_of)  # fmt: skip
        assert (november.total, november.remediation) == (4, (("remediation", 1),))
        assert got.total == 0  # October
    finally:
        store.close()


def test_running_step_not_yet_due_is_berjalan(built):
    early = november(built, as_of=local(2026, 11, 9, 10, 10))
    table = {(c.sop, c.position): c for c in early.compliance}
    assert table["gangguan-internet", 3].berjalan == 1  # B's assignment, due 10:15


def test_written_files_match_the_numbers(built, tmp_path):
    report = november(built)
    paths = write_monthly(report, tmp_path / "out", fmt="html", tz=WITA, office="Diskominfo")
    names = sorted(p.name for p in paths)
    assert names == sorted([
        "laporan-bulanan-2026-11.html", "laporan-bulanan-2026-11-opd.svg",
        "laporan-bulanan-2026-11-minggu.svg", "laporan-bulanan-2026-11-ringkasan.csv",
        "laporan-bulanan-2026-11-opd.csv", "laporan-bulanan-2026-11-minggu.csv",
        "laporan-bulanan-2026-11-kepatuhan.csv",
    ])  # fmt: skip
    out = tmp_path / "out"
    with (out / "laporan-bulanan-2026-11-ringkasan.csv").open(encoding="utf-8-sig") as fh:
        summary = {row["ukuran"]: row["nilai"] for row in csv.DictReader(fh)}
    assert summary["tiket_dibuka"] == "4"
    assert summary["mtta_menit"] == "11.7"
    assert summary["mttr_menit"] == "812.5"
    assert summary["kepatuhan_persen"] == "57.1"
    assert summary["program_biaya_rp"] == "7500000"
    with (out / "laporan-bulanan-2026-11-opd.csv").open(encoding="utf-8-sig") as fh:
        assert list(csv.reader(fh)) == [["opd", "jumlah"], ["RSUD Praya", "3"], ["Dukcapil", "1"]]
    svg = ET.parse(out / "laporan-bulanan-2026-11-opd.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(svg.findall("{http://www.w3.org/2000/svg}rect")) == 2
    page = (out / "laporan-bulanan-2026-11.html").read_text(encoding="utf-8")
    assert "Belum ada" in page
    assert "<svg" in page


def test_markdown_recap_sections(built):
    text = render(monthly_doc(november(built), tz=WITA), "md")
    for heading in ("## Ringkasan", "## Tiket per OPD", "## Kepatuhan SOP per langkah",
                    "## Hasil remediasi", "## Program Kegiatan baru", "## Definisi"):  # fmt: skip
        assert heading in text
    assert "| RSUD Praya | 3 |" in text
    assert "![Tiket per OPD, November 2026](laporan-bulanan-2026-11-opd.svg)" in text


def test_ticket_laporan(built):
    a = built["numbers"][0]
    svc, store = built["svc"], built["store"]
    doc = ticket_doc(svc.ticket(a.number), svc.steps(a.number), store.events(a.number),
                     svc.program(), tz=WITA, now=local(2026, 11, 30, 12, 0))  # fmt: skip
    text = render(doc, "md")
    assert "| Pelapor | dr. Ayu |" in text
    assert "15 menit" in text  # the late steps
    assert "25 menit" in text
    assert "Surat disposisi" in text
    assert "Rp 7.500.000" in text
    page = render(doc, "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "@media print" in page


def test_helpers():
    assert duration_text(timedelta(hours=25, minutes=5)) == "1 hari 1 jam"
    assert duration_text(timedelta(minutes=75)) == "1 jam 15 menit"
    assert duration_text(timedelta(seconds=20)) == "< 1 menit"
    assert duration_text(None) == "-"
    assert rupiah(12_000_000) == "Rp 12.000.000"
    assert parse_month("2026-11") == (2026, 11)
    with pytest.raises(ValueError, match="contoh: 2026-11"):
        parse_month("11/2026")
    assert week_labels(2027, 2, WITA) == ["1-7", "8-14", "15-21", "22-28"]
    svg = ET.fromstring(bar_chart_svg("a & b", [("<x>", 3)]))
    assert svg.find("{http://www.w3.org/2000/svg}title").text == "a & b"
    ET.fromstring(bar_chart_svg("kosong", []))
