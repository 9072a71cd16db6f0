"""Operations end to end in the lab (issue 8): Debian's real prometheus scrapes a running
agent (both in the lab's NOC namespace) and sees sigap_device_up; the PostgreSQL server is
stopped while the agent runs, polling goes on, /healthz says so, and after the restart the
queued ticket appears exactly once. The server stopped is a private one of the test
(:mod:`tests.pgcluster`), never the machine's, which other tests share."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from labnet.netns import entered
from tests.conftest import require_lab_capabilities, unavailable, wait_for
from tests.labagent import Agent
from tests.pgcluster import Cluster, private_cluster
from ticketing.states import TicketState
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

METRICS_PORT = 19464
PROM_PORT = 19090
INVENTORY = f"""
office: {{name: Diskominfo Uji}}
lab: {{prefixes: [10.66.0.0/16], noc_address: 10.66.255.254}}
daemon: {{metrics_listen: "127.0.0.1:{METRICS_PORT}"}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  ping: {{interval: 1s, count: 1, timeout: 500ms}}
hosts:
  core: {{address: 10.66.0.1}}
  rtr: {{address: 10.66.1.1, parent: core}}
  sw: {{address: 10.66.1.2, parent: rtr, role: switch}}
"""


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    folder = tmp_path_factory.mktemp("opsinv")
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY)
    lab = Lab(f"o{os.getpid() % 100000}")
    try:
        labctl.up(load_inventory(path), lab)
        yield lab, path
    finally:
        lab.down()


def get(lab: Lab, url: str) -> tuple[int, Any]:
    """HTTP GET from inside the lab's NOC namespace (where the agent's loopback is)."""
    with entered(lab.noc_netns):
        try:
            with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - loopback
                body = response.read().decode()
                status = response.status
        except urllib.error.HTTPError as exc:
            body, status = exc.read().decode(), exc.code
        except OSError:
            return 0, None
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def test_real_prometheus_scrapes_the_running_agent(
    lab_env: tuple[Lab, Path], tmp_path: Path
) -> None:
    prometheus = shutil.which("prometheus") or ""
    if not prometheus:
        unavailable("prometheus is not installed (deploy/bootstrap.sh installs it)")
    lab, inventory = lab_env
    agent = Agent(lab, inventory, TicketStore.sqlite_url(tmp_path / "s.db"), tmp_path)
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: sigap\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{METRICS_PORT}']}}]\n"
    )
    argv = [
        prometheus,
        f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{PROM_PORT}",
        "--log.level=warn",
    ]
    with (tmp_path / "prometheus.log").open("wb") as log:
        prom = subprocess.Popen(lab.noc_argv(argv), stdout=log, stderr=subprocess.STDOUT)
    try:
        agent.start()
        lab.fail("sw")
        query = urllib.parse.urlencode({"query": "sigap_device_up"})

        def scraped() -> dict[str, str] | None:
            status, body = get(lab, f"http://127.0.0.1:{PROM_PORT}/api/v1/query?{query}")
            if status != 200 or not isinstance(body, dict):
                return None
            values = {r["metric"]["device"]: r["value"][1] for r in body["data"]["result"]}
            return values if values.get("sw") == "0" and values.get("core") == "1" else None

        values = wait_for("prometheus sees sw down", scraped, timeout=30)
        assert values == {"core": "1", "rtr": "1", "sw": "0"}
        status, health = get(lab, f"http://127.0.0.1:{METRICS_PORT}/healthz")
        assert status == 200, health
        assert health["database"]["reachable"] is True
        assert agent.stop() == 0
    finally:
        prom.terminate()
        prom.wait(15)
        agent.close()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """This test's own PostgreSQL (stopped and started by the test; removed after)."""
    with private_cluster() as made:
        yield made


def test_postgresql_restart_while_the_agent_runs_loses_and_duplicates_nothing(
    lab_env: tuple[Lab, Path], cluster: Cluster, tmp_path: Path
) -> None:
    lab, inventory = lab_env
    pg_url = cluster.url()
    agent = Agent(lab, inventory, pg_url, tmp_path)
    try:
        agent.start()
        cluster.stop()
        try:
            lab.fail("sw")
            time.sleep(6)  # detection happens, the write waits for the database
            assert agent.proc is not None
            assert agent.proc.poll() is None  # still running
            status, health = get(lab, f"http://127.0.0.1:{METRICS_PORT}/healthz")
            assert status == 503, health
            assert health["database"]["reachable"] is False
            log = agent.log.read_text()
            assert "ticket database unreachable" in log
        finally:
            cluster.start()
        with TicketStore(pg_url) as store:

            def one_open() -> list[str] | None:
                found = [t.number for t in store.list(limit=50) if t.device == "sw"]
                return found or None

            numbers = wait_for("sw's ticket after the restart", one_open, timeout=40)
            lab.restore("sw")
            wait_for(
                "resolved",
                lambda: next(
                    (t for t in store.list(limit=50) if t.status is TicketState.RESOLVED), None
                ),
                timeout=30,
            )
            assert [t.number for t in store.list(limit=50)] == numbers == [numbers[0]]
        assert agent.stop() == 0
    finally:
        agent.close()
        if agent.log.exists():
            print(agent.log.read_text()[-3000:])
