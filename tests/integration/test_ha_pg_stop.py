"""PostgreSQL stopped under two HA daemons (issue 23): the leader steps down, one leads after.

Two ``sigap run`` daemons of one cluster in a small lab's NOC share a PostgreSQL cluster of
this test's own (:mod:`tests.pgcluster`: its unix socket only, so stopping it disturbs no other
test). A router is dead, so a fault is open (one ticket, one "opened" message to the Kasi)
when PostgreSQL is stopped (``pg_ctl stop -m fast``). The leader must notice the lost lock
session and step down *while the database is still down* (from then on its fence refuses
every write, so it writes nothing once the database is back without holding the lock), then
exit with code 75 promptly, also while it is down: nothing of its shutdown may wait on the
dead database (it took 14-25 s; the bound is the lease + 10 s, generous, it only catches a
hang). It is started again as systemd would (``Restart=on-failure``). After PostgreSQL starts
again exactly one daemon leads within 30 s, the other names it, the leader resumed the open
fault from the database (and shows the router down on /metrics at once), and the database
still holds one ticket for the fault and one "opened" notification row (the message itself
at most twice with the same Ref: at-least-once).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from agent.config.load import load_inventory
from agent.lab import control as labctl
from agent.runtime.leader import LOST_EXIT
from labnet.lab import Lab
from labnet.netns import entered
from tests.conftest import require_lab_capabilities, wait_for
from tests.integration.notify_receivers import JsonReceiver
from tests.pgcluster import Cluster, private_cluster
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

HANG = 120.0  # generous: only catches a hang
TAKEOVER = 30.0  # the bound: a leader again within 30 s of the database's return
DOWN_SECONDS = 10.0
LEASE = 5.0  # daemon.ha.lease below
EXIT_BOUND = LEASE + 10.0  # "leadership lost" -> exit 75, the database still down
INVENTORY = """\
office: {{name: Diskominfo Uji HA PG}}
lab: {{prefixes: [10.68.0.0/16], noc_address: 10.68.255.254}}
daemon:
  metrics_listen: "127.0.0.1:{port}"
  ha: {{node: {node}, cluster: {cluster}, lease: 5s}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  ping: {{interval: 1s, count: 1, timeout: 500ms}}
hosts:
  core: {{address: 10.68.0.1}}
  rtr: {{address: 10.68.1.1, parent: core}}
  sw1: {{address: 10.68.1.2, parent: rtr, role: switch}}
people:
  - {{name: Baiq Kasi, role: kasi, apprise: ["{kasi}"]}}
"""


class Node:
    """One ``sigap run --inventory NODE.yaml`` in the lab's NOC namespace (restartable)."""

    def __init__(self, lab: Lab, folder: Path, node: str, port: int, db: str) -> None:
        self.lab, self.folder, self.node, self.port, self.db = lab, folder, node, port, db
        self.log = folder / f"{node}.log"
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "agent", "run"]
        argv += ["--inventory", str(self.folder / f"{self.node}.yaml")]
        argv += ["--db", self.db, "--hold-down", "3"]
        with self.log.open("ab") as log:
            return subprocess.Popen(
                self.lab.noc_argv(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def restart(self) -> None:
        """Start it again after it exited, as systemd's Restart=on-failure would."""
        assert self.proc.poll() is not None
        self.proc = self._start()

    def ha(self) -> dict[str, object] | None:
        with entered(self.lab.noc_netns):
            try:
                url = f"http://127.0.0.1:{self.port}/healthz"
                with urllib.request.urlopen(url, timeout=3) as response:
                    return dict(json.loads(response.read())["ha"])
            except (OSError, ValueError, KeyError):
                return None

    def metrics(self) -> str:
        with entered(self.lab.noc_netns):
            try:
                url = f"http://127.0.0.1:{self.port}/metrics"
                with urllib.request.urlopen(url, timeout=3) as response:
                    return str(response.read().decode())
            except OSError:
                return ""

    def role(self, role: str) -> dict[str, object] | None:
        ha = self.ha()
        return ha if ha is not None and ha["role"] == role else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=HANG)


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    folder = tmp_path_factory.mktemp("hapg")
    lab = Lab(f"p{os.getpid() % 100000}")
    (folder / "lab.yaml").write_text(
        INVENTORY.format(port=1, node="lab", cluster="lab", kasi="json://127.0.0.1:1/kasi")
    )
    try:
        labctl.up(load_inventory(folder / "lab.yaml"), lab)
        yield lab, folder
    finally:
        lab.down()


def _tickets(store: TicketStore) -> list[tuple[str, str]]:
    return [(t.number, t.device) for t in store.list(limit=50)]


def _opened_rows(store: TicketStore, number: str) -> int:
    with store.transaction(write=False) as session:
        rows = session.execute(
            text(
                "SELECT n.id FROM notifications n JOIN tickets t ON t.id = n.ticket_id "
                "WHERE t.number = :n AND n.kind = 'opened'"
            ),
            {"n": number},
        ).all()
    return len(rows)


def _one_leader(nodes: list[Node]) -> tuple[Node, Node] | None:
    """(leader, standby) once exactly one of the two leads and the other stands by."""
    roles = {n.node: (n.ha() or {}).get("role") for n in nodes}
    leaders = [n for n in nodes if roles[n.node] == "leader"]
    standbys = [n for n in nodes if roles[n.node] == "standby"]
    return (leaders[0], standbys[0]) if len(leaders) == 1 and len(standbys) == 1 else None


def _stepped_down(node: Node) -> bool | None:
    return True if "leadership lost" in node.log.read_text(encoding="utf-8") else None


def _names(standby: Node, leader: Node) -> bool | None:
    ha = standby.role("standby")
    return True if ha is not None and ha["leader"] == leader.node else None


def _resumed(leader: Node, mark: int) -> None:
    """The new leader restored the open fault from the database and sees rtr down."""

    def since_restart() -> str:
        with leader.log.open("rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace")

    wait_for(
        "the new leader to resume the open ticket",
        lambda: "resuming 1 active tickets" in since_restart() or None,
        HANG,
    )

    def rtr_down() -> bool | None:
        lines = leader.metrics().splitlines()
        down = [x for x in lines if x.startswith('sigap_device_up{device="rtr"')]
        return True if down and down[0].endswith(" 0.0") else None

    wait_for("the new leader to see rtr down", rtr_down, HANG)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """This test's own PostgreSQL (stopped and started by the test; removed after)."""
    with private_cluster() as made:
        yield made


def _stacks(proc: subprocess.Popen[bytes]) -> str:
    """Every thread's stack of a stuck daemon (py-spy), for the failure message."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return "(py-spy not installed)"
    # `ip netns exec` execs the daemon: the Popen's pid is the daemon's
    dump = subprocess.run(
        [str(spy), "dump", "--pid", str(proc.pid)], capture_output=True, timeout=HANG, check=False
    )
    return (dump.stdout + dump.stderr).decode(errors="replace")


def _exits_promptly(node: Node) -> float:
    """Seconds from "leadership lost" (seen in the log) to exit 75; fail with stacks if stuck."""
    lost = time.monotonic()
    try:
        code = node.proc.wait(timeout=EXIT_BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"{node.node} still running {EXIT_BOUND:g} s after leadership lost:\n"
            + _stacks(node.proc)
        )
    assert code == LOST_EXIT
    return time.monotonic() - lost


def test_a_postgres_stop_makes_the_leader_step_down_and_one_leads_after(
    lab_folder: tuple[Lab, Path], cluster: Cluster
) -> None:
    lab, folder = lab_folder
    pg_url = cluster.url()
    with entered(lab.noc_netns):  # the Kasi's gateway, where the daemons can reach it
        kasi = JsonReceiver().start()
    ha_cluster = f"uji-{uuid.uuid4().hex[:8]}"
    ports = {"noc-a": 19481, "noc-b": 19482}
    for node, port in ports.items():
        (folder / f"{node}.yaml").write_text(
            INVENTORY.format(port=port, node=node, cluster=ha_cluster, kasi=kasi.url("kasi"))
        )
    nodes: list[Node] = []
    try:
        a = Node(lab, folder, "noc-a", ports["noc-a"], pg_url)
        nodes.append(a)
        wait_for("noc-a to lead", lambda: a.role("leader"), HANG)
        b = Node(lab, folder, "noc-b", ports["noc-b"], pg_url)
        nodes.append(b)
        wait_for("noc-b standing by", lambda: b.role("standby"), HANG)
        lab.fail("rtr")
        with TicketStore(pg_url) as store:

            def opened() -> str | None:
                rtr = [n for n, d in _tickets(store) if d == "rtr"]
                return rtr[0] if len(rtr) == 1 and kasi.to("kasi") else None

            number = wait_for("the fault's ticket and the Kasi's message", opened, HANG)
            assert [d for _, d in _tickets(store)] == ["rtr"]
            store.engine.dispose()  # no pooled session of the test across the stop

        cluster.stop()
        down_at = time.monotonic()
        # the leader steps down while the database is still down: from then on every
        # write is refused by its fence, so nothing is written once the database is back
        wait_for("noc-a to step down", lambda: _stepped_down(a), HANG)
        # and exits while it is still down: nothing of its shutdown waits on the database
        exited = _exits_promptly(a)
        print(f"noc-a exited {exited:.1f} s after leadership lost (database down)")
        assert b.proc.poll() is None, "the standby must keep waiting through the outage"
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
        marks = {n.node: n.log.stat().st_size for n in nodes}  # what follows is after
        cluster.start()
        a.restart()  # systemd's Restart=on-failure: it comes back and competes for the lock

        leader, standby = wait_for(
            "exactly one leader after the restart", lambda: _one_leader(nodes), TAKEOVER
        )
        wait_for("the standby to name the leader", lambda: _names(standby, leader), HANG)
        assert all(n.proc.poll() is None for n in nodes)

        _resumed(leader, marks[leader.node])
        with TicketStore(pg_url) as store:
            assert [(n, d) for n, d in _tickets(store)] == [(number, "rtr")]
            assert _opened_rows(store, number) == 1
        about = [p for p in kasi.to("kasi") if number in p.message or number in p.title]
        assert 1 <= len(about) <= 2, f"{len(about)} messages about {number}"
    finally:
        for n in nodes:
            n.stop()
        lab.restore("rtr")
        kasi.stop()
        for n in nodes:
            print(f"--- {n.node}\n{n.log.read_text()[-2500:]}")
