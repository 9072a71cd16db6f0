"""The monitoring deploy files against Debian's real promtool and prometheus, on 127.0.0.1 only:
promtool check rules/config and the rule unit tests; a prometheus that scrapes a sigap metrics
endpoint, loads the alert rules, and parses and evaluates every dashboard query."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from prometheus_client import CollectorRegistry

from agent.config.listen import ListenAddress
from agent.detect.ping import DeviceState
from agent.runtime.httpd import HealthChecks, MetricsServer
from agent.runtime.metrics import Metrics
from collectors.model import InterfaceRow, Observation, ProbeStatus, SnmpPoll
from tests.conftest import unavailable, wait_for
from tests.monitoring import RULE_TESTS, RULES, SCRAPE_CONFIG, dashboard_queries, substitute

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        unavailable(f"`{name}` is not installed (deploy/bootstrap.sh installs Debian's prometheus)")
    return path


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_promtool_check_rules():
    result = run(tool("promtool"), "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_config():
    result = run(tool("promtool"), "check", "config", str(SCRAPE_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests():
    result = run(tool("promtool"), "test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests_can_fail(tmp_path):
    """The rule tests compare annotations exactly: a wrong expectation is reported."""
    broken = RULE_TESTS.read_text(encoding="utf-8").replace("waited 20m 0s", "waited 1m")
    (tmp_path / "sigap-rules.yml").write_text(RULES.read_text(encoding="utf-8"))
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "broken.test.yml").write_text(broken)
    result = run(tool("promtool"), "test", "rules", str(tmp_path / "t" / "broken.test.yml"))
    assert result.returncode != 0
    assert "SigapOutboxStuck" in result.stdout + result.stderr


# -- a real prometheus scraping a sigap endpoint --------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedMetrics:
    """A MetricsServer with some sigap data, on its own loop in a thread, on 127.0.0.1."""

    def __init__(self) -> None:
        self.metrics = Metrics(CollectorRegistry(), version="0.0-test")
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="metrics-http", daemon=True)

    def fill(self) -> None:
        m = self.metrics
        m.set_devices({"rtr-core": "Diskominfo", "rtr-setda": "Sekretariat Daerah"})
        m.device_state("rtr-core", DeviceState.UP)
        m.device_state("rtr-setda", DeviceState.DOWN)
        at = datetime.now(UTC)
        m.observe_ping(Observation("rtr-core", "ping", ProbeStatus.OK, at, value=0.002, loss=0.0))
        rows = (InterfaceRow(1, name="ether1", admin_up=True, oper_up=False),)
        m.observe_snmp(SnmpPoll("rtr-core", at, ProbeStatus.OK, interfaces=rows, duration=0.03))
        m.poll_finished("ping", 1.2, interval=5)
        m.notification_sent("telegram", "failed")
        m.remediation_finished("bounce-port", "succeeded")
        m.ticket_opened("device_down", "opened")
        m.set_outbox("tickets", 0)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        health = HealthChecks.from_metrics(self.metrics)
        address = ListenAddress("127.0.0.1", 0)
        async with MetricsServer(self.metrics.registry, health, address) as server:
            self.port = server.port
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ServedMetrics:
        self.fill()
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()


class Prometheus:
    """Debian's prometheus on 127.0.0.1:<free port>, temp storage, scraping one target."""

    def __init__(self, tmp: Path, target_port: int) -> None:
        self.port = free_port()
        shutil.copy(RULES, tmp / "sigap-rules.yml")
        (tmp / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "rule_files: [sigap-rules.yml]\n"
            "scrape_configs:\n"
            "  - job_name: sigap\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n",
            encoding="utf-8",
        )
        self.log = tmp / "prometheus.log"
        argv = [
            tool("prometheus"),
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def api(self, path: str, **params: str) -> tuple[int, dict]:
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def ready(self) -> bool | None:
        if self.proc.poll() is not None:
            pytest.fail(f"prometheus exited: {self.log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/-/ready", timeout=2
            ) as response:
                return True if response.status == 200 else None
        except OSError:
            return None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory) -> Iterator[Prometheus]:
    tool("prometheus")
    tmp = tmp_path_factory.mktemp("prometheus")
    with ServedMetrics() as served:
        prom = Prometheus(tmp, served.port)
        try:
            wait_for("prometheus ready", prom.ready, timeout=60)
            yield prom
        finally:
            prom.stop()


def _query(prom: Prometheus, expr: str) -> list[dict] | None:
    status, body = prom.api("query", query=expr)
    assert status == 200, body
    return body["data"]["result"] or None


def test_prometheus_scrapes_sigap_device_up(prometheus):
    result = wait_for(
        "sigap_device_up scraped", lambda: _query(prometheus, "sigap_device_up"), timeout=30
    )
    by_device = {r["metric"]["device"]: r["value"][1] for r in result}
    assert by_device == {"rtr-core": "1", "rtr-setda": "0"}
    assert result[0]["metric"]["job"] == "sigap"
    up = _query(prometheus, 'up{job="sigap"}')
    assert up is not None
    assert up[0]["value"][1] == "1"


def test_prometheus_loads_and_evaluates_the_alert_rules(prometheus):
    def evaluated() -> list[dict] | None:
        status, body = prometheus.api("rules")
        assert status == 200
        rules = [r for g in body["data"]["groups"] for r in g["rules"]]
        return rules if rules and all(r.get("lastEvaluation", "0001")[:4] != "0001"
                                      for r in rules) else None  # fmt: skip

    rules = wait_for("rules evaluated", evaluated, timeout=30)
    assert len(rules) == 10
    for rule in rules:
        assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))


@pytest.mark.parametrize(("where", "expr"), dashboard_queries(), ids=lambda v: v[:50])
def test_dashboard_query_parses_and_evaluates(prometheus, where, expr):
    status, body = prometheus.api("query", query=substitute(expr))
    assert status == 200, f"{where}: {body.get('errorType')}: {body.get('error')}\n{expr}"
    assert body["status"] == "success"
