"""Scale benchmark (issue 23): whole ``sigap run`` processes on 10,000 hosts + 2,000 SNMP devices.

The network (built here, the anchors' ``net.sh`` layout in Python; nothing in the root
namespace): a NOC namespace (where every sigap process runs) -> a core router namespace ->
one *site* namespace per 250 hosts, whose loopback holds the 250 host addresses
(10.253.K.1-250). A host is made silently dead by the nftables set ``failed`` of its site
(ping and SNMP time out, like a dead box). SNMP v2c is answered by one real net-snmp
``snmpd`` per site namespace for all its addresses (the first ``snmp`` hosts; the site's
kernel interfaces: lo and the uplink).

Inventory: ``hosts`` devices pinged every 15 s (1 echo, 1 s timeout; flat, no parents),
``dead`` of them dead from the start (spread evenly), the first ``snmp`` polled over SNMP every
60 s. PostgreSQL is the machine's, one fresh database per run (its ``xact_commit`` is sigap's
alone). For each contender, one after the other in the same run:

1. start, wait until each of the ``dead`` hosts has its ticket (the warm-up, timed);
2. a steady window of ``window`` s: CPU (utime+stime of the processes), RSS at the end and
   peak (VmHWM), PostgreSQL transactions/s (``pg_stat_database.xact_commit`` delta);
3. detection: ``kill`` more live hosts are made dead; the time until every one of them is
   ``sigap_device_up 0`` on /metrics (state) and until each has its ticket in the database.

Contenders: one ``sigap run`` (today's baseline) and, when ``sigap run --help`` shows
``--zona``, the central ``sigap run`` with 2 and 4 zone pollers (devices split into zones
``z1..zN``; each poller ``sigap run --zona zK --node pK --metrics-listen ...``; the central
process polls zone ``pusat``, here empty, and turns the pollers' batches into state and
tickets), all processes summed, printed with ratios against the baseline of the same run.
Without ``--zona`` the poller rows say they are pending.

Usage (root, under ``flock /work/lab.lock``):
    python -m tests.bench.scale_bench [--hosts 10000] [--dead 500] [--snmp 2000]
        [--window 120] [--kill 100] [--pollers 2,4] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

try:  # run as a module (python -m tests.bench.scale_bench) or by pytest from tests/bench
    from tests.bench.results import replace_section
except ImportError:  # pragma: no cover
    from results import replace_section  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
SIGAP = str(Path(sys.executable).with_name("sigap"))
PER_SITE = 250
NET = "10.253"  # 10.253.0.0/16: only inside this benchmark's namespaces
TICK = os.sysconf("SC_CLK_TCK")
PG_ADMIN = "postgresql://postgres@/postgres?host=/var/run/postgresql"
HANG = 600.0  # generous bound on every wait: only catches a hang
Log = Callable[[str], object]
SECTION = "Scale benchmark (issue 23): 10,000 hosts pinged every 15 s + 2,000 SNMP devices"


def host(i: int) -> str:
    """Address of host ``i`` (0-based): 250 per site, site K = 10.253.K.0/24."""
    return f"{NET}.{1 + i // PER_SITE}.{1 + i % PER_SITE}"


def name(i: int) -> str:
    return f"h{i:05d}"


def sh(*argv: str, stdin: str | None = None, timeout: float = 120) -> str:
    p = subprocess.run(
        argv, input=stdin, text=True, capture_output=True, timeout=timeout, check=False
    )
    if p.returncode:
        msg = f"{' '.join(argv)} failed: {p.stderr.strip()}"
        raise RuntimeError(msg)
    return p.stdout


NFT_SITE = """\
table inet lab {
  set failed { type ipv4_addr; }
  chain in {
    type filter hook input priority 0; policy accept;
    ip daddr @failed counter drop
  }
}
"""


@dataclass
class Net:
    """The benchmark network: NOC, core, sites; ``snmpd`` agents; always torn down."""

    tag: str
    hosts: int
    tmp: Path
    sites: list[str] = field(default_factory=list)
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def noc(self) -> str:
        return f"sgs{self.tag}n"

    @property
    def core(self) -> str:
        return f"sgs{self.tag}c"

    def site(self, k: int) -> str:
        return f"sgs{self.tag}s{k}"

    def build(self) -> None:
        noc, core = self.noc, self.core
        for ns in (noc, core):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", core, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        sh("ip", "-n", core, "link", "add", "noc0", "type", "veth", "peer", "name", "up0",
           "netns", noc)  # fmt: skip
        sh("ip", "-n", core, "addr", "add", f"{NET}.0.1/30", "dev", "noc0")
        sh("ip", "-n", core, "link", "set", "noc0", "up")
        sh("ip", "-n", noc, "addr", "add", f"{NET}.0.2/30", "dev", "up0")
        sh("ip", "-n", noc, "link", "set", "up0", "up")
        sh("ip", "-n", noc, "route", "add", "default", "via", f"{NET}.0.1")
        sh("ip", "-n", core, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", core, "addr", "add", f"{NET}.255.254/24", "dev", "br0")
        sh("ip", "-n", core, "link", "set", "br0", "up")
        n_sites = (self.hosts + PER_SITE - 1) // PER_SITE
        if n_sites > 250:
            msg = f"at most {250 * PER_SITE} hosts"
            raise ValueError(msg)
        for k in range(1, n_sites + 1):
            ns = self.site(k)
            sh("ip", "netns", "add", ns)
            self.sites.append(ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", core, "link", "add", f"s{k}", "type", "veth", "peer", "name", "up0",
               "netns", ns)  # fmt: skip
            sh("ip", "-n", core, "link", "set", f"s{k}", "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", f"{NET}.255.{k}/24", "dev", "up0")
            sh("ip", "-n", ns, "link", "set", "up0", "up")
            sh("ip", "-n", ns, "route", "add", "default", "via", f"{NET}.255.254")
            sh("ip", "-n", core, "route", "add", f"{NET}.{k}.0/24", "via", f"{NET}.255.{k}")
            first = (k - 1) * PER_SITE
            lines = [
                f"addr add {host(i)}/32 dev lo"
                for i in range(first, min(first + PER_SITE, self.hosts))
            ]
            sh("ip", "-n", ns, "-batch", "-", stdin="\n".join(lines) + "\n")
            sh("ip", "netns", "exec", ns, "nft", "-f", "-", stdin=NFT_SITE)

    def start_snmp(self, n_snmp: int) -> None:
        """One snmpd per site holding SNMP hosts, answering v2c 'public' on every address."""
        for k in range(1, (n_snmp + PER_SITE - 1) // PER_SITE + 1):
            folder = self.tmp / f"snmp{k}"
            folder.mkdir()
            conf = folder / "snmpd.conf"
            conf.write_text("agentAddress udp:161\nrocommunity public default\n")
            env = {**os.environ, "SNMP_PERSISTENT_DIR": str(folder)}
            argv = ["ip", "netns", "exec", self.site(k), "/usr/sbin/snmpd", "-f", "-Lf",
                    str(folder / "log"), "-C", "-c", str(conf)]  # fmt: skip
            self.agents.append(subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL))
        for k in range(1, len(self.agents) + 1):  # each answers before the run starts
            probe = ["ip", "netns", "exec", self.noc, "snmpget", "-v2c", "-c", "public",
                     "-t1", "-r0", host((k - 1) * PER_SITE), "1.3.6.1.2.1.1.3.0"]  # fmt: skip
            deadline = time.monotonic() + 60
            while subprocess.run(probe, capture_output=True, check=False).returncode:
                if time.monotonic() > deadline:
                    msg = f"snmpd of {self.site(k)} not answering"
                    raise RuntimeError(msg)
                time.sleep(0.5)

    def _by_site(self, idx: list[int]) -> dict[int, list[str]]:
        per: dict[int, list[str]] = {}
        for i in idx:
            per.setdefault(1 + i // PER_SITE, []).append(host(i))
        return per

    def fail(self, idx: list[int]) -> None:
        for k, ips in self._by_site(idx).items():
            elems = "{ " + ", ".join(ips) + " }"
            sh("ip", "netns", "exec", self.site(k), "nft", "add", "element", "inet", "lab",
               "failed", elems)  # fmt: skip

    def restore_all(self) -> None:
        for ns in self.sites:
            sh("ip", "netns", "exec", ns, "nft", "flush", "set", "inet", "lab", "failed")

    def down(self) -> None:
        for p in self.agents:
            if p.poll() is None:
                p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=10)
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        for ns in [*self.sites, self.core, self.noc]:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


@contextlib.contextmanager
def network(hosts: int, snmp: int) -> Iterator[Net]:
    with tempfile.TemporaryDirectory(prefix="sgp-scale-") as tmp:
        net = Net(f"{os.getpid() % 10000}", hosts, Path(tmp))
        try:
            net.build()
            net.start_snmp(snmp)
            yield net
        finally:
            net.down()


# -- the database ---------------------------------------------------------------------------


@contextlib.contextmanager
def database() -> Iterator[tuple[str, str]]:
    """A fresh PostgreSQL database for one contender; yields (SQLAlchemy URL, libpq URI)."""
    import psycopg

    db = f"sigap_scale_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db}"')
    try:
        yield (
            f"postgresql+psycopg://postgres@/{db}?host=/var/run/postgresql",
            f"postgresql://postgres@/{db}?host=/var/run/postgresql",
        )
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def xact_commit(uri: str) -> int:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def tickets_for(uri: str, devices: list[str]) -> int:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        try:
            row = conn.execute(
                "SELECT count(DISTINCT device) FROM tickets WHERE device = ANY(%s)", (devices,)
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
    return int(row[0]) if row else 0


# -- the contenders -------------------------------------------------------------------------


def inventory(net: Net, db: str, port: int, *, hosts: int, snmp: int, zones: int = 0) -> str:
    lines = [
        "office: {name: Bench skala 10.000 host}",
        "daemon:",
        f'  database: "{db}"',
        f'  metrics_listen: "127.0.0.1:{port}"',
        "  max_concurrent_probes: 1000",
        "defaults:",
        "  platform: mikrotik_routeros",
        "  role: switch",
        "  opd: Dinas Uji",
        "  ping: {interval: 15s, count: 1, timeout: 1s}",
        "groups:",
        "  snmp:",
        "    snmp:",
        '      version: "2c"',
        f"      community_file: {net.tmp / 'community'}",
        "      interval: 60s",
        "      timeout: 1s",
        "      retries: 1",
        "hosts:",
    ]
    for i in range(hosts):
        extra = ", groups: [snmp]" if i < snmp else ""
        if zones:
            extra += f", zone: z{1 + i % zones}"
        lines.append(f"  {name(i)}: {{address: {host(i)}{extra}}}")
    return "\n".join(lines) + "\n"


def help_text() -> str:
    p = subprocess.run([SIGAP, "run", "--help"], capture_output=True, text=True, check=False)
    return re.sub(r"\s+", " ", p.stdout)


def has_zones() -> bool:
    return "--zona" in help_text()


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime

    def mem_kib(self, key: str) -> int:
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def metrics(self, net: Net) -> str:
        url = f"http://127.0.0.1:{self.port}/metrics"
        argv = ["ip", "netns", "exec", net.noc, "curl", "-sf", "--max-time", "20", url]
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout

    def alive(self) -> None:
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            msg = f"sigap exited with {self.popen.returncode}:\n{tail}"
            raise RuntimeError(msg)


@dataclass
class Result:
    id: str
    label: str
    procs: int
    devices: int
    startup_s: float = 0.0  # start -> every dead host has its ticket (the warm-up)
    cpu_s: float = 0.0  # CPU seconds in the window (all processes)
    cpu_max_s: float = 0.0  # the busiest process's
    window_s: float = 0.0
    rss_mib: float = 0.0  # sum of the processes' RSS at the window's end
    hwm_mib: float = 0.0  # sum of their peaks
    xact_s: float = 0.0
    detect_state_s: float | None = None
    detect_ticket_s: float | None = None
    note: str = ""

    @property
    def cpu_pct(self) -> float:
        return 100 * self.cpu_s / self.window_s if self.window_s else 0.0

    @property
    def cpu_max_pct(self) -> float:
        return 100 * self.cpu_max_s / self.window_s if self.window_s else 0.0

    @property
    def cpu_per_k(self) -> float:  # % of one core per 1,000 devices
        return self.cpu_pct / (self.devices / 1000)

    @property
    def rss_per_k(self) -> float:
        return self.rss_mib / (self.devices / 1000)


def _wait(what: str, probe: object, procs: list[Proc], timeout: float = HANG) -> float:
    """Poll ``probe`` (a callable returning bool) every 0.5 s; seconds it took."""
    started = time.monotonic()
    while not probe():  # type: ignore[operator]
        for p in procs:
            p.alive()
        if time.monotonic() - started > timeout:
            msg = f"timed out after {timeout:.0f} s waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(0.5)
    return time.monotonic() - started


def down_in(text: str, names: set[str]) -> set[str]:
    """The devices of ``names`` that a /metrics page shows down."""
    found = set()
    for line in text.splitlines():
        if line.startswith("sigap_device_up{") and line.endswith(" 0.0"):
            m = re.search(r'device="([^"]+)"', line)
            if m and m.group(1) in names:
                found.add(m.group(1))
    return found


def victims(hosts: int, dead_n: int, kill_n: int) -> tuple[list[int], list[int]]:
    """The hosts dead from the start (spread evenly) and the live ones killed for detection."""
    step = max(1, hosts // max(1, dead_n))
    dead = list(range(step // 2, hosts, step))[:dead_n]
    gone = set(dead)
    live = [i for i in range(hosts) if i not in gone]
    return dead, live[7 :: max(1, len(live) // max(1, kill_n))][:kill_n]


def _launch(net: Net, argv: list[str], port: int, logf: Path) -> Proc:
    with logf.open("wb") as out:
        popen = subprocess.Popen(
            ["ip", "netns", "exec", net.noc, *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Proc(popen, port, logf)


def start(net: Net, cid: str, n_pollers: int, url: str, args: argparse.Namespace) -> list[Proc]:
    """Start the contender's processes in the NOC.

    Baseline: one plain ``sigap run`` polling everything. Zones: the central ``sigap run``
    (it polls only zone ``pusat``, here nothing, and turns the pollers' batches into state and
    tickets) plus one ``sigap run --zona zK --node pK`` per zone, each with its own metrics.
    """
    inv = net.tmp / f"{cid}.yaml"
    inv.write_text(inventory(net, url, 19600, hosts=args.hosts, snmp=args.snmp, zones=n_pollers))
    central = [SIGAP, "run", "--inventory", str(inv)]
    procs = [_launch(net, central, 19600, net.tmp / f"{cid}-central.log")]
    for z in range(1, n_pollers + 1):
        argv = [SIGAP, "run", "--inventory", str(inv), "--zona", f"z{z}", "--node", f"p{z}"]
        argv += ["--metrics-listen", f"127.0.0.1:{19600 + z}"]
        procs.append(_launch(net, argv, 19600 + z, net.tmp / f"{cid}-p{z}.log"))
    return procs


def stop(procs: list[Proc]) -> None:
    for p in procs:
        if p.popen.poll() is None:
            p.popen.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.popen.kill()
            p.popen.wait(timeout=30)


def steady(procs: list[Proc], uri: str, args: argparse.Namespace, res: Result) -> None:
    """The steady window: CPU, RSS, PostgreSQL transactions/s."""
    cpu0, x0, w0 = [p.cpu() for p in procs], xact_commit(uri), time.monotonic()
    time.sleep(args.window)
    for p in procs:
        p.alive()
    cpu1, x1, w1 = [p.cpu() for p in procs], xact_commit(uri), time.monotonic()
    used = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    res.cpu_s, res.cpu_max_s, res.window_s = sum(used), max(used), w1 - w0
    res.xact_s = (x1 - x0) / res.window_s
    res.rss_mib = sum(p.mem_kib("VmRSS") for p in procs) / 1024
    res.hwm_mib = sum(p.mem_kib("VmHWM") for p in procs) / 1024


def detect(net: Net, procs: list[Proc], uri: str, kill: list[int], res: Result) -> None:
    """Kill hosts at once; seconds until all are down on /metrics and until all have tickets."""
    names = {name(i) for i in kill}
    net.fail(kill)
    k0 = time.monotonic()
    state_at: float | None = None
    ticket_at: float | None = None
    while (state_at is None or ticket_at is None) and time.monotonic() - k0 < HANG:
        for p in procs:
            p.alive()
        if state_at is None:
            seen: set[str] = set()
            for p in procs:
                seen |= down_in(p.metrics(net), names)
            if seen == names:
                state_at = time.monotonic() - k0
        if ticket_at is None and tickets_for(uri, sorted(names)) >= len(names):
            ticket_at = time.monotonic() - k0
        time.sleep(0.5)
    res.detect_state_s, res.detect_ticket_s = state_at, ticket_at


def measure(
    net: Net, cid: str, label: str, n_pollers: int, args: argparse.Namespace, *, log: Log = print
) -> Result:
    """Run one contender (``sigap run`` alone, or with N zone pollers) through the phases."""
    dead, kill = victims(args.hosts, args.dead, args.kill)
    res = Result(cid, label, 1 + n_pollers, args.hosts)
    net.restore_all()
    net.fail(dead)
    with database() as (url, uri):
        t0 = time.monotonic()
        procs = start(net, cid, n_pollers, url, args)
        try:
            dead_names = [name(i) for i in dead]

            def ticketed() -> bool:
                return tickets_for(uri, dead_names) >= len(dead)

            _wait("the dead hosts' tickets", ticketed, procs)
            res.startup_s = time.monotonic() - t0
            log(f"  {cid}: {len(dead)} tickets (warm-up) after {res.startup_s:.1f} s")
            time.sleep(args.settle)
            steady(procs, uri, args, res)
            log(f"  {cid}: window {res.window_s:.0f} s, CPU {res.cpu_s:.1f} s, "
                f"RSS {res.rss_mib:.0f} MiB, {res.xact_s:.1f} xact/s")  # fmt: skip
            detect(net, procs, uri, kill, res)
            log(f"  {cid}: {len(kill)} killed -> state {res.detect_state_s} s, "
                f"tickets {res.detect_ticket_s} s")  # fmt: skip
        finally:
            stop(procs)
            net.restore_all()
    return res


def run_bench(args: argparse.Namespace, log: Log = print) -> tuple[list[Result], list[int], bool]:
    zones = has_zones()
    results: list[Result] = []
    with network(args.hosts, args.snmp) as net:
        (net.tmp / "community").write_text("public\n")
        (net.tmp / "community").chmod(0o600)
        log(f"network up: {args.hosts} hosts in {len(net.sites)} sites, "
            f"{len(net.agents)} snmpd")  # fmt: skip
        results.append(measure(net, "one", "one `sigap run` (baseline)", 0, args, log=log))
        if zones:
            results += [
                measure(
                    net, f"zones{n}", f"central + {n} pollers `--zona z1..z{n}`", n, args, log=log
                )
                for n in args.pollers
            ]
    return results, args.pollers, zones


# -- the report -----------------------------------------------------------------------------


def machine() -> str:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = Path("/proc/loadavg").read_text().split()[:3]
    pg = subprocess.run(
        ["psql", "-XAtc", "SHOW server_version", "postgresql://postgres@/postgres?host=/var/run/postgresql"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    return (
        f"{os.cpu_count()} CPUs ({model}), kernel {platform.release()}, "
        f"Python {platform.python_version()}, PostgreSQL {pg or '?'} on the same machine, "
        f"load avg before run {' '.join(load)}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def _s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def table(results: list[Result], pollers: list[int], zones: bool) -> str:
    head = (
        "| Contender | Processes | Warm-up s | CPU % of one core (busiest process) | "
        "CPU %/1,000 dev | RSS MiB (peak) | RSS MiB/1,000 dev | PG xact/s | "
        "Detect state s | Detect ticket s |\n"
        "|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    base = results[0] if results else None
    rows += [
        f"| {r.label} | {r.procs} | {r.startup_s:.0f} | {r.cpu_pct:.1f} ({r.cpu_max_pct:.1f}) | "
        f"{r.cpu_per_k:.2f} | {r.rss_mib:.0f} ({r.hwm_mib:.0f}) | {r.rss_per_k:.1f} | "
        f"{r.xact_s:.1f} | {_s(r.detect_state_s)} | {_s(r.detect_ticket_s)} |"
        for r in results
    ]
    if not zones:
        rows += [
            f"| central + {n} pollers | {1 + n} | pending: `sigap run --zona` not in this build "
            "| - | - | - | - | - | - | - |"
            for n in pollers
        ]
    text = "\n".join(rows)
    if base and zones:
        lines = []
        for r in results[1:]:
            ratio = [
                f"CPU {r.cpu_s / base.cpu_s:.2f} x" if base.cpu_s else "CPU -",
                f"RSS {r.rss_mib / base.rss_mib:.2f} x" if base.rss_mib else "RSS -",
                f"xact/s {r.xact_s / base.xact_s:.2f} x" if base.xact_s else "xact/s -",
            ]
            if r.detect_ticket_s and base.detect_ticket_s:
                ratio.append(f"detection {r.detect_ticket_s / base.detect_ticket_s:.2f} x")
            lines.append(f"- {r.label} vs the baseline: " + ", ".join(ratio))
        text += "\n\nRatios against the one-process baseline of this run:\n" + "\n".join(lines)
    return text


def write_results(args: argparse.Namespace, text: str, before: str) -> None:
    how = (
        f"Produced by `flock /work/lab.lock python -m tests.bench.scale_bench --hosts {args.hosts} "
        f"--dead {args.dead} --snmp {args.snmp} --window {args.window:g} --settle {args.settle:g} "
        f"--kill {args.kill}`. "
        f"Network: NOC netns -> core router netns -> {(args.hosts + PER_SITE - 1) // PER_SITE} "
        f"site netns of 250 host addresses each (anchors' net.sh layout, built in Python); "
        f"dead hosts are dropped silently by nftables in their site. {args.hosts:,} devices "
        f"pinged every 15 s (1 echo, 1 s timeout, flat: no parents), {args.dead} dead from the "
        f"start (their tickets = the warm-up), the first {args.snmp:,} also polled over SNMP "
        f"v2c every 60 s (one real net-snmp snmpd per site answers for its 250 addresses; 2 "
        "interfaces each). PostgreSQL: a fresh database per contender. CPU = utime+stime of the "
        f"sigap processes over a {args.window:g} s steady window (after the warm-up tickets and "
        f"{args.settle:g} s), RSS at the window's end (peak VmHWM), PG xact/s = "
        "pg_stat_database.xact_commit delta / window. Detection: "
        f"{args.kill} more live hosts made dead at once; seconds until all show "
        "`sigap_device_up 0` on /metrics (state) and until each has its ticket (database); one "
        "sample: the kill lands at a random phase of the 15 s cycle, then the confirm rounds, "
        "so it varies by up to 15 s between runs (compare it loosely, CPU/RSS/xact closely)."
    )
    note = f"\n\n{args.note}" if args.note else ""
    replace_section(SECTION, f"Machine: {before}\n\n{how}{note}\n\n{text}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--hosts", type=int, default=10_000)
    p.add_argument("--dead", type=int, default=500)
    p.add_argument("--snmp", type=int, default=2_000)
    p.add_argument("--window", type=float, default=120.0)
    p.add_argument("--settle", type=float, default=15.0)
    p.add_argument("--kill", type=int, default=100)
    p.add_argument("--pollers", type=lambda s: [int(x) for x in s.split(",") if x], default=[2, 4])
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--note", default="", help="a sentence for RESULTS.md (e.g. which build ran)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    if os.geteuid() != 0:
        sys.exit("scale_bench: needs root (network namespaces)")
    for tool in ("ip", "nft", "curl", "snmpget", "/usr/sbin/snmpd"):
        if shutil.which(tool) is None:
            sys.exit(f"scale_bench: {tool} is missing")
    args = parse(argv)
    before = machine()
    results, pollers, zones = run_bench(args)
    text = table(results, pollers, zones)
    print("\n" + before + "\n\n" + text)
    if not args.no_write:
        write_results(args, text, before)


if __name__ == "__main__":
    main()
