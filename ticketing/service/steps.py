"""SOP steps a person or the standing order completes: start, disposition, assignment, the rest.

``start`` opens the SOP of an agent ticket: "sistem" records the intake and, under a standing
order (disposisi tetap), the disposition and the assignment of the duty technician as well.
``complete``, ``dispose`` and ``assign`` are the human actions on the active step; the
decision step is ``ticketing.service.decisions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ticketing.errors import StepStateError
from ticketing.event_log import add_event
from ticketing.people import SYSTEM, Person, Role
from ticketing.service.engine import SYSTEM_ACTOR, StepEngine
from ticketing.sop import DocumentKind, StepKind
from ticketing.states import EventKind
from ticketing.workflow import Sifat, choose_sop

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy.orm import Session

    from ticketing.models import Ticket, TicketStep
    from ticketing.sop import Sop, SopStep
    from ticketing.views import StepView


class SopSteps(StepEngine):
    """Start a SOP (with the standing order) and complete, dispose or assign its active step."""

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
                SYSTEM_ACTOR,
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
                self._complete(session, ticket, walk, SYSTEM_ACTOR, at, document=doc, notes=note)
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
                        session, ticket, walk, SYSTEM_ACTOR, at, document=doc, notes=note
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

    def complete(
        self,
        number: str,
        *,
        by: str,
        notes: str = "",
        document: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
        via: str = "",
    ) -> StepView:
        """Complete the active step (any step that needs no decision or assignment).

        ``via`` names the channel of the action in the audit trail (``whatsapp``).
        """
        now = self._clock()
        with self._store.transaction() as session:
            ticket, sop, rows, person = self._begin_action(session, number, by, expected_version)
            step = sop.step(ticket.sop_step or 0)
            if step.decision:
                raise StepStateError(number, f"langkah {step.title} perlu keputusan: handle()")
            if step.kind is StepKind.PENUGASAN:
                raise StepStateError(number, f"langkah {step.title} perlu teknisi: assign()")
            return self._finish(
                session, ticket, (sop, rows), person, now, document=document, notes=notes, via=via
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
        via: str = "",
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
            return self._finish(
                session, ticket, (sop, rows), person, now, document=doc, notes=isi, via=via
            )

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
        add_event(
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
        via: str = "",
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
                via=via,
            )
