"""agent.runtime.httpd on 127.0.0.1 (port 0): /metrics in both formats, /healthz, errors, addrs."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families

from agent.config.listen import DEFAULT_LISTEN, ListenAddress, parse_listen
from agent.detect.ping import DeviceState
from agent.runtime import httpd
from agent.runtime.httpd import HealthChecks, MetricsServer
from agent.runtime.metrics import Metrics

pytestmark = pytest.mark.unit

LOOPBACK = ListenAddress("127.0.0.1", 0)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:9464", "127.0.0.1", 9464),
        (" localhost:9100 ", "localhost", 9100),
        ("[::1]:9464", "::1", 9464),
        ("0.0.0.0:9464", "0.0.0.0", 9464),  # noqa: S104 - written out: allowed (and warned about)
    ],
)
def test_parse_listen(text, host, port):
    assert parse_listen(text) == ListenAddress(host, port)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (":9464", "the host is required"),
        ("*:9464", "the host is required"),
        ("9464", "expected host:port"),
        ("127.0.0.1", "expected host:port"),
        ("127.0.0.1:70000", "port must be 1..65535"),
        ("::1:9464", "in brackets"),
        ("[nope]:9464", "IPv6"),
    ],
)
def test_parse_listen_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_listen(text)


def test_default_is_loopback_and_wildcard_is_flagged():
    assert DEFAULT_LISTEN == "127.0.0.1:9464"
    server = MetricsServer(CollectorRegistry(), HealthChecks(lambda: None, lambda: 0.0, lambda: 0))
    assert str(server.address) == "127.0.0.1:9464"
    assert not server.address.wildcard
    assert parse_listen("0.0.0.0:1").wildcard
    assert parse_listen("[::]:1").wildcard
    assert str(parse_listen("[::1]:9")) == "[::1]:9"


def _get(url, accept=None, method="GET"):
    request = urllib.request.Request(url, method=method)  # noqa: S310 - http://127.0.0.1 only
    if accept:
        request.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture
def metrics():
    m = Metrics(CollectorRegistry(), version="1.2.3")
    m.set_devices({"rtr-a": "Diskominfo"})
    m.device_state("rtr-a", DeviceState.DOWN)
    return m


async def test_metrics_text_and_openmetrics(metrics):
    async with MetricsServer(metrics.registry, HealthChecks.from_metrics(metrics), LOOPBACK) as s:
        base = f"http://127.0.0.1:{s.port}"
        status, headers, body = await asyncio.to_thread(_get, f"{base}/metrics")
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
        families = {f.name: f for f in text_string_to_metric_families(body.decode())}
        up = families["sigap_device_up"].samples[0]
        assert (up.labels, up.value) == ({"device": "rtr-a", "opd": "Diskominfo"}, 0)

        accept = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5"
        status, headers, body = await asyncio.to_thread(_get, f"{base}/metrics", accept)
        assert headers["Content-Type"].startswith("application/openmetrics-text")
        assert body.endswith(b"# EOF\n")
        assert "sigap_build" in {f.name for f in parse_om(body.decode())}


async def test_healthz_reports_and_fails(metrics):
    async with MetricsServer(metrics.registry, HealthChecks.from_metrics(metrics), LOOPBACK) as s:
        url = f"http://127.0.0.1:{s.port}/healthz"
        metrics.set_outbox("tickets", 4, oldest_age=2.0)
        status, headers, body = await asyncio.to_thread(_get, url)
        assert (status, headers["Content-Type"]) == (200, "application/json")
        assert json.loads(body) == {
            "status": "ok",
            "database": {"reachable": None},
            "scheduler_lag_seconds": 0.0,
            "outbox_depth": 4,
        }
        metrics.set_database_up(up=False)
        status, _, body = await asyncio.to_thread(_get, url)
        assert status == 503
        assert json.loads(body)["database"] == {"reachable": False}
        metrics.set_database_up(up=True)
        metrics.set_scheduler_lag(9.5)
        status, _, body = await asyncio.to_thread(_get, url)
        assert (status, json.loads(body)["scheduler_lag_seconds"]) == (503, 9.5)


async def test_errors_head_and_garbage(metrics):
    async with MetricsServer(metrics.registry, HealthChecks.from_metrics(metrics), LOOPBACK) as s:
        base = f"http://127.0.0.1:{s.port}"
        assert (await asyncio.to_thread(_get, f"{base}/nope"))[0] == 404
        status, headers, _ = await asyncio.to_thread(_get, f"{base}/metrics", None, "POST")
        assert (status, headers["Allow"]) == (405, "GET, HEAD")
        status, headers, body = await asyncio.to_thread(_get, f"{base}/metrics", None, "HEAD")
        assert status == 200
        assert int(headers["Content-Length"]) > 0
        assert body == b""
        assert (await asyncio.to_thread(_get, f"{base}/metrics?x=1"))[0] == 200

        reader, writer = await asyncio.open_connection("127.0.0.1", s.port)
        writer.write(b"garbage\r\n\r\n")
        assert (await reader.read()).startswith(b"HTTP/1.1 400 Bad Request")
        writer.close()

        reader, writer = await asyncio.open_connection("127.0.0.1", s.port)
        writer.write(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000)  # oversized head
        assert await reader.read() == b""  # closed without an answer
        writer.close()
        # still serving
        assert (await asyncio.to_thread(_get, f"{base}/healthz"))[0] == 200


def _big_registry(devices: int = 5_000) -> Metrics:
    """A registry whose exposition (~8 MB) outgrows the socket buffers (a slow reader's case)."""
    m = Metrics(CollectorRegistry(), version="1.2.3")
    names = {f"rtr-{i:05d}-{'x' * 200}": "Dinas" for i in range(devices)}
    m.set_devices(names)
    for name in names:
        m.device_state(name, DeviceState.DOWN)
    return m


async def test_connections_over_the_cap_get_503_and_the_endpoint_recovers(metrics):
    health = HealthChecks.from_metrics(metrics)
    async with MetricsServer(metrics.registry, health, LOOPBACK, max_connections=4) as s:
        idle = [await asyncio.open_connection("127.0.0.1", s.port) for _ in range(4)]
        await asyncio.sleep(0.05)  # the server has accepted them: they wait for a request head
        reader, writer = await asyncio.open_connection("127.0.0.1", s.port)
        answer = await asyncio.wait_for(reader.read(), 10)  # a hang bound, not a speed
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable")
        writer.close()
        for _, held in idle:
            held.close()
        await asyncio.sleep(0.05)
        assert s.connections == 0
        status, _, _ = await asyncio.to_thread(_get, f"http://127.0.0.1:{s.port}/metrics")
        assert status == 200


async def test_a_client_that_stops_reading_is_cut_off():
    big = _big_registry()
    health = HealthChecks.from_metrics(big)
    async with MetricsServer(big.registry, health, LOOPBACK, write_timeout=0.5) as s:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader that never reads
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", s.port))
        await asyncio.get_running_loop().sock_sendall(sock, b"GET /metrics HTTP/1.1\r\n\r\n")
        for _ in range(300):  # a hang bound: the server drops the connection after 0.5 s
            await asyncio.sleep(0.1)
            if s.connections == 0:
                break
        assert (s.connections, s.cut_off) == (0, 1)
        sock.close()
        status, _, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{s.port}/metrics")
        assert status == 200
        assert b"rtr-04999" in body


async def test_a_burst_of_scrapes_shares_one_render(metrics, monkeypatch):
    release = threading.Event()

    def held(registry):  # the first render waits until all twelve scrapes have arrived
        release.wait(60)
        return generate_latest(registry)

    monkeypatch.setattr(httpd, "choose_encoder", lambda _accept: (held, "text/plain"))
    health = HealthChecks.from_metrics(metrics)
    async with MetricsServer(metrics.registry, health, LOOPBACK) as s:
        scrapes = [await asyncio.open_connection("127.0.0.1", s.port) for _ in range(12)]
        for _, writer in scrapes:
            writer.write(b"GET /metrics HTTP/1.1\r\n\r\n")
        for _ in range(600):  # a hang bound
            await asyncio.sleep(0.05)
            if s.connections == 12:
                break
        release.set()
        answers = {await asyncio.wait_for(reader.read(), 60) for reader, _ in scrapes}
        [answer] = answers  # twelve identical answers
        assert answer.startswith(b"HTTP/1.1 200 OK")
        assert b"sigap_device_up" in answer
        assert s.renders == 1
        for _, writer in scrapes:
            writer.close()
            await writer.wait_closed()


async def test_close_releases_the_port(metrics):
    server = MetricsServer(metrics.registry, HealthChecks.from_metrics(metrics), LOOPBACK)
    await server.start()
    port = server.port
    await server.close()
    again = MetricsServer(
        metrics.registry, HealthChecks.from_metrics(metrics), ListenAddress("127.0.0.1", port)
    )
    await again.start()
    assert again.port == port
    await again.close()


INVENTORY = """\
office: {{name: Uji}}
daemon: {{{daemon}}}
hosts:
  rtr-uji: {{address: 127.0.0.1, role: router, platform: linux, opd: Uji}}
"""


def _inventory(tmp_path, daemon=""):
    from agent.config.load import load_inventory

    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.format(daemon=daemon), encoding="utf-8")
    return load_inventory(path, env={})


def test_inventory_metrics_listen(tmp_path):
    assert _inventory(tmp_path).metrics_listen == "127.0.0.1:9464"
    assert _inventory(tmp_path, "metrics_listen: '[::1]:9100'").metrics_listen == "[::1]:9100"
    assert _inventory(tmp_path, "metrics_listen: ''").metrics_listen == ""


def test_inventory_metrics_listen_needs_a_host(tmp_path):
    from agent.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        _inventory(tmp_path, "metrics_listen: ':9464'")
    (problem,) = info.value.problems
    assert problem.path == "daemon.metrics_listen"
    assert "the host is required" in problem.message
    assert problem.line == 2
