"""SOP workflow rules as data and pure functions (SOP choice, roles, decision, escalation).

No I/O and no clock: every function takes ``now`` (STYLE 13).

Escalation, worked example (a technician's "1 jam" step, due Monday 10:00, all in office
time): at 10:00 it is overdue -> level 1, the Kasi is told; one more mutu baku later (11:00)
-> level 2, the Kabid; at 12:00 -> level 3, the Kadis. Each level is reported once: the store
records the level reached, and the next tick only returns higher ones. A Kasi step starts at
the Kabid; a Kadis step has nobody above it and never escalates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from ticketing.errors import InvalidRoleError
from ticketing.people import CHAIN, RANK, Role, performs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from ticketing.calendar import OfficeCalendar
    from ticketing.people import Person
    from ticketing.sop import Sop, SopStep

AGENT_SOURCE: Final = "agent"
COMPLAINT_KIND: Final = "pengaduan"


class Source(StrEnum):
    """Where a ticket came from (``tickets.source``)."""

    AGENT = "agent"
    SURAT = "surat"
    EMAIL = "email"
    WA = "wa"


class Complexity(StrEnum):
    """Step 4's decision (SOP table 1 output)."""

    SEDERHANA = "sederhana"
    KOMPLEKS = "kompleks"


class Sifat(StrEnum):
    """Urgency of a surat disposisi."""

    BIASA = "biasa"
    SEGERA = "segera"
    SANGAT_SEGERA = "sangat_segera"


class Priority(StrEnum):
    """Priority of a Program Kegiatan entry."""

    TINGGI = "tinggi"
    SEDANG = "sedang"
    RENDAH = "rendah"


@dataclass(frozen=True, slots=True)
class StandingDisposition:
    """Disposisi tetap: a standing order under which agent tickets skip the paper disposition.

    ``technician`` names the technician on duty; None picks the first teknisi by name.
    """

    signer: str  # e.g. "Kepala Dinas Kominfo" or a person's name
    reference: str  # e.g. "800/123/Diskominfo/2026"
    sifat: Sifat = Sifat.SEGERA
    technician: str | None = None
    assign: bool = True  # also complete the assignment step


@dataclass(frozen=True, slots=True)
class DecisionRules:
    """Default sederhana/kompleks per fault kind (the technician may override with a reason)."""

    device_down_kompleks_after: timedelta = timedelta(hours=4)
    repeat_kompleks_from: int = 1  # reopen_count at or above this -> kompleks
    wan_ports: tuple[str, ...] = ("pppoe", "wan", "uplink", "isp")
    sederhana_kinds: frozenset[str] = frozenset(
        {"interface_disabled", "snmp_unreachable", "link_saturated", "device_rebooted"}
    )


@dataclass(frozen=True, slots=True)
class FaultFacts:
    """What the decision rules look at."""

    kind: str
    subject: str = ""  # interface name for per-interface faults
    down_for: timedelta = timedelta()
    reopen_count: int = 0
    hardware_replacement: bool = False


@dataclass(frozen=True, slots=True)
class WorkflowConfig:
    """Engine settings: SOP choice, standing disposition, rules, 24x7 handling."""

    agent_sop: str = "pemeliharaan"
    agent_sop_by_kind: Mapping[str, str] = field(default_factory=dict)
    complaint_sop: str = "gangguan-internet"
    complaint_pj_sop: str = "gangguan-internet-pj"
    standing: StandingDisposition | None = None
    rules: DecisionRules = field(default_factory=DecisionRules)
    agent_all_hours: bool = False  # agent tickets: steps marked boleh_24x7 count 24x7
    complaint_all_hours: bool = False


def choose_sop(config: WorkflowConfig, *, source: str, kind: str = "", via_pj: bool = False) -> str:
    """SOP code for a new ticket: agent faults by kind (default), complaints by channel."""
    if source == Source.AGENT:
        return config.agent_sop_by_kind.get(kind, config.agent_sop)
    return config.complaint_pj_sop if via_pj else config.complaint_sop


def default_complexity(  # noqa: PLR0911 - one return per rule reads as the rule table
    facts: FaultFacts, rules: DecisionRules
) -> tuple[Complexity, str]:
    """Default decision and its reason (Indonesian), e.g. (KOMPLEKS, "perangkat mati 5 jam")."""
    if facts.hardware_replacement:
        return Complexity.KOMPLEKS, "perlu penggantian perangkat keras"
    if facts.reopen_count >= rules.repeat_kompleks_from:
        return Complexity.KOMPLEKS, f"gangguan berulang (dibuka kembali {facts.reopen_count}x)"
    if facts.kind == "device_down":
        if facts.down_for >= rules.device_down_kompleks_after:
            hours = facts.down_for.total_seconds() / 3600
            return Complexity.KOMPLEKS, f"perangkat mati {hours:.1f} jam"
        return Complexity.SEDERHANA, "perangkat mati belum lama"
    if facts.kind == "interface_down":
        name = facts.subject.casefold()
        if any(p in name for p in rules.wan_ports):
            return Complexity.SEDERHANA, f"antarmuka PPPoE/WAN {facts.subject} turun"
        return Complexity.SEDERHANA, f"antarmuka {facts.subject} turun"
    if facts.kind in rules.sederhana_kinds:
        return Complexity.SEDERHANA, f"jenis gangguan {facts.kind}"
    return Complexity.SEDERHANA, "aturan bawaan"


def check_role(ticket: str, step: SopStep, person: Person) -> None:
    """Raise InvalidRoleError unless ``person``'s role may perform ``step``."""
    if not performs(person.role, step.performers):
        allowed = tuple(r.value for r in step.performers)
        raise InvalidRoleError(ticket, step.title, person.name, person.role.value, allowed)


def escalation_targets(step: SopStep) -> tuple[Role, ...]:
    """Roles above the step's lowest performer, in order (level 1 first)."""
    return CHAIN[RANK[step.lowest_performer] + 1 :]


@dataclass(frozen=True, slots=True)
class StepClock:
    """The timing state of one started step (what escalation needs)."""

    position: int
    due_at: datetime
    escalation_level: int
    all_hours: bool


@dataclass(frozen=True, slots=True)
class Escalation:
    """An overdue step reaching a new level: tell ``role``."""

    position: int
    label: str
    level: int  # 1 = first role above the performer
    role: Role
    due_at: datetime
    reached_at: datetime  # when this level's threshold passed
    late_by: timedelta  # now - due_at


def level_thresholds(
    step: SopStep, due_at: datetime, calendar: OfficeCalendar, *, all_hours: bool
) -> list[datetime]:
    """When each escalation level is reached: due, then one more mutu baku per level."""
    out: list[datetime] = []
    at = due_at
    for _role in escalation_targets(step):
        out.append(at)
        at = calendar.due(at, step.standard, all_hours=all_hours)
    return out


def due_escalations(
    sop: Sop, clocks: Iterable[StepClock], now: datetime, calendar: OfficeCalendar
) -> list[Escalation]:
    """Escalations to record now: every level past its threshold and above the recorded one."""
    out: list[Escalation] = []
    for clock in clocks:
        if now <= clock.due_at:
            continue
        step = sop.step(clock.position)
        targets = escalation_targets(step)
        thresholds = level_thresholds(step, clock.due_at, calendar, all_hours=clock.all_hours)
        for level, (role, at) in enumerate(zip(targets, thresholds, strict=True), start=1):
            if level > clock.escalation_level and at < now:
                out.append(
                    Escalation(
                        clock.position,
                        step.label,
                        level,
                        role,
                        clock.due_at,
                        at,
                        now - clock.due_at,
                    )
                )
    return out
