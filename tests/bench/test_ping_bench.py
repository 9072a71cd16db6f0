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
    # The sweep itself must take about one timeout. The whole-process wall also carries the
    # interpreter start (measured in the same run as "py-startup"), which a daemon pays once.
    assert by["sigap"].med("sweep") <= bench.WALL_TARGET * bench.TIMEOUT_S
    startup = by["py-startup"].med("wall")
    assert by["sigap"].med("wall") - startup <= bench.WALL_TARGET * bench.TIMEOUT_S
