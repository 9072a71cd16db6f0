"""A trap that never arrives (issue 20): nftables in the NOC namespace drops every trap, and
the port fault is still found by the SNMP poll (interval 2 s here), with no trap on the ticket.

Run under the lab lock:
``flock /work/lab.lock .venv/bin/pytest tests/integration/test_events_lost_lab.py``.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_lab_capabilities, unavailable, wait_for
from ticketing import device_log
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.labagent import Agent
    from ticketing.store import TicketStore

pytestmark = pytest.mark.integration

NOC = "10.64.255.254"
TRAP_PORT = 10162
INVENTORY = f"""
office: {{name: Diskominfo Uji}}
lab: {{prefixes: [10.64.0.0/16], noc_address: {NOC}}}
defaults:
  platform: mikrotik_routeros
  role: router
  ping: {{interval: 1s}}
  snmp: {{version: "2c", community_file: community, interval: 2s, timeout: 1s, retries: 0}}
events:
  trap_listen: [{NOC}:{TRAP_PORT}]
hosts:
  rtr: {{address: 10.64.1.1}}
"""
DROP = (
    "table inet sigap_test { chain input { type filter hook input priority 0; "
    f"udp dport {TRAP_PORT} counter drop; }}; }}"
)


def dropped(lab: Lab) -> int:
    """Packets the NOC's nftables rule dropped (the traps snmpd did send)."""
    out = subprocess.run(
        lab.noc_argv(["nft", "list", "table", "inet", "sigap_test"]),
        check=True, capture_output=True, text=True, timeout=20,
    ).stdout  # fmt: skip
    return int(out.split("packets ", 1)[1].split()[0])


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists():
        unavailable("net-snmp snmpd is not installed (apt-get install snmpd)")
    folder = tmp_path_factory.mktemp("lostinv")
    (folder / "community").write_text("lab-community\n")
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY)
    lab = Lab(f"t{os.getpid() % 100000}")
    try:
        labctl.up(load_inventory(path), lab)
        subprocess.run(
            lab.noc_argv(["nft", "-f", "-"]), input=DROP.encode(), check=True,
            capture_output=True, timeout=20,
        )  # fmt: skip
        yield lab, path
    finally:
        lab.down()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_lost_trap_the_poll_still_finds_the_port(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    agent.start()
    time.sleep(5)  # two polls: the port's up state is known
    lab.unplug("rtr", "ether3")
    ticket = wait_for(
        "interface_down on rtr ether3 from the poll",
        lambda: next(
            (
                t
                for t in store.list(limit=100)
                if t.fault_key == "rtr/interface_down/ether3" and t.status is TicketState.OPEN
            ),
            None,
        ),
        timeout=30,
    )
    assert ticket.device == "rtr"
    assert dropped(lab) >= 1  # snmpd did send the linkDown trap; nftables took it
    assert [m for m in device_log.read(store, "rtr") if m.channel == "trap"] == []
    assert agent.stop() == 0
