"""TicketService: the SOP workflow on top of TicketStore; what the CLI, agent and reports call.

Every method is one transaction, reads the time from the injected ``now`` callable and
returns frozen views. Concurrent actions on one ticket are caught by the ticket's ``version``
column (SQLAlchemy's version counter): the loser gets ConcurrentUpdateError and may retry,
and a retry of a step someone else finished gets StepStateError instead of a double entry.
``expected_version`` (from ``TicketView.version``) lets a user interface refuse an action
taken on a stale screen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from ticketing.errors import (
    ConcurrentUpdateError,
    InvalidTransitionError,
    StepStateError,
    TicketNotFoundError,
)
from ticketing.faults import split_key
from ticketing.models import (
    ProgramKegiatan,
    ProgramStatus,
    RemediationRun,
    RunStatus,
    Ticket,
    TicketEvent,
    TicketStep,
)
from ticketing.people import SYSTEM, Directory, Person, Role
from ticketing.remediation import record_event
from ticketing.sop import DocumentKind, Sop, SopRegistry, SopStep, StepKind, bundled
from ticketing.states import TRANSITIONS, EventKind, TicketState
from ticketing.views import (
    EscalationEvent,
    ProgramEntry,
    StepView,
    TicketView,
    program_entry,
    step_view,
    ticket_view,
)
from ticketing.workflow import (
    COMPLAINT_KIND,
    Complexity,
    FaultFacts,
    Priority,
    Sifat,
    Source,
    StepClock,
    WorkflowConfig,
    check_role,
    choose_sop,
    default_complexity,
    due_escalations,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from sqlalchemy.orm import Session

    from ticketing.calendar import OfficeCalendar
    from ticketing.people import PersonLike
    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

SECONDS: Final = timedelta(seconds=1)
MANAGERS: Final = frozenset({Role.KASI, Role.KABID, Role.KADIS})
# steps "sistem" may complete after a verified automatic repair (never officials' steps)
SYSTEM_STEPS: Final = frozenset({StepKind.PENANGANAN, StepKind.PENYELESAIAN, StepKind.LAPORAN})


@dataclass(frozen=True, slots=True)
class ProgramDraft:
    """What a technician proposes when a problem is kompleks (defaults filled by the service)."""

    proposed_action: str = ""
    estimated_cost: int = 0  # Rupiah
    priority: Priority = Priority.SEDANG
    budget_year: int | None = None  # None: next local year
    problem: str = ""  # None-like empty: the ticket's summary


@dataclass(frozen=True, slots=True)
class _Actor:
    """Who completes a step: a person, or the system under a standing order."""

    name: str
    person: Person | None


def _event(
    session: Session, ticket: Ticket, kind: EventKind, at: datetime, detail: str, **extra: Any
) -> None:
    actor = str(extra.pop("actor", SYSTEM))
    session.add(
        TicketEvent(
            ticket_id=ticket.id, at=at, kind=kind, actor=actor, detail=detail, data=extra or None
        )
    )


def decision_note(chosen: Complexity, reason: str) -> str:
    """The audit line of a decision: ``Keputusan: sederhana (reason)``, no ``()`` without one."""
    reason = reason.strip()
    return f"Keputusan: {chosen.value} ({reason})" if reason else f"Keputusan: {chosen.value}"


class TicketService:
    """SOP actions on tickets: start, dispose, assign, decide, complete, escalate, program."""

    def __init__(
        self,
        store: TicketStore,
        *,
        people: Iterable[PersonLike],
        calendar: OfficeCalendar,
        now: Callable[[], datetime],
        sops: SopRegistry | None = None,
        config: WorkflowConfig | None = None,
    ) -> None:
        """Wrap ``store``; ``now`` returns tz-aware UTC and is the only clock used."""
        self._store = store
        self._people = Directory(people)
        self._calendar = calendar
        self._now = now
        self._sops = sops if sops is not None else bundled()
        self._config = config if config is not None else WorkflowConfig()

    @property
    def sops(self) -> SopRegistry:
        """The SOP registry in use."""
        return self._sops

    def _clock(self) -> datetime:
        at = self._now()
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"now() returned naive {at.isoformat()}")
        return at

    # -- loading ------------------------------------------------------------------------

    @staticmethod
    def _ticket(session: Session, number: str, expected_version: int | None = None) -> Ticket:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None:
            raise TicketNotFoundError(number)
        if expected_version is not None and ticket.version != expected_version:
            raise ConcurrentUpdateError(
                f"{number} is at version {ticket.version}, not {expected_version}"
            )
        return ticket

    @staticmethod
    def _rows(session: Session, ticket: Ticket) -> list[TicketStep]:
        stmt = select(TicketStep).where(TicketStep.ticket_id == ticket.id)
        return list(session.scalars(stmt.order_by(TicketStep.position)))

    def _sop_of(self, ticket: Ticket) -> Sop:
        if ticket.sop is None:
            raise StepStateError(ticket.number, "SOP belum dimulai")
        return self._sops.get(ticket.sop)

    def _current(self, session: Session, ticket: Ticket) -> tuple[Sop, TicketStep]:
        sop = self._sop_of(ticket)
        if ticket.sop_step is None:
            raise StepStateError(ticket.number, "semua langkah SOP sudah selesai")
        row = self._rows(session, ticket)[ticket.sop_step - 1]
        return sop, row

    # -- starting a SOP -------------------------------------------------------------------

    def _create_steps(
        self, session: Session, ticket: Ticket, sop: Sop, at: datetime, all_hours: bool
    ) -> list[TicketStep]:
        rows = [
            TicketStep(
                ticket_id=ticket.id,
                position=s.position,
                label=s.label,
                role=s.lowest_performer.value,
                roles=",".join(r.value for r in s.performers),
                all_hours=all_hours and s.may_run_24x7,
                notes="",
                escalation_level=0,
            )
            for s in sop.steps
        ]
        session.add_all(rows)
        ticket.sop = sop.code
        ticket.sop_step = 1
        _event(
            session, ticket, EventKind.SOP_STARTED, at, f"SOP dimulai: {sop.title}", sop=sop.code
        )
        return rows

    def _start_row(self, ticket: Ticket, row: TicketStep, step: SopStep, at: datetime) -> None:
        row.started_at = at
        row.due_at = self._calendar.due(at, step.standard, all_hours=row.all_hours)
        ticket.sop_step = step.position
        if Role.TEKNISI in step.performers and ticket.assignee:
            row.person = ticket.assignee

    def report(
        self,
        *,
        source: Source | str,
        opd: str,
        reporter: str,
        description: str,
        by: str,
        device: str = "",
        received_at: datetime | None = None,
        via_pj: bool = False,
        contact: str = "",
    ) -> TicketView:
        """Record a complaint (``sigap tiket lapor``) and start its SOP.

        The intake step starts at ``received_at`` (default now) and is completed by ``by``.
        """
        with self._store.transaction() as session:
            ticket = self.open_complaint(
                session,
                source=source,
                opd=opd,
                reporter=reporter,
                description=description,
                by=by,
                device=device,
                received_at=received_at,
                via_pj=via_pj,
                contact=contact,
            )
            return ticket_view(ticket)

    def open_complaint(
        self,
        session: Session,
        *,
        source: Source | str,
        opd: str,
        reporter: str,
        description: str,
        by: str | None,
        device: str = "",
        received_at: datetime | None = None,
        via_pj: bool = False,
        contact: str = "",
    ) -> Ticket:
        """:meth:`report` inside the caller's transaction (``ticketing.intake``).

        ``by=None``: the intake step is completed by "sistem" (a complaint taken in
        automatically by e-mail or WhatsApp); ``contact`` is the reporter's address or number.
        """
        src = Source(source)
        if src is Source.AGENT:
            raise ValueError("complaints come from surat, email or wa; agent faults use start()")
        person = self._people.get(by) if by is not None else None
        actor = _Actor(person.name, person) if person is not None else _Actor(SYSTEM, None)
        now = self._clock()
        received = received_at or now
        ticket = Ticket(
            number=self._store.next_number(session, received),
            fault_key=None,
            device=device,
            kind=COMPLAINT_KIND,
            opd=opd,
            summary=description.splitlines()[0][:200] if description else "",
            status=TicketState.OPEN,
            source=src.value,
            opened_at=received,
            reopen_count=0,
            reporter=reporter,
            reporter_contact=contact,
            description=description,
            devices=[],
        )
        session.add(ticket)
        session.flush()
        _event(
            session,
            ticket,
            EventKind.OPENED,
            now,
            f"Pengaduan dari {reporter} ({opd}) lewat {src.value}",
            actor=actor.name,
            source=src.value,
            reporter=reporter,
        )
        sop = self._sops.get(choose_sop(self._config, source=src, via_pj=via_pj))
        rows = self._create_steps(session, ticket, sop, now, self._config.complaint_all_hours)
        self._start_row(ticket, rows[0], sop.steps[0], received)
        if person is not None:
            check_role(ticket.number, sop.steps[0], person)
        note = f"Pengaduan dicatat: {src.value}, pelapor {reporter}"
        self._complete(session, ticket, (sop, rows), actor, now, document=None, notes=note)
        session.flush()
        return ticket

    def start(self, number: str, *, sop: str | None = None) -> list[StepView]:
        """Start the SOP of an agent ticket (idempotent): intake, standing disposition."""
        now = self._clock()
        with self._store.transaction() as session:
            ticket = self._ticket(session, number)
            if ticket.sop is not None:
                return self._views(session, ticket)
            code = sop or choose_sop(self._config, source=ticket.source, kind=ticket.kind)
            chosen = self._sops.get(code)
            rows = self._create_steps(session, ticket, chosen, now, self._config.agent_all_hours)
            self._start_row(ticket, rows[0], chosen.steps[0], ticket.opened_at)
            first = chosen.steps[0]
            doc = None
            if self._config.standing is not None and first.standing and first.document:
                doc = self._standing_document(ticket, first, now)
            self._complete(
                session,
                ticket,
                (chosen, rows),
                _Actor(SYSTEM, None),
                now,
                document=doc,
                notes=f"Deteksi otomatis oleh agen: {ticket.summary}",
            )
            self._apply_standing(session, ticket, (chosen, rows), now)
            session.flush()
            return self._views(session, ticket)

    def _apply_standing(
        self, session: Session, ticket: Ticket, walk: tuple[Sop, list[TicketStep]], at: datetime
    ) -> None:
        """Complete the disposition (and assignment) steps under the standing order."""
        standing = self._config.standing
        if standing is None:
            return
        sop, rows = walk
        while ticket.sop_step is not None:
            step = sop.step(ticket.sop_step)
            if step.standing:
                doc = self._standing_document(ticket, step, at)
                note = f"Disposisi tetap No. {standing.reference} ({standing.signer})"
                self._complete(
                    session, ticket, walk, _Actor(SYSTEM, None), at, document=doc, notes=note
                )
                continue
            if step.kind is StepKind.PENUGASAN and standing.assign:
                tech = self._duty_technician()
                if tech is not None:
                    self._assign(
                        session, ticket, rows[step.position - 1], tech, at=at, actor=SYSTEM
                    )
                    doc = self._standing_document(ticket, step, at)
                    note = f"Penugasan di bawah disposisi tetap No. {standing.reference}"
                    self._complete(
                        session, ticket, walk, _Actor(SYSTEM, None), at, document=doc, notes=note
                    )
            return

    def _duty_technician(self) -> Person | None:
        standing = self._config.standing
        if standing is not None and standing.technician:
            return self._people.get(standing.technician)
        techs = self._people.with_role(Role.TEKNISI)
        return techs[0] if techs else None

    def _standing_document(self, ticket: Ticket, step: SopStep, at: datetime) -> dict[str, Any]:
        standing = self._config.standing
        assert standing is not None  # noqa: S101 - only called under a standing order
        local = at.astimezone(self._calendar.zone)
        base = {
            "disposisi_tetap": True,
            "nomor_agenda": standing.reference,
            "tanggal": local.date().isoformat(),
            "penandatangan": standing.signer,
        }
        if step.document is DocumentKind.SURAT_DISPOSISI:
            return {
                **base,
                "sifat": standing.sifat.value,
                "isi_disposisi": f"Tindak lanjuti gangguan {ticket.device}: {ticket.summary}",
            }
        return {
            **base,
            "perangkat": ticket.device,
            "opd": ticket.opd,
            "jenis": ticket.kind,
            "uraian": ticket.summary,
            "tiket": ticket.number,
        }

    # -- completing steps -------------------------------------------------------------------

    def _complete(
        self,
        session: Session,
        ticket: Ticket,
        walk: tuple[Sop, list[TicketStep]],
        actor: _Actor,
        at: datetime,
        *,
        document: Mapping[str, Any] | None,
        notes: str,
    ) -> TicketStep:
        """Close the active step, log it, and start the next one (or finish the SOP)."""
        sop, rows = walk
        assert ticket.sop_step is not None  # noqa: S101 - callers check
        step = sop.step(ticket.sop_step)
        row = rows[step.position - 1]
        row.completed_at = at
        row.completed_by = actor.name
        row.late_by_s = max(0, int((at - row.due_at) / SECONDS)) if row.due_at else 0
        row.notes = notes
        if step.document is not None:
            row.document_kind = step.document.value
            row.document = dict(document or {})
        flag_modified(ticket, "sop_step")  # bump the version even if nothing else changes
        _event(
            session,
            ticket,
            EventKind.STEP_DONE,
            at,
            f"Langkah {step.title} selesai oleh {actor.name}",
            actor=actor.name,
            position=step.position,
            label=step.label,
            late_by_s=row.late_by_s,
        )
        if step.position < len(sop.steps):
            self._start_row(ticket, rows[step.position], sop.steps[step.position], at)
        else:
            self._finish_sop(session, ticket, at)
        return row

    @staticmethod
    def _finish_sop(session: Session, ticket: Ticket, at: datetime) -> None:
        ticket.sop_step = None
        ticket.sop_done_at = at
        if ticket.fault_key is None and ticket.status is not TicketState.RESOLVED:
            if TicketState.RESOLVED not in TRANSITIONS[ticket.status]:
                raise InvalidTransitionError(ticket.number, ticket.status.value, "resolved")
            _event(
                session,
                ticket,
                EventKind.RESOLVED,
                at,
                "Semua langkah SOP selesai",
                **{"from": ticket.status.value, "to": "resolved"},
            )
            ticket.status = TicketState.RESOLVED
            ticket.resolved_at = at

    def _begin_action(
        self,
        session: Session,
        number: str,
        by: str,
        expected_version: int | None,
        kinds: frozenset[StepKind] | None = None,
    ) -> tuple[Ticket, Sop, list[TicketStep], Person]:
        """Load the ticket, check the active step's kind and the person's role."""
        person = self._people.get(by)
        ticket = self._ticket(session, number, expected_version)
        sop, _row = self._current(session, ticket)
        assert ticket.sop_step is not None  # noqa: S101 - _current checked
        step = sop.step(ticket.sop_step)
        if kinds is not None and step.kind not in kinds:
            wanted = " / ".join(sorted(k.value for k in kinds))
            raise StepStateError(
                number, f"langkah aktif {step.title} adalah {step.kind.value}, bukan {wanted}"
            )
        check_role(number, step, person)
        return ticket, sop, self._rows(session, ticket), person

    def complete(
        self,
        number: str,
        *,
        by: str,
        notes: str = "",
        document: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> StepView:
        """Complete the active step (any step that needs no decision or assignment)."""
        now = self._clock()
        with self._store.transaction() as session:
            ticket, sop, rows, person = self._begin_action(session, number, by, expected_version)
            step = sop.step(ticket.sop_step or 0)
            if step.decision:
                raise StepStateError(number, f"langkah {step.title} perlu keputusan: handle()")
            if step.kind is StepKind.PENUGASAN:
                raise StepStateError(number, f"langkah {step.title} perlu teknisi: assign()")
            return self._finish(
                session, ticket, (sop, rows), person, now, document=document, notes=notes
            )

    def dispose(
        self,
        number: str,
        *,
        by: str,
        isi: str,
        sifat: Sifat = Sifat.BIASA,
        nomor_agenda: str = "",
        expected_version: int | None = None,
    ) -> StepView:
        """Complete the disposition step with a surat disposisi (``sigap tiket disposisi``)."""
        now = self._clock()
        local = now.astimezone(self._calendar.zone)
        doc = {
            "nomor_agenda": nomor_agenda,
            "tanggal": local.date().isoformat(),
            "sifat": Sifat(sifat).value,
            "isi_disposisi": isi,
            "disposisi_tetap": False,
        }
        with self._store.transaction() as session:
            ticket, sop, rows, person = self._begin_action(
                session, number, by, expected_version, frozenset({StepKind.DISPOSISI})
            )
            return self._finish(session, ticket, (sop, rows), person, now, document=doc, notes=isi)

    def _finish(
        self,
        session: Session,
        ticket: Ticket,
        walk: tuple[Sop, list[TicketStep]],
        person: Person,
        now: datetime,
        *,
        document: Mapping[str, Any] | None,
        notes: str,
    ) -> StepView:
        """Complete the active step as ``person`` (a human action) and return its view."""
        step = walk[0].step(ticket.sop_step or 0)
        row = self._complete(
            session, ticket, walk, _Actor(person.name, person), now, document=document, notes=notes
        )
        session.flush()
        return step_view(row, step.kegiatan)

    def _assign(
        self,
        session: Session,
        ticket: Ticket,
        row: TicketStep,
        tech: Person,
        *,
        at: datetime,
        actor: str,
    ) -> None:
        if tech.role is not Role.TEKNISI:
            raise StepStateError(ticket.number, f"{tech.name} bukan teknisi ({tech.role.value})")
        ticket.assignee = tech.name
        row.person = tech.name
        _event(
            session,
            ticket,
            EventKind.ASSIGNED,
            at,
            f"Ditugaskan kepada {tech.name}",
            actor=actor,
            technician=tech.name,
        )

    def assign(
        self,
        number: str,
        *,
        by: str,
        technician: str,
        notes: str = "",
        document: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> StepView:
        """Complete the assignment step naming a technician (``sigap tiket tugaskan``)."""
        now = self._clock()
        tech = self._people.get(technician)
        with self._store.transaction() as session:
            ticket, sop, rows, person = self._begin_action(
                session, number, by, expected_version, frozenset({StepKind.PENUGASAN})
            )
            step = sop.step(ticket.sop_step or 0)
            self._assign(session, ticket, rows[step.position - 1], tech, at=now, actor=person.name)
            doc = {"teknisi": tech.name, **(document or {})}
            return self._finish(
                session,
                ticket,
                (sop, rows),
                person,
                now,
                document=doc,
                notes=notes or f"Ditugaskan kepada {tech.name}",
            )

    # -- remediation ------------------------------------------------------------------------

    def finish_remediation(
        self,
        run_id: int,
        *,
        status: RunStatus,
        reason: str = "",
        transcript: Iterable[Mapping[str, Any]] = (),
        summary: str = "",
    ) -> TicketView:
        """Close a running remediation run and record it on the ticket, in one transaction.

        Succeeded: the handling steps the agent may do (decision -> sederhana, repair, done,
        laporan) are completed by "sistem" with the run as their document; steps that belong
        to officials (disposition, assignment) are left to them. Failed: the ticket is marked
        (``remediation = failed``) and stays with its technician for the SOP decision.
        """
        now = self._clock()
        with self._store.transaction() as session:
            run = session.get(RemediationRun, run_id)
            if run is None or run.status is not RunStatus.RUNNING:
                raise StepStateError(str(run_id), "run perbaikan tidak sedang berjalan")
            ticket = session.get(Ticket, run.ticket_id)
            assert ticket is not None  # noqa: S101 - foreign key
            run.status, run.reason, run.finished_at = status, reason, now
            run.transcript = [dict(e) for e in transcript] or None
            record_event(session, ticket, run, now)
            if status is RunStatus.SUCCEEDED and ticket.sop_step is not None:
                self._complete_by_system(session, ticket, run, summary, now)
            session.flush()
            return ticket_view(ticket)

    def _complete_by_system(
        self, session: Session, ticket: Ticket, run: RemediationRun, summary: str, at: datetime
    ) -> None:
        sop, rows = self._sop_of(ticket), self._rows(session, ticket)
        system = _Actor(SYSTEM, None)
        doc = {
            "perbaikan_otomatis": True,
            "playbook": run.playbook,
            "run": run.id,
            "interface": run.interface,
            "uraian": summary,
            "transkrip": f"sigap tiket show {ticket.number} --transkrip",
        }
        while ticket.sop_step is not None:
            step = sop.step(ticket.sop_step)
            if step.kind not in SYSTEM_STEPS:
                _event(
                    session,
                    ticket,
                    EventKind.NOTE,
                    at,
                    f"Perbaikan otomatis selesai; langkah {step.title} "
                    f"menunggu {step.lowest_performer.value}",
                )
                return
            if step.decision:
                ticket.complexity = Complexity.SEDERHANA.value
                ticket.complexity_reason = f"perbaikan otomatis {run.playbook} berhasil"
                _event(
                    session,
                    ticket,
                    EventKind.DECIDED,
                    at,
                    decision_note(Complexity.SEDERHANA, ticket.complexity_reason),
                    complexity=Complexity.SEDERHANA.value,
                    default=None,
                    overridden=False,
                )
            self._complete(
                session,
                ticket,
                (sop, rows),
                system,
                at,
                document=doc if step.document is not None else None,
                notes=summary or ticket.complexity_reason,
            )

    # -- decision ---------------------------------------------------------------------------

    def facts(self, ticket: TicketView, *, hardware_replacement: bool = False) -> FaultFacts:
        """The facts the decision rules see for a ticket, at now."""
        now = self._clock()
        end = ticket.cleared_at or ticket.resolved_at or now
        _, _, subject = split_key(ticket.fault_key or "")
        return FaultFacts(
            ticket.kind, subject, end - ticket.opened_at, ticket.reopen_count, hardware_replacement
        )

    def handle(
        self,
        number: str,
        *,
        by: str,
        complexity: Complexity | None = None,
        reason: str = "",
        hardware_replacement: bool = False,
        program: ProgramDraft | None = None,
        notes: str = "",
        expected_version: int | None = None,
    ) -> StepView:
        """Complete the decision step: sederhana or kompleks (``sigap tiket tangani``).

        Without ``complexity`` the rules decide (agent tickets only); a choice different
        from the rules needs a ``reason``. Kompleks adds a Program Kegiatan entry.
        """
        now = self._clock()
        with self._store.transaction() as session:
            ticket, sop, rows, person = self._begin_action(session, number, by, expected_version)
            step = sop.step(ticket.sop_step or 0)
            if not step.decision:
                raise StepStateError(number, f"langkah aktif {step.title} bukan langkah keputusan")
            chosen, default, why = self._decide(ticket, complexity, reason, hardware_replacement)
            ticket.complexity = chosen.value
            ticket.complexity_reason = why
            _event(
                session,
                ticket,
                EventKind.DECIDED,
                now,
                decision_note(chosen, why),
                actor=person.name,
                complexity=chosen.value,
                default=default.value if default else None,
                overridden=default is not None and default is not chosen,
            )
            if chosen is Complexity.KOMPLEKS:
                self._add_program(session, ticket, program or ProgramDraft(), now, person.name)
            return self._finish(
                session, ticket, (sop, rows), person, now, document=None, notes=notes or why
            )

    def _decide(
        self, ticket: Ticket, chosen: Complexity | None, reason: str, hardware: bool
    ) -> tuple[Complexity, Complexity | None, str]:
        """Return (decision, rules' default or None, reason)."""
        default: Complexity | None = None
        why = ""
        if ticket.fault_key is not None:
            facts = self.facts(ticket_view(ticket), hardware_replacement=hardware)
            default, why = default_complexity(facts, self._config.rules)
        if chosen is None:
            if default is None:
                raise StepStateError(ticket.number, "pengaduan: pilih sederhana atau kompleks")
            return default, default, f"aturan: {why}"
        if default is not None and chosen is not default and not reason:
            raise StepStateError(
                ticket.number,
                f"aturan memilih {default.value} ({why}); "
                f"alasan wajib untuk memilih {chosen.value}",
            )
        return chosen, default, reason or (f"aturan: {why}" if why else "")

    # -- program kegiatan ---------------------------------------------------------------------

    def _add_program(
        self,
        session: Session,
        ticket: Ticket | None,
        draft: ProgramDraft,
        at: datetime,
        actor: str,
        *,
        opd: str = "",
        device: str = "",
    ) -> ProgramKegiatan:
        year = draft.budget_year or at.astimezone(self._calendar.zone).year + 1
        row = ProgramKegiatan(
            ticket_id=ticket.id if ticket else None,
            opd=ticket.opd if ticket else opd,
            device=ticket.device if ticket else device,
            problem=draft.problem or (ticket.summary if ticket else ""),
            proposed_action=draft.proposed_action,
            estimated_cost=draft.estimated_cost,
            priority=Priority(draft.priority).value,
            budget_year=year,
            status=ProgramStatus.USULAN,
            created_at=at,
        )
        session.add(row)
        session.flush()
        if ticket is not None:
            _event(
                session,
                ticket,
                EventKind.PROGRAM_ADDED,
                at,
                f"Masuk Program Kegiatan {year}: {row.problem}",
                actor=actor,
                program_id=row.id,
                budget_year=year,
            )
        return row

    def add_program(
        self, draft: ProgramDraft, *, by: str, opd: str = "", device: str = ""
    ) -> ProgramEntry:
        """Add a Program Kegiatan entry by hand (no ticket); Kasi and above."""
        person = self._people.get(by)
        if person.role not in MANAGERS:
            raise StepStateError("-", f"{person.name} ({person.role.value}) tidak boleh menambah")
        with self._store.transaction() as session:
            row = self._add_program(
                session, None, draft, self._clock(), person.name, opd=opd, device=device
            )
            return program_entry(row, None)

    def set_program_status(self, entry_id: int, status: ProgramStatus, *, by: str) -> ProgramEntry:
        """Move a Program Kegiatan entry to another status (Kasi and above)."""
        person = self._people.get(by)
        if person.role not in MANAGERS:
            raise StepStateError("-", f"{person.name} ({person.role.value}) tidak boleh mengubah")
        with self._store.transaction() as session:
            row = session.get(ProgramKegiatan, entry_id)
            if row is None:
                raise TicketNotFoundError(f"program kegiatan #{entry_id}")
            row.status = ProgramStatus(status)
            row.updated_at = self._clock()
            return program_entry(row, self._number_of(session, row.ticket_id))

    @staticmethod
    def _number_of(session: Session, ticket_id: int | None) -> str | None:
        if ticket_id is None:
            return None
        return session.get_one(Ticket, ticket_id).number

    def program(
        self, *, year: int | None = None, status: ProgramStatus | None = None
    ) -> list[ProgramEntry]:
        """Program Kegiatan entries, oldest first, optionally of one budget year / status."""
        with self._store.transaction(write=False) as session:
            stmt = (
                select(ProgramKegiatan, Ticket.number)
                .outerjoin(Ticket, Ticket.id == ProgramKegiatan.ticket_id)
                .order_by(ProgramKegiatan.id)
            )
            if year is not None:
                stmt = stmt.where(ProgramKegiatan.budget_year == year)
            if status is not None:
                stmt = stmt.where(ProgramKegiatan.status == status)
            return [program_entry(r, n) for r, n in session.execute(stmt).all()]

    # -- reads ---------------------------------------------------------------------------------

    def _views(self, session: Session, ticket: Ticket) -> list[StepView]:
        if ticket.sop is None:
            return []
        sop = self._sops.get(ticket.sop)
        return [step_view(r, sop.step(r.position).kegiatan) for r in self._rows(session, ticket)]

    def steps(self, number: str) -> list[StepView]:
        """The SOP timeline of a ticket (empty before the SOP starts)."""
        with self._store.transaction(write=False) as session:
            return self._views(session, self._ticket(session, number))

    def ticket(self, number: str) -> TicketView:
        """One ticket with its SOP fields and version."""
        with self._store.transaction(write=False) as session:
            return ticket_view(self._ticket(session, number))

    # -- escalation ------------------------------------------------------------------------------

    def escalate_due(self) -> list[EscalationEvent]:
        """Record every new escalation level of overdue steps (call on every tick)."""
        now = self._clock()
        out: list[EscalationEvent] = []
        with self._store.transaction() as session:
            stmt = (
                select(TicketStep, Ticket)
                .join(Ticket, Ticket.id == TicketStep.ticket_id)
                .where(
                    TicketStep.started_at.is_not(None),
                    TicketStep.completed_at.is_(None),
                    TicketStep.due_at < now,
                )
                .order_by(TicketStep.id)
                .with_for_update(of=TicketStep, skip_locked=True)
            )
            for row, ticket in session.execute(stmt).all():
                out.extend(self._escalate_row(session, ticket, row, now))
        return out

    def _escalate_row(
        self, session: Session, ticket: Ticket, row: TicketStep, now: datetime
    ) -> list[EscalationEvent]:
        assert row.due_at is not None  # noqa: S101 - the query selects due steps
        sop = self._sop_of(ticket)
        clock = StepClock(row.position, row.due_at, row.escalation_level, row.all_hours)
        events = []
        for esc in due_escalations(sop, [clock], now, self._calendar):
            notify = tuple(p.name for p in self._people.with_role(esc.role))
            late_s = int(esc.late_by / SECONDS)
            step = sop.step(esc.position)
            _event(
                session,
                ticket,
                EventKind.ESCALATED,
                now,
                f"Langkah {step.title} terlambat; eskalasi tingkat {esc.level} ke {esc.role.value}",
                position=esc.position,
                label=esc.label,
                level=esc.level,
                role=esc.role.value,
                notify=list(notify),
                due_at=esc.due_at.isoformat(),
                late_by_s=late_s,
            )
            row.escalation_level = esc.level
            events.append(
                EscalationEvent(
                    ticket.number,
                    esc.position,
                    esc.label,
                    step.kegiatan,
                    esc.level,
                    esc.role.value,
                    notify,
                    esc.due_at,
                    esc.late_by,
                    now,
                )
            )
            logger.warning(
                "ticket %s step %s overdue: escalated to %s (level %d)",
                ticket.number,
                esc.label,
                esc.role.value,
                esc.level,
            )
        return events
