"""SNMP interface poll benchmark as a test: every tool right, sigap's targets met (root only).

Targets (issue 4), sigap's warm poll cycle against snmp_exporter 0.21's 9-column module on the
same 200 agents: CPU <= 1.0 x (stretch 0.5 x) and wall <= 1.5 x, on v2c and on v3 authPriv.
"""

from __future__ import annotations

import os

import pytest
import snmp_bench as bench

pytestmark = [pytest.mark.bench, pytest.mark.slow]


def test_snmp_poll_targets() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the SNMP benchmark needs root (network namespaces)")
        pytest.skip("needs root (network namespaces)")
    cs, want = bench.run_bench(int(os.environ.get("SIGAP_BENCH_RUNS", "5")), verbose=False)
    print("\n" + bench.machine() + "\n\n" + bench.table(cs, want))
    # every contender: all 200 devices, one row per interface, all nine values
    assert bench.correct(cs, want) == []
    r = bench.ratios(cs)
    assert r["v2c cpu/exporter-9col"] <= bench.CPU_TARGET
    assert r["v2c wall/exporter-9col"] <= bench.WALL_TARGET
    # v3 authPriv (SHA/AES-128) runs on the USM fast path (collectors._snmp.usm, landed before this
    # benchmark): its targets are met as well (2026-11-25: 0.31 x CPU, 0.34 x wall), so they
    # are asserted like v2c's.
    assert r["v3 cpu/exporter-9col"] <= bench.CPU_TARGET
    assert r["v3 wall/exporter-9col"] <= bench.WALL_TARGET
    # Printed, not asserted: the stretch (CPU <= 0.5 x; met, ~0.3 x, but a loaded 2-core
    # machine moves these ratios by +-20 %), and the cold first cycle and whole-process
    # figures (interpreter start + imports ~0.3 CPU s, and the interface-name walk, which the
    # exporter's 9-column module never does: whole process ~1.8 x the exporter's scrape).
