"""The small lab `sigap diagnose` is tested and measured in: core -> dist -> rtr (RouterOS
simulator over SSH) -> sw, real snmpd; shared by tests/integration and tests/bench."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config.load import load_inventory
from agent.lab import control as labctl
from tests.conftest import require_lab_capabilities, unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

    from labnet.lab import Lab

INVENTORY = """
office: {{name: Diskominfo Uji}}
lab: {{prefixes: [10.64.0.0/16], noc_address: 10.64.255.254}}
remediation: {{known_hosts: {known_hosts}, connect_timeout: 4s, read_timeout: 4s}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  snmp: {{version: "2c", community_file: {community}, timeout: 1s, retries: 0}}
  interfaces:
    ether2: {{required_up: true, description: LAN OPD}}
hosts:
  core: {{address: 10.64.0.1}}
  dist: {{address: 10.64.1.1, parent: core}}
  rtr:
    address: 10.64.2.1
    parent: dist
    opd: Kantor Camat Uji
    ssh: {{user: sigap, password_file: ssh-password}}
  sw: {{address: 10.64.2.2, parent: rtr, role: switch, opd: Kantor Camat Uji}}
"""
SECRETS = {
    "community": "lab-community-64",
    "wrong": "not-the-community",
    "ssh-password": "lab-ssh-pass-64",
}


@contextmanager
def diagnose_lab(lab: Lab, folder: Path) -> Iterator[Path]:
    """Build the lab; yield its inventory (``wrong.yaml`` beside it has a wrong community)."""
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists():
        unavailable("net-snmp snmpd is not installed (apt-get install snmpd)")
    for name, value in SECRETS.items():
        (folder / name).write_text(value + "\n")
    known = lab.known_hosts_path()
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY.format(known_hosts=known, community="community"))
    (folder / "wrong.yaml").write_text(INVENTORY.format(known_hosts=known, community="wrong"))
    try:
        labctl.up(load_inventory(path), lab)
        yield path
    finally:
        lab.down()


def sigap(lab: Lab, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI inside the lab's NOC namespace, as a technician would (`sigap lab exec`)."""
    argv = [sys.executable, "-m", "agent", *args, "-i", str(inventory)]
    return subprocess.run(
        lab.noc_argv(argv),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
