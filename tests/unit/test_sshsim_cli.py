"""Unit tests of the SSH simulators' command parsers (no network)."""

from __future__ import annotations

import pytest

from labnet.sshsim import DeviceLog, IosCli, Port, RouterOSCli, login_name, parse_ip_addr_json

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
    assert " X  ether2" in out
    assert " R  ether1" in out
    assert ";;; LAN OPD" in out
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
    assert "Gi0-1" in brief
    assert " down" in brief
    down = [Port("Gi0-1", admin_up=False, oper_up=False)]
    assert " shutdown" in cli.handle("show running-config interface Gi0-1", down).output
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
