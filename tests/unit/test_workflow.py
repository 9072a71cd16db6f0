"""Pure workflow rules: SOP choice, default decision, role check, escalation levels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ticketing.calendar import OfficeCalendar
from ticketing.errors import InvalidRoleError
from ticketing.people import Person, Role
from ticketing.sop import bundled
from ticketing.workflow import (
    Complexity,
    DecisionRules,
    FaultFacts,
    StepClock,
    WorkflowConfig,
    check_role,
    choose_sop,
    default_complexity,
    due_escalations,
    escalation_targets,
)

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
CAL = OfficeCalendar(holidays={date(2026, 11, 30): "Libur uji"})
SOPS = bundled()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=WITA).astimezone(UTC)


def test_choose_sop():
    cfg = WorkflowConfig(agent_sop_by_kind={"device_down": "gangguan-internet"})
    assert choose_sop(cfg, source="agent", kind="interface_down") == "pemeliharaan"
    assert choose_sop(cfg, source="agent", kind="device_down") == "gangguan-internet"
    assert choose_sop(cfg, source="wa") == "gangguan-internet"
    assert choose_sop(cfg, source="email", via_pj=True) == "gangguan-internet-pj"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (FaultFacts("interface_disabled", "ether5"), Complexity.SEDERHANA),
        (FaultFacts("interface_down", "pppoe-out1"), Complexity.SEDERHANA),
        (FaultFacts("device_down", down_for=timedelta(hours=1)), Complexity.SEDERHANA),
        (FaultFacts("device_down", down_for=timedelta(hours=5)), Complexity.KOMPLEKS),
        (FaultFacts("interface_down", "ether2", reopen_count=2), Complexity.KOMPLEKS),
        (FaultFacts("link_saturated", hardware_replacement=True), Complexity.KOMPLEKS),
    ],
)
def test_default_complexity(facts, expected):
    assert default_complexity(facts, DecisionRules())[0] is expected


def test_wrong_role_refused_with_fields():
    step = SOPS.get("gangguan-internet").step(2)
    with pytest.raises(InvalidRoleError) as info:
        check_role("GJ/2026/0001", step, Person("Teknisi Satu", Role.TEKNISI))
    err = info.value
    assert (err.ticket, err.person, err.role, err.allowed) == (
        "GJ/2026/0001", "Teknisi Satu", "teknisi", ("kadis", "kabid"),
    )  # fmt: skip
    assert "hanya boleh dilakukan oleh kadis / kabid" in str(err)


def test_escalation_targets_follow_the_chain():
    pem = SOPS.get("pemeliharaan")
    assert escalation_targets(pem.step(4)) == (Role.KASI, Role.KABID, Role.KADIS)
    assert escalation_targets(pem.step(3)) == (Role.KABID, Role.KADIS)
    table1 = SOPS.get("gangguan-internet")
    assert escalation_targets(table1.step(2)) == (Role.KADIS,)


def test_escalation_once_per_level():
    sop = SOPS.get("pemeliharaan")
    due = local(2026, 12, 1, 8, 20)  # analisa (1 jam, teknisi)
    clock = StepClock(4, due, 0, all_hours=False)
    assert due_escalations(sop, [clock], local(2026, 12, 1, 8, 20), CAL) == []
    first = due_escalations(sop, [clock], local(2026, 12, 1, 8, 21), CAL)
    assert [(e.level, e.role) for e in first] == [(1, Role.KASI)]
    clock = StepClock(4, due, 1, all_hours=False)
    assert due_escalations(sop, [clock], local(2026, 12, 1, 9, 0), CAL) == []
    second = due_escalations(sop, [clock], local(2026, 12, 1, 9, 21), CAL)
    assert [(e.level, e.role) for e in second] == [(2, Role.KABID)]
    # a long gap (overnight) reports every missed level at once, each once
    late = due_escalations(sop, [clock], local(2026, 12, 2, 9, 0), CAL)
    assert [(e.level, e.role) for e in late] == [(2, Role.KABID), (3, Role.KADIS)]
    assert due_escalations(sop, [StepClock(4, due, 3, False)], local(2026, 12, 9, 9), CAL) == []


def test_escalation_thresholds_follow_office_hours():
    sop = SOPS.get("pemeliharaan")
    due = local(2026, 11, 27, 16, 0)  # Friday, 30 minutes before close
    clock = StepClock(4, due, 1, all_hours=False)
    # level 2 at due + 1 working hour: 30 min Friday, then Tuesday 07:30 + 30 min (Monday off)
    assert due_escalations(sop, [clock], local(2026, 12, 1, 7, 59), CAL) == []
    assert [e.level for e in due_escalations(sop, [clock], local(2026, 12, 1, 8, 1), CAL)] == [2]
    assert [e.level for e in due_escalations(sop, [StepClock(4, due, 1, True)],
                                             local(2026, 11, 27, 17, 1), CAL)] == [2]  # fmt: skip
