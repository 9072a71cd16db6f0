"""collectors._snmp.health on hostile agents: wrong types, absurd values, missing columns."""

from __future__ import annotations

import pytest

from collectors._snmp import health
from collectors._snmp.health import (
    CISCO_CPU5,
    CISCO_TEMP,
    CISCO_TEMP_DESCR,
    ENT_PRECISION,
    ENT_SCALE,
    ENT_TYPE,
    ENT_VALUE,
    HR_LOAD,
    HR_RAM,
    HR_SIZE,
    HR_TYPE,
    HR_USED,
    HW_CPU,
    HW_TEMP,
    MT_HEALTH,
    MT_RTAB,
    MT_STAT,
    UBNT_STAT,
)
from collectors.model import SensorKind
from tests.hostile_text import CORPUS, unsafe

pytestmark = pytest.mark.unit

MAC = (0, 12, 66, 1, 2, 3)


def test_enterprise_and_columns() -> None:
    assert health.enterprise_of("1.3.6.1.4.1.14988.1") == 14988
    assert health.enterprise_of("1.3.6.1.4.1.x") is None
    assert health.enterprise_of("") is None
    assert health.enterprise_of("1.3.6.1.2.1.1") is None
    assert health.columns_for(None) == health.GENERIC
    assert MT_HEALTH in health.columns_for(14988)
    assert HR_LOAD in health.columns_for(9)


def test_nothing_answered_gives_nothing_and_no_note() -> None:
    found = health.parse({}, {})
    assert (found.cpu_pct, found.memory_pct, found.sensors, found.radios, found.notes) == (
        None,
        None,
        [],
        [],
        [],
    )


def test_mikrotik_legacy_scalars_in_tenths_and_negative_temperature() -> None:
    rows = {(8, 0): 121, (10, 0): -150, (6, 0): 612, (15, 0): 0, (16, 0): 1, (13, 0): 1500}
    found = health.parse({MT_HEALTH: rows}, {})
    by_name = {s.name: s for s in found.sensors}
    assert by_name["voltage"].value == 12.1
    assert by_name["temperature"].value == -15.0  # a cold mast in the morning, not an error
    assert by_name["cpu-temperature"].value == 61.2
    assert by_name["current"].value == 1.5
    assert (by_name["psu-state"].ok, by_name["backup-psu-state"].ok) == (False, True)
    assert found.notes == []


@pytest.mark.parametrize(
    ("rows", "note"),
    [
        ({(10, 0): 99_999}, "temperature: 9999.9 outside -55..150"),
        ({(10, 0): -3000}, "temperature: -300 outside -55..150"),
        ({(8, 0): 2**31 - 1}, "voltage: 2.14748e+08 outside 0..400"),
        ({(8, 0): -240}, "voltage: -24 outside 0..400"),
        ({(8, 0): b"24.1"}, "voltage: not a number (bytes)"),
        ({(10, 0): (1, 3, 6)}, "temperature: not a number (tuple)"),
    ],
)
def test_absurd_or_mistyped_values_are_notes(rows: dict, note: str) -> None:
    found = health.parse({MT_HEALTH: rows}, {})
    assert found.sensors == []
    assert any(note in n for n in found.notes), found.notes


def test_gauge_table_units_states_and_unknown_unit() -> None:
    rows = {
        (100, 1, 2, 1): b"psu1-state",
        (100, 1, 3, 1): 1,
        (100, 1, 4, 1): 6,
        (100, 1, 2, 2): b"psu2-voltage",
        (100, 1, 3, 2): 118,
        (100, 1, 4, 2): 3,
        (100, 1, 2, 3): b"mystery",
        (100, 1, 3, 3): 5,
        (100, 1, 4, 3): 99,
        (100, 1, 2, 4): b"fan-state",
        (100, 1, 3, 4): b"ok",
        (100, 1, 4, 4): 6,
        (100, 1, 2, 5): b"board-temperature1",  # value and unit missing (noSuchInstance)
        (8, 0): 240,  # the legacy scalar is ignored when the gauge table answers
    }
    found = health.parse({MT_HEALTH: rows}, {})
    assert [(s.kind, s.name, s.value, s.ok) for s in found.sensors] == [
        (SensorKind.PSU, "psu1-state", 1.0, False),
        (SensorKind.VOLTAGE, "psu2-voltage", 11.8, None),
    ]
    assert "mystery: unknown unit 99" in found.notes
    assert "fan-state: state is not a number" in found.notes
    assert "board-temperature1: unknown unit None" in found.notes


@pytest.mark.parametrize("hostile", CORPUS, ids=range(len(CORPUS)))
def test_hostile_sensor_names_are_made_printable_and_short(hostile) -> None:
    rows = {
        (100, 1, 2, 1): hostile.text.encode("utf-8", "surrogatepass"),
        (100, 1, 3, 1): 40,
        (100, 1, 4, 1): 1,
    }
    (sensor,) = health.parse({MT_HEALTH: rows}, {}).sensors
    assert len(sensor.name) <= health.MAX_NAME
    assert unsafe(sensor.name) == []


def test_host_resources_cpu_average_and_ram_only() -> None:
    cols = {
        HR_LOAD: {(1,): 10, (2,): 30, (3,): 250, (4,): b"x"},
        HR_TYPE: {(1,): (1, 3, 6, 1, 2, 1, 25, 2, 1, 4), (2,): HR_RAM},
        HR_SIZE: {(1,): 100, (2,): 1000},
        HR_USED: {(1,): 99, (2,): 250},
    }
    found = health.parse(cols, {})
    assert found.cpu_pct == 20.0
    assert found.memory_pct == 25.0
    assert len(found.notes) == 2  # 250 % and bytes


@pytest.mark.parametrize(("size", "used"), [(0, 0), (100, 101), (100, -1)])
def test_impossible_storage_is_a_note(size: int, used: int) -> None:
    cols = {HR_TYPE: {(1,): HR_RAM}, HR_SIZE: {(1,): size}, HR_USED: {(1,): used}}
    found = health.parse(cols, {})
    assert found.memory_pct is None
    assert found.notes


def test_entity_sensor_scale_and_precision() -> None:
    cols = {
        ENT_TYPE: {(1,): 8, (2,): 4, (3,): 8, (4,): 99, (5,): b"8"},
        ENT_SCALE: {(1,): 9, (2,): 8, (3,): 40, (4,): 9, (5,): 9},
        ENT_PRECISION: {(1,): 1, (2,): 0, (3,): 0, (4,): 0, (5,): 0},
        ENT_VALUE: {(1,): 415, (2,): 12050, (3,): 1, (4,): 7, (5,): 1},
    }
    found = health.parse(cols, {})
    assert [(s.kind, s.value) for s in found.sensors] == [
        (SensorKind.TEMPERATURE, 41.5),
        (SensorKind.VOLTAGE, 12.05),  # milli (scale 8) volts
    ]
    assert found.notes == ["entPhySensor.3: scale 40 precision 0, ignored"]


def test_cisco_busiest_cpu_and_millivolts() -> None:
    cols = {
        CISCO_CPU5: {(1,): 12, (2,): 85},
        CISCO_TEMP: {(1006,): 97},
        CISCO_TEMP_DESCR: {(1006,): b"inlet"},
        health.CISCO_VOLT: {(1,): 3300},
        health.CISCO_PSU: {(1,): 1, (2,): 5, (3,): 6},
    }
    found = health.parse(cols, {})
    assert found.cpu_pct == 85.0
    assert [(s.kind, s.name, s.value, s.ok) for s in found.sensors] == [
        (SensorKind.TEMPERATURE, "inlet", 97.0, None),
        (SensorKind.VOLTAGE, "voltage1", 3.3, None),
        (SensorKind.PSU, "psu1", 1.0, True),
        (SensorKind.PSU, "psu3", 6.0, False),  # notFunctioning; notPresent(5) left out
    ]


def test_huawei_boards_without_cpu_are_skipped() -> None:
    cols = {HW_CPU: {(1,): 0, (9,): 24, (10,): 300}, HW_TEMP: {(1,): 0, (9,): 44}}
    found = health.parse(cols, {})
    assert found.cpu_pct == 24.0
    assert [s.value for s in found.sensors] == [44.0]
    assert found.notes == ["hwEntityCpuUsage.10: 300 outside 0..100, ignored"]


def test_radio_peers_bad_index_and_bad_values() -> None:
    cols = {
        f"{MT_RTAB}.3": {(*MAC, 5): -71, (1, 2, 5): -60, (*MAC[:5], 9, 5): 12},
        f"{MT_RTAB}.12": {(*MAC, 5): 200},
        f"{MT_STAT}.4": {(7,): -60, (7, 1): -50},
        f"{MT_STAT}.9": {(7,): -5},
        f"{UBNT_STAT}.5": {(1,): b"-70"},
    }
    found = health.parse(cols, {5: "wlan1", 7: "wlan-ptp"})
    peers = [r for r in found.radios if r.peer]
    assert [(r.interface, r.peer, r.signal_dbm, r.snr_db, r.peers) for r in peers] == [
        ("wlan1", "00:0c:42:01:02:03", -71.0, None, 2),
        ("wlan1", "00:0c:42:01:02:09", None, None, 2),
    ]
    station = next(r for r in found.radios if r.interface == "wlan-ptp")
    assert (station.signal_dbm, station.tx_ccq_pct) == (-60.0, None)
    assert any("snr: 200" in n for n in found.notes)
    assert any("signal: 12" in n for n in found.notes)
    assert any("tx-ccq: -5" in n for n in found.notes)
    assert any("radio1 signal: not a number" in n for n in found.notes)
