"""SNMP and health of a zone's devices, polled by its zone poller, decided at the centre (issue 23).

The kecamatan router's namespace (``kr``) runs ``sigap run --zona kec``; ``k1`` below it runs
a real net-snmp agent. The central daemon (NOC namespace, leader) never reaches ``k1`` over
SNMP itself: the poller polls its interfaces and health and ships the results through
PostgreSQL. Expected at the centre: ``k1``'s interface and CPU series on /metrics, and the
tickets of a pulled cable and an overheating board, as for a central device.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_lab_capabilities, unavailable, wait_for
from tests.labagent import Agent
from tests.zonelab import ZonePoller, noc_get
from ticketing.states import TicketState
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ticketing.views import TicketView

pytestmark = pytest.mark.integration

HANG = 120.0
PORT = 19482
INVENTORY = """\
office: {{name: Diskominfo Uji Zona SNMP}}
lab: {{prefixes: [10.77.0.0/16], noc_address: 10.77.255.254}}
daemon:
  metrics_listen: "127.0.0.1:{port}"
  ha: {{node: noc-a, cluster: {cluster}, lease: 6s}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  ping: {{interval: 1s, count: 1, timeout: 500ms}}
health: {{interval: 1s, temperature_for: 3s}}
hosts:
  core: {{address: 10.77.0.1}}
  kr: {{address: 10.77.1.1, parent: core, zone: kec}}
  k1:
    address: 10.77.1.2
    parent: kr
    zone: kec
    snmp: {{version: "2c", community_file: community, interval: 1s, timeout: 1s, retries: 0}}
"""


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists():
        unavailable("net-snmp snmpd is not installed (apt-get install snmpd)")
    folder = tmp_path_factory.mktemp("zonesnmp")
    (folder / "community").write_text("lab-community\n")
    (folder / "lab.yaml").write_text(INVENTORY.format(port=1, cluster="lab"))
    lab = Lab(f"y{os.getpid() % 100000}")
    try:
        labctl.up(load_inventory(folder / "lab.yaml"), lab)
        yield lab, folder
    finally:
        lab.down()


def _open(store: TicketStore, key: str) -> TicketView | None:
    return next(
        (t for t in store.active() if t.fault_key == key and t.status is TicketState.OPEN), None
    )


def test_the_centre_decides_on_snmp_and_health_its_zone_poller_shipped(
    lab_folder: tuple[Lab, Path], pg_url: str
) -> None:
    lab, folder = lab_folder
    inventory = folder / "zones.yaml"
    inventory.write_text(INVENTORY.format(port=PORT, cluster=f"snmp-{uuid.uuid4().hex[:8]}"))
    centre = Agent(lab, inventory, pg_url, folder)
    poller = ZonePoller(lab, inventory, pg_url, folder / "poller.log")  # the same unix socket
    try:
        centre.start()

        def k1_polled() -> bool | None:
            text = noc_get(lab, PORT, "/metrics")
            ports = 'sigap_interface_oper_up{device="k1",' in text
            cpu = 'sigap_device_cpu_percent{device="k1"' in text
            return (ports and cpu) or None

        wait_for("k1's interfaces and CPU at the centre, from the poller", k1_polled, HANG)
        with TicketStore(pg_url) as store:
            assert store.active() == []
            lab.unplug("k1", "ether3")
            lab.health("k1", temperature_c=83)
            down = wait_for(
                "interface_down of k1 ether3",
                lambda: _open(store, "k1/interface_down/ether3"),
                HANG,
            )
            assert "k1" in down.summary
            wait_for(
                "the overheating ticket of k1",
                lambda: next((t for t in store.active() if t.kind == "device_overheat"), None),
                HANG,
            )
            assert {t.device for t in store.active()} == {"k1"}
        log = centre.log.read_text()
        assert "refused" not in log  # every shipped result was a zone device's, well formed
    finally:
        poller.stop()
        centre.close()
        lab.plug("k1", "ether3")
        for log in (folder / "poller.log", centre.log):
            if log.exists():
                print(f"--- {log.name}\n{log.read_text()[-3000:]}")
