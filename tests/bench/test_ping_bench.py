"""Ping sweep benchmark as a test: verdicts must be right and the targets met (root only)."""

from __future__ import annotations

import os

import ping_sweep as bench
import pytest

pytestmark = [pytest.mark.bench, pytest.mark.slow]


def test_ping_sweep_targets():
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the ping benchmark needs root (network namespaces, raw sockets)")
        pytest.skip("needs root (network namespaces, raw sockets)")
    cs = bench.run_bench(int(os.environ.get("SIGAP_BENCH_RUNS", "5")), verbose=False)
    print("\n" + bench.machine() + "\n\n" + bench.table(cs))
    assert bench.correct(cs) == []
    by = {c.id: c for c in cs}
    r = bench.ratios(cs)
    assert r["cpu/icmplib"] <= bench.CPU_TARGET
    assert r["dgram cpu/icmplib"] <= bench.CPU_TARGET
    # The sweep itself must take about one timeout (what the daemon pays every cycle). The
    # whole-process wall adds the interpreter start, measured in the same run ("py-startup")
    # and printed with its ratios; no Python process can reach 1.1 s whole on this machine.
    assert by["sigap"].med("sweep") <= bench.WALL_TARGET * bench.TIMEOUT_S
    assert by["sigap-dgram"].med("sweep") <= bench.WALL_TARGET * bench.TIMEOUT_S
