"""The device's recent tickets and their SOP state, read-only (diagnose never writes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy.exc import SQLAlchemyError

from agent.diagnose.report import TicketBrief, TicketsReport
from ticketing.errors import TicketingError

if TYPE_CHECKING:
    from ticketing.service import TicketService
    from ticketing.store import TicketStore
    from ticketing.views import TicketView

RECENT: Final = 5
SCAN: Final = 500  # newest tickets looked through for the device


class TicketHistory:
    """Reads recent tickets of devices from one store (blocking: call in a thread)."""

    def __init__(self, store: TicketStore, service: TicketService | None = None) -> None:
        """``service`` adds the active SOP step's name (optional)."""
        self._store = store
        self._service = service
        self._tickets: list[TicketView] | None = None

    def recent_blocking(self, device: str, limit: int = RECENT) -> TicketsReport:
        """Tickets of ``device`` (its own, and others it is attached to), newest first."""
        try:
            if self._tickets is None:
                self._tickets = self._store.list(limit=SCAN)
            mine = [
                t
                for t in self._tickets
                if t.device == device or any(a.device == device for a in t.affected)
            ][:limit]
            return TicketsReport(True, "", tuple(self._brief(t, device) for t in mine))
        except (SQLAlchemyError, TicketingError) as exc:
            return TicketsReport(False, f"basis data tiket tidak terbaca: {exc.__class__.__name__}")

    def _brief(self, ticket: TicketView, device: str) -> TicketBrief:
        return TicketBrief(
            number=ticket.number,
            status=ticket.status.value,
            kind=ticket.kind,
            summary=ticket.summary,
            opened_at=ticket.opened_at,
            resolved_at=ticket.resolved_at,
            sop=ticket.sop,
            step=self._step(ticket),
            affected=ticket.device != device,
        )

    def _step(self, ticket: TicketView) -> str:
        if self._service is None or ticket.sop_step is None or ticket.sop_done_at is not None:
            return ""
        steps = self._service.steps(ticket.number)
        active = next((s for s in steps if s.position == ticket.sop_step), None)
        return "" if active is None else f"langkah {active.position}: {active.label}"
