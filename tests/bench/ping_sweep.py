"""Ping sweep benchmark: sigap's collector against fping and bare icmplib on 1,050 hosts.

Builds a labnet lab of 1,051 devices (one network namespace each: core -> 50 distribution
routers -> 20 devices; 50 leaves failed with ``Lab.fail``), then runs
every contender as a whole process INSIDE the noc namespace (``ip netns exec``) and
measures it like shared/anchors/bench.py: wall (perf_counter around the process), CPU
(user+sys from ``/usr/bin/time -v``), peak RSS. One warm-up, then N runs; medians.

Usage (root):  python -m tests.bench.ping_sweep [--runs 5] [--no-write]
               python tests/bench/ping_sweep.py ...
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from labnet.lab import Lab

try:  # run as a module (python -m tests.bench.ping_sweep) or by pytest from tests/bench
    from tests.bench.results import replace_section
except ImportError:  # pragma: no cover
    from results import replace_section  # type: ignore[no-redef]
from labnet.topology import LabSpec, tree_spec

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PY = sys.executable
N_HOSTS, N_DEAD, TIMEOUT_S = 1050, 50, 1.0
WALL_TARGET = 1.1  # x the timeout floor
CPU_TARGET = 1.2  # x bare icmplib async_multiping


@dataclass
class Contender:
    """One tool run as a whole process on the target file."""

    id: str
    label: str
    argv: list[str]
    checked: bool = True
    runs: list[dict[str, float]] = field(default_factory=list)
    checks: set[str] = field(default_factory=set)

    def med(self, key: str) -> float:
        return statistics.median(r[key] for r in self.runs)


def contenders(hosts: Path) -> list[Contender]:
    h = str(hosts)
    fping = ["fping", "-q", "-c1", f"-t{int(TIMEOUT_S * 1000)}"]
    return [
        Contender(
            "sigap",
            "sigap PingCollector (raw socket)",
            [PY, str(HERE / "sigap_sweep.py"), h, str(TIMEOUT_S), "raw"],
        ),
        Contender(
            "sigap-dgram",
            "sigap PingCollector (datagram socket)",
            [PY, str(HERE / "sigap_sweep.py"), h, str(TIMEOUT_S), "dgram"],
        ),
        Contender("fping-i1", "fping -c1 -t1000 -i1", [*fping, "-i1", "-f", h]),
        Contender("fping-i0", "fping -c1 -t1000 -i0", [*fping, "-i0", "-f", h]),
        Contender(
            "icmplib-c1050",
            "icmplib async_multiping concurrent_tasks=1050",
            [PY, str(HERE / "icmplib_sweep.py"), h, "1050", str(TIMEOUT_S)],
        ),
        Contender(
            "icmplib-c50",
            "icmplib async_multiping concurrent_tasks=50",
            [PY, str(HERE / "icmplib_sweep.py"), h, "50", str(TIMEOUT_S)],
        ),
        Contender(
            "py-startup",
            "python startup + import collectors.ping (no probing)",
            [PY, "-c", "import asyncio, collectors.ping"],
            checked=False,
        ),
    ]


def bench_spec() -> LabSpec:
    """The benchmark network: core -> 50 distribution routers -> 20 devices each (1,051)."""
    return tree_spec((50, 20), prefix="10.99.0.0/16", noc_address="10.99.255.254")


def dead_devices(names: list[str]) -> list[str]:
    """One leaf per distribution router: 50 dead devices spread over the whole tree."""
    return [n for n in names if n.endswith("-7")][:N_DEAD]


def sh(*argv: str, stdin: str | None = None) -> None:
    p = subprocess.run(argv, input=stdin, text=True, capture_output=True, timeout=60, check=False)
    if p.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed: {p.stderr.strip()}")


@contextmanager
def lab(tag: str):
    """Build the 1,051-device labnet lab, fail 50 leaves; yield (noc netns, hosts file).

    The hosts file lists the 1,050 devices below the core (one namespace each, reached
    through their distribution router); the lab is always torn down.
    """
    spec = bench_spec()
    handle = Lab(f"b{os.getpid() % 100000}{tag}")
    with tempfile.TemporaryDirectory(prefix="sgp-bench-") as tmp:
        try:
            handle.up(spec)
            devices = [d for d in spec.devices if d.parent is not None]
            assert len(devices) == N_HOSTS
            for name in dead_devices([d.name for d in devices]):
                handle.fail(name)
            noc = handle.noc_netns
            sh(
                "ip",
                "netns",
                "exec",
                noc,
                "sysctl",
                "-qw",
                "net.ipv4.ping_group_range=0 2147483647",
            )
            path = Path(tmp) / "hosts.txt"
            path.write_text("".join(f"{d.address}\n" for d in devices))
            wait_ready(noc, devices[0].address)
            yield noc, path
        finally:
            handle.down()


def wait_ready(noc: str, address: str, deadline_s: float = 10.0) -> None:
    """Poll one host until it answers (veth carrier and neighbour entry up), bounded."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        probe = ["ip", "netns", "exec", noc, "fping", "-q", "-c1", "-t200", address]
        if subprocess.run(probe, capture_output=True, timeout=10, check=False).returncode == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"lab not ready: {address} does not answer from {noc}")


def parse_time_v(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(": ")
        if key == "User time (seconds)":
            out["user"] = float(value)
        elif key == "System time (seconds)":
            out["sys"] = float(value)
        elif key == "Maximum resident set size (kbytes)":
            out["rss_mib"] = int(value) / 1024
    return out


def check(stdout: str, stderr: str) -> str:
    m = re.search(r"alive=\d+ dead=\d+", stdout)
    if m:
        return m.group(0)
    alive = len(re.findall(r"xmt/rcv/%loss = \d+/[1-9]\d*/", stderr))
    dead = len(re.findall(r"/100%", stderr))
    return f"alive={alive} dead={dead}"


def run_once(noc: str, c: Contender) -> dict[str, float]:
    with tempfile.NamedTemporaryFile(suffix=".time") as tv:
        argv = ["ip", "netns", "exec", noc, "/usr/bin/time", "-v", "-o", tv.name, *c.argv]
        t0 = time.perf_counter()
        p = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
        wall = time.perf_counter() - t0
        r = parse_time_v(Path(tv.name).read_text())
    if p.returncode != 0 and c.id.startswith(("sigap", "icmplib", "py-")):
        raise RuntimeError(f"{c.id} failed ({p.returncode}): {p.stderr[-2000:]}")
    res = {"wall": wall, "cpu": r.get("user", 0) + r.get("sys", 0), "rss_mib": r.get("rss_mib", 0)}
    m = re.search(r"sweep_s=([\d.]+)", p.stderr)
    if m:
        res["sweep"] = float(m.group(1))
    if c.checked:
        c.checks.add(check(p.stdout, p.stderr))
    return res


def run_bench(runs: int = 5, *, verbose: bool = True) -> list[Contender]:
    """Build the lab, run every contender (warm-up + ``runs``), tear the lab down."""
    if os.geteuid() != 0:
        raise PermissionError("the ping benchmark needs root (network namespaces, raw sockets)")
    with lab("b") as (noc, hosts):
        cs = contenders(hosts)
        for c in cs:
            run_once(noc, c)  # warm-up, not counted
            c.checks.clear()
        # interleave the contenders so that machine noise hits them all alike
        for i in range(runs):
            for c in cs:
                c.runs.append(run_once(noc, c))
                if verbose:
                    r = c.runs[-1]
                    print(
                        f"run {i + 1}/{runs} {c.id:14s} wall {r['wall']:.3f}s "
                        f"cpu {r['cpu']:.2f}s rss {r['rss_mib']:.0f}MiB",
                        flush=True,
                    )
    return cs


def ratios(cs: list[Contender]) -> dict[str, float]:
    by = {c.id: c for c in cs}
    sig = by["sigap"]
    icmplib_cpu = min(by["icmplib-c1050"].med("cpu"), by["icmplib-c50"].med("cpu"))
    return {
        "wall/timeout": sig.med("wall") / TIMEOUT_S,
        "wall/fping-i1": sig.med("wall") / by["fping-i1"].med("wall"),
        "wall/fping-i0": sig.med("wall") / by["fping-i0"].med("wall"),
        "cpu/icmplib": sig.med("cpu") / icmplib_cpu,
        "rss/icmplib": sig.med("rss_mib") / by["icmplib-c1050"].med("rss_mib"),
        "dgram wall/timeout": by["sigap-dgram"].med("wall") / TIMEOUT_S,
        "dgram cpu/icmplib": by["sigap-dgram"].med("cpu") / icmplib_cpu,
    }


def table(cs: list[Contender]) -> str:
    rows = [
        "| Tool | Wall median s (min-max) | in-process sweep s | CPU s median | Peak RSS MiB "
        "| Runs | Check |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in cs:
        walls = [r["wall"] for r in c.runs]
        sweep = f"{c.med('sweep'):.3f}" if "sweep" in c.runs[0] else "-"
        rows.append(
            f"| {c.label} | {c.med('wall'):.3f} ({min(walls):.3f}-{max(walls):.3f}) | {sweep} "
            f"| {c.med('cpu'):.3f} | {c.med('rss_mib'):.0f} | {len(c.runs)} "
            f"| {'; '.join(sorted(c.checks)) or 'n/a'} |"
        )
    r = ratios(cs)
    rows += ["", "| Ratio (sigap raw unless noted) | Value | Target |", "|---|---|---|"]
    targets = {"wall/timeout": f"<= {WALL_TARGET}", "cpu/icmplib": f"<= {CPU_TARGET}"}
    rows += [f"| {k} | {v:.2f} | {targets.get(k, '-')} |" for k, v in r.items()]
    return "\n".join(rows)


def machine() -> str:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = Path("/proc/loadavg").read_text().split()[:3]
    return (
        f"{os.cpu_count()} CPUs ({model}), kernel {platform.release()}, "
        f"Python {platform.python_version()}, load avg before run {' '.join(load)}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def correct(cs: list[Contender]) -> list[str]:
    want = f"alive={N_HOSTS - N_DEAD} dead={N_DEAD}"
    return [f"{c.id}: {sorted(c.checks)}" for c in cs if c.checked and c.checks != {want}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    a = ap.parse_args()
    where = machine()
    cs = run_bench(a.runs)
    text = table(cs)
    print(f"\n{where}\n\n{text}")
    bad = correct(cs)
    if bad:
        print("WRONG VERDICTS: " + ", ".join(bad))
    if not a.no_write:
        replace_section(
            "Ping sweep benchmark: 1,050 hosts (50 dead), 1 echo, 1 s timeout",
            f"Machine: {where}.\n\nProduced by `python -m tests.bench.ping_sweep --runs "
            f"{a.runs}` (one warm-up, contenders interleaved, medians; each tool is a whole "
            "process run in the noc netns through `ip netns exec`, as anchors/bench.py).\n\n"
            f"{text}\n",
        )
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
