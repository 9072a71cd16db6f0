"""``link_lost`` from the running daemon against real LLDP (issue 11).

The lab is a tree: each device is routed through its parent, so pulling a tree cable hides
the child (device_down's job, not link_lost's). A cable whose ends both keep answering
needs a second path: the test lays a backup cable between the two OPD routers (a veth
``bk0`` between their namespaces, no addresses and no routes, like a standby radio link)
and tells their lldpd to speak on it (``lldpcli configure system interface pattern``).
The agent (re-discovery every 3 s) takes it as part of its baseline; pulling it (``ip
link set bk0 down``) -> one ``link_lost`` ticket while opd1 and opd2 answer ping through
the tree; plugging it back -> the ticket clears and resolves after the hold-down.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet import lldp
from labnet.lab import Lab
from tests.conftest import require_lab_capabilities, unavailable, wait_for
from ticketing.states import TicketState
from ticketing.topology import TopologyStore

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.labagent import Agent
    from ticketing.store import TicketStore

pytestmark = pytest.mark.integration

LAB = Lab(f"k{os.getpid() % 100000}")
INVENTORY = """\
office: {name: Diskominfo Uji}
lab: {prefixes: [10.65.0.0/16], noc_address: 10.65.255.254}
topology: {interval: 3s}
groups:
  core: {tags: [core]}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Diskominfo
  ping: {interval: 1s}
  snmp: {version: "2c", community_file: community, timeout: 1s, retries: 1, interval: 1h}
hosts:
  core: {address: 10.65.0.1, groups: [core]}
  dist: {address: 10.65.10.1, parent: core}
  opd1: {address: 10.65.11.1, parent: dist, opd: Dinas Satu}
  opd2: {address: 10.65.12.1, parent: dist, opd: Dinas Dua}
"""
BACKUP = ("opd1", "bk0", "opd2", "bk0")
KEY = "opd1/link_lost/bk0"
LLDPCLI = "/usr/sbin/lldpcli"


def ip(device: str, *args: str) -> None:
    subprocess.run(["ip", "-n", LAB.device_netns(device), *args], check=True, timeout=10)


def lay_backup_cable() -> None:
    """A veth between opd1 and opd2 (lab namespaces only) with LLDP on both ends."""
    spec = LAB.status().spec
    assert spec is not None
    peer = LAB.device_netns("opd2")
    ip("opd1", "link", "add", "bk0", "type", "veth", "peer", "name", "bk0", "netns", peer)
    for device in ("opd1", "opd2"):
        ip(device, "link", "set", "bk0", "up")
        pattern = ",".join([*lldp.interfaces(spec, device), "bk0"])
        subprocess.run(
            [LLDPCLI, "-u", str(LAB.snmp_dir(device) / "lldpd.ctl"),
             "configure", "system", "interface", "pattern", pattern],
            check=True, timeout=10, capture_output=True,
        )  # fmt: skip


def discovered_backup(inventory: Path) -> bool | None:
    argv = LAB.noc_argv([sys.executable, "-m", "agent", "discover", "-i", str(inventory), "--json"])
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return True if '"b_port": "bk0"' in out.stdout and '"a_port": "bk0"' in out.stdout else None


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    for binary in ("/usr/sbin/snmpd", lldp.LLDPD, LLDPCLI):
        if not Path(binary).exists():
            unavailable(f"{binary} is needed (deploy/bootstrap.sh installs it)")
    folder = tmp_path_factory.mktemp("linklost")
    (folder / "community").write_text("linklost-65\n")
    inventory = folder / "inventory.yaml"
    inventory.write_text(INVENTORY)
    try:
        labctl.up(load_inventory(inventory), LAB)
        lay_backup_cable()
        wait_for("LLDP on the backup cable", lambda: discovered_backup(inventory), timeout=40)
        yield LAB, inventory
    finally:
        LAB.down()


def stored(store: TicketStore) -> dict[tuple[str, str, str, str], bool]:
    return {r.key: r.lost_at is not None for r in TopologyStore(store).links()}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_pulled_backup_cable_is_link_lost_and_plugging_it_back_clears(
    agent: Agent, store: TicketStore
) -> None:
    agent.start()
    wait_for(
        "the baseline with the backup cable", lambda: BACKUP in stored(store) or None, timeout=30
    )
    assert len(stored(store)) == 4
    ip("opd1", "link", "set", "bk0", "down")  # pull the cable
    try:
        wait_for("a link_lost ticket", lambda: store.active() or None, timeout=60)
        (ticket,) = store.active()  # opd1 and opd2 still answer: no device_down
        assert (ticket.fault_key, ticket.kind, ticket.opd) == (KEY, "link_lost", "Dinas Satu")
        assert ticket.summary == (
            "Link opd1 bk0 <-> opd2 bk0 hilang, padahal kedua perangkat menjawab"
        )
        assert stored(store)[BACKUP] is True
    finally:
        ip("opd1", "link", "set", "bk0", "up")  # plug it back
    wait_for(
        "the ticket to resolve",
        lambda: store.get(ticket.number).status is TicketState.RESOLVED or None,
        timeout=60,
    )
    assert stored(store)[BACKUP] is False
    assert [t.fault_key for t in store.list()] == [KEY]
    assert agent.stop() == 0
    log = agent.log.read_text()
    assert "link lost while both ends answer" in log
