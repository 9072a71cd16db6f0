"""TicketService walks the seed SOPs end to end with an injected clock (SQLite; PostgreSQL
marked postgres): Friday afternoon prayer break, a fixture holiday, standing disposition,
wrong roles, sederhana/kompleks, Program Kegiatan, escalation once per level."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ticketing.calendar import OfficeCalendar
from ticketing.errors import (
    ConcurrentUpdateError,
    InvalidRoleError,
    StepStateError,
    UnknownPersonError,
)
from ticketing.faults import Fault, FaultKind
from ticketing.models import ProgramStatus
from ticketing.service import ProgramDraft, TicketService
from ticketing.states import EventKind, TicketState
from ticketing.workflow import Complexity, Sifat, StandingDisposition, WorkflowConfig

PG_URL = os.environ.get("SIGAP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WITA = ZoneInfo("Asia/Makassar")
CAL = OfficeCalendar(holidays={date(2026, 11, 30): "Libur uji"})  # Monday
STANDING = StandingDisposition(signer="Kepala Dinas Kominfo", reference="800/17/DKI/2026")


@dataclass(frozen=True)
class P:  # plain people data, like agent.config.model.Person
    name: str
    role: str
    opd: str = "Diskominfo"


PEOPLE = [
    P("Lalu Kadis", "kadis"),
    P("Hj Kabid", "kabid"),
    P("Baiq Kasi", "kasi"),
    P("Teknisi Satu", "teknisi"),
    P("Teknisi Dua", "teknisi"),
    P("PJ RSUD", "pj_opd", "RSUD Praya"),
]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=WITA).astimezone(UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, *args: int) -> None:
        self.at = local(*args)


@pytest.fixture
def clock():
    return Clock(local(2026, 11, 26, 15, 58))


def service(store, clock, **cfg) -> TicketService:
    return TicketService(
        store, people=PEOPLE, calendar=CAL, now=clock, config=WorkflowConfig(**cfg)
    )


def test_complaint_walks_table_one(store, clock):
    svc = service(store, clock)
    t = svc.report(source="wa", opd="RSUD Praya", reporter="dr. Ayu", by="Baiq Kasi",
                   description="Internet poli mati sejak pagi",
                   received_at=local(2026, 11, 26, 15, 55))  # fmt: skip
    assert (t.sop, t.source, t.sop_step, t.fault_key) == ("gangguan-internet", "wa", 2, None)
    steps = svc.steps(t.number)
    assert steps[0].completed_by == "Baiq Kasi"
    assert steps[0].due_at == local(2026, 11, 27, 7, 35)  # 5 min Thursday, 5 min Friday
    assert steps[0].late_by == timedelta(0)
    assert steps[1].due_at == local(2026, 11, 27, 7, 38)

    with pytest.raises(InvalidRoleError) as info:
        svc.dispose(t.number, by="Teknisi Satu", isi="Tangani")
    assert info.value.allowed == ("kadis", "kabid")

    clock.set(2026, 11, 27, 11, 25)  # Friday, just before the prayer break
    svc.dispose(t.number, by="Lalu Kadis", isi="Segera tindak lanjuti", sifat=Sifat.SEGERA,
                nomor_agenda="045/311/DKI")  # fmt: skip
    steps = svc.steps(t.number)
    assert steps[1].late_by == local(2026, 11, 27, 11, 25) - local(2026, 11, 27, 7, 38)
    assert steps[1].document_kind == "surat_disposisi"
    assert steps[1].document["sifat"] == "segera"
    assert steps[1].document["nomor_agenda"] == "045/311/DKI"
    assert steps[2].due_at == local(2026, 11, 27, 13, 35)  # 5 min + prayer break + 5 min

    clock.set(2026, 11, 27, 13, 30)
    with pytest.raises(StepStateError, match="penugasan"):
        svc.dispose(t.number, by="Lalu Kadis", isi="lagi")
    svc.assign(t.number, by="Baiq Kasi", technician="Teknisi Dua")
    steps = svc.steps(t.number)
    assert steps[2].late_by == timedelta(0)
    assert steps[3].person == "Teknisi Dua"
    assert steps[3].due_at == local(2026, 12, 1, 13, 30)  # 1 hari; weekend + holiday Monday

    clock.set(2026, 12, 1, 10, 0)
    with pytest.raises(StepStateError, match="pilih sederhana atau kompleks"):
        svc.handle(t.number, by="Teknisi Dua")
    svc.handle(t.number, by="Teknisi Dua", complexity=Complexity.SEDERHANA,
               reason="kabel patch longgar")  # fmt: skip
    clock.set(2026, 12, 1, 10, 5)
    svc.complete(t.number, by="Teknisi Dua", document={"isi": "Jaringan siap pakai"})
    done = svc.ticket(t.number)
    assert done.status is TicketState.RESOLVED
    assert done.sop_step is None
    assert done.complexity == "sederhana"
    assert all(s.state == "selesai" for s in svc.steps(t.number))
    with pytest.raises(StepStateError, match="sudah selesai"):
        svc.complete(t.number, by="Teknisi Dua")
    kinds = [e.kind for e in store.events(t.number)]
    assert kinds.count(EventKind.STEP_DONE) == 5
    assert kinds[-1] is EventKind.RESOLVED
    decided = next(e for e in store.events(t.number) if e.kind is EventKind.DECIDED)
    assert decided.detail == "Keputusan: sederhana (kabel patch longgar)"


def test_decision_without_reason_reads_well(store, clock):
    svc = service(store, clock)
    t = svc.report(source="surat", opd="RSUD Praya", reporter="dr. Ayu", by="Baiq Kasi",
                   description="Internet mati")  # fmt: skip
    svc.dispose(t.number, by="Lalu Kadis", isi="Tindak lanjuti")
    svc.assign(t.number, by="Baiq Kasi", technician="Teknisi Satu")
    svc.handle(t.number, by="Teknisi Satu", complexity=Complexity.SEDERHANA)
    decided = next(e for e in store.events(t.number) if e.kind is EventKind.DECIDED)
    assert decided.detail == "Keputusan: sederhana"


def test_complaint_via_pj_walks_table_three(store, clock):
    svc = service(store, clock)
    t = svc.report(source="email", opd="RSUD Praya", reporter="PJ RSUD", by="PJ RSUD",
                   description="Wifi lantai 2 putus", via_pj=True)  # fmt: skip
    assert t.sop == "gangguan-internet-pj"
    svc.complete(t.number, by="PJ RSUD", notes="dilaporkan ke Kasi")
    svc.assign(t.number, by="Baiq Kasi", technician="Teknisi Satu")
    clock.set(2026, 11, 27, 9, 0)
    svc.handle(t.number, by="Teknisi Satu", complexity=Complexity.SEDERHANA, reason="AP restart")
    with pytest.raises(InvalidRoleError):
        svc.complete(t.number, by="Lalu Kadis")
    svc.complete(t.number, by="Hj Kabid", notes="laporan berjenjang sampai Kadis")
    assert svc.ticket(t.number).status is TicketState.RESOLVED


def test_standing_disposition_assigns_a_technician_at_once(store, clock):
    clock.set(2026, 11, 27, 16, 20)  # Friday afternoon
    fault = Fault("rsud-r1", FaultKind.INTERFACE_DOWN, "pppoe-out1 turun", opd="RSUD Praya",
                  subject="pppoe-out1")  # fmt: skip
    number = store.open_fault(fault, at=clock()).ticket.number
    piket = StandingDisposition(
        "Kepala Dinas Kominfo", "800/17/DKI/2026", technician="Teknisi Satu"
    )
    svc = service(store, clock, standing=piket)
    steps = svc.start(number)
    assert [s.completed_by for s in steps[:3]] == ["sistem", "sistem", "sistem"]
    assert steps[0].document["penandatangan"] == "Kepala Dinas Kominfo"
    assert steps[0].document["disposisi_tetap"] is True
    assert "Disposisi tetap No. 800/17/DKI/2026" in steps[1].notes
    assert steps[1].document_kind == "register_gangguan"
    assert steps[2].person == "Teknisi Satu"
    t = svc.ticket(number)
    assert (t.sop, t.sop_step, t.assignee) == ("pemeliharaan", 4, "Teknisi Satu")
    assert steps[3].started_at == clock()
    assert steps[3].due_at == local(2026, 12, 1, 8, 20)  # 10 min Fri, holiday Mon, 50 min Tue
    assert svc.start(number) == steps  # idempotent

    clock.set(2026, 12, 1, 8, 0)
    svc.handle(number, by="Teknisi Satu")  # the rules: PPPoE/WAN down -> sederhana
    assert svc.ticket(number).complexity == "sederhana"
    decided = next(e for e in store.events(number) if e.kind is EventKind.DECIDED)
    assert decided.data["overridden"] is False
    for who in ("Teknisi Satu", "Teknisi Satu", "Baiq Kasi"):
        svc.complete(number, by=who)
    t = svc.ticket(number)
    assert t.sop_step is None
    assert t.sop_done_at == clock()
    assert t.status is TicketState.OPEN  # the fault's own lifecycle is the agent's business
    assert svc.program() == []


def test_overdue_escalates_once_per_level(store, clock):
    clock.set(2026, 11, 27, 16, 20)
    number = store.open_fault(Fault("kec-r1", FaultKind.DEVICE_DOWN, "kec-r1 mati"),
                              at=clock()).ticket.number  # fmt: skip
    svc = service(store, clock, standing=STANDING)
    svc.start(number)  # analisa due Tuesday 08:20
    clock.set(2026, 12, 1, 8, 20)
    assert svc.escalate_due() == []
    clock.set(2026, 12, 1, 8, 21)
    first = svc.escalate_due()
    assert [(e.ticket, e.level, e.role, e.notify) for e in first] == [
        (number, 1, "kasi", ("Baiq Kasi",))
    ]
    assert svc.escalate_due() == []  # next tick: nothing new
    clock.set(2026, 12, 1, 9, 21)
    assert [(e.level, e.role) for e in svc.escalate_due()] == [(2, "kabid")]
    clock.set(2026, 12, 1, 10, 21)
    assert [(e.level, e.role) for e in svc.escalate_due()] == [(3, "kadis")]
    clock.set(2026, 12, 3, 10, 0)
    assert svc.escalate_due() == []
    events = [e for e in store.events(number) if e.kind is EventKind.ESCALATED]
    assert [(e.data["level"], e.data["role"]) for e in events] == [
        (1, "kasi"), (2, "kabid"), (3, "kadis"),
    ]  # fmt: skip
    assert svc.steps(number)[3].escalation_level == 3
    feed = [f for f in store.feed() if f.kind is EventKind.ESCALATED]
    assert feed[0].data["label"] == "3"


def test_kompleks_adds_program_kegiatan(store, clock):
    clock.set(2026, 11, 26, 8, 0)
    number = store.open_fault(Fault("dukcapil-sw1", FaultKind.DEVICE_DOWN, "switch mati",
                                    opd="Dukcapil"), at=clock()).ticket.number  # fmt: skip
    svc = service(store, clock, standing=STANDING)
    svc.start(number)
    clock.set(2026, 11, 26, 14, 0)  # down 6 hours -> kompleks by the rules
    with pytest.raises(StepStateError, match="alasan wajib"):
        svc.handle(number, by="Teknisi Satu", complexity=Complexity.SEDERHANA)
    draft = ProgramDraft(proposed_action="Ganti switch 24 port", estimated_cost=7_500_000)
    svc.handle(number, by="Teknisi Satu", program=draft)
    entries = svc.program(year=2027)
    assert len(entries) == 1
    e = entries[0]
    assert (e.ticket, e.opd, e.device, e.problem, e.estimated_cost, e.status) == (
        number, "Dukcapil", "dukcapil-sw1", "switch mati", 7_500_000, ProgramStatus.USULAN,
    )  # fmt: skip
    assert svc.ticket(number).complexity == "kompleks"
    with pytest.raises(StepStateError):
        svc.set_program_status(e.id, ProgramStatus.DISETUJUI, by="Teknisi Satu")
    assert svc.set_program_status(e.id, ProgramStatus.DISETUJUI, by="Hj Kabid").status == (
        ProgramStatus.DISETUJUI
    )
    assert svc.program(year=2026) == []
    assert EventKind.PROGRAM_ADDED in [ev.kind for ev in store.events(number)]


def test_override_with_reason_and_unknown_person(store, clock):
    number = store.open_fault(Fault("x-r1", FaultKind.INTERFACE_DISABLED, "ether2 disabled",
                                    subject="ether2"), at=clock()).ticket.number  # fmt: skip
    svc = service(store, clock)  # no standing order: humans dispose
    steps = svc.start(number)
    assert steps[0].completed_by == "sistem"
    assert steps[1].state == "berjalan"
    with pytest.raises(UnknownPersonError):
        svc.dispose(number, by="Orang Asing", isi="x")
    svc.dispose(number, by="Hj Kabid", isi="Teruskan ke Kasi")
    with pytest.raises(StepStateError, match="bukan teknisi"):
        svc.assign(number, by="Baiq Kasi", technician="Hj Kabid")
    stale = svc.ticket(number).version
    svc.assign(number, by="Baiq Kasi", technician="Teknisi Dua", expected_version=stale)
    with pytest.raises(ConcurrentUpdateError, match="version"):
        svc.handle(number, by="Teknisi Dua", expected_version=stale)
    svc.handle(number, by="Teknisi Dua", complexity=Complexity.KOMPLEKS,
               reason="port rusak, perlu modul SFP baru")  # fmt: skip
    decided = next(e for e in store.events(number) if e.kind is EventKind.DECIDED)
    assert decided.data["overridden"] is True
    assert len(svc.program()) == 1
