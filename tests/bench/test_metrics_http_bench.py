"""The /metrics server: sigap's own (agent.runtime.httpd) against prometheus_client's servers.

Issue 16 asks for a measured reason to keep a hand-written HTTP server next to uvicorn and
prometheus_client's own. Each contender runs in a process of its own
(``tests/bench/metrics_http_serve.py``) holding sigap's registry for 1,000 devices (300 with
SNMP, 8 interfaces each); a client in this process scrapes it over 127.0.0.1, one
connection per scrape as sigap's server closes each. Measured per contender, medians of
``RUNS`` processes: import time and modules added on top of the daemon's own imports,
start-up time, RSS added by import + start and after the scrapes, server CPU per scrape
(process CPU time of the server process), client-side wall per scrape, how late a 10 ms
timer on the server's event loop ran during a scrape (median of the scrapes); then the
behaviours sigap's server keeps (tests/unit/test_httpd.py). Not a timed test: it prints, and
writes the ``Metrics endpoint`` section of RESULTS.md.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.bench.results import replace_section

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = {
    "sigap": "sigap agent.runtime.httpd (asyncio streams; renders on a thread)",
    "wsgi": "prometheus_client.start_http_server (wsgiref, thread per request)",
    "uvicorn": "prometheus_client.make_asgi_app under uvicorn (h11, on the loop)",
}
RUNS = 3
SCRAPES = 100
STALL_WAIT = 8.0  # seconds a half-sent request head is kept open before we call it unbounded


class Served:
    """A contender's process; ``stat()`` reads its CPU time, RSS and loop lag."""

    def __init__(self, variant: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.metrics_http_serve", variant],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.started = self._line()
        self.port = int(self.started["port"])

    def _line(self) -> dict[str, float]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"server process ended (rc {self.proc.poll()})"
        return json.loads(line)

    def stat(self) -> dict[str, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stat\n")
        self.proc.stdin.flush()
        return self._line()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        finally:
            self.proc.stdin.close()
            if self.proc.stdout is not None:
                self.proc.stdout.close()


def _request(port: int, path: str = "/metrics", method: str = "GET", accept: str = "") -> tuple:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    if accept:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _raw(port: int, data: bytes, wait: float) -> tuple[str, float]:
    """Send ``data`` and wait for the server: what it answered (or did) and after how long."""
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(data)
        sock.settimeout(wait)
        try:
            answer = sock.recv(200)
        except TimeoutError:
            return "still open", time.monotonic() - began
        except ConnectionResetError:
            return "reset", time.monotonic() - began
    elapsed = time.monotonic() - began
    if not answer:
        return "closed, no answer", elapsed
    if not answer.startswith(b"HTTP/"):
        return "an HTML page, no status line (HTTP/0.9)", elapsed
    return answer.split(b"\r\n", 1)[0].decode("latin-1"), elapsed


def _behaviour(port: int) -> dict[str, str]:
    """What tests/unit/test_httpd.py asks of sigap's server, asked of one contender."""
    out: dict[str, str] = {}
    status, headers, body = _request(port)
    out["GET /metrics"] = f"{status} {headers.get('Content-Type', '').split(';')[0]}"
    om = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5"
    status, headers, body = _request(port, accept=om)
    ok = headers.get("Content-Type", "").startswith("application/openmetrics-text")
    out["OpenMetrics by Accept"] = "yes" if ok and body.endswith(b"# EOF\n") else "no"
    status, headers, body = _request(port, method="HEAD")
    length = headers.get("Content-Length", "-")
    out["HEAD /metrics"] = f"{status}, body {len(body)} B, Content-Length {length}"
    status, headers, _ = _request(port, method="POST")
    out["POST /metrics"] = f"{status} (Allow: {headers.get('Allow', '-')})"
    status, headers, body = _request(port, "/healthz")
    is_json = headers.get("Content-Type", "").startswith("application/json")
    out["GET /healthz"] = f"{status} {'JSON' if is_json else 'metrics text' if body else ''}"
    out["GET /nope"] = str(_request(port, "/nope")[0])
    out["garbage request line"] = _raw(port, b"garbage\r\n\r\n", 3.0)[0]
    answer, _ = _raw(port, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000, 3.0)
    out["20 kB request head"] = answer
    answer, after = _raw(port, b"GET /metrics HTTP/1.1\r\n", STALL_WAIT)
    out["half-sent head (slow client)"] = f"{answer} after {after:.1f} s"
    return out


def _measure(variant: str, env: dict[str, str]) -> dict[str, float]:
    served = Served(variant, env)
    try:
        for _ in range(3):  # warm-up: first render, first connection
            _request(served.port)
        before = served.stat()
        walls, lags = [], []
        size = 0
        for _ in range(SCRAPES):
            began = time.perf_counter()
            status, _, body = _request(served.port)
            walls.append(time.perf_counter() - began)
            assert status == 200
            size = len(body)
            after = served.stat()
            lags.append(after["lag_s"])  # the worst timer lateness during this scrape
    finally:
        served.close()
    start = served.started
    return {
        "import_ms": start["import_s"] * 1000,
        "modules": start["modules_added"],
        "start_ms": start["start_s"] * 1000,
        "rss_start_kib": start["rss_imported_kib"]
        + start["rss_started_kib"]
        - start["rss_filled_kib"],
        "rss_scraped_kib": start["rss_imported_kib"] + after["rss_kib"] - start["rss_filled_kib"],
        "cpu_ms": (after["cpu_s"] - before["cpu_s"]) / SCRAPES * 1000,
        "wall_ms": statistics.median(walls) * 1000,
        "lag_ms": statistics.median(lags) * 1000,
        "threads": after["threads"],
        "bytes": size,
    }


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Bytecode on (as an installed package has it), cached apart from the source tree."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    return env


def _median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def test_metrics_endpoint_contenders(env: dict[str, str]) -> None:
    for variant in VARIANTS:  # compile every module once, so imports read bytecode
        Served(variant, env).close()
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    for _ in range(RUNS):
        for variant in VARIANTS:  # interleaved, so drift hits every contender alike
            runs[variant].append(_measure(variant, env))
    behaviours = {}
    for variant in VARIANTS:
        served = Served(variant, env)
        try:
            behaviours[variant] = _behaviour(served.port)
        finally:
            served.close()
    keys = ("import_ms", "modules", "start_ms", "rss_start_kib", "rss_scraped_kib", "cpu_ms",
            "wall_ms", "lag_ms", "threads", "bytes")  # fmt: skip
    med = {v: {k: _median(rows, k) for k in keys} for v, rows in runs.items()}
    rows = [
        f"| {VARIANTS[v]} | {m['import_ms']:.1f} ({m['modules']:.0f}) | {m['start_ms']:.1f} | "
        f"{m['rss_start_kib'] / 1024:.2f} | {m['rss_scraped_kib'] / 1024:.2f} | "
        f"{m['cpu_ms']:.2f} | {m['wall_ms']:.2f} | {m['lag_ms']:.1f} | {m['threads']:.0f} |"
        for v, m in med.items()
    ]
    table = "\n".join([
        "| Server | Import ms (modules added) | Start ms | RSS added MiB: started | "
        "after scrapes | Server CPU ms/scrape | Wall ms/scrape | Loop lag ms/scrape | Threads |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])  # fmt: skip
    base = med["sigap"]
    ratios = "\n".join([
        "| Ratio (contender / sigap) | CPU per scrape | RSS after scrapes | Import + start |",
        "|---|---:|---:|---:|",
        *(
            f"| {v} | {m['cpu_ms'] / base['cpu_ms']:.2f} | "
            f"{m['rss_scraped_kib'] / max(base['rss_scraped_kib'], 1):.2f} | "
            f"{(m['import_ms'] + m['start_ms']) / (base['import_ms'] + base['start_ms']):.2f} |"
            for v, m in med.items()
            if v != "sigap"
        ),
    ])  # fmt: skip
    checks = list(behaviours["sigap"])
    behaviour = "\n".join([
        "| Behaviour | " + " | ".join(VARIANTS) + " |",
        "|---|" + "---|" * len(VARIANTS),
        *(f"| {c} | " + " | ".join(behaviours[v][c] for v in VARIANTS) + " |" for c in checks),
    ])  # fmt: skip
    print(f"\n{table}\n\n{ratios}\n\n{behaviour}")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    replace_section(
        "Metrics endpoint: sigap's /metrics server against prometheus_client's, 1,000 devices",
        f"{table}\n\n{ratios}\n\n{behaviour}\n\n"
        f"Registry: sigap's Metrics for 1,000 devices (300 with SNMP, 8 interfaces each), "
        f"{med['sigap']['bytes'] / 1024:.0f} KiB of text per scrape. Each server runs in its own "
        f"process whose other imports are the daemon's (prometheus_client is already loaded), "
        f"bytecode compiled beforehand; {RUNS} processes per server, interleaved, medians; "
        f"{SCRAPES} scrapes per process from a client in another process, one connection per "
        f"scrape, text format, no gzip. Server CPU = the server process's CPU time over the "
        f"scrapes (it includes a 10 ms loop-lag timer, alike in all). Machine: {os.cpu_count()} "
        f"CPUs, Python {sys.version.split()[0]}, load {load}. Produced by "
        f"`pytest -m bench -s tests/bench/test_metrics_http_bench.py`.",
    )
