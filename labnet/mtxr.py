"""MIKROTIK-MIB health and radio values for the lab's net-snmp, as a ``pass_persist`` helper.

snmpd (``pass_persist .1.3.6.1.4.1.14988.1.1 PYTHON -I .../labnet/mtxr.py FILE``; stdlib
only) hands this process GET/GETNEXT requests under ``mtxrWireless``/``mtxrHealth`` on stdin,
one request per two lines, and reads one answer per three lines (``PING`` -> ``PONG``). The
values come from ``FILE`` (JSON, re-read when it changes), which the lab's fault verb
``health`` writes: the gauge table (``cpu-temperature`` in C, ``voltage`` in dV,
``psu1-state``) and one station row of ``mtxrWlStatTable`` on the uplink (signal, tx/rx CCQ,
rates), the uplink standing for the office's radio link to its parent. Shapes follow the
real recordings (``routeros_ccr2004``'s gauge table, ``routeros_station``'s station row).
"""

from __future__ import annotations

import json
import sys
from bisect import bisect_right
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import IO, Any, Final

BASE: Final = (1, 3, 6, 1, 4, 1, 14988, 1, 1)
GAUGE: Final = (3, 100, 1)  # mtxrGaugeTable entry: .2 name, .3 value, .4 unit
STATION: Final = (1, 1, 1)  # mtxrWlStatTable entry: .2/.3 rates, .4 signal, .9/.10 CCQ
CELSIUS, DECIVOLT, STATUS = 1, 3, 6
Row = tuple[str, str]  # (pass type, value text)


@dataclass(frozen=True, slots=True)
class Values:
    """What the device reports; the fault verb changes some of them."""

    temperature_c: int = 45
    voltage_v: float = 24.0
    psu_ok: bool = True
    signal_dbm: int = -60
    ccq_pct: int = 95
    radio_ifindex: int = 0  # 0: no radio row
    rate_bps: int = 150_000_000

    @classmethod
    def from_json(cls, data: object) -> Values:
        """Known keys of a JSON object; anything else keeps the default."""
        if not isinstance(data, dict):
            return cls()
        base = cls()
        kept: dict[str, Any] = {}
        for f in fields(cls):
            value, default = data.get(f.name), getattr(base, f.name)
            if isinstance(value, type(default)) or (
                isinstance(default, float) and isinstance(value, int)
            ):
                kept[f.name] = value
        return replace(base, **kept)


def read(path: Path) -> Values:
    """The values in ``path``; the defaults when it is missing or not JSON."""
    try:
        return Values.from_json(json.loads(path.read_text()))
    except (OSError, ValueError):
        return Values()


def write(path: Path, values: Values) -> None:
    """Replace ``path`` atomically (the helper may read it at any time)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(values)))
    tmp.replace(path)


def rows(v: Values) -> dict[tuple[int, ...], Row]:
    """Every OID (under BASE) this device answers, and its value."""
    gauges = (
        (17, "cpu-temperature", v.temperature_c, CELSIUS),
        (13, "voltage", round(v.voltage_v * 10), DECIVOLT),
        (7401, "psu1-state", 0 if v.psu_ok else 1, STATUS),
    )
    out: dict[tuple[int, ...], Row] = {}
    for index, name, value, unit in gauges:
        out[(*GAUGE, 2, index)] = ("string", name)
        out[(*GAUGE, 3, index)] = ("gauge", str(max(0, value)))
        out[(*GAUGE, 4, index)] = ("integer", str(unit))
    if v.radio_ifindex:
        i = v.radio_ifindex
        out[(*STATION, 2, i)] = ("gauge", str(v.rate_bps))
        out[(*STATION, 3, i)] = ("gauge", str(v.rate_bps))
        out[(*STATION, 4, i)] = ("integer", str(v.signal_dbm))
        out[(*STATION, 9, i)] = ("counter", str(v.ccq_pct))
        out[(*STATION, 10, i)] = ("counter", str(v.ccq_pct))
    return out


def _parse(text: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(x) for x in text.strip().strip(".").split("."))
    except ValueError:
        return None


def answer(table: dict[tuple[int, ...], Row], verb: str, oid_text: str) -> str:
    """The three-line answer (or ``NONE``) to one GET/GETNEXT."""
    oid = _parse(oid_text)
    if oid is None:
        return "NONE\n"
    full = sorted((*BASE, *rel) for rel in table)
    if verb == "get":
        found = oid if oid in set(full) else None
    else:
        pos = bisect_right(full, oid)
        found = full[pos] if pos < len(full) else None
    if found is None:
        return "NONE\n"
    kind, value = table[found[len(BASE) :]]
    return f".{'.'.join(map(str, found))}\n{kind}\n{value}\n"


def serve(path: Path, stdin: IO[str], stdout: IO[str]) -> None:
    """Answer snmpd until it closes our stdin."""
    stamp: float | None = None
    table: dict[tuple[int, ...], Row] = {}
    while True:
        line = stdin.readline()
        if not line:
            return
        verb = line.strip().lower()
        if verb == "ping":
            stdout.write("PONG\n")
        elif verb in ("get", "getnext"):
            oid = stdin.readline()
            try:
                mtime = path.stat().st_mtime
            except OSError:
                mtime = 0.0
            if mtime != stamp:
                stamp, table = mtime, rows(read(path))
            stdout.write(answer(table, verb, oid))
        elif verb == "set":
            stdin.readline()
            stdin.readline()
            stdout.write("not-writable\n")
        stdout.flush()


if __name__ == "__main__":  # pragma: no cover - run by snmpd
    serve(Path(sys.argv[1]), sys.stdin, sys.stdout)
