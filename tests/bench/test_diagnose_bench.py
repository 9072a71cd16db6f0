"""`sigap diagnose DEVICE` timed against what a technician types without sigap (root only).

The anchor: `fping -c 5 -p 200` to the device, then `snmpbulkwalk` of IF-MIB's ifTable and
ifXTable (net-snmp), one after the other: the same five echoes and the same interface rows
sigap's diagnose fetches (it also takes a second SNMP sample for rates, walks the inventory
path and reads the recent tickets). Whole processes, timed from outside in alternating rounds,
inside the lab's NOC namespace; issue 9's goal for a healthy device is <= 3 s wall including
the interpreter. Printed, written to RESULTS.md, never asserted (a loaded machine moves it).
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time

import pytest

from labnet.lab import Lab
from tests.bench.results import replace_section
from tests.diagnose_lab import SECRETS, diagnose_lab, sigap

pytestmark = [pytest.mark.bench, pytest.mark.slow]

ROUNDS = int(os.environ.get("SIGAP_BENCH_RUNS", "5"))
GOAL_S = 3.0
DEVICE, ADDRESS = "rtr", "10.64.2.1"
HEADING = "Diagnose: `sigap diagnose` of a healthy device, against fping + net-snmp"


def _anchor(lab: Lab) -> subprocess.CompletedProcess[str]:
    """fping, then two bulk walks: what a technician runs by hand."""
    walk = ["snmpbulkwalk", "-v2c", "-c", SECRETS["community"], "-t", "1", "-r", "0", ADDRESS]
    script = " && ".join(
        [
            f"fping -c 5 -p 200 -q {ADDRESS}",
            " ".join([*walk, "1.3.6.1.2.1.2.2"]) + " >/dev/null",
            " ".join([*walk, "1.3.6.1.2.1.31.1.1"]) + " >/dev/null",
        ]
    )
    return subprocess.run(
        lab.noc_argv(["sh", "-c", script]), capture_output=True, text=True, timeout=60, check=False
    )


def test_diagnose_wall_against_fping_and_snmpbulkwalk(tmp_path) -> None:
    lab = Lab(f"db{os.getpid() % 100000}")
    with diagnose_lab(lab, tmp_path) as inventory:
        times: dict[str, list[float]] = {"sigap diagnose": [], "fping + snmpbulkwalk": []}
        for _ in range(ROUNDS):
            started = time.monotonic()
            done = sigap(lab, inventory, "diagnose", DEVICE)
            times["sigap diagnose"].append(time.monotonic() - started)
            assert done.returncode == 0, done.stdout + done.stderr
            started = time.monotonic()
            anchor = _anchor(lab)
            times["fping + snmpbulkwalk"].append(time.monotonic() - started)
            assert anchor.returncode == 0, anchor.stderr
    med = {name: statistics.median(values) for name, values in times.items()}
    ratio = med["sigap diagnose"] / med["fping + snmpbulkwalk"]
    rows = [
        f"| {name} | {med[name]:.2f} | {min(v):.2f}-{max(v):.2f} |" for name, v in times.items()
    ]
    verdict = "met" if med["sigap diagnose"] <= GOAL_S else "NOT met"
    body = "\n".join(
        [
            f"{platform.node()}, {os.cpu_count()} cores, {ROUNDS} alternating rounds, wall s "
            "(median, min-max), whole processes in the lab's NOC namespace.",
            "",
            "| command | median | range |",
            "|---|---|---|",
            *rows,
            "",
            f"Ratio sigap / anchor: {ratio:.2f} x. Goal (issue 9) <= {GOAL_S:.1f} s: {verdict}.",
        ]
    )
    print("\n" + body)
    replace_section(
        "Diagnose: `sigap diagnose` on a healthy device, against fping + net-snmp", body
    )
