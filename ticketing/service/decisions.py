"""The decision step (sederhana or kompleks) and the end of an automatic repair.

A person decides with :meth:`Decisions.handle`: without a choice the rules of
``ticketing.workflow`` decide (agent tickets), a choice against them needs a reason, and
kompleks adds a Program Kegiatan entry. A verified automatic repair
(:meth:`Decisions.finish_remediation`) decides sederhana itself and lets "sistem" complete
the handling steps it may do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ticketing.errors import StepStateError
from ticketing.event_log import add_event
from ticketing.faults import split_key
from ticketing.models import RemediationRun, Ticket
from ticketing.remediation import record_event
from ticketing.service.engine import SYSTEM_ACTOR, StepEngine
from ticketing.service.program import ProgramDraft, add_entry
from ticketing.sop import StepKind
from ticketing.states import EventKind, RunStatus
from ticketing.views import ticket_view
from ticketing.workflow import Complexity, FaultFacts, default_complexity

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from sqlalchemy.orm import Session

    from ticketing.views import StepView, TicketView

# steps "sistem" may complete after a verified automatic repair (never officials' steps)
SYSTEM_STEPS: Final = frozenset({StepKind.PENANGANAN, StepKind.PENYELESAIAN, StepKind.LAPORAN})


def decision_note(chosen: Complexity, reason: str) -> str:
    """The audit line of a decision: ``Keputusan: sederhana (reason)``, no ``()`` without one."""
    reason = reason.strip()
    return f"Keputusan: {chosen.value} ({reason})" if reason else f"Keputusan: {chosen.value}"


class Decisions(StepEngine):
    """Sederhana or kompleks: by a person, by the rules, or by a verified automatic repair."""

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
        via: str = "",
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
            add_event(
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
                draft = program or ProgramDraft()
                add_entry(session, ticket, draft, now, person.name, zone=self._calendar.zone)
            return self._finish(
                session,
                ticket,
                (sop, rows),
                person,
                now,
                document=None,
                notes=notes or why,
                via=via,
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
                add_event(
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
                add_event(
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
                SYSTEM_ACTOR,
                at,
                document=doc if step.document is not None else None,
                notes=summary or ticket.complexity_reason,
            )
