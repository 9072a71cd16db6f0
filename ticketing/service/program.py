"""The Program Kegiatan register: kompleks problems waiting for a budget (entries and status).

Entries come from a kompleks decision (``ticketing.service.decisions`` calls :func:`add_entry`
in its transaction) or are added by hand; Kasi, Kabid and Kadis (:data:`MANAGERS`) add entries
by hand and move them through their statuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from ticketing.errors import StepStateError, TicketNotFoundError
from ticketing.event_log import add_event
from ticketing.models import ProgramKegiatan, Ticket
from ticketing.people import Role
from ticketing.service.engine import StepEngine
from ticketing.states import EventKind, ProgramStatus
from ticketing.views import program_entry
from ticketing.workflow import Priority

if TYPE_CHECKING:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session

    from ticketing.views import ProgramEntry

MANAGERS: Final = frozenset({Role.KASI, Role.KABID, Role.KADIS})


@dataclass(frozen=True, slots=True)
class ProgramDraft:
    """What a technician proposes when a problem is kompleks (defaults filled by the service)."""

    proposed_action: str = ""
    estimated_cost: int = 0  # Rupiah
    priority: Priority = Priority.SEDANG
    budget_year: int | None = None  # None: next local year
    problem: str = ""  # None-like empty: the ticket's summary


def add_entry(
    session: Session,
    ticket: Ticket | None,
    draft: ProgramDraft,
    at: datetime,
    actor: str,
    *,
    zone: ZoneInfo,
    opd: str = "",
    device: str = "",
) -> ProgramKegiatan:
    """Add an entry in ``session``; of ``ticket`` (logged on it) or by hand (``opd``, ``device``).

    Without a budget year the entry is for the next year in the office ``zone``.
    """
    year = draft.budget_year or at.astimezone(zone).year + 1
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
        add_event(
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


class ProgramRegister(StepEngine):
    """Program Kegiatan by hand: add, change status, list (Kasi and above may change)."""

    def add_program(
        self, draft: ProgramDraft, *, by: str, opd: str = "", device: str = ""
    ) -> ProgramEntry:
        """Add a Program Kegiatan entry by hand (no ticket); Kasi and above."""
        person = self._people.get(by)
        if person.role not in MANAGERS:
            raise StepStateError("-", f"{person.name} ({person.role.value}) tidak boleh menambah")
        self._check_device(device, opd)
        with self._store.transaction() as session:
            at, zone = self._clock(), self._calendar.zone
            row = add_entry(
                session, None, draft, at, person.name, zone=zone, opd=opd, device=device
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
