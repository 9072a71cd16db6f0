"""Failover under a storm in the lab (issue 23): two daemons in the NOC, the leader killed.

A distribution router (``rtr``) dies with three devices behind it while two ``sigap run``
daemons of one cluster share the machine's PostgreSQL; the leader is killed with ``kill -9``
at a random moment of the storm (seeded: the seed is printed). The standby leads, and the
database then holds exactly one ticket for the storm, the three children attached to it, and
one "opened" notification to the Kasi (delivered at least once: twice with the same row only
when the kill hit the message in flight).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from labnet.netns import entered
from tests.conftest import require_lab_capabilities, wait_for
from tests.integration.notify_receivers import JsonReceiver
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

HANG = 120.0
CHILDREN = ("sw1", "sw2", "sw3")
INVENTORY = """\
office: {{name: Diskominfo Uji HA}}
lab: {{prefixes: [10.67.0.0/16], noc_address: 10.67.255.254}}
daemon:
  metrics_listen: "127.0.0.1:{port}"
  ha: {{node: {node}, cluster: {cluster}, lease: 5s}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  ping: {{interval: 1s, count: 1, timeout: 500ms}}
hosts:
  core: {{address: 10.67.0.1}}
  rtr: {{address: 10.67.1.1, parent: core}}
  sw1: {{address: 10.67.1.2, parent: rtr, role: switch}}
  sw2: {{address: 10.67.1.3, parent: rtr, role: switch}}
  sw3: {{address: 10.67.1.4, parent: rtr, role: switch}}
people:
  - {{name: Baiq Kasi, role: kasi, apprise: ["{kasi}"]}}
"""


class Node:
    """One ``sigap run --inventory NODE.yaml`` in the lab's NOC namespace."""

    def __init__(self, lab: Lab, folder: Path, node: str, port: int, db: str) -> None:
        self.lab, self.port, self.node = lab, port, node
        self.log = folder / f"{node}.log"
        argv = [sys.executable, "-m", "agent", "run", "--inventory", str(folder / f"{node}.yaml")]
        argv += ["--db", db, "--hold-down", "3"]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                lab.noc_argv(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def role(self, role: str) -> dict[str, object] | None:
        with entered(self.lab.noc_netns):
            try:
                url = f"http://127.0.0.1:{self.port}/healthz"
                with urllib.request.urlopen(url, timeout=3) as response:
                    ha = json.loads(response.read())["ha"]
            except (OSError, ValueError, KeyError):
                return None
        return ha if ha["role"] == role else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=HANG)


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    folder = tmp_path_factory.mktemp("ha")
    lab = Lab(f"h{os.getpid() % 100000}")
    (folder / "lab.yaml").write_text(
        INVENTORY.format(port=1, node="lab", cluster="lab", kasi="json://127.0.0.1:1/kasi")
    )
    try:
        labctl.up(load_inventory(folder / "lab.yaml"), lab)
        yield lab, folder
    finally:
        lab.down()


def test_killing_the_leader_in_a_storm_gives_one_ticket_and_one_message(
    lab_folder: tuple[Lab, Path], pg_url: str
) -> None:
    lab, folder = lab_folder
    seed = int(os.environ.get("SIGAP_HA_SEED", str(random.randrange(1_000_000))))
    print(f"SIGAP_HA_SEED={seed}")
    pause = random.Random(seed).uniform(0.0, 4.0)
    with entered(lab.noc_netns):  # the Kasi's gateway, where the daemons can reach it
        kasi = JsonReceiver().start()
    cluster = f"uji-{uuid.uuid4().hex[:8]}"
    ports = {"noc-a": 19471, "noc-b": 19472}
    for node, port in ports.items():
        (folder / f"{node}.yaml").write_text(
            INVENTORY.format(port=port, node=node, cluster=cluster, kasi=kasi.url("kasi"))
        )
    a = Node(lab, folder, "noc-a", ports["noc-a"], pg_url)
    b = None
    try:
        wait_for("noc-a to lead", lambda: a.role("leader"), HANG)
        b = Node(lab, folder, "noc-b", ports["noc-b"], pg_url)
        wait_for("noc-b standing by", lambda: b.role("standby"), HANG)
        time.sleep(3)  # noc-a polls the healthy network a few rounds
        lab.fail("rtr")
        time.sleep(pause)  # somewhere in detection, the write or the message
        a.proc.send_signal(signal.SIGKILL)
        wait_for("noc-b to lead", lambda: b.role("leader"), HANG)
        with TicketStore(pg_url) as store:

            def storm() -> tuple[str, set[str]] | None:
                tickets = [t for t in store.list(limit=50) if t.device == "rtr"]
                if len(tickets) != 1:
                    return None
                attached = {a.device for a in tickets[0].affected if a.detached_at is None}
                return (tickets[0].number, attached) if attached == set(CHILDREN) else None

            number, _ = wait_for("one ticket for rtr, children attached", storm, HANG)
            others = [t for t in store.list(limit=50) if t.device != "rtr"]
            assert others == [], f"seed {seed}: tickets besides the storm's: {others}"
            wait_for("the Kasi's message", lambda: kasi.to("kasi") or None, HANG)
            with store.transaction(write=False) as session:
                rows = session.execute(
                    text(
                        "SELECT n.id FROM notifications n JOIN tickets t ON t.id = n.ticket_id "
                        "WHERE t.number = :n AND n.kind = 'opened'"
                    ),
                    {"n": number},
                ).all()
        assert len(rows) == 1, f"seed {seed}: opened notifications {rows}"
        about = [p for p in kasi.to("kasi") if number in p.message or number in p.title]
        assert 1 <= len(about) <= 2, f"seed {seed}: {len(about)} messages about {number}"
    finally:
        a.stop()
        if b is not None:
            b.stop()
        lab.restore("rtr")
        kasi.stop()
        for node in ("noc-a", "noc-b"):
            log = folder / f"{node}.log"
            if log.exists():
                print(f"--- {node}\n{log.read_text()[-2500:]}")
