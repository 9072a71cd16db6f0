"""SNMP faults end to end: real net-snmp agents in the lab, the daemon in the NOC namespace,
tickets in SQLite and PostgreSQL (issue 4's lab tests). Each test runs on one database: the
SNMP detection is the point here, the store is tested on both in tests/unit."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_lab_capabilities, wait_for
from tests.labagent import Agent
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ticketing.store import TicketStore
    from ticketing.views import TicketView

pytestmark = pytest.mark.integration

SNMP_INTERVAL = 2.0
INVENTORY = """
office: {name: Diskominfo Uji}
lab: {prefixes: [10.62.0.0/16], noc_address: 10.62.255.254}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Kesehatan
  snmp: {version: "2c", community_file: community, interval: 2s, timeout: 1s, retries: 0}
  interfaces:
    ether2: {required_up: true, description: LAN OPD}
hosts:
  core:
    address: 10.62.0.1
    snmp:
      version: "3"
      user: sigap-noc
      auth_protocol: sha
      auth_key_file: auth-key
      priv_protocol: aes128
      priv_key_file: priv-key
  rtr: {address: 10.62.1.1, parent: core}
  sw: {address: 10.62.1.2, parent: rtr, role: switch}
"""
SECRETS = {"community": "lab-community", "auth-key": "lab-auth-key-1", "priv-key": "lab-priv-key-1"}


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists():
        from tests.conftest import unavailable

        unavailable("net-snmp snmpd is not installed (apt-get install snmpd)")
    folder = tmp_path_factory.mktemp("snmpinv")
    for name, value in SECRETS.items():
        (folder / name).write_text(value + "\n")
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY)
    lab = Lab(f"s{os.getpid() % 100000}")
    try:
        labctl.up(load_inventory(path), lab)
        yield lab, path
    finally:
        lab.down()


@pytest.fixture
def agent(agent: Agent) -> Agent:
    """The shared agent fixture, started, after every device was polled over SNMP once."""
    agent.start()
    agent.wait_snmp_answered()
    return agent


def find(store: TicketStore, key: str, status: TicketState) -> TicketView | None:
    return next(
        (t for t in store.list(limit=100) if t.fault_key == key and t.status is status), None
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unplugged_port_opens_interface_down_then_resolves(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    lab.unplug("rtr", "ether3")
    ticket = wait_for(
        "interface_down on rtr ether3",
        lambda: find(store, "rtr/interface_down/ether3", TicketState.OPEN),
        timeout=15,
    )
    assert "ether3" in ticket.summary
    assert "(" in ticket.summary  # the alias is shown next to the name
    lab.plug("rtr", "ether3")
    wait_for(
        "interface_down resolved",
        lambda: find(store, "rtr/interface_down/ether3", TicketState.RESOLVED),
        timeout=20,
    )
    assert agent.stop() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_required_port_admin_down_is_interface_disabled_ordinary_port_is_not(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    lab.if_down("rtr", "ether4")  # an ordinary port: shutting it is a choice
    lab.if_down("sw", "ether2")  # marked required_up in the inventory
    wait_for(
        "interface_disabled on sw ether2",
        lambda: find(store, "sw/interface_disabled/ether2", TicketState.OPEN),
        timeout=15,
    )
    time.sleep(SNMP_INTERVAL * 2)
    keys = [t.fault_key for t in store.list(limit=100)]
    assert keys == ["sw/interface_disabled/ether2"]
    lab.if_up("sw", "ether2")
    wait_for(
        "interface_disabled resolved",
        lambda: find(store, "sw/interface_disabled/ether2", TicketState.RESOLVED),
        timeout=20,
    )
    assert agent.stop() == 0


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_silent_snmp_agent_with_ping_fine_is_snmp_unreachable(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    lab.snmp_stop("core")  # the v3 device
    ticket = wait_for(
        "snmp_unreachable on core",
        lambda: find(store, "core/snmp_unreachable", TicketState.OPEN),
        timeout=15,
    )
    assert "ping normal" in ticket.summary
    assert [t.fault_key for t in store.active()] == ["core/snmp_unreachable"]  # not device_down
    lab.snmp_start("core")
    wait_for(
        "snmp_unreachable resolved",
        lambda: find(store, "core/snmp_unreachable", TicketState.RESOLVED),
        timeout=25,
    )
    assert agent.stop() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_snmp_agent_restart_is_not_a_reboot(lab: Lab, agent: Agent, store: TicketStore) -> None:
    lab.snmp_restart("rtr")  # sysUpTime resets, the host's hrSystemUptime does not
    time.sleep(SNMP_INTERVAL * 4)
    assert store.list(limit=100) == []
    assert "SNMP agent restarted" in agent.log.read_text()
    assert agent.stop() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_wrong_v3_key_gives_a_clear_reason(
    lab: Lab, lab_env: tuple[Lab, Path], db_url: str, store: TicketStore, tmp_path: Path
) -> None:
    # the lab serves the right key; this agent is configured with a wrong one
    folder = lab_env[1].parent
    wrong = tmp_path / "inv"
    wrong.mkdir()
    for name in SECRETS:
        (wrong / name).write_text((folder / name).read_text())
    (wrong / "auth-key").write_text("not-the-key-1\n")
    (wrong / "inventory.yaml").write_text(INVENTORY)
    agent = Agent(lab, wrong / "inventory.yaml", db_url, tmp_path)
    try:
        agent.start()
        ticket = wait_for(
            "snmp_unreachable with the reason",
            lambda: find(store, "core/snmp_unreachable", TicketState.OPEN),
            timeout=20,
        )
        assert "wrong digest (auth key)" in ticket.summary
    finally:
        agent.close()
