"""Device health and radio links from walked columns: CPU, memory, sensors, radio peers.

One concept: parsing the health walk; the OID and unit tables are its data, then one small
parser per MIB.

Which columns are walked depends on the enterprise arc of sysObjectID (MikroTik 14988,
Cisco 9, Huawei 2011, Ubiquiti 41112, airOS 10002); HOST-RESOURCES (hrProcessorLoad, hrStorage RAM)
and ENTITY-SENSOR-MIB are asked of every device as the generic fallback. Parsing is pure:
column OID -> index arcs -> value in, a :class:`Health` out. A value of the wrong type, out of
any physical range, or missing becomes a note (a reason), never an exception.

Units (MikroTik "System Health" manual, MIKROTIK-MIB): legacy ``mtxrHealth`` scalars give
temperature and voltage in tenths; the gauge table (``mtxrGaugeTable``) gives celsius(1) in
whole degrees, dV(3), dA(4), dW(5) in tenths, rpm(2), and status(6) where 0 is ok. A CCQ
of 0 is taken as not measured: RouterOS reports 0 on a link that carried no traffic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from collectors.model import RadioLink, Sensor, SensorKind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from collectors._snmp.ber import Value

Columns = dict[str, dict[tuple[int, ...], "Value"]]

MIKROTIK: Final = 14988
CISCO: Final = 9
HUAWEI: Final = 2011
UBIQUITI: Final = 41112
AIROS: Final = 10002  # airOS answers sysObjectID 1.3.6.1.4.1.10002.1 (net-snmp's Frogfoot arc)

# HOST-RESOURCES-MIB and ENTITY-SENSOR-MIB (every device)
HR_LOAD: Final = "1.3.6.1.2.1.25.3.3.1.2"
HR_TYPE: Final = "1.3.6.1.2.1.25.2.3.1.2"
HR_SIZE: Final = "1.3.6.1.2.1.25.2.3.1.5"
HR_USED: Final = "1.3.6.1.2.1.25.2.3.1.6"
HR_RAM: Final = (1, 3, 6, 1, 2, 1, 25, 2, 1, 2)
ENT_TYPE: Final = "1.3.6.1.2.1.99.1.1.1.1"
ENT_SCALE: Final = "1.3.6.1.2.1.99.1.1.1.2"
ENT_PRECISION: Final = "1.3.6.1.2.1.99.1.1.1.3"
ENT_VALUE: Final = "1.3.6.1.2.1.99.1.1.1.4"
# MIKROTIK-MIB
MT_HEALTH: Final = "1.3.6.1.4.1.14988.1.1.3"  # scalars .N.0 and the gauge table .100
MT_STAT: Final = "1.3.6.1.4.1.14988.1.1.1.1.1"  # mtxrWlStatTable (station mode)
MT_RTAB: Final = "1.3.6.1.4.1.14988.1.1.1.2.1"  # mtxrWlRtabTable (registered peers)
MT_AP: Final = "1.3.6.1.4.1.14988.1.1.1.3.1"  # mtxrWlApTable
MT_60G: Final = "1.3.6.1.4.1.14988.1.1.1.8.1"  # mtxrWl60GTable
# CISCO-PROCESS-MIB, CISCO-MEMORY-POOL-MIB, CISCO-ENVMON-MIB
CISCO_CPU5: Final = "1.3.6.1.4.1.9.9.109.1.1.1.1.8"  # cpmCPUTotal5minRev
CISCO_MEM_USED: Final = "1.3.6.1.4.1.9.9.48.1.1.1.5"
CISCO_MEM_FREE: Final = "1.3.6.1.4.1.9.9.48.1.1.1.6"
CISCO_TEMP_DESCR: Final = "1.3.6.1.4.1.9.9.13.1.3.1.2"
CISCO_TEMP: Final = "1.3.6.1.4.1.9.9.13.1.3.1.3"
CISCO_VOLT_DESCR: Final = "1.3.6.1.4.1.9.9.13.1.2.1.2"
CISCO_VOLT: Final = "1.3.6.1.4.1.9.9.13.1.2.1.3"  # millivolts
CISCO_FAN_DESCR: Final = "1.3.6.1.4.1.9.9.13.1.4.1.2"
CISCO_FAN: Final = "1.3.6.1.4.1.9.9.13.1.4.1.3"
CISCO_PSU_DESCR: Final = "1.3.6.1.4.1.9.9.13.1.5.1.2"
CISCO_PSU: Final = "1.3.6.1.4.1.9.9.13.1.5.1.3"
CISCO_BAD_STATES: Final = frozenset({3, 4, 6})  # critical, shutdown, notFunctioning
CISCO_NOT_PRESENT: Final = 5
# HUAWEI-ENTITY-EXTENT-MIB hwEntityStateTable
HW_CPU: Final = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.5"
HW_MEM: Final = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.7"
HW_TEMP: Final = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.11"
# UBNT-AirMAX-MIB ubntWlStatTable (airOS)
UBNT_STAT: Final = "1.3.6.1.4.1.41112.1.4.5.1"

GENERIC: Final = (HR_LOAD, HR_TYPE, HR_SIZE, HR_USED, ENT_TYPE, ENT_SCALE, ENT_PRECISION, ENT_VALUE)
VENDOR_COLUMNS: Final[Mapping[int, tuple[str, ...]]] = {
    MIKROTIK: (
        MT_HEALTH,
        *(f"{MT_STAT}.{c}" for c in (2, 3, 4, 9, 10)),
        *(f"{MT_RTAB}.{c}" for c in (3, 8, 9, 12)),
        *(f"{MT_AP}.{c}" for c in (6, 10)),
        *(f"{MT_60G}.{c}" for c in (4, 12, 13)),
    ),
    CISCO: (
        CISCO_CPU5,
        CISCO_MEM_USED,
        CISCO_MEM_FREE,
        CISCO_TEMP_DESCR,
        CISCO_TEMP,
        CISCO_VOLT_DESCR,
        CISCO_VOLT,
        CISCO_FAN_DESCR,
        CISCO_FAN,
        CISCO_PSU_DESCR,
        CISCO_PSU,
    ),
    HUAWEI: (HW_CPU, HW_MEM, HW_TEMP),
    UBIQUITI: tuple(f"{UBNT_STAT}.{c}" for c in (5, 7, 8, 9, 10)),
    AIROS: tuple(f"{UBNT_STAT}.{c}" for c in (5, 7, 8, 9, 10)),
}
# physical ranges: a value outside is a broken sensor or a misread, not a reading
RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "percent": (0.0, 100.0),
    SensorKind.TEMPERATURE: (-55.0, 150.0),
    SensorKind.VOLTAGE: (0.0, 400.0),
    SensorKind.FAN: (0.0, 100_000.0),
    SensorKind.POWER: (0.0, 10_000.0),
    SensorKind.CURRENT: (0.0, 1_000.0),
    "dbm": (-130.0, 0.0),
    "db": (-20.0, 100.0),
}
MT_SCALARS: Final[Mapping[int, tuple[SensorKind, str, float]]] = {
    # mtxrHealth arc -> (kind, name, multiplier)
    5: (SensorKind.TEMPERATURE, "sensor-temperature", 0.1),
    6: (SensorKind.TEMPERATURE, "cpu-temperature", 0.1),
    7: (SensorKind.TEMPERATURE, "board-temperature", 0.1),
    8: (SensorKind.VOLTAGE, "voltage", 0.1),
    10: (SensorKind.TEMPERATURE, "temperature", 0.1),
    11: (SensorKind.TEMPERATURE, "processor-temperature", 0.1),
    12: (SensorKind.POWER, "power", 0.1),
    13: (SensorKind.CURRENT, "current", 0.001),
    17: (SensorKind.FAN, "fan1-speed", 1.0),
    18: (SensorKind.FAN, "fan2-speed", 1.0),
}
MT_PSU_SCALARS: Final[Mapping[int, str]] = {15: "psu-state", 16: "backup-psu-state"}
MT_GAUGE_UNITS: Final[Mapping[int, tuple[SensorKind, float]]] = {
    1: (SensorKind.TEMPERATURE, 1.0),
    2: (SensorKind.FAN, 1.0),
    3: (SensorKind.VOLTAGE, 0.1),
    4: (SensorKind.CURRENT, 0.1),
    5: (SensorKind.POWER, 0.1),
}
MT_STATUS_UNIT: Final = 6
# ENTITY-SENSOR-MIB EntitySensorDataType -> kind; scale 9 = units (10^0)
ENT_KINDS: Final[Mapping[int, SensorKind]] = {
    3: SensorKind.VOLTAGE,  # voltsAC
    4: SensorKind.VOLTAGE,  # voltsDC
    5: SensorKind.CURRENT,  # amperes
    6: SensorKind.POWER,  # watts
    8: SensorKind.TEMPERATURE,  # celsius
    10: SensorKind.FAN,  # rpm
}
ENT_UNITS_SCALE: Final = 9
MAX_NAME: Final = 64


def enterprise_of(object_id: str) -> int | None:
    """The enterprise number of a sysObjectID (``1.3.6.1.4.1.N...``), or None."""
    prefix = "1.3.6.1.4.1."
    if not object_id.startswith(prefix):
        return None
    head = object_id[len(prefix) :].split(".", 1)[0]
    return int(head) if head.isdigit() else None


def columns_for(enterprise: int | None) -> tuple[str, ...]:
    """The column OIDs to walk for a device of ``enterprise`` (generic ones always)."""
    return (*VENDOR_COLUMNS.get(enterprise or 0, ()), *GENERIC)


@dataclass(slots=True)
class Health:
    """What the parser made of one device's columns."""

    cpu_pct: float | None = None
    memory_pct: float | None = None
    sensors: list[Sensor] = field(default_factory=list)
    radios: list[RadioLink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse(cols: Columns, names: Mapping[int, str]) -> Health:
    """Health and radio links from walked columns; ``names`` maps ifIndex to ifName."""
    out = Health()
    _host_resources(cols, out)
    _entity_sensors(cols, out)
    _mikrotik_health(cols.get(MT_HEALTH, {}), out)
    _mikrotik_radio(cols, names, out)
    _cisco(cols, out)
    _huawei(cols, out)
    _ubiquiti(cols, names, out)
    return out


# ---------------------------------------------------------------------- checks
def _number(value: Value, what: str, notes: list[str]) -> float | None:
    """The value as a number; a note when it is of the wrong type."""
    if value is None:
        return None
    if isinstance(value, int):
        return float(value)
    notes.append(f"{what}: not a number ({type(value).__name__})")
    return None


def _ranged(value: float | None, kind: str, what: str, notes: list[str]) -> float | None:
    """The value if it lies in the kind's physical range; a note when it does not."""
    if value is None:
        return None
    low, high = RANGES[kind]
    if low <= value <= high:
        return value
    notes.append(f"{what}: {value:g} outside {low:g}..{high:g}, ignored")
    return None


def _text(value: Value) -> str:
    """A short printable name from an OCTET STRING (other types as digits)."""
    if isinstance(value, bytes):
        raw = value.decode("utf-8", errors="replace")
    elif isinstance(value, tuple):
        raw = ".".join(map(str, value))
    else:
        raw = "" if value is None else str(value)
    clean = "".join(c if c.isprintable() else "?" for c in raw).strip()
    return clean[:MAX_NAME]


def _mac(arcs: Sequence[int]) -> str:
    return ":".join(f"{a:02x}" for a in arcs) if all(0 <= a < 256 for a in arcs) else ""  # noqa: PLR2004


def _dotted(index: tuple[int, ...]) -> str:
    return ".".join(map(str, index))


def _one(index: tuple[int, ...]) -> int | None:
    return index[0] if len(index) == 1 else None


def _add(out: Health, kind: SensorKind, name: str, raw: Value, scale: float) -> None:
    """Append a value sensor after the type and range checks."""
    number = _number(raw, name, out.notes)
    value = _ranged(None if number is None else number * scale, kind, name, out.notes)
    if value is not None:
        out.sensors.append(Sensor(kind, name, round(value, 3)))


def _average_cpu(loads: list[float], out: Health) -> None:
    if loads and out.cpu_pct is None:
        out.cpu_pct = round(sum(loads) / len(loads), 1)


# ---------------------------------------------------------------------- generic
def _host_resources(cols: Columns, out: Health) -> None:
    loads = [
        v
        for idx, raw in sorted(cols.get(HR_LOAD, {}).items())
        if (
            v := _ranged(
                _number(raw, f"hrProcessorLoad.{_dotted(idx)}", out.notes),
                "percent",
                f"hrProcessorLoad.{_dotted(idx)}",
                out.notes,
            )
        )
        is not None
    ]
    kinds, sizes, used = cols.get(HR_TYPE, {}), cols.get(HR_SIZE, {}), cols.get(HR_USED, {})
    for idx, kind in sorted(kinds.items()):
        size, taken = sizes.get(idx), used.get(idx)
        if kind != HR_RAM or not isinstance(size, int) or not isinstance(taken, int):
            continue
        if size <= 0 or taken < 0 or taken > size:
            out.notes.append(f"hrStorage.{_dotted(idx)}: used {taken} of {size}, ignored")
            continue
        out.memory_pct = round(100.0 * taken / size, 1)
        break
    _average_cpu(loads, out)


def _entity_sensors(cols: Columns, out: Health) -> None:
    types, scales = cols.get(ENT_TYPE, {}), cols.get(ENT_SCALE, {})
    precisions, values = cols.get(ENT_PRECISION, {}), cols.get(ENT_VALUE, {})
    for idx, raw in sorted(values.items()):
        kind = ENT_KINDS.get(types.get(idx) if isinstance(types.get(idx), int) else -1)  # type: ignore[arg-type]
        scale, precision = scales.get(idx, ENT_UNITS_SCALE), precisions.get(idx, 0)
        if kind is None or not isinstance(scale, int) or not isinstance(precision, int):
            continue
        if not (1 <= scale <= 17 and -8 <= precision <= 9):  # noqa: PLR2004 - the MIB's ranges
            out.notes.append(
                f"entPhySensor.{_dotted(idx)}: scale {scale} precision {precision}, ignored"
            )
            continue
        factor = 10.0 ** (3 * (scale - ENT_UNITS_SCALE) - precision)
        _add(out, kind, f"sensor{_dotted(idx)}", raw, factor)


# ---------------------------------------------------------------------- MikroTik
def _mikrotik_health(rows: Mapping[tuple[int, ...], Value], out: Health) -> None:
    gauge = {idx[2:]: v for idx, v in rows.items() if idx[:2] == (100, 1) and len(idx) > 2}  # noqa: PLR2004
    labels = {i[1:]: v for i, v in gauge.items() if i[0] == 2}  # noqa: PLR2004
    if labels:
        values = {i[1:]: v for i, v in gauge.items() if i[0] == 3}  # noqa: PLR2004
        units = {i[1:]: v for i, v in gauge.items() if i[0] == 4}  # noqa: PLR2004
        for idx, label in sorted(labels.items()):
            _gauge(_text(label) or f"gauge{_dotted(idx)}", values.get(idx), units.get(idx), out)
        return
    for arc, (kind, name, scale) in MT_SCALARS.items():
        _add(out, kind, name, rows.get((arc, 0)), scale)
    for arc, name in MT_PSU_SCALARS.items():
        state = rows.get((arc, 0))
        if isinstance(state, int):
            out.sensors.append(Sensor(SensorKind.PSU, name, float(state), ok=state == 1))


def _gauge(name: str, raw: Value, unit: Value, out: Health) -> None:
    if unit == MT_STATUS_UNIT:
        if not isinstance(raw, int):
            out.notes.append(f"{name}: state is not a number")
            return
        kind = SensorKind.PSU if name.startswith("psu") else SensorKind.FAN
        out.sensors.append(Sensor(kind, name, float(raw), ok=raw == 0))
        return
    known = MT_GAUGE_UNITS.get(unit) if isinstance(unit, int) else None
    if known is None:
        out.notes.append(f"{name}: unknown unit {unit!r}")
        return
    _add(out, known[0], name, raw, known[1])


def _mikrotik_radio(cols: Columns, names: Mapping[int, str], out: Health) -> None:
    _mikrotik_station(cols, names, out)
    _mikrotik_peers(cols, names, out)
    _mikrotik_60g(cols, names, out)


def _iface(names: Mapping[int, str], index: int) -> str:
    return names.get(index) or f"if{index}"


def _signal(raw: Value, what: str, out: Health) -> float | None:
    return _ranged(_number(raw, what, out.notes), "dbm", what, out.notes)


def _pct(raw: Value, what: str, out: Health) -> float | None:
    return _ranged(_number(raw, what, out.notes), "percent", what, out.notes)


def _ccq(raw: Value, what: str, out: Health) -> float | None:
    """A CCQ percentage; 0 means not measured (RouterOS shows 0 on a link without traffic)."""
    return _pct(raw, what, out) or None


def _rate(raw: Value) -> int | None:
    return raw if isinstance(raw, int) and raw >= 0 else None


def _mikrotik_station(cols: Columns, names: Mapping[int, str], out: Health) -> None:
    col = {c: cols.get(f"{MT_STAT}.{c}", {}) for c in (2, 3, 4, 9, 10)}
    for idx, raw in sorted(col[4].items()):
        index = _one(idx)
        if index is None:
            continue
        name = _iface(names, index)
        out.radios.append(
            RadioLink(
                name,
                signal_dbm=_signal(raw, f"{name} signal", out),
                tx_ccq_pct=_ccq(col[9].get(idx), f"{name} tx-ccq", out),
                rx_ccq_pct=_ccq(col[10].get(idx), f"{name} rx-ccq", out),
                tx_rate_bps=_rate(col[2].get(idx)),
                rx_rate_bps=_rate(col[3].get(idx)),
            )
        )


def _mikrotik_peers(cols: Columns, names: Mapping[int, str], out: Health) -> None:
    col = {c: cols.get(f"{MT_RTAB}.{c}", {}) for c in (3, 8, 9, 12)}
    ccq = cols.get(f"{MT_AP}.10", {})
    by_iface: dict[int, list[tuple[int, ...]]] = {}
    for idx in col[3]:
        if len(idx) == 7:  # noqa: PLR2004 - MAC (6 arcs) + ifIndex
            by_iface.setdefault(idx[6], []).append(idx)
    for index, peers in sorted(by_iface.items()):
        name = _iface(names, index)
        tx_ccq = _ccq(ccq.get((index,)), f"{name} overall-tx-ccq", out)
        for idx in sorted(peers):
            snr = _ranged(
                _number(col[12].get(idx), f"{name} snr", out.notes), "db", f"{name} snr", out.notes
            )
            out.radios.append(
                RadioLink(
                    name,
                    peer=_mac(idx[:6]),
                    signal_dbm=_signal(col[3][idx], f"{name} signal", out),
                    snr_db=snr,
                    tx_ccq_pct=tx_ccq,
                    tx_rate_bps=_rate(col[8].get(idx)),
                    rx_rate_bps=_rate(col[9].get(idx)),
                    peers=len(peers),
                )
            )


def _mikrotik_60g(cols: Columns, names: Mapping[int, str], out: Health) -> None:
    connected, rssi = cols.get(f"{MT_60G}.4", {}), cols.get(f"{MT_60G}.12", {})
    rate = cols.get(f"{MT_60G}.13", {})
    for idx, raw in sorted(rssi.items()):
        index = _one(idx)
        if index is None or connected.get(idx) not in (1, None):
            continue
        name = _iface(names, index)
        phy = _rate(rate.get(idx))
        out.radios.append(
            RadioLink(
                name,
                signal_dbm=_signal(raw, f"{name} rssi", out),
                tx_rate_bps=None if phy is None else phy * 1_000_000,
            )
        )


# ---------------------------------------------------------------------- Cisco
def _cisco(cols: Columns, out: Health) -> None:
    loads = [
        v
        for idx, raw in sorted(cols.get(CISCO_CPU5, {}).items())
        if (v := _pct(raw, f"cpmCPUTotal5minRev.{_dotted(idx)}", out)) is not None
    ]
    if loads:
        out.cpu_pct = round(max(loads), 1)  # the busiest CPU (a stack has one per member)
    used, free = cols.get(CISCO_MEM_USED, {}), cols.get(CISCO_MEM_FREE, {})
    taken, left = used.get((1,)), free.get((1,))  # pool 1 = Processor
    if isinstance(taken, int) and isinstance(left, int) and taken >= 0 and left >= 0 < taken + left:
        out.memory_pct = round(100.0 * taken / (taken + left), 1)
    for idx, raw in sorted(cols.get(CISCO_TEMP, {}).items()):
        name = _text(cols.get(CISCO_TEMP_DESCR, {}).get(idx)) or f"temperature{_dotted(idx)}"
        _add(out, SensorKind.TEMPERATURE, name, raw, 1.0)
    for idx, raw in sorted(cols.get(CISCO_VOLT, {}).items()):
        name = _text(cols.get(CISCO_VOLT_DESCR, {}).get(idx)) or f"voltage{_dotted(idx)}"
        _add(out, SensorKind.VOLTAGE, name, raw, 0.001)
    for state_col, descr_col, kind in (
        (CISCO_FAN, CISCO_FAN_DESCR, SensorKind.FAN),
        (CISCO_PSU, CISCO_PSU_DESCR, SensorKind.PSU),
    ):
        for idx, state in sorted(cols.get(state_col, {}).items()):
            if not isinstance(state, int) or state == CISCO_NOT_PRESENT:
                continue
            name = _text(cols.get(descr_col, {}).get(idx)) or f"{kind.value}{_dotted(idx)}"
            out.sensors.append(Sensor(kind, name, float(state), ok=state not in CISCO_BAD_STATES))


# ---------------------------------------------------------------------- Huawei
def _huawei(cols: Columns, out: Health) -> None:
    cpu = _positive(cols.get(HW_CPU, {}), "hwEntityCpuUsage", out)
    mem = _positive(cols.get(HW_MEM, {}), "hwEntityMemUsage", out)
    if cpu:
        out.cpu_pct = max(cpu.values())
    if mem:
        out.memory_pct = max(mem.values())
    for idx, raw in sorted(cols.get(HW_TEMP, {}).items()):
        if raw != 0:  # 0: the board has no sensor
            _add(out, SensorKind.TEMPERATURE, f"entity{_dotted(idx)}", raw, 1.0)


def _positive(
    rows: Mapping[tuple[int, ...], Value], what: str, out: Health
) -> dict[tuple[int, ...], float]:
    """Per-entity percentages; entities answering 0 have no CPU/memory of their own."""
    found = {}
    for idx, raw in rows.items():
        value = _pct(raw, f"{what}.{_dotted(idx)}", out)
        if value:
            found[idx] = value
    return found


# ---------------------------------------------------------------------- Ubiquiti airOS
def _ubiquiti(cols: Columns, names: Mapping[int, str], out: Health) -> None:
    col = {c: cols.get(f"{UBNT_STAT}.{c}", {}) for c in (5, 7, 8, 9, 10)}
    for idx, raw in sorted(col[5].items()):
        index = _one(idx)
        if index is None:
            continue
        aths = sorted(n for n in names.values() if n.startswith("ath"))  # airOS: ath0...
        name = aths[index - 1] if 0 < index <= len(aths) else f"radio{index}"
        signal = _signal(raw, f"{name} signal", out)
        noise = _signal(col[8].get(idx), f"{name} noise", out)
        out.radios.append(
            RadioLink(
                name,
                signal_dbm=signal,
                snr_db=None if signal is None or noise is None else signal - noise,
                tx_ccq_pct=_ccq(col[7].get(idx), f"{name} ccq", out),
                tx_rate_bps=_rate(col[9].get(idx)),
                rx_rate_bps=_rate(col[10].get(idx)),
            )
        )
