"""Neighbour tables of real devices (``../shared/devices/*.snmprec``, read in place): RouterOS's
LLDP index forms resolved through its neighbour table, LLDP port numbers that are not
ifIndexes, text chassis IDs, NUL-padded names, multi-line sysDescr, and links whose two
halves name a port by ifName and ifDescr. Expected values were written by reading the files."""

from __future__ import annotations

import pytest

from agent.topology import mibs
from agent.topology.graph import Known, discover
from agent.topology.model import DeviceScan, Neighbour
from tests.recordings import snmprec

pytestmark = pytest.mark.unit


def scan_of(recording: str, device: str = "dev") -> DeviceScan:
    """What ``scan_device`` makes of the recording's tables (the same decoding)."""
    columns = snmprec(recording, mibs.COLUMNS)
    return DeviceScan(
        device,
        mibs.if_names(columns),
        tuple(mibs.neighbours(columns)),
        if_descrs=mibs.if_descrs(columns),
    )


def seen(scan: DeviceScan) -> list[tuple[str, str, str]]:
    """(local port name, remote name, remote port) of every neighbour row, in table order."""
    return [(scan.port_name(n.local_port), n.remote_name, n.remote_port) for n in scan.neighbours]


def test_routeros_6_mixed_index_forms_take_the_port_from_the_neighbour_table() -> None:
    # lldpRemTable rows 0.0.11, 0.0.12 and 1..26; mtxrNeighborInterfaceID .8.N = ifIndex
    scan = scan_of("routeros")
    assert seen(scan) == [
        ("wlan1", "Spoj Jizak-Kupeckeho-60G", "wlan60-1"),  # bridge/wlan60-1, .8.11 = 1
        ("ether2", "Jizak", "eth1-kupeckeho_lan"),  # .8.12 = 4
        ("WAN", "S5120-Tech", "GigabitEthernet1/0/17"),  # .8.1 = 3
        ("WAN", "S5120-Tech", "GigabitEthernet1/0/17"),
        ("WAN", "2530-blue_shed", "8"),
        ("ether3", "blue_shed-wirelesswire", "vlan200"),  # .8.6 = 5
        ("wlan2", "MikroTik", "1 managment"),  # .8.7 = 2
        ("ether3", "MikroTik", "200 curric"),
        ("wlan1", "MikroTik", "1 managment"),
        ("ether2", "MikroTik", "200 curric"),
        ("wlan1", "Tech-wirelesswire", "vlan200"),
        ("ether2", "Tech-wirelesswire", "vlan200"),
        ("wlan1", "", ""),  # an empty row (chassis 00:00:00:00:00:00)
        ("ether2", "", ""),
    ]
    first, _, h3c = scan.neighbours[:3]
    assert first.remote_chassis == "b8:69:f4:7f:41:70"  # sent as text, shown as a MAC
    assert first.remote_platform == "MikroTik RouterOS 6.48.2 (stable) RBLHGG-60ad"
    # hex-encoded sysDescr with LF and CRLF inside: one line
    assert h3c.remote_platform == (
        "H3C Comware Platform Software, Software Version 5.20 Release 2221P04-US "
        "H3C S5120-28C-PWR-EI Copyright (c) 2004-2014 Hangzhou H3C Tech. Co., Ltd. "
        "All rights reserved."
    )


def test_routeros_6_single_integer_index_on_a_crs_switch() -> None:
    scan = scan_of("routeros_crs317")
    assert len(scan.neighbours) == 18
    assert all(n.local_port is not None for n in scan.neighbours)
    rows = seen(scan)
    assert rows[0] == ("sfp-sfpplus15", "router.jason.corp.local", "Guest")  # .8.8 = 15
    assert rows[1] == ("sfp-sfpplus16", "router.jason.corp.local", "Phones")  # .8.10 = 16
    assert rows[5] == ("sfp-sfpplus16", "router.jason.corp.local", "server-trunk/ether6")
    assert rows[4] == ("ether1", "router.jason.corp.local", "Phones")  # .8.21 = 17
    assert rows[8] == ("sfp-sfpplus13", "", "")  # .8.82 = 13, nothing announced
    assert rows[15] == ("sfp-sfpplus15", "core-sw.jason.corp.local", "ether1")  # bridge1/ether1


def test_routeros_7_zero_local_port_and_nul_padded_names() -> None:
    scan = scan_of("routeros_rb760igs")
    assert seen(scan) == [
        ("ether2", "peca-sw02", "gigabitEthernet 1/0/1"),  # NUL padding, then a hex dump
        ("ether2", "peca-mkt", "lan1"),
        ("sfp1", "peca-sw02", "gigabitEthernet 1/0/9"),
        ("sfp1", "MikroTik", "ether2"),
        ("sfp1", "peca-mkt", "lan1"),
        ("vlan254", "peca-wr01", "br-lan254"),
        ("vlan254", "peca-wr02", "br-lan254"),
        ("vlan254", "peca-wr253", "br-lan254"),
        ("vlan254", "peca-mkt", "lan254"),
    ]
    assert scan.neighbours[0].remote_chassis == "c0:06:c3:a1:3f:46"
    assert scan.neighbours[0].remote_platform == (
        "JetStream 8-Port Gigabit L2+ Managed Switch with 2 SFP Slots"
    )
    wifi = scan_of("routeros_wifi")
    pair = [
        ("wlan60-station-1", "Spoj Jizak-Kupeckeho-60G", "wlan60-1"),
        ("wlan60-station-1", "Jizak", "eth1-kupeckeho_lan"),
    ]
    assert seen(wifi) == pair + pair  # rows 0.0.3/4 and 0.0.11/12: .8.N = 4


def test_routeros_7_commented_interface_names_and_text_management_address() -> None:
    scan = scan_of("routeros_rb750gr3")
    sw11, r1 = scan.neighbours
    assert seen(scan) == [
        ("trunk: Down (eth5)", "sw11.mzmol", "trunk: Up (p24)"),
        ("trunk: SoAda (eoip1)", "r1.soada", "trunk: switch (br1)/trunk: MzMol (eoip1)"),
    ]
    assert sw11.remote_address == "169.254.9.11"  # lldpRemManAddr as text, subtype ipv4
    assert r1.remote_address == ""  # an IPv6 address only
    assert r1.remote_platform.startswith("MikroTik RouterOS 7.19.1 (stable)")
    rb433 = scan_of("routeros_rb433gl")
    assert seen(rb433) == [
        ("trunk: sw72 (eth2)", "sw72.hemiko", "trunk: mkt71"),
        ("trunk: Crkva (wifi1)", "mkt202.hemiko", "trunk: Switch (br1)/trunk: Silos (wifi1)"),
    ]
    # RouterOS port IDs are MACs (several VLANs share one), empty on wg/PPP interfaces: they
    # name no interface, and localPortNum is the ifIndex itself
    for recording in ("routeros_rb433gl", "routeros_rb5009upr+s+"):
        assert mibs.local_ports(snmprec(recording, mibs.COLUMNS)) == {}


def test_lldp_port_numbers_are_not_if_indexes_on_huawei() -> None:
    scan = scan_of("vrp_5720")
    assert seen(scan) == [
        ("GigabitEthernet0/0/14", "LNS-Huawei", "GigabitEthernet0/0/7"),  # port 14, ifIndex 19
        ("XGigabitEthernet0/0/1", "CE-NG", "10GE1/0/42"),  # port 49, ifIndex 54
        ("XGigabitEthernet0/0/2", "Zrih", "XGigabitEthernet0/0/1"),
        ("XGigabitEthernet0/0/4", "CE-NG", "10GE1/0/41"),
        ("MEth0/0/1", "pm-test", "GigabitEthernet0/0/1"),  # port 901, ifIndex 4
    ]
    zrih = scan.neighbours[2]
    assert zrih.local_port == 55
    assert zrih.remote_chassis == "48:8e:ef:71:61:60"
    assert zrih.remote_platform == (
        "S5720-56C-PWR-EI-AC Huawei Versatile Routing Platform Software VRP (R) software, "
        "Version 5.170 (S5720 V200R010C00SPC600) Copyright (C) 2000-2016 HUAWEI TECH CO., LTD"
    )


@pytest.mark.parametrize(
    ("recording", "expected"),
    [
        ("vrp_5720", {1: 6, 14: 19, 49: 54, 52: 57, 901: 4}),
        ("ios_c3560", {1: 10101, 2: 10102, 3: 10001}),  # Gi0/1, Gi0/2, Fa0/1
        ("jetstream_sg2218p", {1: 49153, 18: 49170}),  # gigabitEthernet 1/0/1, 1/0/18
        ("ruijie", {1: 1, 48: 48, 65: 65}),  # Te0/1, Te0/48, Fo0/65
    ],
)
def test_lldp_local_port_table_names_the_interface(
    recording: str, expected: dict[int, int]
) -> None:
    found = mibs.local_ports(snmprec(recording, mibs.COLUMNS))
    assert {num: found.get(num) for num in expected} == expected


def test_cdp_long_port_names_meet_lldp_short_names_in_one_link() -> None:
    # the 2960X sees acme-fr-s-001 over CDP on Gi1/0/52, port "GigabitEthernet1/0/3"; that
    # switch (not recorded: its scan is written here) names the port Gi1/0/3 and sees the
    # 2960X over LLDP on it, announcing the 2960X's ifName
    c2960 = scan_of("ios_2960x", "acme-fr-sw-2960x")
    assert seen(c2960)[3] == ("Gi1/0/52", "acme-fr-s-001", "GigabitEthernet1/0/3")
    other = DeviceScan(
        "acme-fr-s-001",
        {3: "Gi1/0/3"},
        (Neighbour("lldp", 3, "acme-fr-sw-2960x", "Gi1/0/52"),),
        if_descrs={3: "GigabitEthernet1/0/3"},
    )
    known = {
        "acme-fr-sw-2960x": Known("acme-fr-sw-2960x", "10.54.64.9", "acme-fr-s-001"),
        "acme-fr-s-001": Known("acme-fr-s-001", "10.54.64.5", None, core=True),
    }
    found = discover([c2960, other], known)
    assert [(link.key, link.protocols) for link in found.links] == [
        (("acme-fr-s-001", "Gi1/0/3", "acme-fr-sw-2960x", "Gi1/0/52"), ("cdp", "lldp")),
        # the second uplink goes to a port the hand-written scan does not have: as announced
        (("acme-fr-s-001", "GigabitEthernet3/0/2", "acme-fr-sw-2960x", "Gi3/0/52"), ("cdp",)),
    ]


def test_routeros_bridge_path_names_the_port_of_the_scanned_neighbour() -> None:
    router = DeviceScan(
        "router",
        {1: "bridge1", 6: "ether6", 22: "server-trunk"},
        (Neighbour("mndp", 6, "server-sw"),),
    )
    crs = scan_of("routeros_crs317", "server-sw")
    known = {"router": Known("router", "10.1.0.1", None, core=True)}
    known["server-sw"] = Known("server-sw", "10.1.0.2", "router")
    links = discover([router, crs], known).links  # router.jason.corp.local is "router"
    # rows 23 and 24 announce bridge1/server-trunk/ether6 (bridge, bond, port): ether6
    assert [link.key for link in links if "ether6" in link.a_port] == [
        ("router", "ether6", "server-sw", "sfp-sfpplus15"),
        ("router", "ether6", "server-sw", "sfp-sfpplus16"),
    ]
    assert links[5].protocols == ("lldp", "mndp")  # the router's own row merged in
    assert router.own_name("bridge1/server-trunk/ether6") == "ether6"
    assert router.own_name("Gi1/0/6") is None  # not a bridge path: Gi1 is no interface
    assert crs.own_name("SFP-SFPPLUS1") == "sfp-sfpplus1"
