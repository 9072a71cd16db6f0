"""Health and radio faults end to end (issue 18): RouterOS agents in the lab serve MIKROTIK-MIB
health and a radio station row (labnet.mtxr behind net-snmp), the daemon polls them from the
NOC namespace, and an overheating router and a degrading radio link each open one ticket."""

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
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.labagent import Agent
    from ticketing.store import TicketStore
    from ticketing.views import TicketView

pytestmark = pytest.mark.integration

HEALTH_INTERVAL = 1.0
INVENTORY = """
office: {name: Diskominfo Uji}
lab: {prefixes: [10.78.0.0/16], noc_address: 10.78.255.254}
defaults:
  platform: mikrotik_routeros
  role: router
  snmp: {version: "2c", community_file: community, interval: 2s, timeout: 1s, retries: 0}
health: {interval: 1s, temperature_for: 3s, radio_for: 4s, radio_trend: 1h}
hosts:
  core: {address: 10.78.0.1, opd: Diskominfo}
  rtr: {address: 10.78.1.1, parent: core, opd: Dinas Kesehatan}
  ptp: {address: 10.78.1.2, parent: core, opd: Puskesmas Praya}
"""


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists():
        from tests.conftest import unavailable

        unavailable("net-snmp snmpd is not installed (apt-get install snmpd)")
    folder = tmp_path_factory.mktemp("healthinv")
    (folder / "community").write_text("lab-community\n")
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY)
    lab = Lab(f"h{os.getpid() % 100000}")
    try:
        labctl.up(load_inventory(path), lab)
        yield lab, path
    finally:
        lab.down()


def tickets_of(store: TicketStore, kind: str) -> list[TicketView]:
    return [t for t in store.list(limit=100) if t.kind == kind]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_overheating_router_and_weak_radio_each_open_one_ticket(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    agent.start()
    time.sleep(HEALTH_INTERVAL * 4)  # every device polled a few times at normal values
    assert store.list(limit=100) == []
    lab.health("rtr", temperature_c=83)
    for signal in (-66, -71, -79):  # the link to ptp degrades over a few polls
        lab.health("ptp", signal_dbm=signal)
        time.sleep(HEALTH_INTERVAL * 1.5)
    hot = wait_for(
        "device_overheat on rtr",
        lambda: next(iter(tickets_of(store, "device_overheat")), None),
        timeout=20,
    )
    weak = wait_for(
        "radio_degraded on ptp",
        lambda: next(iter(tickets_of(store, "radio_degraded")), None),
        timeout=20,
    )
    time.sleep(HEALTH_INTERVAL * 4)  # still hot and weak: no second ticket
    keys = sorted(t.fault_key for t in store.list(limit=100))
    assert keys == sorted([hot.fault_key, weak.fault_key])
    assert hot.fault_key == "rtr/device_overheat"
    assert "cpu-temperature 83 °C (batas 70 °C)" in hot.summary
    assert weak.fault_key.startswith("ptp/radio_degraded/")
    assert "sinyal -79 dBm (batas -75)" in weak.summary
    assert "sinyal turun dari -60 ke -79 dBm" in weak.summary
    lab.restore("rtr")
    lab.restore("ptp")
    for key in (hot.fault_key, weak.fault_key):
        wait_for(
            f"{key} resolved",
            lambda key=key: next(
                (
                    t
                    for t in store.list(limit=100)
                    if t.fault_key == key and t.status is TicketState.RESOLVED
                ),
                None,
            ),
            timeout=30,
        )
    assert agent.stop() == 0
