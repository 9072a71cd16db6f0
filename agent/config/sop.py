"""The inventory's ``sop:`` block: checks, and the engine settings and calendar it describes.

Checks run on the raw file against the bundled SOPs and the people list; the builders turn the
resolved block into plain ticketing values (``WorkflowConfig``, ``OfficeCalendar``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ticketing.calendar import CALENDAR_DIR, OfficeCalendar, default_week
from ticketing.faults import FaultKind
from ticketing.sop import bundled
from ticketing.workflow import Sifat, StandingDisposition, WorkflowConfig

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from agent.config.model import Inventory
    from agent.config.source import Path as YPath


def sop_problems(block: Mapping[str, Any], people: list[Any]) -> Iterator[tuple[YPath, str]]:
    """Yield (path inside ``sop``, message) for unknown SOP codes, kinds and people."""
    codes = {sop.code for sop in bundled()}
    known = ", ".join(sorted(codes))
    agent_sop = block.get("agent_sop")
    if isinstance(agent_sop, str) and agent_sop not in codes:
        yield ("agent_sop",), f"unknown SOP {agent_sop!r} (known: {known})"
    by_kind = block.get("by_kind")
    for kind, code in by_kind.items() if isinstance(by_kind, dict) else ():
        if kind not in {k.value for k in FaultKind}:
            kinds = ", ".join(k.value for k in FaultKind)
            yield ("by_kind", kind), f"unknown fault kind {kind!r} (known: {kinds})"
        if isinstance(code, str) and code not in codes:
            yield ("by_kind", kind), f"unknown SOP {code!r} (known: {known})"
    standing = block.get("standing_disposition")
    if isinstance(standing, dict):
        yield from _standing_problems(standing, people)


def _standing_problems(
    standing: Mapping[str, Any], people: list[Any]
) -> Iterator[tuple[YPath, str]]:
    roles = {p.get("name"): p.get("role") for p in people if isinstance(p, dict)}
    signer = standing.get("signer")
    if isinstance(signer, str) and signer not in roles:
        yield ("standing_disposition", "signer"), f"{signer!r} is not in the people list"
    elif isinstance(signer, str) and roles[signer] not in ("kadis", "kabid"):
        yield (
            ("standing_disposition", "signer"),
            (f"{signer!r} is {roles[signer]}; the kadis or kabid signs a standing disposition"),
        )
    technician = standing.get("technician")
    if isinstance(technician, str) and roles.get(technician) != "teknisi":
        yield (
            ("standing_disposition", "technician"),
            (f"{technician!r} is not a teknisi of the people list"),
        )


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
