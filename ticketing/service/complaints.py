"""Complaints (pengaduan) by letter, e-mail or WhatsApp: record the ticket and start its SOP."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ticketing.event_log import add_event
from ticketing.models import Ticket
from ticketing.service.engine import SYSTEM_ACTOR, Actor, StepEngine
from ticketing.states import EventKind, TicketState
from ticketing.views import ticket_view
from ticketing.workflow import COMPLAINT_KIND, Source, check_role, choose_sop

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from ticketing.views import TicketView


logger = logging.getLogger(__name__)


class Complaints(StepEngine):
    """Complaint intake: ``sigap tiket lapor``, the web form and ``ticketing.intake``."""

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
        A ``device`` must be one of ``opd``'s (DeviceOpdError), when the service knows devices.
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
        self._check_device(device, opd)  # a device of another OPD would show it this complaint
        person = self._people.get(by) if by is not None else None
        actor = Actor(person.name, person) if person is not None else SYSTEM_ACTOR
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
        add_event(
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
        self._attach_evidence(session, ticket, now)
        session.flush()
        return ticket

    def _attach_evidence(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """The evidence note of a new complaint (see ``evidence`` in the constructor).

        The evidence is an extra: a failure to gather it is logged and the complaint is still
        recorded (it is never lost behind a broken graph).
        """
        if self._evidence is None:
            return
        try:
            found = self._evidence(ticket.opd, ticket.device, ticket.description)
        except Exception:  # any failure of the extra must not lose the complaint
            logger.warning("evidence for %s not gathered", ticket.number, exc_info=True)
            return
        if found is not None:
            text, data = found
            add_event(session, ticket, EventKind.NOTE, now, text, **data)
