"""One /metrics server in a process of its own, for tests/bench/test_metrics_http_bench.py.

``python -m tests.bench.metrics_http_serve VARIANT`` builds sigap's metrics for 1,000
devices (what the daemon holds anyway), having imported one server first (as the daemon
imports it before its registry fills), starts it on 127.0.0.1 port 0 and prints one JSON
line (port, import and start time, RSS). It then answers ``stat`` on stdin
with the process CPU time, RSS, threads and the worst event-loop lag since the last
``stat``; ``quit`` ends it. The top imports are the daemon's own, so the server's import
cost is measured alone.

Variants: ``sigap`` (agent.runtime.httpd on the loop), ``wsgi`` (prometheus_client's
``start_http_server``: wsgiref, a thread per request) and ``uvicorn`` (prometheus_client's
ASGI app under uvicorn, on the loop).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry

from agent.detect.ping import DeviceState
from agent.runtime.metrics import Metrics
from collectors.model import InterfaceRow, Observation, ProbeStatus, SnmpPoll

DEVICES = 1_000
SNMP_DEVICES = 300  # of them with SNMP, 8 interfaces each
INTERFACES = 8
OPDS = 36


def rss_kib() -> int:
    """This process's resident set (VmRSS), KiB."""
    with open("/proc/self/status", encoding="ascii") as fh:  # noqa: PTH123
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def metrics() -> Metrics:
    """sigap's registry as a daemon with 1,000 devices fills it."""
    m = Metrics(CollectorRegistry(), version="bench")
    names = [f"dev-{i:04d}" for i in range(DEVICES)]
    m.set_devices({n: f"Dinas {i % OPDS:02d}" for i, n in enumerate(names)})
    now = datetime.now(UTC)
    for i, name in enumerate(names):
        m.device_state(name, DeviceState.DOWN if i % 50 == 0 else DeviceState.UP)
        ok = i % 50 != 0
        status = ProbeStatus.OK if ok else ProbeStatus.TIMEOUT
        m.observe_ping(Observation(name, "ping", status, now, 0.001 * (i % 40) if ok else None))
        m.poll_finished("ping", 0.02, 30.0)
    for name in names[:SNMP_DEVICES]:
        rows = tuple(
            InterfaceRow(k, f"ether{k}", admin_up=True, oper_up=k != 3)
            for k in range(1, INTERFACES + 1)
        )
        m.observe_snmp(SnmpPoll(name, now, ProbeStatus.OK, interfaces=rows, duration=0.05))
        m.poll_finished("snmp", 0.05, 60.0)
    m.set_outbox("tickets", 0)
    m.set_database_up(up=True)
    return m


MODULES = {  # what each server imports on top of the daemon's own imports
    "sigap": ("agent.runtime.httpd",),
    "wsgi": ("prometheus_client.exposition",),
    "uvicorn": ("uvicorn", "prometheus_client.asgi"),
}


def load(variant: str) -> None:
    """Import what ``variant`` needs (before the registry is filled: as the daemon does)."""
    if variant not in MODULES:
        raise SystemExit(f"unknown variant {variant!r} (sigap, wsgi, uvicorn)")
    for name in MODULES[variant]:
        importlib.import_module(name)


async def start(variant: str, m: Metrics) -> tuple[int, Any]:
    """Start ``variant`` (imported by :func:`load`); return its port and what stops it."""
    if variant == "sigap":
        from agent.runtime.httpd import HealthChecks, ListenAddress, MetricsServer

        server = MetricsServer(
            m.registry, HealthChecks.from_metrics(m), ListenAddress("127.0.0.1", 0)
        )
        await server.start()
        return server.port, server
    if variant == "wsgi":
        from prometheus_client import start_http_server

        httpd, _thread = start_http_server(0, addr="127.0.0.1", registry=m.registry)
        return httpd.server_port, httpd
    import uvicorn
    from prometheus_client import make_asgi_app

    config = uvicorn.Config(
        make_asgi_app(m.registry),
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        access_log=False,
    )
    userver = uvicorn.Server(config)
    task = asyncio.create_task(userver.serve())
    while not userver.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    return userver.servers[0].sockets[0].getsockname()[1], task


class LagWatch:
    """The worst lateness of a 10 ms timer on the loop (what a scrape blocks)."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, loop.time() - started - 0.01)


async def main(variant: str) -> None:
    rss_base, modules = rss_kib(), len(sys.modules)
    began = time.perf_counter()
    load(variant)
    imported = time.perf_counter() - began
    rss_imported = rss_kib() - rss_base
    m = metrics()
    rss_filled = rss_kib()
    began = time.perf_counter()
    port, handle = await start(variant, m)
    started = time.perf_counter() - began
    added = len(sys.modules) - modules  # uvicorn imports its protocol and loop modules here
    lag = LagWatch()
    watch = asyncio.create_task(lag.run())
    print(json.dumps({"port": port, "import_s": imported, "start_s": started,
                      "modules_added": added, "rss_imported_kib": rss_imported,
                      "rss_filled_kib": rss_filled, "rss_started_kib": rss_kib()}),
          flush=True)  # fmt: skip
    loop = asyncio.get_running_loop()
    while (line := (await loop.run_in_executor(None, sys.stdin.readline)).strip()) != "quit":
        if line == "stat":
            doc = {"cpu_s": time.process_time(), "rss_kib": rss_kib(), "lag_s": lag.worst,
                   "threads": threading.active_count()}  # fmt: skip
            lag.worst = 0.0
            print(json.dumps(doc), flush=True)
        elif not line:
            break
    watch.cancel()
    if variant == "wsgi":
        handle.shutdown()
    elif variant == "uvicorn":
        handle.cancel()
    else:
        await handle.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
