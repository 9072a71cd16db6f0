"""Detector state machine: confirmation, dependencies, flapping, maintenance, restart."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.detect.ping import (
    Attached,
    Detached,
    Detector,
    DeviceState,
    FaultCleared,
    FaultOpened,
)
from collectors.model import Observation, ProbeStatus
from ticketing.faults import FaultKind

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 WITA

INVENTORY = """
office: {name: Test}
detection: {confirm_rounds: 2, flap_threshold: 4, flap_window: 10m, flap_quiet: 5m}
defaults: {platform: mikrotik_routeros, role: router}
hosts:
  core: {address: 10.52.0.1}
  dist: {address: 10.52.1.1, parent: core}
  opd1: {address: 10.52.1.10, parent: dist}
  sw1: {address: 10.52.1.11, parent: opd1, role: switch}
  opd2: {address: 10.52.1.20, parent: dist}
  other: {address: 10.52.2.1, parent: core}
  maint:
    address: 10.52.2.2
    parent: core
    maintenance:
      - name: ganti kabel
        start: 2026-11-25T09:00:00+08:00
        end: 2026-11-25T11:00:00+08:00
"""


@pytest.fixture
def detector(tmp_path: Path) -> Detector:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    return Detector(load_inventory(path))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def step(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def obs(device: str, ok: bool, at: datetime) -> Observation:
    status = ProbeStatus.OK if ok else ProbeStatus.TIMEOUT
    return Observation(device, "ping", status, at, 0.001 if ok else None, 0.0 if ok else 1.0)


def round_all(det: Detector, clock: Clock, dead: set[str]) -> list:
    """One poll round of every device (parents first, as after re-probes)."""
    at = clock.step()
    events = []
    for name in det.inventory.devices:
        events += det.observe(obs(name, name not in dead, at))
    return events


def opened(events: list) -> list[str]:
    return [e.fault.key for e in events if isinstance(e, FaultOpened)]


def test_all_up_then_one_dead_needs_confirmation(detector: Detector) -> None:
    clock = Clock()
    round_all(detector, clock, set())
    assert set(detector.states().values()) == {DeviceState.UP}
    first = detector.observe(obs("opd2", False, clock.step()))
    assert detector.state("opd2") is DeviceState.SUSPECT
    assert opened(first) == []
    assert detector.take_requests() == {"dist", "core"}  # prove the path at once
    assert detector.wants_reprobe("opd2")
    # path not yet proven after the failure started: wait
    assert opened(detector.observe(obs("opd2", False, clock.step()))) == []
    detector.observe(obs("core", True, clock.step()))
    events = detector.observe(obs("dist", True, clock.step()))
    assert opened(events) == ["opd2/device_down"]
    assert detector.state("opd2") is DeviceState.DOWN


def test_dead_distribution_router_one_ticket_children_attached(detector: Detector) -> None:
    clock = Clock()
    round_all(detector, clock, set())
    dead = {"dist", "opd1", "sw1", "opd2"}
    events = round_all(detector, clock, dead) + round_all(detector, clock, dead)
    events += round_all(detector, clock, dead)
    assert opened(events) == ["dist/device_down"]
    attached = sorted(e.device for e in events if isinstance(e, Attached))
    assert attached == ["opd1", "opd2", "sw1"]
    assert all(e.root_key == "dist/device_down" for e in events if isinstance(e, Attached))
    assert detector.state("sw1") is DeviceState.UNREACHABLE


def test_children_confirmed_before_parent_still_wait(detector: Detector) -> None:
    """The child's rounds come first; it must not get its own ticket."""
    clock = Clock()
    round_all(detector, clock, set())
    events = []
    for _ in range(3):
        events += detector.observe(obs("opd1", False, clock.step()))
    assert opened(events) == []
    assert detector.state("opd1") is DeviceState.SUSPECT
    events += detector.observe(obs("dist", False, clock.step()))
    assert detector.take_requests() >= {"core"}
    events += detector.observe(obs("core", True, clock.step()))
    events += detector.observe(obs("dist", False, clock.step()))
    assert opened(events) == ["dist/device_down"]
    assert [e.device for e in events if isinstance(e, Attached)] == ["opd1"]


def test_parent_back_child_still_dead_gets_own_ticket(detector: Detector) -> None:
    clock = Clock()
    round_all(detector, clock, set())
    for _ in range(3):
        round_all(detector, clock, {"dist", "opd1", "sw1", "opd2"})
    events = round_all(detector, clock, {"opd1", "sw1"})
    assert [e.key for e in events if isinstance(e, FaultCleared)] == ["dist/device_down"]
    assert detector.state("opd2") is DeviceState.UP
    assert any(isinstance(e, Detached) and e.device == "opd2" for e in events)
    events = round_all(detector, clock, {"opd1", "sw1"}) + round_all(
        detector, clock, {"opd1", "sw1"}
    )
    assert opened(events) == ["opd1/device_down"]
    assert [e.device for e in events if isinstance(e, Attached)] == ["sw1"]


def test_random_loss_of_single_rounds_never_opens(detector: Detector) -> None:
    clock = Clock()
    rng = random.Random(7)
    events = []
    for _ in range(500):
        # 20 % packet loss, 3 echoes: a round fails only if all three are lost
        failed = all(rng.random() < 0.2 for _ in range(3))
        events += detector.observe(obs("other", not failed, clock.step(5)))
        if detector.wants_reprobe("other"):
            events += detector.observe(obs("other", True, clock.step(0.5)))
    assert opened(events) == []


def test_flapping_opens_one_flapping_fault(detector: Detector) -> None:
    clock = Clock()
    round_all(detector, clock, set())
    events = []
    for _ in range(5):
        for ok in (False, False, True):
            events += detector.observe(obs("core", True, clock.step()))
            events += detector.observe(obs("other", ok, clock.step()))
    keys = opened(events)
    assert keys.count("other/flapping") == 1
    assert keys.count("other/device_down") == 2  # before the threshold was reached
    cleared = [e.key for e in events if isinstance(e, FaultCleared)]
    assert "other/device_down" in cleared
    later = detector.tick(clock.step(301))
    assert [e.key for e in later if isinstance(e, FaultCleared)] == ["other/flapping"]


def test_maintenance_suppresses_until_window_ends(detector: Detector) -> None:
    clock = Clock()  # 10:00 WITA: inside the 09:00-11:00 window
    round_all(detector, clock, set())
    events = round_all(detector, clock, {"maint"}) + round_all(detector, clock, {"maint"})
    assert detector.state("maint") is DeviceState.DOWN
    assert opened(events) == []
    assert opened(detector.tick(clock.step(1800))) == []
    assert opened(detector.tick(clock.step(1900))) == ["maint/device_down"]


def test_restore_after_restart_clears_without_reopening(detector: Detector) -> None:
    clock = Clock()
    detector.restore([("opd2", FaultKind.DEVICE_DOWN)], clock.now)
    assert detector.state("opd2") is DeviceState.DOWN
    events = round_all(detector, clock, {"opd2"})
    assert opened(events) == []
    events = round_all(detector, clock, set())
    assert [e.key for e in events if isinstance(e, FaultCleared)] == ["opd2/device_down"]


def test_an_outage_starts_at_the_first_unanswered_probe(detector: Detector) -> None:
    """Availability counts from the first lost probe, not from its confirmation (issue 19)."""
    clock = Clock()
    round_all(detector, clock, set())
    first = clock.step()
    detector.observe(obs("other", False, first))
    events = detector.observe(obs("other", False, clock.step(0.5)))
    events += round_all(detector, clock, {"other"})
    (fault,) = [e for e in events if isinstance(e, FaultOpened)]
    assert fault.fault.key == "other/device_down"
    assert fault.at == first
    cleared = detector.observe(obs("other", True, clock.step(30)))
    assert [e.at for e in cleared if isinstance(e, FaultCleared)] == [clock.now]
