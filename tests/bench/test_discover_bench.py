"""`sigap discover --scan` of a /20 timed against fping's sweep of the same range (root only).

The anchor: `fping -a -q -r 1 -i 1 -t 1000 -g 10.73.0.0/20` (two tries, one echo a millisecond,
1 s timeout): the sweep alone. sigap sweeps at the same rate (`--laju 1000`, two echoes, 1 s
timeout) and then also asks SNMP (every credential in turn), walks the neighbour tables and
writes the proposal. Whole processes in the lab's NOC namespace, alternating rounds; wall and
CPU (children's user+sys) printed and written to RESULTS.md, never asserted.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.bench.results import replace_section
from tests.conftest import require_binaries, require_lab_capabilities
from tests.discover_lab import write_files

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.bench, pytest.mark.slow]

ROUNDS = int(os.environ.get("SIGAP_BENCH_RUNS", "3"))
RANGE = "10.73.0.0/20"
HEADING = "Discover scan: `sigap discover --scan` of a /20, against fping's sweep"


def _timed(argv: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def test_scan_against_fping_sweep(tmp_path: Path) -> None:
    require_lab_capabilities()
    require_binaries("/usr/sbin/snmpd", "/usr/sbin/lldpd")
    folder = write_files(tmp_path)
    lab = Lab(f"vb{os.getpid() % 100000}")
    sigap = [sys.executable, "-m", "agent", "discover", "-i", str(folder / "inventory.yaml")]
    sigap += ["--scan", RANGE, "--laju", "1000", "--json"]
    fping = ["fping", "-a", "-q", "-r", "1", "-i", "1", "-t", "1000", "-g", RANGE]
    runs: dict[str, list[tuple[float, float]]] = {"sigap discover --scan": [], "fping -g": []}
    try:
        labctl.up(load_inventory(folder / "lab.yaml"), lab)
        for _ in range(ROUNDS):
            wall, cpu, done = _timed(lab.noc_argv(sigap))
            assert done.returncode == 0, done.stderr
            assert '"rtr-dinkes"' in done.stdout
            runs["sigap discover --scan"].append((wall, cpu))
            wall, cpu, done = _timed(lab.noc_argv(fping))
            assert "10.73.11.2" in done.stdout  # exit 1: some addresses did not answer
            runs["fping -g"].append((wall, cpu))
    finally:
        lab.down()
    med = {k: tuple(statistics.median(x[i] for x in v) for i in (0, 1)) for k, v in runs.items()}
    rows = [f"| {k} | {w:.2f} | {c:.2f} |" for k, (w, c) in med.items()]
    ours, anchor = med["sigap discover --scan"], med["fping -g"]
    body = "\n".join(
        [
            f"{platform.node()}, {os.cpu_count()} cores, {ROUNDS} alternating rounds, medians; "
            f"{RANGE} (4,096 addresses, 6 alive) from the lab's NOC namespace.",
            "",
            "| command | wall s | CPU s |",
            "|---|---|---|",
            *rows,
            "",
            f"Ratio sigap / fping: wall {ours[0] / anchor[0]:.2f} x, "
            f"CPU {ours[1] / anchor[1]:.2f} x "
            "(sigap also asks SNMP, walks neighbours and builds the proposal; its CPU includes "
            "the interpreter start).",
        ]
    )
    print("\n" + body)
    replace_section(HEADING, body)
