"""CLI start-up: every ``sigap`` command a technician types, timed against ``python -c pass``.

Issue 16's goal on this machine: ``sigap --help`` <= 0.3 s and ``sigap tiket list`` /
``tiket show`` <= 0.6 s wall, each command importing only what it uses. Whole processes are
timed from outside (like ``farm-bench``): the commands run in turn, round after round, so a
drift of the machine's speed hits all of them alike; medians are reported with min-max; peak
RSS comes from GNU time (a fork of pytest would count pytest's own pages). The ticket database
is a SQLite file with 1,000 tickets of the demo inventory (``tiket list`` shows the newest 50).
Writes the ``CLI start-up`` section of RESULTS.md; ``python -X importtime -m agent ...`` shows
where a command's time goes. ``SIGAP_BENCH_BEFORE=/path/to/other/.venv/bin/sigap`` adds the
same commands of another build (e.g. a checkout before issue 16) to the same rounds; with
``SIGAP_BENCH_BEFORE_SAME_SCHEMA=1`` that build (one of this schema, e.g. main before a change)
reads a copy of this run's database instead of seeding its own through the old API.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.config.load import load_inventory
from agent.wiring import open_store
from tests.bench.results import replace_section
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory.yaml"
SIGAP = str(Path(sys.executable).with_name("sigap"))
TIME = "/usr/bin/time"  # GNU time: its child's peak RSS, not the forking test's
TICKETS = 1_000
ROUNDS = int(os.environ.get("SIGAP_BENCH_RUNS", "9"))
GOALS = {"sigap --help": 0.3, "sigap tiket list": 0.6, "sigap tiket show": 0.6}
# Issue 16's goals are printed, met or not; asserted is a regression guard for --help only
# (0.475 s median at load 6.5, 0.63 before the command list stopped building every command;
# typer's rich help renderer alone costs ~0.07 s, see RESULTS.md).
GUARD = {"sigap --help": 0.4}
FLOOR = (
    "Where `tiket list`'s CPU goes (one process stage by stage, GC off as in the CLI, min of 7 "
    "runs, load 5.5, 2026-12-03; docs/decisions.md, 'CLI start-up'): interpreter 0.03 s, typer "
    "and rich 0.09, sigap's CLI modules and the `tiket` group 0.04, pydantic 0.07 with typer's "
    "own pydantic adapters and option parsing 0.055 (typer 0.29 coerces every option through "
    "pydantic), the inventory schema 0.085, the rest of the config stack 0.13, reading and "
    "validating the inventory 0.06, SQLAlchemy core 0.18, its ORM 0.08, mapping the 27 ORM "
    "classes 0.14, the store and the query 0.06, rich drawing 50 rows 0.06: 1.06 s. The libraries "
    "alone (typer, rich, the mapped models, the inventory schema; nothing else imported) take 0.97 "
    "s CPU, SQLAlchemy with the mapped models alone 0.65 s: the 0.6 s goal needs a ticket read "
    "without SQLAlchemy (a second definition of the tables), which this code base does not want. "
    "Cuts made: a command imports and builds only the module that adds it, and `--help` "
    "builds the command list without reading any command's signature (`COMMANDS`, "
    "`listing_app`); earlier: ruamel's C parser for the SOP and holiday files, no "
    "cyclic GC for `--help`, `tiket` and `check`, Alembic only when the schema is behind. typer's "
    "rich help renderer is another ~0.07 s of `--help` (0.28 -> 0.21 s CPU without it; kept for "
    "the look of every help page). `tests/unit/test_cli_imports.py` keeps every command from "
    "loading what it does not use."
)
BEFORE = os.environ.get("SIGAP_BENCH_BEFORE", "")
BEFORE_SAME_SCHEMA = os.environ.get("SIGAP_BENCH_BEFORE_SAME_SCHEMA", "") == "1"


@dataclass
class Timed:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of each run of one command.

    On a loaded machine wall time is mostly waiting for a core; CPU time shows what the command
    itself costs (it still grows somewhat with contention: caches, frequency).
    """

    name: str
    argv: list[str]
    wall: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def run(self, env: dict[str, str], scratch: Path) -> None:
        """Run once under GNU time (peak RSS of the command alone); it must succeed."""
        report = scratch / "time.txt"
        start = time.perf_counter()
        proc = subprocess.run(
            [TIME, "-f", "%M %U %S", "-o", str(report), *self.argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
            check=False,
        )
        self.wall.append(time.perf_counter() - start)
        assert proc.returncode == 0, f"{self.name}: exit {proc.returncode}\n{proc.stderr.decode()}"
        rss, user, system = report.read_text().split()[-3:]
        self.rss.append(int(rss) / 1024)
        self.cpu.append(float(user) + float(system))

    def median(self) -> float:
        """Median wall seconds."""
        return statistics.median(self.wall)


def _seed(db: Path) -> str:
    """A SQLite ticket database with TICKETS tickets of the demo inventory; a ticket number."""
    inventory = load_inventory(INVENTORY)
    url = f"sqlite:///{db}"
    devices = list(inventory.devices.values())
    start = datetime.now(UTC) - timedelta(days=200)
    with open_store(inventory, url) as store:
        migrate(store)
        number = ""
        for i in range(TICKETS):
            device = devices[i % len(devices)]
            fault = Fault(
                device.name, FaultKind.INTERFACE_DOWN, f"uji {i}", device.opd, "", f"if{i}"
            )
            number = store.open_fault(fault, at=start + timedelta(minutes=10 * i)).ticket.number
    return number


# the same tickets through the older build's own API (TicketStore.migrate, agent.config)
BEFORE_SEED = """
import sys
from datetime import UTC, datetime, timedelta
from agent.config import load_inventory
from ticketing.faults import Fault, FaultKind
from ticketing.store import TicketStore
devices = list(load_inventory(sys.argv[1]).devices.values())
start = datetime.now(UTC) - timedelta(days=200)
with TicketStore("sqlite:///" + sys.argv[2]) as store:
    store.migrate()
    for i in range(int(sys.argv[3])):
        d = devices[i % len(devices)]
        fault = Fault(d.name, FaultKind.INTERFACE_DOWN, f"uji {i}", d.opd, "", f"if{i}")
        store.open_fault(fault, at=start + timedelta(minutes=10 * i))
"""


def _seed_before(db: Path, ours: Path) -> Path:
    """The seed of :func:`_seed`, written by the build at ``SIGAP_BENCH_BEFORE``."""
    if BEFORE_SAME_SCHEMA:  # a copy of ours (SQLite's backup: the WAL included)
        with closing(sqlite3.connect(ours)) as src, closing(sqlite3.connect(db)) as dst:
            src.backup(dst)
        return db
    python = str(Path(BEFORE).with_name("python"))
    argv = [python, "-c", BEFORE_SEED, str(INVENTORY), str(db), str(TICKETS)]
    subprocess.run(argv, cwd=Path(BEFORE).parents[2], capture_output=True, check=True)
    return db


def test_cli_startup(tmp_path: Path) -> None:
    db = tmp_path / "bench.db"
    number = _seed(db)
    # as installed: bytecode caches present (pip writes them; a shell or CI that sets
    # PYTHONDONTWRITEBYTECODE would make every run compile sigap's ~200 modules again)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"SIGAP_DB_URL": f"sqlite:///{db}", "COLUMNS": "120"}
    packages = [str(ROOT / p) for p in ("agent", "collectors", "ticketing", "labnet")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], env=env, check=True)
    inv = ["-i", str(INVENTORY)]
    argvs = {
        "--help": ["--help"],
        "tiket list": ["tiket", "list", *inv],
        "tiket show": ["tiket", "show", number, *inv],
        "check": ["check", str(INVENTORY)],
        "diagnose --help": ["diagnose", "--help"],
        "remediasi list": ["remediasi", "list", *inv],
    }
    commands = [Timed("python -c pass", [sys.executable, "-c", "pass"])]
    commands += [Timed(f"sigap {name}", [SIGAP, *argv]) for name, argv in argvs.items()]
    if BEFORE:  # its own database: an older build cannot open a newer schema
        before_db = f"SIGAP_DB_URL=sqlite:///{_seed_before(tmp_path / 'before.db', db)}"
        commands += [
            Timed(f"before: sigap {n}", ["env", before_db, BEFORE, *argv])
            for n, argv in argvs.items()
        ]
    for command in commands:  # warm-up: page cache, bytecode
        command.run(env, tmp_path)
        command.wall.clear()
        command.rss.clear()
        command.cpu.clear()
    for _ in range(ROUNDS):
        for command in commands:
            command.run(env, tmp_path)
    base = commands[0].median()
    rows = [
        f"| {c.name} | {c.median():.3f} ({min(c.wall):.3f}-{max(c.wall):.3f}) "
        f"| {c.median() / base:.1f} | {statistics.median(c.cpu):.3f} ({min(c.cpu):.3f}) "
        f"| {statistics.median(c.rss):.0f} "
        f"| {_verdict(c)} |"
        for c in commands
    ]
    body = "\n".join(
        [
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load avg before "
            f"run {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {ROUNDS} rounds after one warm-up, "
            f"commands in turn; SQLite database with {TICKETS:,} tickets. Produced by "
            "`pytest -m bench -s tests/bench/test_cli_startup_bench.py`"
            + (f" with SIGAP_BENCH_BEFORE={BEFORE} ('before' rows)." if BEFORE else "."),
            "",
            "| Command | Wall median s (min-max) | x python -c pass | CPU s median (min) "
            "| Peak RSS MiB | Goal (s) |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            FLOOR,
        ]
    )
    print("\n" + body)
    replace_section("CLI start-up: whole `sigap` processes against `python -c pass`", body)
    by = {c.name: c.median() for c in commands}
    assert {name: by[name] for name in GUARD if by[name] > GUARD[name]} == {}


def _verdict(command: Timed) -> str:
    goal = GOALS.get(command.name)
    if goal is None:
        return "-"
    return f"<= {goal}: {'met' if command.median() <= goal else 'NOT met'}"
