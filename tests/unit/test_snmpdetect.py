"""SNMP detector: interface faults on transitions, required-up ports, reboots vs agent restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.detect.ping import DeviceState, FaultCleared, FaultOpened
from agent.detect.snmp import SnmpDetector
from collectors.counters import TIMETICKS_MODULUS as TICKS_MOD
from collectors.counters import ticks_went_backwards
from collectors.model import InterfaceRow, ProbeStatus, SnmpPoll, SystemInfo

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
INVENTORY = """
office: {name: Test}
defaults:
  platform: mikrotik_routeros
  role: router
  snmp: {version: "2c", community_env: COMM, interval: 30s}
hosts:
  rtr:
    address: 10.52.0.1
    interfaces:
      ether1: {required_up: true, uplink: true}
      ether2: {required_up: true, description: LAN OPD}
  sw:
    address: 10.52.0.2
    parent: rtr
    snmp: {interfaces: "^ge"}
"""


@pytest.fixture
def det(tmp_path: Path) -> SnmpDetector:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    return SnmpDetector(load_inventory(path, env={"COMM": "s3cret"}))


def row(index: int, name: str, admin: bool = True, oper: bool = True) -> InterfaceRow:
    return InterfaceRow(index, name, alias=f"port {name}", admin_up=admin, oper_up=oper)


def poll(
    at: datetime,
    rows: tuple[InterfaceRow, ...],
    sys_up: int,
    hr_up: int | None = None,
    device: str = "rtr",
) -> SnmpPoll:
    system = SystemInfo(sys_uptime=sys_up, hr_uptime=hr_up, name=device)
    return SnmpPoll(device, at, ProbeStatus.OK, system=system, interfaces=rows)


UP = DeviceState.UP


def keys(events: list, kind: type) -> list[str]:
    return [e.fault.key if kind is FaultOpened else e.key for e in events if isinstance(e, kind)]


def test_interface_down_only_on_transition_and_clears(det: SnmpDetector) -> None:
    rows = (row(1, "ether1"), row(3, "ether3"))
    assert det.observe(poll(T0, rows, 1000), UP) == []
    down = (row(1, "ether1"), row(3, "ether3", oper=False))
    events = det.observe(poll(T0 + timedelta(seconds=30), down, 4000), UP)
    assert keys(events, FaultOpened) == ["rtr/interface_down/ether3"]
    assert "ether3 (port ether3)" in events[0].fault.summary
    assert det.observe(poll(T0 + timedelta(seconds=60), down, 7000), UP) == []  # no repeat
    events = det.observe(poll(T0 + timedelta(seconds=90), rows, 10000), UP)
    assert keys(events, FaultCleared) == ["rtr/interface_down/ether3"]


def test_down_at_first_sight_is_not_a_transition(det: SnmpDetector) -> None:
    rows = (row(1, "ether1"), row(4, "ether4", oper=False))
    assert det.observe(poll(T0, rows, 1000), UP) == []


def test_admin_down_ordinary_port_no_fault_required_port_disabled(det: SnmpDetector) -> None:
    det.observe(poll(T0, (row(2, "ether2"), row(4, "ether4")), 1000), UP)
    shut = (row(2, "ether2", admin=False, oper=False), row(4, "ether4", admin=False, oper=False))
    events = det.observe(poll(T0 + timedelta(seconds=30), shut, 4000), UP)
    assert keys(events, FaultOpened) == ["rtr/interface_disabled/ether2"]
    back = (row(2, "ether2"), row(4, "ether4"))
    events = det.observe(poll(T0 + timedelta(seconds=60), back, 7000), UP)
    assert keys(events, FaultCleared) == ["rtr/interface_disabled/ether2"]


def test_interface_pattern_limits_what_is_watched(det: SnmpDetector) -> None:
    rows = (row(1, "ge-1"), row(2, "mgmt"))
    det.observe(poll(T0, rows, 1000, device="sw"), UP)
    down = (row(1, "ge-1", oper=False), row(2, "mgmt", oper=False))
    events = det.observe(poll(T0 + timedelta(seconds=30), down, 4000, device="sw"), UP)
    assert keys(events, FaultOpened) == ["sw/interface_down/ge-1"]


def test_reboot_all_sources_reset_is_informational(det: SnmpDetector) -> None:
    det.observe(poll(T0, (), 500_000, 900_000), UP)
    events = det.observe(poll(T0 + timedelta(seconds=60), (), 1_000, 1_200), UP)
    assert keys(events, FaultOpened) == ["rtr/device_rebooted"]
    assert keys(events, FaultCleared) == ["rtr/device_rebooted"]  # resolves after hold-down


def test_snmp_agent_restart_is_not_a_reboot(det: SnmpDetector) -> None:
    det.observe(poll(T0, (), 500_000, 900_000), UP)
    events = det.observe(poll(T0 + timedelta(seconds=60), (), 300, 906_000), UP)
    assert events == []


def test_sysuptime_wrap_at_497_days_is_not_a_reboot(det: SnmpDetector) -> None:
    before = TICKS_MOD - 1_000  # 10 s before the wrap
    det.observe(poll(T0, (), before), UP)
    events = det.observe(poll(T0 + timedelta(seconds=60), (), 5_000), UP)  # wrapped, on time
    assert events == []


@pytest.mark.parametrize(
    ("before", "now", "elapsed", "expected"),
    [
        (1000, 7000, 60.0, False),
        (TICKS_MOD - 100, 5900, 60.0, False),  # wrap
        (500_000, 200, 60.0, True),  # restart
        (None, 5, 60.0, False),
        (1000, 1000 + 6000 + 200, 60.0, False),  # small clock skew
    ],
)
def test_went_back(before: int | None, now: int, elapsed: float, expected: bool) -> None:
    assert ticks_went_backwards(before, now, elapsed) is expected


def test_snmp_unreachable_only_while_ping_up(det: SnmpDetector) -> None:
    silent = SnmpPoll("rtr", T0, ProbeStatus.TIMEOUT, reason="timeout")
    assert det.observe(silent, DeviceState.DOWN) == []
    assert det.observe(silent, DeviceState.DOWN) == []
    assert det.observe(silent, UP) == []
    events = det.observe(silent, UP)
    assert keys(events, FaultOpened) == ["rtr/snmp_unreachable"]
    assert "timeout" in events[0].fault.summary
    events = det.observe(poll(T0 + timedelta(seconds=90), (), 9000), UP)
    assert keys(events, FaultCleared) == ["rtr/snmp_unreachable"]


def test_restore_lets_an_open_ticket_clear(det: SnmpDetector) -> None:
    det.restore(["rtr/interface_down/ether3"])
    events = det.observe(poll(T0, (row(3, "ether3"),), 1000), UP)
    assert keys(events, FaultCleared) == ["rtr/interface_down/ether3"]


def test_secret_is_read_and_redacted(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    device = load_inventory(path, env={"COMM": "s3cret"}).devices["rtr"]
    target = device.snmp_target()
    assert target is not None
    assert target.auth.community == "s3cret"
    assert "s3cret" not in repr(target)


def traffic_row(in_octets: int, errors: int = 0, bits: int = 64) -> InterfaceRow:
    return InterfaceRow(
        5,
        "ether5",
        "WAN",
        admin_up=True,
        oper_up=True,
        high_speed_mbps=100,
        in_octets=in_octets,
        out_octets=0,
        counter_bits=bits,
        in_errors=errors,
        out_errors=0,
        in_discards=0,
        out_discards=0,
    )


def feed(
    det: SnmpDetector,
    samples: list[tuple[int, int]],
    step: int = 30,
    bits: int = 64,
    uptimes: list[int] | None = None,
) -> list:
    """samples: (octets, errors) per poll, ``step`` seconds apart."""
    events = []
    for i, (octets, errors) in enumerate(samples):
        up = uptimes[i] if uptimes else 100_000 + i * step * 100
        events += det.observe(
            poll(T0 + timedelta(seconds=i * step), (traffic_row(octets, errors, bits),), up), UP
        )
    return events


BYTES_95PCT_30S = int(100e6 / 8 * 0.95 * 30)  # 95 % of 100 Mbit/s for 30 s


def test_saturation_needs_five_sustained_minutes_then_clears(det: SnmpDetector) -> None:
    full = [(i * BYTES_95PCT_30S, 0) for i in range(12)]  # 5.5 min at 95 %
    events = feed(det, full[:10])  # 4.5 min of samples: not yet
    assert keys(events, FaultOpened) == []
    events = feed(det, full)
    assert keys(events, FaultOpened) == ["rtr/link_saturated/ether5"]
    assert "95%" in next(e for e in events if isinstance(e, FaultOpened)).fault.summary


def test_saturation_clears_when_quiet(det: SnmpDetector) -> None:
    busy = [(i * BYTES_95PCT_30S, 0) for i in range(12)]
    quiet = [(busy[-1][0] + i * 1000, 0) for i in range(1, 3)]
    events = feed(det, busy + quiet)
    assert keys(events, FaultCleared) == ["rtr/link_saturated/ether5"]


def test_32bit_wrap_is_traffic_not_a_spike_and_reset_is_no_rate(det: SnmpDetector) -> None:
    step = int(100e6 / 8 * 0.10 * 30)  # 10 %: never saturated
    start = 2**32 - step  # wraps on the next sample
    samples = [((start + i * step) % 2**32, 0) for i in range(15)]
    assert keys(feed(det, samples, bits=32), FaultOpened) == []


def test_counter_reset_after_reboot_gives_no_spike(det: SnmpDetector) -> None:
    uptimes = [100_000 + i * 3000 for i in range(6)] + [500 + i * 3000 for i in range(9)]
    octets = [10**12 + i * 1000 for i in range(6)] + [i * 1000 for i in range(9)]
    events = feed(det, list(zip(octets, [0] * 15, strict=True)), uptimes=uptimes)
    assert keys(events, FaultOpened) == ["rtr/device_rebooted"]  # and no link_saturated


def test_interface_errors_sustained(det: SnmpDetector) -> None:
    samples = [(i * 1000, i * 30 * 3) for i in range(12)]  # 3 errors/s for 5.5 min
    calm = [(12_000 + i, samples[-1][1]) for i in range(1, 3)]  # then no new errors
    events = feed(det, samples + calm)
    assert keys(events, FaultOpened) == ["rtr/interface_errors/ether5"]
    assert keys(events, FaultCleared) == ["rtr/interface_errors/ether5"]


def test_unread_admin_status_does_not_clear_interface_disabled(det: SnmpDetector) -> None:
    det.observe(poll(T0, (row(2, "ether2"),), 1000), UP)
    shut = (row(2, "ether2", admin=False, oper=False),)
    opened = det.observe(poll(T0 + timedelta(seconds=30), shut, 4000), UP)
    assert keys(opened, FaultOpened) == ["rtr/interface_disabled/ether2"]
    unread = (InterfaceRow(2, "ether2", admin_up=None, oper_up=None),)
    assert det.observe(poll(T0 + timedelta(seconds=60), unread, 7000), UP) == []
