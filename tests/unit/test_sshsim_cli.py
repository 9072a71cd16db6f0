"""Unit tests of the SSH simulators' command parsers (no network)."""

from __future__ import annotations

import pytest

from labnet import plan, snmpd
from labnet.sshsim import (
    DeviceLog,
    IosCli,
    Port,
    RouterOSCli,
    login_name,
    parse_ip_addr_json,
    ros_flags,
)
from labnet.topology import LabDevice

pytestmark = pytest.mark.unit

PORTS = [
    Port("lo", admin_up=True, oper_up=True, addresses=("10.0.0.1/32",)),
    Port("ether1", admin_up=True, oper_up=True),
    Port("ether2", admin_up=False, oper_up=False, alias="LAN OPD"),
]
IOS_PORTS = [
    Port("Gi0-0", admin_up=True, oper_up=True),
    Port("Gi0-1", admin_up=True, oper_up=False),
]


def test_routeros_enable_disable_and_print() -> None:
    cli = RouterOSCli("r1", "sigap", DeviceLog())
    assert cli.prompt == "[sigap@r1] > "
    assert cli.handle("/interface enable ether2", PORTS).changes == [("ether2", True)]
    assert cli.handle("/interface set ether1 disabled=yes", PORTS).changes == [("ether1", False)]
    assert cli.handle("/interface disable ether9", PORTS).output == "no such item\n"
    out = cli.handle("/interface print", PORTS).output
    assert " 1  XS ;;; LAN OPD\n       ether2 " in out  # a LAN port: a bridge port (S)
    assert " 0  R  ether1 " in out  # the uplink is routed
    assert "10.0.0.1/32" in cli.handle("/ip address print", PORTS).output
    assert "ether2 enabled by sigap" in cli.handle("/log print", PORTS).output
    assert cli.handle("foo", PORTS).output.startswith("bad command name foo")
    assert cli.handle("quit", PORTS).close


def test_routeros_login_name_strips_netmiko_suffix() -> None:
    assert login_name("mikrotik_routeros", "sigap+ct511w4098h") == "sigap"
    assert login_name("cisco_ios", "sigap+x") == "sigap+x"


def test_ios_modes_and_shutdown() -> None:
    cli = IosCli("sw1", "s3cret-lab", DeviceLog(), "sigap")
    assert cli.prompt == "sw1>"
    assert cli.handle("terminal length 0", IOS_PORTS).output == ""
    assert "Invalid input" in cli.handle("configure terminal", IOS_PORTS).output
    cli.handle("enable", IOS_PORTS)
    assert cli.prompt == "Password: "
    assert "Access denied" in cli.handle("wrong", IOS_PORTS).output
    cli.handle("enable", IOS_PORTS)
    cli.handle("s3cret-lab", IOS_PORTS)
    assert cli.prompt == "sw1#"
    cli.handle("configure terminal", IOS_PORTS)
    assert cli.prompt == "sw1(config)#"
    assert "Invalid input" in cli.handle("interface Gi0-9", IOS_PORTS).output
    cli.handle("interface GigabitEthernet0/1", IOS_PORTS)
    assert cli.prompt == "sw1(config-if)#"
    assert cli.handle("shutdown", IOS_PORTS).changes == [("Gi0-1", False)]
    assert cli.handle("no shutdown", IOS_PORTS).changes == [("Gi0-1", True)]
    cli.handle("end", IOS_PORTS)
    assert cli.prompt == "sw1#"
    brief = cli.handle("show ip interface brief", IOS_PORTS).output
    assert "\nGigabitEthernet0/1         unassigned      YES unset  down " in brief
    down = [Port("Gi0-1", admin_up=False, oper_up=False)]
    run = cli.handle("show running-config interface Gi0-1", down).output
    assert "interface GigabitEthernet0/1\n" in run
    assert " shutdown" in run
    assert "LINK-5-CHANGED" in cli.handle("show logging", IOS_PORTS).output
    assert cli.handle("exit", IOS_PORTS).close


def test_parse_ip_addr_json() -> None:
    text = (
        '[{"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,'
        '"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8},'
        '{"family":"inet","local":"10.0.0.1","prefixlen":32}]},'
        '{"ifname":"ether2","flags":["BROADCAST"],"mtu":1500,"ifalias":"CCTV"}]'
    )
    lo, eth = parse_ip_addr_json(text)
    assert lo.addresses == ("10.0.0.1/32",)
    assert not eth.admin_up
    assert eth.alias == "CCTV"


def test_routeros_print_forms_show_flag_columns_as_real_routeros() -> None:
    ports = [
        *PORTS,
        Port("ether3", admin_up=True, oper_up=True, mac="02:5a:00:00:00:03"),
        Port("c7", admin_up=True, oper_up=False),  # a link to a child device: routed
        Port("<pppoe-opd>", admin_up=True, oper_up=True),  # a server binding: dynamic
    ]
    assert [ros_flags(p) for p in ports[1:]] == [" R ", " XS", " RS", "   ", "DR "]
    cli = RouterOSCli("r1", "sigap", DeviceLog())
    terse = cli.handle("/interface print terse where name=ether3", ports).output
    assert terse == (
        " 2  RS name=ether3 default-name=ether3 type=ether mtu=1500 actual-mtu=1500 "
        "mac-address=02:5A:00:00:00:03\n"
    )
    detail = cli.handle("/interface print detail without-paging", ports).output
    assert ' 1  XS ;;; LAN OPD\n       name="ether2" default-name="ether2" type="ether"' in detail
    assert ' 4 DR  name="<pppoe-opd>" type="ether" mtu=1500 actual-mtu=1500\n' in detail
    table = cli.handle("/interface print", ports).output.splitlines()
    assert table[:2] == [
        "Flags: D - dynamic, X - disabled, R - running, S - slave",
        " #     NAME                                TYPE       ACTUAL-MTU MAC-ADDRESS",
    ]
    assert table[5].startswith(" 2  RS ether3 ")
    assert "syntax error" in cli.handle("/interface print where mtu=1500", ports).output


def test_the_lab_names_ios_ports_as_ios_does() -> None:
    sw = LabDevice("sw1", "10.0.0.2", None, platform="cisco_ios", snmp=True)
    descrs = plan.if_descrs(sw)
    assert descrs["Gi0-0"] == "GigabitEthernet0/0"  # the uplink
    assert descrs["Gi0-4"] == "GigabitEthernet0/4"
    assert plan.ios_name("c12") == "c12"  # a link to a child keeps its name
    ros = LabDevice("r1", "10.0.0.1", None, platform="mikrotik_routeros", snmp=True)
    assert plan.if_descrs(ros) == {}
    assert snmpd.descr_lines({"Gi0-1": "GigabitEthernet0/1", "Gi0-9": "x"}, {"Gi0-1": 7}) == [
        'override .1.3.6.1.2.1.2.2.1.2.7 octet_str "GigabitEthernet0/1"'
    ]
