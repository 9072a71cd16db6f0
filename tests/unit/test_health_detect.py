"""Health faults: sustain, hysteresis, one ticket per device and kind; radio trend; PPPoE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.detect.health import RadioTrend
from agent.detect.ping import DeviceState, FaultCleared, FaultOpened
from agent.detect.snmp import SnmpDetector
from agent.errors import ConfigError
from collectors.model import (
    HealthPoll,
    InterfaceRow,
    ProbeStatus,
    RadioLink,
    Sensor,
    SensorKind,
    SnmpPoll,
    SystemInfo,
)

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
health: {interval: 1m, cpu_for: 5m, temperature_for: 3m, radio_for: 10m, voltage_for: 2m}
hosts:
  rtr:
    address: 10.52.0.1
    opd: Dinas Kominfo
  ptp-a:
    address: 10.52.0.2
    opd: Puskesmas Praya
"""


@pytest.fixture
def det(tmp_path: Path) -> SnmpDetector:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    return SnmpDetector(load_inventory(path, env={"COMM": "s3cret"}))


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def hp(minutes: float, device: str = "rtr", **kw: object) -> HealthPoll:
    return HealthPoll(device, at(minutes), ProbeStatus.OK, **kw)  # type: ignore[arg-type]


def temp(value: float, name: str = "cpu-temperature") -> Sensor:
    return Sensor(SensorKind.TEMPERATURE, name, value)


def opened(events: list) -> list[str]:
    return [e.fault.key for e in events if isinstance(e, FaultOpened)]


def cleared(events: list) -> list[str]:
    return [e.key for e in events if isinstance(e, FaultCleared)]


def run(det: SnmpDetector, polls: list[HealthPoll]) -> list:
    events: list = []
    for p in polls:
        events += det.observe_health(p)
    return events


def test_cpu_high_only_when_sustained_and_clears_below_the_band(det: SnmpDetector) -> None:
    # a 4-minute spike: no ticket
    spike = [hp(m, cpu_pct=c) for m, c in [(0, 95), (2, 97), (4, 99), (5, 40)]]
    assert run(det, spike) == []
    busy = [hp(10 + m, cpu_pct=95) for m in range(6)]
    events = run(det, busy)
    assert opened(events) == ["rtr/cpu_high"]
    assert "CPU rtr (Dinas Kominfo) tinggi: 95%" in events[0].fault.summary
    # 85 % is inside the band (90 - 10): still open, no event
    assert run(det, [hp(17, cpu_pct=85)]) == []
    assert cleared(run(det, [hp(18, cpu_pct=70)])) == ["rtr/cpu_high"]


def test_overheat_one_ticket_for_the_hottest_sensor(det: SnmpDetector) -> None:
    hot = [temp(72), temp(74, "board-temperature1")]
    events = run(det, [hp(m, sensors=tuple(hot)) for m in range(0, 5)])
    assert opened(events) == ["rtr/device_overheat"]
    assert "board-temperature1 74 °C (batas 70 °C)" in events[0].fault.summary
    assert run(det, [hp(6, sensors=(temp(67),))]) == []  # 67 > 70 - 5: not yet normal
    assert cleared(run(det, [hp(7, sensors=(temp(60),))])) == ["rtr/device_overheat"]


def test_overheat_interrupted_restarts_the_clock(det: SnmpDetector) -> None:
    seq = [(0, 75), (2, 75), (2.5, 60), (3, 75), (5, 75)]
    assert run(det, [hp(m, sensors=(temp(t),)) for m, t in seq]) == []
    assert opened(run(det, [hp(6, sensors=(temp(75),))])) == ["rtr/device_overheat"]


def test_negative_temperature_is_just_cold(det: SnmpDetector) -> None:
    assert run(det, [hp(m, sensors=(temp(-20),)) for m in range(10)]) == []


def test_voltage_abnormal_ignores_unused_inputs(det: SnmpDetector) -> None:
    def volts(jack: float) -> tuple[Sensor, ...]:
        return (
            Sensor(SensorKind.VOLTAGE, "jack-voltage", jack),
            Sensor(SensorKind.VOLTAGE, "2pin-voltage", 0.0),  # not connected
        )

    assert run(det, [hp(m, sensors=volts(24.1)) for m in range(5)]) == []
    events = run(det, [hp(10 + m, sensors=volts(8.7)) for m in range(3)])
    assert opened(events) == ["rtr/voltage_abnormal"]
    assert "jack-voltage 8.7 V" in events[0].fault.summary
    assert "2pin" not in events[0].fault.summary
    assert run(det, [hp(14, sensors=volts(10.2))]) == []  # in range, not yet clearly
    assert cleared(run(det, [hp(15, sensors=volts(23.9))])) == ["rtr/voltage_abnormal"]


def test_psu_failed_after_two_polls_and_clears(det: SnmpDetector) -> None:
    def psus(ok2: bool) -> tuple[Sensor, ...]:
        return (
            Sensor(SensorKind.PSU, "psu1-state", 0, ok=True),
            Sensor(SensorKind.PSU, "psu2-state", 1, ok=ok2),
        )

    assert run(det, [hp(0, sensors=psus(False))]) == []
    events = run(det, [hp(1, sensors=psus(False))])
    assert opened(events) == ["rtr/psu_failed"]
    assert "psu2-state" in events[0].fault.summary
    assert run(det, [hp(2, sensors=psus(False))]) == []
    assert cleared(run(det, [hp(3, sensors=psus(True))])) == ["rtr/psu_failed"]


def link(signal: float | None, ccq: float | None = 90, peers: int = 1) -> RadioLink:
    return RadioLink("wlan1", "", signal, tx_ccq_pct=ccq, peers=peers)


def test_radio_degraded_with_trend_over_days(det: SnmpDetector) -> None:
    # three days of slow decline from -58 to -74 dBm, polled every 30 minutes
    polls = []
    for k in range(0, 145):
        signal = -58 - 16 * k / 144
        polls.append(hp(30 * k, "ptp-a", radios=(link(round(signal)),)))
    assert run(det, polls) == []  # -74 is above the -75 floor
    worse = [hp(30 * 145 + m, "ptp-a", radios=(link(-77),)) for m in range(0, 12, 2)]
    events = run(det, worse)
    assert opened(events) == ["ptp-a/radio_degraded/wlan1"]
    summary = events[0].fault.summary
    assert "Radio wlan1 di ptp-a (Puskesmas Praya) lemah: sinyal -77 dBm (batas -75)" in summary
    assert "sinyal turun dari -58 ke -77 dBm dalam 3 hari" in summary
    assert run(det, [hp(30 * 146, "ptp-a", radios=(link(-73),))]) == []  # band: -72
    back = run(det, [hp(30 * 147, "ptp-a", radios=(link(-60),))])
    assert cleared(back) == ["ptp-a/radio_degraded/wlan1"]


def test_radio_ccq_floor_alone(det: SnmpDetector) -> None:
    events = run(det, [hp(m, "ptp-a", radios=(link(-60, ccq=40),)) for m in range(0, 12, 2)])
    assert opened(events) == ["ptp-a/radio_degraded/wlan1"]
    assert "CCQ 40% (batas 60%)" in events[0].fault.summary
    assert "turun" not in events[0].fault.summary  # the signal did not drop


def test_access_point_with_several_peers_is_not_ticketed(det: SnmpDetector) -> None:
    weak = (link(-90, peers=3), link(-88, peers=3), link(-50, peers=3))
    assert run(det, [hp(m, radios=weak) for m in range(0, 30, 2)]) == []


def test_failed_health_poll_is_no_news(det: SnmpDetector) -> None:
    run(det, [hp(m, cpu_pct=99) for m in range(6)])
    failed = HealthPoll("rtr", at(7), ProbeStatus.TIMEOUT, "timeout")
    assert det.observe_health(failed) == []
    assert det.observe_health(hp(8, cpu_pct=99)) == []  # still open, not re-opened


def test_maintenance_and_unknown_devices(det: SnmpDetector) -> None:
    assert det.observe_health(hp(0, "nope", cpu_pct=100)) == []


def test_trend_is_bounded() -> None:
    trend = RadioTrend(window=3 * 86400)
    for k in range(20_000):
        trend.add(T0 + timedelta(seconds=60 * k), -60.0)
    assert len(trend.samples) <= 289


# ---------------------------------------------------------------------- PPPoE


def ppp(minute: float, up: bool, name: str = "pppoe-out1", if_type: int | None = 23) -> SnmpPoll:
    rows = (
        InterfaceRow(1, "ether1", admin_up=True, oper_up=True, if_type=6),
        InterfaceRow(11, name, admin_up=True, oper_up=up, if_type=if_type),
    )
    system = SystemInfo(sys_uptime=1000 + int(minute * 6000), name="rtr")
    return SnmpPoll("rtr", at(minute), ProbeStatus.OK, system=system, interfaces=rows)


UP = DeviceState.UP


def observe(det: SnmpDetector, polls: list[SnmpPoll]) -> list:
    events: list = []
    for p in polls:
        events += det.observe(p, UP)
    return events


def test_pppoe_down_is_its_own_kind(det: SnmpDetector) -> None:
    events = observe(det, [ppp(0, True), ppp(1, False)])
    assert opened(events) == ["rtr/pppoe_down/pppoe-out1"]
    assert "kemungkinan gangguan dari sisi ISP" in events[0].fault.summary
    assert "putus" in events[0].fault.summary
    assert cleared(observe(det, [ppp(2, True)])) == ["rtr/pppoe_down/pppoe-out1"]


def test_pppoe_by_name_without_iftype(det: SnmpDetector) -> None:
    events = observe(det, [ppp(0, True, if_type=None), ppp(1, False, if_type=None)])
    assert opened(events) == ["rtr/pppoe_down/pppoe-out1"]


def test_pppoe_flapping_stays_open_until_quiet(det: SnmpDetector) -> None:
    seq = [ppp(m, m % 2 == 0) for m in range(0, 6)]  # up, down, up, down, up, down
    events = observe(det, seq)
    # each of the first two drops opens and its recovery clears (the store reopens one
    # ticket); the third drop within 30 minutes is flapping
    assert opened(events) == ["rtr/pppoe_down/pppoe-out1"] * 3
    assert cleared(events) == ["rtr/pppoe_down/pppoe-out1"] * 2
    assert "naik-turun 3 kali dalam 30 menit" in events[-1].fault.summary
    assert observe(det, [ppp(6, True), ppp(7, False), ppp(8, True)]) == []  # still flapping
    assert cleared(observe(det, [ppp(40, True)])) == ["rtr/pppoe_down/pppoe-out1"]


def test_ppp_interface_never_raises_interface_down(det: SnmpDetector) -> None:
    events = observe(det, [ppp(0, True), ppp(1, False)])
    assert all("interface_down" not in k for k in opened(events))


def test_ppp_down_from_the_start_is_not_a_transition(det: SnmpDetector) -> None:
    assert observe(det, [ppp(0, False), ppp(1, False)]) == []


# ---------------------------------------------------------------------- settings


def test_health_settings_from_inventory(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    s = load_inventory(path, env={"COMM": "x"}).health
    assert (s.interval, s.cpu_for, s.temperature_for, s.radio_for) == (60, 300, 180, 600)
    assert (s.cpu_pct, s.temperature_c, s.radio_signal_dbm, s.radio_ccq_pct) == (90, 70, -75, 60)
    assert (s.voltage_min, s.voltage_max, s.radio_trend, s.pppoe_flaps) == (10, 57, 259200, 3)


@pytest.mark.parametrize(
    "block",
    [
        "{voltage_min: 30, voltage_max: 20}",
        "{cpu_pct: 0}",
        "{radio_signal_dbm: 10}",
        "{interval: -1m}",
        "{cpu_pct: lots}",
        "{unknown_key: 1}",
        "[1, 2]",
    ],
)
def test_bad_health_settings_are_refused(tmp_path: Path, block: str) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY.replace(INVENTORY.split("\n")[6], f"health: {block}"))
    with pytest.raises(ConfigError):
        load_inventory(path, env={"COMM": "x"})
