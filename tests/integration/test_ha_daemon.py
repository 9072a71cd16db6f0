"""Two ``sigap run`` daemons on one PostgreSQL (issue 23): one leads, the other takes over.

The devices are loopback addresses (127.0.0.0/8: nothing leaves the machine). Each daemon
serves /healthz on a port of its own; its ``ha`` section names the role, the node and the
leader it sees. ``kill -9`` of the leader: the standby leads and polls (the devices' state
reaches its /metrics). A leader frozen past its lease: the standby leads, and the old one,
resumed, stops with exit code 75 (systemd would start it again as a standby). A PostgreSQL
that stops answering (a private cluster, :mod:`tests.pgcluster`, frozen): the leader steps
down and exits 75 while it is still frozen, within the lease + 10 s (it waited for the
server's return, blocked in the lock session and the store thread); after the thaw one leads.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.conftest import wait_for
from tests.pgcluster import private_cluster

pytestmark = pytest.mark.integration

HANG = 120.0  # generous: only catches a hang
LEASE = 5.0  # daemon.ha.lease below
TAKEOVER = 30.0  # the bound: a leader again within 30 s
SIGAP = str(Path(sys.executable).with_name("sigap"))

INVENTORY = """\
office: {{name: Diskominfo (uji HA)}}
defaults:
  role: router
  platform: mikrotik_routeros
  ping: {{interval: 1s, count: 1, timeout: 500ms}}
hosts:
  core-r1: {{address: 127.0.0.31, opd: Diskominfo}}
  rsud-r1: {{address: 127.0.0.32, opd: RSUD Praya, parent: core-r1}}
daemon:
  database: "{url}"
  metrics_listen: "127.0.0.1:{port}"
  ha: {{node: {node}, cluster: {cluster}, lease: 5s}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Daemon:
    """One ``sigap run`` with its own inventory, port and log."""

    def __init__(self, tmp: Path, url: str, node: str, cluster: str) -> None:
        self.node, self.port = node, _free_port()
        inventory = tmp / f"{node}.yaml"
        text = INVENTORY.format(url=url, port=self.port, node=node, cluster=cluster)
        inventory.write_text(text, encoding="utf-8")
        self.log = (tmp / f"{node}.log").open("w")
        self.proc = subprocess.Popen(
            [SIGAP, "run", "--inventory", str(inventory)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def get(self, path: str) -> str | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return str(r.read().decode())
        except OSError:
            return None

    def ha(self) -> dict[str, object] | None:
        body = self.get("/healthz")
        return json.loads(body)["ha"] if body else None

    def role(self, role: str) -> dict[str, object] | None:
        ha = self.ha()
        return ha if ha is not None and ha["role"] == role else None

    def polls(self) -> bool | None:
        body = self.get("/metrics") or ""
        return True if 'sigap_device_up{device="core-r1"' in body else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.proc.wait(timeout=HANG)
        self.log.close()


@pytest.fixture
def pair(tmp_path: Path, pg_url: str) -> tuple[Daemon, Daemon]:
    cluster = f"uji-{uuid.uuid4().hex[:8]}"
    a = Daemon(tmp_path, pg_url, "noc-a", cluster)
    wait_for("noc-a to lead", lambda: a.role("leader"), HANG)
    b = Daemon(tmp_path, pg_url, "noc-b", cluster)
    return a, b


def test_the_standby_names_the_leader_and_takes_over_after_kill_9(
    pair: tuple[Daemon, Daemon],
) -> None:
    a, b = pair
    try:
        seen = wait_for("noc-b standing by", lambda: b.role("standby"), HANG)
        assert seen["leader"] == "noc-a"
        wait_for("noc-a polling", a.polls, HANG)
        assert b.polls() is None, "a standby must not poll"
        assert 'sigap_ha_leader{node="noc-a"} 1.0' in (a.get("/metrics") or "")
        a.proc.send_signal(signal.SIGKILL)
        now = wait_for("noc-b to lead", lambda: b.role("leader"), HANG)
        assert now["leader"] == "noc-b"
        wait_for("noc-b polling", b.polls, HANG)
    finally:
        a.stop()
        b.stop()


def test_a_leader_frozen_past_its_lease_steps_down_with_75(pair: tuple[Daemon, Daemon]) -> None:
    a, b = pair
    try:
        wait_for("noc-b standing by", lambda: b.role("standby"), HANG)
        a.proc.send_signal(signal.SIGSTOP)
        wait_for("noc-b to lead", lambda: b.role("leader"), HANG)
        a.proc.send_signal(signal.SIGCONT)
        assert a.proc.wait(timeout=HANG) == 75
        log = Path(a.log.name).read_text(encoding="utf-8")
        assert "leadership lost" in log
        assert b.proc.poll() is None
        assert b.role("leader") is not None
    finally:
        a.stop()
        b.stop()


def test_a_database_that_stops_answering_makes_the_leader_exit_75_while_it_is_frozen(
    tmp_path: Path,
) -> None:
    with private_cluster() as pg:
        cluster = f"uji-{uuid.uuid4().hex[:8]}"
        a = Daemon(tmp_path, pg.url(), "noc-a", cluster)
        b: Daemon | None = None
        try:
            wait_for("noc-a to lead", lambda: a.role("leader"), HANG)
            b = Daemon(tmp_path, pg.url(), "noc-b", cluster)
            wait_for("noc-b standing by", lambda: b.role("standby"), HANG)
            wait_for("noc-a polling", a.polls, HANG)
            pg.freeze()
            frozen = time.monotonic()
            # steps down within the lease (a renewal unanswered at the fence has failed), and
            # nothing of the shutdown waits on the frozen server: bound = lease + 10 s
            assert a.proc.wait(timeout=LEASE + 10.0) == 75
            print(f"noc-a exited {time.monotonic() - frozen:.1f} s after the freeze")
            log = Path(a.log.name).read_text(encoding="utf-8")
            assert "leadership lost" in log
            assert b.proc.poll() is None, "the standby must keep waiting through the freeze"
            pg.thaw()
            now = wait_for("noc-b to lead after the thaw", lambda: b.role("leader"), TAKEOVER)
            assert now["leader"] == "noc-b"
        finally:
            pg.thaw()
            a.stop()
            if b is not None:
                b.stop()
