"""Health and radio values parsed from every real-device recording (expected values read from
the .snmprec files by hand, not produced by sigap), walked as the collector walks them."""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

import pytest

from collectors._snmp import ber as _ber
from collectors._snmp import health
from collectors._snmp.ber import Pdu, encode_oid_content, parse_oid
from collectors._snmp.walk import walk_table
from collectors.model import SensorKind, SnmpAuth, SnmpTarget, SnmpVersion
from collectors.snmp import SnmpCollector
from tests import recordings
from tests.recordings import DEVICES, need

if TYPE_CHECKING:
    from collectors._snmp.ber import Value

pytestmark = pytest.mark.unit

TAGS = {
    "2": _ber.INTEGER,
    "4": _ber.OCTET_STRING,
    "4x": _ber.OCTET_STRING,
    "6": _ber.OBJECT_IDENTIFIER,
    "64": _ber.IP_ADDRESS,
    "65": _ber.COUNTER32,
    "66": _ber.GAUGE32,
    "67": _ber.TIMETICKS,
    "70": _ber.COUNTER64,
}
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"


class RecordingAgent:
    """Answers GETBULK over one whole recording, as snmpsim would (100-varbind cap)."""

    def __init__(self, name: str) -> None:
        rows = []
        for line in need(DEVICES / f"{name}.snmprec").read_text().splitlines():
            oid, tag, text = line.split("|", 2)
            rows.append((parse_oid(oid), TAGS[tag], recordings.value_of(tag, text)))
        rows.sort(key=lambda r: r[0])
        self.keys = [r[0] for r in rows]
        self.rows = rows

    def get(self, oid: str) -> Value:
        key = parse_oid(oid)
        pos = bisect_right(self.keys, key) - 1
        return self.rows[pos][2] if pos >= 0 and self.keys[pos] == key else None

    def _next(self, oid: tuple[int, ...]) -> tuple[bytes, int, Value]:
        pos = bisect_right(self.keys, oid)
        if pos == len(self.keys):
            return encode_oid_content(oid), _ber.END_OF_MIB_VIEW, None
        key, tag, value = self.rows[pos]
        return encode_oid_content(key), tag, value

    async def bulk(self, nonrep: list[bytes], reps: list[bytes], max_rep: int) -> Pdu | str:
        out = [self._next(_ber.decode_oid(o)) for o in nonrep]
        cursor = [_ber.decode_oid(o) for o in reps]
        for _ in range(min(max_rep, 100 // max(1, len(reps)))):
            row = [self._next(o) for o in cursor]
            out.extend(row)
            cursor = [_ber.decode_oid(o) for o, _t, _v in row]
        return Pdu(_ber.RESPONSE, 1, 0, 0, out)


async def poll(name: str) -> health.Health:
    """Walk the columns the collector would for this device, then parse them."""
    agent = RecordingAgent(name)
    object_id = agent.get(SYS_OBJECT_ID)
    dotted = ".".join(map(str, object_id)) if isinstance(object_id, tuple) else ""
    wanted = health.columns_for(health.enterprise_of(dotted))
    walked = await walk_table(agent.bulk, [encode_oid_content(parse_oid(c)) for c in wanted], 100)
    assert not isinstance(walked, str), walked
    names_walk = await walk_table(
        agent.bulk, [encode_oid_content(parse_oid(c)) for c in (IF_NAME, IF_DESCR)], 100
    )
    assert not isinstance(names_walk, str)
    names = {i[0]: v.decode() for i, v in names_walk[0][1].items() if isinstance(v, bytes)}
    for i, v in names_walk[0][0].items():
        if isinstance(v, bytes):
            names[i[0]] = v.decode()
    return health.parse(dict(zip(wanted, walked[0], strict=True)), names)


def sensors(found: health.Health) -> dict[str, tuple[SensorKind, float | None, bool | None]]:
    return {s.name: (s.kind, s.value, s.ok) for s in found.sensors}


T, V, F, P, W = (
    SensorKind.TEMPERATURE,
    SensorKind.VOLTAGE,
    SensorKind.FAN,
    SensorKind.PSU,
    SensorKind.POWER,
)
# recording -> (cpu %, memory %, sensors by name); read off the files:
# hrProcessorLoad averaged, hrStorageRam used/size, mtxrHealth scalars in tenths, gauge table
# celsius whole / dV tenths / status 0 = ok, cpmCPUTotal5minRev, ciscoMemoryPool 1,
# CISCO-ENVMON descr/value/state, hwEntityCpuUsage/MemUsage/Temperature (0 = none)
EXPECTED: dict[
    str, tuple[float | None, float | None, dict[str, tuple[SensorKind, float | None, bool | None]]]
] = {
    "routeros": (5.2, 41.5, {"voltage": (V, 15.4, None), "temperature": (T, 33.0, None)}),
    "routeros_ccr2004-7.24": (
        None,
        None,
        {
            "cpu-temperature": (T, 41.0, None),
            "sfp-temperature": (T, 54.0, None),
            "switch-temperature": (T, 37.0, None),
            "fan-state": (F, 0.0, True),
            "fan1-speed": (F, 3825.0, None),
            "fan2-speed": (F, 3945.0, None),
            "board-temperature1": (T, 33.0, None),
            "board-temperature2": (T, 36.0, None),
            "psu1-state": (P, 0.0, True),
            "psu2-state": (P, 0.0, True),
        },
    ),
    "routeros_crs317": (
        16.5,  # (16 + 17) / 2
        4.6,
        {
            "temperature": (T, 45.0, None),
            "cpu-temperature": (T, 36.0, None),
            "sfp-temperature": (T, 45.0, None),
            "fan1-speed": (F, 0.0, None),
            "fan2-speed": (F, 0.0, None),
            "psu1-state": (P, 0.0, True),
            "psu2-state": (P, 1.0, False),
        },
    ),
    "routeros_rb433gl": (23.0, 44.7, {"voltage": (V, 23.7, None)}),
    "routeros_rb5009upr+s+": (
        5.8,  # (7 + 5 + 4 + 7) / 4 = 5.75
        None,
        {
            "poe-out-consumption": (W, 17.6, None),
            "cpu-temperature": (T, 50.0, None),
            "jack-voltage": (V, 49.3, None),
            "2pin-voltage": (V, 0.0, None),
            "poe-in-voltage": (V, 0.0, None),
        },
    ),
    "routeros_rb750gr3": (6.0, 24.1, {"voltage": (V, 24.3, None), "temperature": (T, 38.0, None)}),
    "routeros_rb760igs": (0.8, 19.5, {"voltage": (V, 10.9, None), "temperature": (T, 35.0, None)}),
    "routeros_rblhgr": (6.0, 35.2, {}),
    "routeros_wifi": (0.5, 21.2, {}),
    "routeros_ltap-mini": (None, None, {}),
    "routeros_rb2011il": (None, None, {}),
    "routeros_station": (None, None, {}),
    "ios_2960x": (
        53.0,
        11.4,
        {
            "SW#1, Sensor#1, GREEN": (T, 44.0, None),
            "SW#2, Sensor#1, GREEN": (T, 43.0, None),
            "SW#3, Sensor#1, GREEN": (T, 43.0, None),
            "Switch#1, Fan#1": (F, 1.0, True),
            "Switch#2, Fan#1": (F, 1.0, True),
            "Switch#3, Fan#1": (F, 1.0, True),
            "Sw1, PS1 Normal, RPS NotExist": (P, 1.0, True),
            "Sw2, PS1 Normal, RPS NotExist": (P, 1.0, True),
            "Sw3, PS1 Normal, RPS NotExist": (P, 1.0, True),
        },
    ),
    "ios_c3560": (
        7.0,
        26.7,
        {
            "Switch#1, Fan#1": (F, 1.0, True),
            "Sw1, PS1 Normal, RPS NotExist": (P, 1.0, True),
        },
    ),
    "iosxe_isr4321": (None, None, {}),
    "vrp_5720": (44.0, 9.0, {"entity67108873": (T, 42.0, None)}),
    "vrp_ar169sfp": (24.0, 58.0, {"entity9": (T, 44.0, None)}),
    "airos_airos8": (None, None, {}),
    "unifi_nanohd": (2.8, None, {}),
    "fortigate_60f": (None, None, {}),
    "ruijie": (None, None, {}),
    "jetstream_sg2218p": (None, None, {}),
    "tplink_sg2008": (None, None, {}),
}


def test_every_recording_has_expected_values() -> None:
    names = {p.stem for p in need(DEVICES).glob("*.snmprec")}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_health_of_recording(name: str) -> None:
    found = await poll(name)
    cpu, memory, expected = EXPECTED[name]
    assert found.cpu_pct == cpu
    assert found.memory_pct == memory
    assert sensors(found) == expected
    assert found.notes == []


async def test_hap_ac_lite_registration_table() -> None:
    found = await poll("routeros")
    wlan1 = [r for r in found.radios if r.interface == "wlan1" and r.peer]
    wlan4 = [r for r in found.radios if r.interface == "wlan4"]
    # index = MAC . ifIndex: 7 peers on ifIndex 1 (wlan1), 4 on ifIndex 9 (wlan4), ccq from
    # mtxrWlApOverallTxCCQ (70 on wlan1; 0 = not measured on wlan4). The file also holds one
    # mtxrWl60GTable row on ifIndex 1 (rssi -55, phy rate 2310 Mbps): a 12th link
    assert len(found.radios) == 12
    (sixty,) = [r for r in found.radios if not r.peer]
    assert (sixty.interface, sixty.signal_dbm, sixty.tx_rate_bps) == ("wlan1", -55.0, 2_310_000_000)
    assert {r.peers for r in wlan1} == {7}
    assert sorted(r.signal_dbm for r in wlan1) == [-91, -87, -85, -82, -82, -75, -43]
    assert {r.tx_ccq_pct for r in wlan1} == {70.0}
    assert sorted(r.signal_dbm for r in wlan4) == [-77, -66, -63, -49]
    assert {r.tx_ccq_pct for r in wlan4} == {None}
    strongest = next(r for r in wlan1 if r.signal_dbm == -43)
    assert strongest.peer == "a4:e4:b8:4a:d5:ca"


async def test_dynadish_station_link() -> None:
    (link,) = (await poll("routeros_station")).radios
    assert (link.interface, link.signal_dbm, link.tx_ccq_pct, link.rx_ccq_pct) == (
        "if23",
        -47.0,
        100.0,
        80.0,
    )
    assert (link.tx_rate_bps, link.rx_rate_bps, link.peers) == (150_000_000, 90_000_000, 1)


async def test_lhg_60g_link() -> None:
    (link,) = (await poll("routeros_wifi")).radios
    assert (link.interface, link.signal_dbm, link.tx_rate_bps) == ("wlan60-1", -54.0, 2_310_000_000)


async def test_litebeam_airos_link() -> None:
    (link,) = (await poll("airos_airos8")).radios
    # ubntWlStatSignal -70, NoiseFloor -91, Ccq 33, TxRate 39 M, RxRate 52 M; airOS names it ath0
    assert (link.interface, link.signal_dbm, link.snr_db, link.tx_ccq_pct) == (
        "ath0",
        -70.0,
        21.0,
        33.0,
    )
    assert (link.tx_rate_bps, link.rx_rate_bps) == (39_000_000, 52_000_000)


@pytest.mark.parametrize("name", ["routeros_rb433gl", "routeros_ltap-mini", "routeros_rb750gr3"])
async def test_access_points_without_peers_have_no_links(name: str) -> None:
    assert (await poll(name)).radios == []


def _collector_on(bulk: object) -> tuple[SnmpCollector, SnmpTarget]:
    """A real SnmpCollector whose GetBulk goes to ``bulk`` (no socket)."""
    collector = SnmpCollector()

    async def bulk_fn(_target: SnmpTarget, _device: object) -> object:
        return bulk

    collector._bulk_fn = bulk_fn  # type: ignore[method-assign]
    return collector, SnmpTarget("dev", "192.0.2.1", SnmpAuth(SnmpVersion.V2C, "c"))


async def test_collector_poll_health_walks_names_first_then_the_vendor_columns() -> None:
    agent = RecordingAgent("routeros_crs317")
    collector, target = _collector_on(agent.bulk)
    found = await collector.poll_health(target)
    assert found.ok, found.reason
    assert (found.device, found.cpu_pct, found.memory_pct) == ("dev", 16.5, 4.6)
    assert [s.name for s in found.sensors if s.ok is False] == ["psu2-state"]


async def test_collector_poll_health_failure_is_a_reason() -> None:
    collector, target = _collector_on("timeout")
    found = await collector.poll_health(target)
    assert (found.ok, found.status.value, found.reason) == (False, "timeout", "timeout")
    assert (found.sensors, found.radios) == ((), ())
