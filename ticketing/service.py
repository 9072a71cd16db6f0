"""TicketService (being split: the code is in ticketing.step_engine for this commit)."""

from __future__ import annotations

from ticketing.step_engine import MANAGERS, ProgramDraft, TicketService, decision_note

__all__ = ["MANAGERS", "ProgramDraft", "TicketService", "decision_note"]
