"""The core every part of TicketService builds on: its context, ticket loading, the step engine.

The parts of the service (``sop_steps``, ``complaints``, ``decisions``, ``program_register``,
``escalation``) subclass :class:`StepEngine` and ``ticketing.service.TicketService`` combines
them. They share one context (store, people, office calendar, clock, SOP registry, workflow
config) and one engine that closes the active step, logs it and starts the next (or ends the
SOP), so each public method keeps a single signature in a single place and every part is
type-checked against the same base.

Every method is one transaction, reads the time from the injected ``now`` callable and
returns frozen views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from ticketing.errors import (
    ConcurrentUpdateError,
    DeviceOpdError,
    InvalidTransitionError,
    StepStateError,
    TicketNotFoundError,
)
from ticketing.event_log import add_event
from ticketing.models import Ticket, TicketStep
from ticketing.people import SYSTEM, Directory, Person, Role
from ticketing.sop import bundled
from ticketing.states import TRANSITIONS, EventKind, TicketState
from ticketing.views import step_view, ticket_view
from ticketing.workflow import WorkflowConfig, check_role

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from sqlalchemy.orm import Session

    from ticketing.calendar import OfficeCalendar
    from ticketing.people import PersonLike
    from ticketing.sop import Sop, SopRegistry, SopStep, StepKind
    from ticketing.store import TicketStore
    from ticketing.views import StepView, TicketView

SECONDS: Final = timedelta(seconds=1)
# (opd, device, description) -> (note text, note data) or None
Evidence = Callable[[str, str, str], tuple[str, dict[str, str]] | None]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who completes a step: a person, or the system under a standing order."""

    name: str
    person: Person | None
    via: str = ""  # the channel a person acted through (``whatsapp``); "" = board or CLI


SYSTEM_ACTOR: Final = Actor(SYSTEM, None)


class StepEngine:
    """The shared context of the service parts and the SOP step engine they all use."""

    def __init__(
        self,
        store: TicketStore,
        *,
        people: Iterable[PersonLike],
        calendar: OfficeCalendar,
        now: Callable[[], datetime],
        sops: SopRegistry | None = None,
        config: WorkflowConfig | None = None,
        devices: Mapping[str, str] | None = None,
        evidence: Evidence | None = None,
    ) -> None:
        """Wrap ``store``; ``now`` returns tz-aware UTC and is the only clock used.

        ``devices`` (device name -> its OPD): with it, a complaint or entry naming a device of
        another OPD is refused (:meth:`_check_device`). ``evidence(opd, device, description)``
        may return a note (text, data) that a new complaint gets at once (issue 19: the
        uplink's traffic for "internet lambat"; built by ``agent.wiring``).
        """
        self._evidence = evidence
        self._store = store
        self._devices = dict(devices) if devices is not None else None
        self._people = Directory(people)
        self._calendar = calendar
        self._now = now
        self._sops = sops if sops is not None else bundled()
        self._config = config if config is not None else WorkflowConfig()

    @property
    def sops(self) -> SopRegistry:
        """The SOP registry in use."""
        return self._sops

    def _check_device(self, device: str, opd: str) -> None:
        """Raise DeviceOpdError when ``device`` is a known device of another OPD than ``opd``.

        A name the inventory does not know (a device since removed) stays allowed: no OPD's
        map or device page shows it, so it shows the complaint to nobody else.
        """
        if not device or self._devices is None:
            return
        owner = self._devices.get(device)
        if owner is not None and owner != opd:
            raise DeviceOpdError(device, opd, owner)

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
        add_event(
            session, ticket, EventKind.SOP_STARTED, at, f"SOP dimulai: {sop.title}", sop=sop.code
        )
        return rows

    def _start_row(self, ticket: Ticket, row: TicketStep, step: SopStep, at: datetime) -> None:
        row.started_at = at
        row.due_at = self._calendar.due(at, step.standard, all_hours=row.all_hours)
        ticket.sop_step = step.position
        if Role.TEKNISI in step.performers and ticket.assignee:
            row.person = ticket.assignee

    # -- completing steps -------------------------------------------------------------------

    def _complete(
        self,
        session: Session,
        ticket: Ticket,
        walk: tuple[Sop, list[TicketStep]],
        actor: Actor,
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
        row.completed_via = actor.via
        row.late_by_s = max(0, int((at - row.due_at) / SECONDS)) if row.due_at else 0
        row.notes = notes
        if step.document is not None:
            row.document_kind = step.document.value
            row.document = dict(document or {})
        flag_modified(ticket, "sop_step")  # bump the version even if nothing else changes
        add_event(
            session,
            ticket,
            EventKind.STEP_DONE,
            at,
            f"Langkah {step.title} selesai oleh {actor.name}"
            + (f" lewat {actor.via}" if actor.via else ""),
            actor=actor.name,
            position=step.position,
            label=step.label,
            late_by_s=row.late_by_s,
            **({"via": actor.via} if actor.via else {}),
            **_next_step(sop, step.position),
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
            add_event(
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
        via: str = "",
    ) -> StepView:
        """Complete the active step as ``person`` (a human action, through ``via``)."""
        step = walk[0].step(ticket.sop_step or 0)
        actor = Actor(person.name, person, via)
        row = self._complete(session, ticket, walk, actor, now, document=document, notes=notes)
        session.flush()
        return step_view(row, step.kegiatan)

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


def _next_step(sop: Sop, position: int) -> dict[str, Any]:
    """The step that starts after ``position`` (its number and roles), for whom to tell."""
    if position >= len(sop.steps):
        return {}
    nxt = sop.steps[position]
    return {"next_position": nxt.position, "next_roles": [r.value for r in nxt.performers]}
