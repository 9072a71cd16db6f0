"""Traffic rates (issue 19 slice 2): bit rates, utilisation against ifHighSpeed or the
inventory's ``bandwidth:``, errors/discards per second; hostile counters from devices (wraps,
resets, absurd jumps); which ports are exported (``snmp.traffic``) and the Prometheus series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest

from agent.config.load import load_inventory
from agent.detect.ping import DeviceState, FaultOpened
from agent.detect.snmp import SnmpDetector
from agent.errors import ConfigError
from agent.runtime.metrics import Metrics
from collectors.counters import ABSURD_BPS, CEILING_SLACK, PortRates, port_rates
from collectors.model import InterfaceRow, ProbeStatus, SnmpPoll, SystemInfo

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
MBIT_10S = 1_250_000  # octets: 1 Mbit/s for 10 s


def port(
    octets_in: int | None,
    octets_out: int | None = 0,
    *,
    speed: int | None = 100,
    bits: int = 64,
    errors: int | None = 0,
    discards: int | None = 0,
) -> InterfaceRow:
    return InterfaceRow(
        1, "ether1", high_speed_mbps=speed, in_octets=octets_in, out_octets=octets_out,
        counter_bits=bits, in_errors=errors, out_errors=errors, in_discards=discards,
        out_discards=discards,
    )  # fmt: skip


# -- rates -------------------------------------------------------------------------------------


def test_bits_per_second_and_utilisation_against_line_speed_or_contract():
    r = port_rates(port(0, 0), port(10 * MBIT_10S, 5 * MBIT_10S), 10.0)
    assert (r.in_bps, r.out_bps) == (10e6, 5e6)
    assert r.in_utilisation == pytest.approx(0.10)  # of 100 Mbit/s ifHighSpeed
    contract = port_rates(port(0, 0), port(10 * MBIT_10S, 0), 10.0, bandwidth_mbps=20)
    assert contract.bandwidth_bps == 20e6
    assert contract.utilisation == pytest.approx(0.50)  # of the 20 Mbit/s ISP contract


def test_a_32_bit_wrap_is_traffic_a_64_bit_decrease_is_a_reset():
    wrapped = port_rates(port(2**32 - 1000, bits=32), port(250, bits=32), 10.0)
    assert wrapped.in_bps == pytest.approx((1000 + 250) / 10 * 8)
    assert port_rates(port(5_000), port(10), 10.0).in_bps is None


def test_a_device_restart_gives_no_rate_at_all():
    r = port_rates(port(0, 0, errors=5), port(MBIT_10S, MBIT_10S, errors=9), 10.0, reset=True)
    assert (r.in_bps, r.out_bps, r.error_rate, r.utilisation) == (None, None, None, None)


@pytest.mark.parametrize(
    ("prev", "cur", "speed", "dt"),
    [
        (0, 2**63, 100, 10.0),  # 64-bit jump far beyond a 100 Mbit/s port: garbage
        (0, 2**62, None, 10.0),  # unknown speed: above 1 Tbit/s is still garbage
        (0, 10 * MBIT_10S, 1, 10.0),  # 10 Mbit/s on a 1 Mbit/s port, no wrap: not believable
        (0, MBIT_10S, 100, 0.0),  # two samples at the same instant
        (0, MBIT_10S, 100, -5.0),  # the clock went back
        (-1, MBIT_10S, 100, 10.0),  # a negative reading
    ],
)
def test_absurd_counters_give_no_rate_not_a_spike(prev, cur, speed, dt):
    assert port_rates(port(prev, speed=speed), port(cur, speed=speed), dt).in_bps is None


def test_errors_sum_the_counters_the_device_has_and_none_after_a_reset():
    r = port_rates(port(0, errors=0, discards=None), port(0, errors=30, discards=None), 10.0)
    assert (r.in_errors, r.out_errors, r.in_discards) == (3.0, 3.0, None)
    assert r.error_rate == 6.0  # discards not polled: left out
    reset = port_rates(port(0, errors=100), port(0, errors=5), 10.0)  # 32-bit: a wrap?
    assert reset.in_errors is None  # 429 M errors/s on a 100 Mbit/s port: a reset
    assert reset.error_rate is None
    wrap = port_rates(port(0, errors=2**32 - 10), port(0, errors=20), 10.0)
    assert wrap.in_errors == 3.0  # a real wrap is still counted
    assert port_rates(port(0, errors=None, discards=None), port(0), 10.0).error_rate is None


def test_unknown_speed_gives_rates_without_utilisation():
    r = port_rates(port(0, speed=None), port(MBIT_10S, speed=0), 10.0)
    assert r.in_bps == 1e6
    assert r.utilisation is None


@given(
    st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.sampled_from([32, 64]),
    st.floats(0.001, 3600), st.one_of(st.none(), st.integers(1, 400_000)),
)  # fmt: skip
def test_any_counter_pair_gives_a_believable_rate_or_none(prev, cur, bits, dt, speed):
    prev, cur = prev % (1 << bits), cur % (1 << bits)
    r = port_rates(port(prev, speed=speed, bits=bits), port(cur, speed=speed, bits=bits), dt)
    limit = speed * 1e6 * CEILING_SLACK if speed else ABSURD_BPS
    assert r.in_bps is None or 0 <= r.in_bps <= limit * (1 + 1e-9)
    assert r.utilisation is None or 0 <= r.utilisation <= CEILING_SLACK * (1 + 1e-9)


# -- which ports, and the detector's use of the contract ---------------------------------------

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
      ether1: {uplink: true, bandwidth: 20M}
  sw:
    address: 10.52.0.2
    parent: rtr
    snmp: {traffic: "^ge-0/0/(1|2)$"}
  core:
    address: 10.52.0.3
    snmp: {traffic: all}
"""


@pytest.fixture
def det(tmp_path: Path) -> SnmpDetector:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    return SnmpDetector(load_inventory(path, env={"COMM": "c"}))


def rows(octets: int, *names: str) -> tuple[InterfaceRow, ...]:
    return tuple(
        InterfaceRow(i, n, high_speed_mbps=100, in_octets=octets, out_octets=octets,
                     in_errors=0, out_errors=0, in_discards=0, out_discards=0)
        for i, n in enumerate(names, 1)
    )  # fmt: skip


def feed(det: SnmpDetector, device: str, names: tuple[str, ...], polls: int, step_octets: int):
    events = []
    for i in range(polls):
        system = SystemInfo(sys_uptime=100_000 + i * 3000, name=device)
        poll = SnmpPoll(device, T0 + timedelta(seconds=30 * i), ProbeStatus.OK, system=system,
                        interfaces=rows(i * step_octets, *names))  # fmt: skip
        events += det.observe(poll, DeviceState.UP)
    return events


def test_marked_ports_by_default_a_regex_or_all_when_asked(det):
    feed(det, "rtr", ("ether1", "ether2", "ether3"), 2, MBIT_10S)
    feed(det, "sw", ("ge-0/0/1", "ge-0/0/2", "ge-0/0/10"), 2, MBIT_10S)
    feed(det, "core", ("a", "b"), 2, MBIT_10S)
    assert set(det.traffic("rtr")) == {"ether1"}
    assert set(det.traffic("sw")) == {"ge-0/0/1", "ge-0/0/2"}
    assert set(det.traffic("core")) == {"a", "b"}
    assert det.traffic("nope") == {}


def test_saturation_is_judged_against_the_contracted_bandwidth(det):
    step = int(19e6 / 8 * 30)  # 19 Mbit/s: 19 % of the port, 95 % of the 20M contract
    events = feed(det, "rtr", ("ether1",), 12, step)
    opened = [e for e in events if isinstance(e, FaultOpened)]
    assert [e.fault.key for e in opened] == ["rtr/link_saturated/ether1"]
    assert "95% dari 20 Mbps" in opened[0].fault.summary


def test_first_poll_exports_nothing_yet(det):
    feed(det, "rtr", ("ether1",), 1, MBIT_10S)
    assert det.traffic("rtr") == {}


# -- Prometheus --------------------------------------------------------------------------------


def test_traffic_series_are_set_dropped_when_unknown_and_when_the_port_goes():
    registry = CollectorRegistry()
    metrics = Metrics(registry, version="t", intake=dict)
    metrics.set_devices({"rtr": "Dinas A"})
    rates = PortRates(in_bps=8e6, out_bps=2e6, bandwidth_bps=20e6, in_errors=0.5,
                      out_errors=0.0, in_discards=None, out_discards=0.0)  # fmt: skip
    metrics.observe_traffic("rtr", {"ether1": rates, "ether2": PortRates()})

    def value(name: str, interface: str = "ether1", direction: str | None = "in") -> float | None:
        labels = {"device": "rtr", "opd": "Dinas A", "interface": interface}
        if direction is not None:
            labels["direction"] = direction
        return registry.get_sample_value(f"sigap_interface_{name}", labels)

    assert value("bits_per_second") == 8e6
    assert value("utilisation_ratio") == pytest.approx(0.4)
    assert value("utilisation_ratio", direction="out") == pytest.approx(0.1)
    assert value("bandwidth_bits_per_second", direction=None) == 20e6
    assert value("errors_per_second") == 0.5
    assert value("discards_per_second") is None  # unknown: no stale series
    assert value("bits_per_second", "ether2") is None
    metrics.observe_traffic("rtr", {})
    assert value("bits_per_second") is None
    assert b"sigap_interface_bits_per_second{" not in generate_latest(registry)
    metrics.observe_traffic("rtr", {"ether1": rates})
    metrics.set_devices({})  # device removed from the inventory
    assert value("bits_per_second") is None


# -- the inventory -----------------------------------------------------------------------------


def load(tmp_path: Path, port_extra: str, snmp_extra: str = "") -> object:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "office: {name: T}\n"
        "defaults: {platform: mikrotik_routeros, role: router,\n"
        f"  snmp: {{version: '2c', community_env: C{snmp_extra}}}}}\n"
        "hosts:\n"
        f"  a: {{address: 10.52.0.1, interfaces: {{ether1: {{uplink: true{port_extra}}}}}}}\n"
    )
    return load_inventory(path, env={"C": "c"})


@pytest.mark.parametrize(
    ("text", "mbps"),
    [("20M", 20.0), ("20 Mbps", 20.0), ("1G", 1000.0), ("512k", 0.512), ("100", 100.0),
     ("2.5 Gbit/s", 2500.0)],
)  # fmt: skip
def test_bandwidth_units(tmp_path, text, mbps):
    inventory = load(tmp_path, f", bandwidth: '{text}'")
    assert inventory.devices["a"].ports["ether1"].bandwidth_mbps == pytest.approx(mbps)


@pytest.mark.parametrize(
    "bad",
    ["abc", "true", "-5", "0", "'20 Mbps extra'", ".nan", ".inf", "1e309", "'2000T'",
     '"\\e[2J 20M"', "[20]", "{a: 1}", "'" + "9" * 5000 + "'"],
)  # fmt: skip
def test_bad_bandwidth_is_a_located_problem(tmp_path, bad):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, f", bandwidth: {bad}")
    found = [f"{p.path}: {p.message}" for p in info.value.problems]
    assert any("bandwidth" in f for f in found), found


def test_bad_traffic_regex_is_a_located_problem(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "", ", traffic: '(unclosed'")
    assert any("traffic" in str(p.path) for p in info.value.problems)


def test_history_takes_marked_and_wan_ports_once_per_poll(det):
    names = ("ether1", "ether2", "pppoe-out1")
    feed(det, "rtr", names, 3, MBIT_10S)
    samples = det.rollup_samples("rtr")
    assert {s.interface for s in samples} == {"ether1", "pppoe-out1"}
    first = samples[0]
    assert first.end - first.start == timedelta(seconds=30)
    assert first.in_bps == pytest.approx(MBIT_10S * 8 / 30)
    system = SystemInfo(sys_uptime=200_000, name="rtr")
    only_ether2 = SnmpPoll("rtr", T0 + timedelta(minutes=6), ProbeStatus.OK, system=system,
                           interfaces=rows(5 * MBIT_10S, "ether2"))  # fmt: skip
    det.observe(only_ether2, DeviceState.UP)
    assert det.rollup_samples("rtr") == []  # ports missing from the poll give no stale sample
