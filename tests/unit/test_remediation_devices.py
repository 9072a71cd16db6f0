"""Playbook checks against real command output (``../shared/devices/cli``, read in place):
RouterOS flag columns (``RS``, ``DR``, ``XS``...) in table, detail and terse form, IOS tables
with long names for short ifNames. Expected values were written by reading the files."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.remediation.playbooks import RefusedError, load_playbooks
from agent.remediation.routeros import items
from agent.remediation.runner import Remediator
from collectors.model import InterfaceRow
from tests.recordings import CLI, cli_outputs, need, snmprec

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from agent.config.model import Device
    from agent.remediation.playbooks import Check, Plan

pytestmark = pytest.mark.unit

BOOK = load_playbooks()
ROS = "mikrotik_routeros"
IOS = "cisco_ios"

# (number, flags, name) of every item, read from each file
BRIEF_V6 = [
    (0, "", "ether1"),
    (1, "D", "ether2"),
    (2, "R", "ether3"),
    (3, "S", "ether4"),
    (4, "DR", "ether5"),
    (5, "RS", "ether6"),
    (6, "DS", "lte1"),
    (7, "DRS", "pptp-out1"),
]
DETAIL_V6 = [*BRIEF_V6, (8, "RS", "pptp-to-AH1100-HS")]  # comments as ;;; lines
DETAIL_V7 = [
    (0, "R", "ether1"),
    (1, "R", "sfp-sfpplus1"),
    *[(n, "X", f"sfp-sfpplus{n}") for n in range(2, 9)],
    (9, "RS", "sfp-sfpplus9"),
    (10, "RS", "sfp-sfpplus10"),
    (11, "R", "sfp-sfpplus11"),
    (12, "X", "sfp-sfpplus12"),
    (13, "X", "sfp28-1"),
    (14, "X", "sfp28-2"),
    (15, "R", "Lo0"),
    (16, "R", "Lo1"),
    (17, "R", "bond1"),
    (18, "R", "pppoe-out1"),
    (19, "R", "vlan1@bond1"),
    (20, "R", "vlan2@bond1"),
    (21, "R", "vlan10@vlan975@sfp-sfpplus1"),
    (22, "R", "vlan11@vlan975@sfp-sfpplus1"),
    (23, "R", "vlan12@vlan975@sfp-sfpplus1"),
    (24, "R", "vlan111@sfp-sfpplus1"),
    (25, "R", "vlan975@sfp-sfpplus1"),
    (26, "R", "vlan4050@sfp-sfpplus11"),
]
TERSE_V6 = [
    (0, "D", "ether1"),
    (1, "DR", "ether2_UniFi2"),
    (2, "", "ether3 UniFi1"),  # unquoted value with a space
    (3, "R", "bridge-VLAN1"),
    (4, "X", "bridge-VLAN2"),
    (5, "S", "eth3_vlan1"),
    (6, "S", "eth4_vlan2"),
    (7, "RS", "eth4_vlan3"),
    (8, "DS", "eth4_vlan4"),
    (9, "DXS", "eth5_vlan5"),
    (10, "R", "eth6_vlan6"),
]
TERSE_V7 = [
    (0, "R", "ether1"),  # comment=this is a comment name=ether1
    (1, "R", "ether2"),
    (2, "S", "ether3"),
    (3, "S", "ether4"),
    (4, "", "sfp-sfpplus1"),
    (5, "", "sfp-sfpplus2"),
    (6, "R", "lan-bridge"),
    (7, "R", "lo"),
    (8, "R", "myvrf"),
]
ETHERNET_V6 = [
    (0, "", "ether1"),
    (1, "R", "ether2"),
    (2, "XS", "ether3"),
    (3, "S", "ether4"),
    (4, "R", "ether5"),
]
ROS_FILES = {  # by the name the file had upstream (after the last ``__``)
    "mikrotik_routeros_interface_print_brief": BRIEF_V6,
    "mikrotik_routeros_interface_print_detail": DETAIL_V6,
    "mikrotik_routeros_interface_print_detail_01": DETAIL_V7,
    "mikrotik_routeros_interface_print_terse_without-paging": TERSE_V6,
    "mikrotik_routeros_interface_print_terse_without-paging2": TERSE_V7,
    "mikrotik_routeros_interface_ethernet_print": ETHERNET_V6,
}


def ros_file(stem: str) -> Path:
    (path,) = need(CLI).glob(f"{ROS}__*__{stem}.raw")
    return path


def pick(plan: Plan, key: str) -> Check:
    check = plan.precheck if key == "precheck" else plan.verify
    assert check is not None
    return check


@pytest.mark.parametrize("stem", sorted(ROS_FILES))
def test_routeros_print_items_read_flags_as_a_set(stem: str) -> None:
    found = [
        (i.number, "".join(sorted(i.flags)), i.name) for i in items(ros_file(stem).read_text())
    ]
    assert found == [(n, "".join(sorted(f)), name) for n, f, name in ROS_FILES[stem]]


# what each check must say about a port, from the port's flags (RouterOS) or brief row (IOS)
ROS_STATES: Mapping[tuple[str, str], Callable[[str], bool]] = {
    ("aktifkan-port", "precheck"): lambda f: "X" in f,  # disabled
    ("aktifkan-port", "verify"): lambda f: "X" not in f,  # enabled (running or not)
    ("pulihkan-wan", "precheck"): lambda f: not {"X", "R"} & set(f),  # enabled, not running
    ("pulihkan-wan", "verify"): lambda f: "R" in f,  # running
}


def _checks(platform: str) -> list[tuple[str, str]]:
    """Every (playbook, check) written for ``platform`` in the bundled playbooks."""
    out = []
    for book in BOOK:
        steps = book.platforms.get(platform)
        if steps is not None:
            out += [(book.name, key) for key in ("precheck", "verify") if getattr(steps, key)]
    return out


@pytest.mark.parametrize("stem", sorted(ROS_FILES))
def test_every_routeros_playbook_check_reads_every_real_output(stem: str) -> None:
    assert sorted(_checks(ROS)) == sorted(ROS_STATES)
    stems = {p.name.rsplit("__", 1)[1].removesuffix(".raw") for p in cli_outputs(ROS, "interface*")}
    assert stems == set(ROS_FILES)  # every real `interface ... print` output is here
    text = ros_file(stem).read_text()
    tried = 0
    for _n, flags, name in ROS_FILES[stem]:
        for (playbook, key), state in ROS_STATES.items():
            book = BOOK.get(playbook)
            assert book is not None
            try:
                plan = book.render(ROS, name)
            except RefusedError:
                assert not name.replace("-", "").replace("_", "").isalnum()  # ' ' or '@'
                continue
            assert pick(plan, key).matches(text) is state(flags), (playbook, key, name, flags)
            tried += 1
    assert tried >= 4 * 4


# show ip interface brief: long names; the same ports' ifName is the short form (Et0/0)
IOS_BRIEF = {
    # ifName: (ifDescr = the table's name, status, protocol)
    "Et0/0": ("Ethernet0/0", "up", "up"),
    "Et0/0.11": ("Ethernet0/0.11", "up", "up"),
    "Et0/0.100": ("Ethernet0/0.100", "deleted", "down"),
    "Et0/1": ("Ethernet0/1", "up", "up"),
    "Et0/2": ("Ethernet0/2", "administratively down", "down"),
    "Et0/3": ("Ethernet0/3", "administratively down", "down"),
    "Lo0": ("Loopback0", "up", "up"),
}
IOS_STATES: Mapping[tuple[str, str], Callable[[str, str], bool]] = {
    ("aktifkan-port", "verify"): lambda status, _proto: status in ("up", "down"),
    ("pulihkan-wan", "precheck"): lambda status, proto: (status, proto) == ("down", "down"),
    ("pulihkan-wan", "verify"): lambda status, proto: (status, proto) == ("up", "up"),
}


def test_ios_brief_checks_match_the_long_names_of_short_if_names() -> None:
    (path,) = cli_outputs(IOS, "show_ip_interface_brief")
    text = path.read_text()
    brief_checks = [c for c in _checks(IOS) if c not in {("aktifkan-port", "precheck")}]
    assert sorted(brief_checks) == sorted(IOS_STATES)  # precheck: show running-config
    for (playbook, key), state in IOS_STATES.items():
        book = BOOK.get(playbook)
        assert book is not None
        for name, (descr, status, proto) in IOS_BRIEF.items():
            plan = book.render(IOS, name, (descr,))
            assert pick(plan, key).command == "show ip interface brief"
            assert pick(plan, key).matches(text) is state(status, proto), (playbook, key, name)
            alone = book.render(IOS, name)  # by ifName only: never in this table
            assert not pick(alone, key).matches(text)
        assert plan.config[0] == "interface Lo0"  # commands use the ifName


INVENTORY = """
office: {name: Uji}
people:
  - {name: Kadis, role: kadis}
  - {name: Teknisi, role: teknisi}
sop:
  standing_disposition: {signer: Kadis, reference: 1/2026, technician: Teknisi}
defaults:
  platform: cisco_ios
  role: switch
  snmp: {version: "2c", community_env: C}
  ssh: {user: sigap, password_env: P}
  remediation: {enabled: true, playbooks: [aktifkan-port]}
hosts:
  sw: {address: 10.9.0.1}
"""


class Reader:
    """The SNMP interface reader, answering with fixed rows."""

    def __init__(self, *rows: InterfaceRow) -> None:
        self.rows = {row.name: row for row in rows}

    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        return self.rows


class NoRuns:
    """The remediation log, with no earlier run."""

    def recent(self, device: str, key: str, since: datetime) -> int:
        return 0


def test_the_runner_gives_the_checks_the_ports_if_descr(tmp_path: Path) -> None:
    # ifIndex 10101 of the 2960X recording: ifName Gi1/0/1, ifDescr GigabitEthernet1/0/1
    cols = snmprec("ios_2960x", ["1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.2.2.1.2"])
    name = cols["1.3.6.1.2.1.31.1.1.1.1"][(10101,)]
    descr = cols["1.3.6.1.2.1.2.2.1.2"][(10101,)]
    assert isinstance(name, bytes)
    assert isinstance(descr, bytes)
    assert (name, descr) == (b"Gi1/0/1", b"GigabitEthernet1/0/1")
    row = InterfaceRow(10101, name.decode(), descr=descr.decode(), admin_up=False)
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    inventory = load_inventory(path, env={"C": "komunitas", "P": "sandi"})
    runner = Remediator(inventory, BOOK, NoRuns(), None, Reader(row), now=lambda: datetime.now(UTC))
    book = BOOK.get("aktifkan-port")
    assert book is not None
    ticket = SimpleNamespace(fault_key="sw/interface_disabled/Gi1/0/1")
    try:
        plan = asyncio.run(runner._plan(ticket, inventory.devices["sw"], book, "Gi1/0/1"))
    finally:
        runner.close()
    assert plan.config == ("interface Gi1/0/1", "no shutdown")
    table = "GigabitEthernet1/0/1   unassigned      YES unset  up                    up\n"
    assert plan.verify.matches(table)
