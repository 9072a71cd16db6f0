"""Builds the ticketing workflow service from the inventory (people, calendar, SOP settings)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ticketing.calendar import CALENDAR_DIR, OfficeCalendar, default_week
from ticketing.service import TicketService
from ticketing.workflow import Sifat, StandingDisposition, WorkflowConfig

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.config.model import Inventory
    from ticketing.store import TicketStore


def workflow_config(inventory: Inventory) -> WorkflowConfig:
    """The engine settings the inventory's ``sop:`` block describes."""
    s = inventory.sop
    standing = (
        StandingDisposition(
            s.standing.signer,
            s.standing.reference,
            Sifat(s.standing.sifat),
            s.standing.technician,
            s.standing.assign,
        )
        if s.standing is not None
        else None
    )
    return WorkflowConfig(
        agent_sop=s.agent_sop,
        agent_sop_by_kind=dict(s.by_kind),
        standing=standing,
        agent_all_hours=s.agent_all_hours,
        complaint_all_hours=s.complaint_all_hours,
    )


def office_calendar(inventory: Inventory) -> OfficeCalendar:
    """Working hours and holidays (the bundled files unless ``calendar.holidays_dir``)."""
    s = inventory.sop
    week = default_week() if s.friday_break else default_week(friday_break=None)
    return OfficeCalendar.load(s.holidays_dir or CALENDAR_DIR, week=week, tz=inventory.tz.key)


def ticket_service(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> TicketService:
    """The SOP workflow service over ``store`` for this inventory's people and settings."""
    return TicketService(
        store,
        people=inventory.people,
        calendar=office_calendar(inventory),
        now=now,
        config=workflow_config(inventory),
    )
