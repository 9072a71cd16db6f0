"""The lab of ``sigap discover --scan`` (issue 21): every device in ``lab.yaml``, three of
them and the served v2c community missing from ``inventory.yaml`` (the scan's inventory).

Prefix 10.73.0.0/16, used by no other lab. The integration test and the benchmark share it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

HEAD = """\
# trimmed inventory of the scan test: this comment must survive --apply
office: {name: Diskominfo Uji}
lab: {prefixes: [10.73.0.0/16], noc_address: 10.73.255.254}
groups:
  snmpv3:
    snmp: {version: "3", user: noc-scan, auth_protocol: sha256, auth_key_file: auth,
           priv_protocol: aes256, priv_key_file: priv}
  core: {groups: [snmpv3], tags: [core]}
defaults:
  platform: mikrotik_routeros
  role: router
  snmp: {version: "2c", community_file: COMMUNITY, timeout: 1s, retries: 1}
hosts:
  core:
    address: 10.73.0.1
    groups: [core]
    opd: Dinas Komunikasi dan Informatika
  dist:
    address: 10.73.10.1
    groups: [snmpv3]
    parent: core
    opd: Dinas Komunikasi dan Informatika
  rtr-pupr:
    address: 10.73.12.1
    groups: [snmpv3]
    parent: dist
    opd: Dinas PUPR
"""
REMOVED = """\
  rtr-dinkes:
    address: 10.73.11.1
    groups: [snmpv3]
    parent: dist
    opd: Dinas Kesehatan
  sw-dinkes:
    address: 10.73.11.2
    groups: [snmpv3]
    parent: rtr-dinkes
    role: switch
    platform: cisco_ios
    opd: Dinas Kesehatan
  printer-pupr:
    address: 10.73.12.9
    parent: rtr-pupr
    snmp: {enabled: false}
    opd: Dinas PUPR
"""
RANGES = "10.73.10.0/24,10.73.11.0/24,10.73.12.0/24"


def write_files(folder: Path) -> Path:
    """Write ``lab.yaml``, ``inventory.yaml`` and their secret files into ``folder``."""
    (folder / "community").write_text("scan-lab-73\n")
    (folder / "community-lama").write_text("komunitas-lama-73\n")  # the lab does not serve it
    (folder / "auth").write_text("scan-auth-key-73\n")
    (folder / "priv").write_text("scan-priv-key-73\n")
    (folder / "lab.yaml").write_text(HEAD.replace("COMMUNITY", "community") + REMOVED)
    (folder / "inventory.yaml").write_text(HEAD.replace("COMMUNITY", "community-lama"))
    return folder
