"""Network history cost (issue 19): rollup storage, the monthly availability report, poll CPU.

``python -m tests.bench.history_bench [--devices-stored 5] [--devices 1000]`` measures, on
SQLite and PostgreSQL (127.0.0.1, database ``test``, a schema of its own, dropped after):

* storage: the rows a device keeps at steady state (4 ports; 5-minute buckets for 35 days,
  hourly for a year), bulk-generated for ``--devices-stored`` devices, and their bytes
  (SQLite: file growth after VACUUM; PostgreSQL: ``pg_total_relation_size``, indexes
  included), per device and extrapolated to ``--devices``;
* the daemon's writes: one 5-minute flush for ``--devices`` x 4 ports (and the retention pass);
* the monthly report with availability for ``--devices`` devices and a year of bulk-generated
  ``device_down`` tickets (a reopen and attached victims included) against the same report
  without availability (today's), in the same run;
* CPU per SNMP poll cycle of ``--devices`` devices x 4 ports: the detector as before against
  the detector plus the traffic export and the rollups (today's vs issue 19's), same run.

Results replace the section "Network history" of tests/bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry
from sqlalchemy import insert, text

from agent.config.load import load_inventory
from agent.detect.ping import DeviceState
from agent.detect.snmp import SnmpDetector
from agent.history.availability import month_scope
from agent.runtime.metrics import Metrics
from collectors.model import InterfaceRow, ProbeStatus, SnmpPoll, SystemInfo
from tests.bench.results import replace_section
from ticketing.migrate import migrate
from ticketing.models import DeviceRole, Ticket, TicketDevice, TicketEvent, TrafficRollup
from ticketing.reports.query import month_report
from ticketing.rollups import (
    FINE,
    HOURLY,
    Rollup,
    Rollups,
    _hourly_peaks,
    busiest,
    prune,
    write,
)
from ticketing.sop import SopRegistry
from ticketing.states import EventKind, TicketState
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

WITA = ZoneInfo("Asia/Makassar")
PORTS = ("ether1", "ether2", "ether3", "pppoe-out1")
YEAR_START = datetime(2026, 1, 1, tzinfo=WITA).astimezone(UTC)
FINE_DAYS, HOURLY_DAYS = 35, 365
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHUNK = 20_000
WARM = 2  # poll cycles before the CPU is counted (steady state)


def median_of(fn: Callable[[], object], runs: int) -> float:
    """Median wall seconds of ``runs`` calls (after one warm-up)."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# -- backends -------------------------------------------------------------------------------------


class Backend:
    """A fresh store on SQLite (temporary file) or PostgreSQL (a schema of its own)."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name = name
        self.path = tmp / f"{name}-{uuid.uuid4().hex[:6]}.db"
        self.schema = f"sigap_bench_{uuid.uuid4().hex[:10]}"
        if name == "sqlite":
            self.url = TicketStore.sqlite_url(self.path)
        else:
            self._admin(f'CREATE SCHEMA "{self.schema}"')
            self.url = f"{PG}?options=-csearch_path%3D{self.schema}"
        self.store = TicketStore(self.url)
        migrate(self.store)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as c:
            c.execute(sql)

    def table_bytes(self) -> int:
        """Bytes of traffic_rollups (indexes included)."""
        engine = self.store._engine
        if self.name == "sqlite":
            raw = sqlite3.connect(self.path, isolation_level=None)
            try:
                raw.execute("VACUUM")
            finally:
                raw.close()
            return self.path.stat().st_size
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE traffic_rollups"))
            return int(
                c.execute(text("SELECT pg_total_relation_size('traffic_rollups')")).scalar_one()
            )

    def close(self) -> None:
        self.store.close()
        if self.name == "postgresql":
            self._admin(f'DROP SCHEMA "{self.schema}" CASCADE')


# -- storage --------------------------------------------------------------------------------------


def steady_rows(device: str, rng: random.Random) -> Iterator[dict[str, Any]]:
    """One device's rows at steady state: 35 days of 5-minute and a year of hourly buckets."""
    end = YEAR_START + timedelta(days=HOURLY_DAYS)
    for port in PORTS:
        for step, days in ((FINE, FINE_DAYS), (HOURLY, HOURLY_DAYS)):
            at = end - timedelta(days=days)
            while at < end:
                base = rng.uniform(1e5, 5e7)
                yield {
                    "device": device, "interface": port, "step": step, "start": at,
                    "covered_s": float(step), "in_avg": base, "out_avg": base / 3,
                    "in_p95": base * 1.4, "out_p95": base / 2, "util_max": rng.random(),
                    "errors": float(rng.randrange(0, 50)),
                }  # fmt: skip
                at += timedelta(seconds=step)


def bulk(backend: Backend, rows: Iterator[dict[str, Any]]) -> int:
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            count += _insert(backend, chunk)
            chunk = []
    return count + _insert(backend, chunk)


def _insert(backend: Backend, chunk: list[dict[str, Any]]) -> int:
    if chunk:
        with backend.store.transaction() as session:
            session.execute(insert(TrafficRollup), chunk)
    return len(chunk)


def storage(backend: Backend, devices: int, runs: int) -> dict[str, float]:
    before = backend.table_bytes()
    rng = random.Random(7)
    rows = sum(bulk(backend, steady_rows(f"dev-{d:04d}", rng)) for d in range(devices))
    size = backend.table_bytes() - (before if backend.name == "sqlite" else 0)
    ports = {(f"dev-{d:04d}", p): ("x", 20e6) for d in range(devices) for p in PORTS}
    end = YEAR_START + timedelta(days=HOURLY_DAYS)
    start = end - timedelta(days=30)
    month = median_of(lambda: busiest(backend.store, ports, start=start, end=end), runs)

    def peaks() -> object:
        with backend.store.transaction(write=False) as session:
            return _hourly_peaks(session, list(ports), start, end)

    return {"rows": rows, "bytes": size, "busiest": month,
            "peaks_per_port": median_of(peaks, runs) / len(ports)}  # fmt: skip


def flush_cost(backend: Backend, devices: int, runs: int) -> tuple[float, float]:
    """Median seconds of one 5-minute flush of ``devices`` x 4 ports, and of a retention pass."""
    slot = [YEAR_START + timedelta(days=HOURLY_DAYS + 1)]

    def once() -> None:
        at = slot[0]
        slot[0] = at + timedelta(seconds=FINE)
        batch = [
            Rollup(f"dev-{d:04d}", p, FINE, at, 300.0, 1e6, 3e5, 2e6, 5e5, 0.4, 3.0)
            for d in range(devices)
            for p in PORTS
        ]
        write(backend.store, batch)

    flush = median_of(once, runs)
    keep = {FINE: timedelta(days=FINE_DAYS), HOURLY: timedelta(days=HOURLY_DAYS)}
    now = YEAR_START + timedelta(days=HOURLY_DAYS + 1)
    retention = median_of(lambda: prune(backend.store, now, keep), runs)
    return flush, retention


# -- the monthly report ---------------------------------------------------------------------------


def inventory_file(tmp: Path, devices: int) -> Path:
    """``devices`` devices: a core, 10 distribution routers, OPD routers with a switch each."""
    lines = ["office: {name: Bench}", "defaults: {platform: mikrotik_routeros, role: router}",
             "hosts:", "  core: {address: 10.52.0.1, opd: Diskominfo}"]  # fmt: skip
    lines += [
        f"  dist-{i}: {{address: 10.52.1.{i + 1}, opd: Diskominfo, parent: core}}"
        for i in range(10)
    ]
    n = 11
    opd = 0
    while n < devices:
        lines.append(
            f"  r-{opd}: {{address: 10.{53 + opd // 250}.{opd % 250}.1, opd: OPD {opd}, "
            f"parent: dist-{opd % 10}}}"
        )
        lines.append(
            f"  s-{opd}: {{address: 10.{53 + opd // 250}.{opd % 250}.2, opd: OPD {opd}, "
            f"parent: r-{opd}}}"
        )
        n += 2
        opd += 1
    path = tmp / "bench-inventory.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def year_of_outages(backend: Backend, names: list[str], rng: random.Random) -> int:
    """About two device_down tickets per device and month, 1 in 5 reopened, victims attached."""
    tickets, events, links = [], [], []
    number = 0
    for name in names:
        for month in range(12):
            for _ in range(2):
                number += 1
                opened = YEAR_START + timedelta(days=30 * month + rng.uniform(0, 29))
                cleared = opened + timedelta(minutes=rng.uniform(2, 240))
                resolved = cleared + timedelta(minutes=5)
                tickets.append({
                    "id": number, "number": f"GJ/B/{number:06d}",
                    "fault_key": f"{name}/device_down", "device": name, "kind": "device_down",
                    "opd": "", "summary": "", "source": "agent",
                    "status": TicketState.RESOLVED, "opened_at": opened, "cleared_at": cleared,
                    "resolved_at": resolved, "reopen_count": 0, "version": 1,
                })  # fmt: skip
                kinds = [(EventKind.OPENED, opened), (EventKind.CLEARED, cleared)]
                if rng.random() < 0.2:
                    back = resolved + timedelta(minutes=10)
                    kinds += [(EventKind.RESOLVED, resolved), (EventKind.REOPENED, back),
                              (EventKind.CLEARED, back + timedelta(minutes=7))]  # fmt: skip
                    resolved = back + timedelta(minutes=12)
                    tickets[-1]["resolved_at"] = resolved
                kinds.append((EventKind.RESOLVED, resolved))
                events += [{"ticket_id": number, "at": at, "kind": k, "actor": "sistem",
                            "detail": ""} for k, at in kinds]  # fmt: skip
                links.append({"ticket_id": number, "device": name, "role": DeviceRole.ROOT,
                              "attached_at": opened, "detached_at": resolved})  # fmt: skip
                if name.startswith("r-"):
                    links.append({"ticket_id": number, "device": "s-" + name[2:],
                                  "role": DeviceRole.AFFECTED, "attached_at": opened,
                                  "detached_at": cleared})  # fmt: skip
    for model, rows in ((Ticket, tickets), (TicketEvent, events), (TicketDevice, links)):
        for i in range(0, len(rows), CHUNK):
            with backend.store.transaction() as session:
                session.execute(insert(model), rows[i : i + CHUNK])
    return len(tickets)


def report_cost(backend: Backend, inventory_path: Path, runs: int) -> dict[str, float]:
    inventory = load_inventory(inventory_path, env={})
    count = year_of_outages(backend, list(inventory.devices), random.Random(3))
    sops = SopRegistry.from_dir()
    as_of = datetime(2026, 12, 2, tzinfo=WITA)
    scope = month_scope(inventory, 2026, 6)

    def plain() -> object:
        return month_report(backend.store, sops, [], year=2026, month=6, tz=WITA, as_of=as_of)

    def with_availability() -> object:
        return month_report(backend.store, sops, [], year=2026, month=6, tz=WITA, as_of=as_of,
                            scope=scope)  # fmt: skip

    return {
        "tickets": count,
        "plain": median_of(plain, runs),
        "availability": median_of(with_availability, runs),
    }


# -- CPU per poll cycle ---------------------------------------------------------------------------


def poll_cpu(inventory_path: Path, cycles: int) -> tuple[float, float, int]:
    """CPU seconds per cycle: detector only (today) vs detector + export + rollups (issue 19)."""
    text_ = inventory_path.read_text(encoding="utf-8").replace(
        "role: router}", "role: router, snmp: {community_env: C},\n"
        "  interfaces: {ether1: {uplink: true, bandwidth: 20M}, ether2: {}, ether3: {}}}", 1
    )  # fmt: skip
    path = inventory_path.with_name("bench-snmp.yaml")
    path.write_text(text_, encoding="utf-8")
    inventory = load_inventory(path, env={"C": "c"})
    names = list(inventory.devices)

    def run(extra: bool) -> float:
        detector = SnmpDetector(inventory)
        metrics = Metrics(CollectorRegistry(), version="b", intake=dict)
        metrics.set_devices({n: d.opd for n, d in inventory.devices.items()})
        rollups = Rollups()
        spent = 0.0
        for cycle in range(cycles + WARM):
            at = YEAR_START + timedelta(seconds=30 * cycle)
            polls = [
                SnmpPoll(n, at, ProbeStatus.OK,
                         system=SystemInfo(sys_uptime=10_000 + 3000 * cycle, name=n),
                         interfaces=tuple(
                             InterfaceRow(i, p, admin_up=True, oper_up=True, high_speed_mbps=100,
                                          in_octets=cycle * 3_000_000 * i,
                                          out_octets=cycle * 1_000_000 * i, in_errors=0,
                                          out_errors=0, in_discards=0, out_discards=0)
                             for i, p in enumerate(PORTS, 1)))
                for n in names
            ]  # fmt: skip
            t = time.process_time()
            for poll in polls:
                detector.observe(poll, DeviceState.UP)
                if extra:
                    metrics.observe_traffic(poll.device, detector.traffic(poll.device))
                    rollups.add(detector.rollup_samples(poll.device))
            if cycle >= WARM:  # no rates in the first cycle; the second creates the series
                spent += time.process_time() - t
        return spent / cycles

    today, issue19 = [], []
    for _ in range(3):  # interleaved
        today.append(run(extra=False))
        issue19.append(run(extra=True))
    return statistics.median(today), statistics.median(issue19), len(names)


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices-stored", type=int, default=5)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()
    lines = [
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load avg before "
        f"run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "Produced by `python -m tests.bench.history_bench` (see its docstring). Steady state "
        f"per device: {len(PORTS)} ports x ({FINE_DAYS} days of 5-minute + {HOURLY_DAYS} "
        "days of hourly buckets).",
        "",
        "| Database | Rows per device | Bytes per device | Bytes per row | "
        f"{args.devices} devices | One 5-min flush ({args.devices} x 4 rows) s | "
        "Retention pass s | Monthly report s (today) | with availability s | ratio | "
        f"Busiest uplinks p95, {args.devices} uplinks s (extrapolated) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        inv = inventory_file(tmp, args.devices)
        for name in ("sqlite", "postgresql"):
            backend = Backend(name, tmp)
            try:
                stored = storage(backend, args.devices_stored, args.runs)
                flush, retention = flush_cost(backend, args.devices, args.runs)
                report = report_cost(backend, inv, args.runs)
            finally:
                backend.close()
            per_rows = stored["rows"] / args.devices_stored
            per_bytes = stored["bytes"] / args.devices_stored
            lines.append(
                f"| {name} | {per_rows:,.0f} | {per_bytes / 2**20:.1f} MiB | "
                f"{stored['bytes'] / stored['rows']:.0f} | "
                f"{per_bytes * args.devices / 2**30:.1f} GiB | {flush:.3f} | {retention:.3f} | "
                f"{report['plain']:.3f} | {report['availability']:.3f} | "
                f"{report['availability'] / report['plain']:.1f} | "
                f"{stored['busiest'] + stored['peaks_per_port'] * args.devices:.2f} |"
            )
            print(lines[-1], flush=True)
        today, issue19, devices = poll_cpu(inv, cycles=5)
    lines += [
        "",
        "Busiest uplinks (top 10 of the month): exact p95 over 5-minute averages for the 20 "
        "candidates, measured, plus the ranking (a primary-key range over each uplink's hourly "
        f"buckets), measured per port on {args.devices_stored * 4} ports and scaled to "
        f"{args.devices} uplinks.",
        "",
        f"Monthly report: {args.devices} devices, a year of bulk-generated device_down tickets "
        "(2 per device and month, 1 in 5 reopened, each OPD switch attached to its router's "
        "ticket); June 2026 with and without the availability section. Target < 1 s.",
        "",
        "| CPU per SNMP poll cycle (steady state, after 2 warm cycles) | s | ratio |",
        "|---|---|---|",
        f"| detector only (today), {devices} devices x 4 ports | {today:.3f} | 1.00 |",
        f"| detector + traffic export + rollups (issue 19) | {issue19:.3f} | "
        f"{issue19 / today:.2f} |",
    ]
    replace_section(
        "Network history: rollup storage, availability report, poll CPU", "\n".join(lines)
    )
    print("\n".join(lines[-6:]))


if __name__ == "__main__":
    main()
