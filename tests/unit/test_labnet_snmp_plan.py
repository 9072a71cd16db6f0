"""Unit tests of labnet's SNMP additions: credentials, port naming, snmpd.conf, probe (pure)."""

from __future__ import annotations

import pytest

from labnet import plan, snmpd
from labnet.errors import LabSpecError
from labnet.topology import LabDevice, LabSnmp, LabSnmpUser, LabSpec

pytestmark = pytest.mark.unit

NOC = "10.52.255.254"


def spec() -> LabSpec:
    return LabSpec(
        devices=(
            LabDevice("core", "10.52.0.1", None, "mikrotik_routeros", snmp=True),
            LabDevice("sw1", "10.52.0.2", "core", "cisco_ios", "switch", snmp=True),
            LabDevice("h1", "10.52.0.3", "sw1", "linux", snmp=True),
            LabDevice("x", "10.52.0.4", "sw1"),
        ),
        noc_address=NOC,
        prefixes=("10.52.0.0/16",),
    )


def test_port_names_by_platform_and_role() -> None:
    s = spec()
    assert plan.uplink_name("mikrotik_routeros") == "ether1"
    assert plan.uplink_name("cisco_ios") == "Gi0-0"
    assert plan.uplink_name("linux") == "eth0"
    assert plan.uplink_name("") == "up0"
    assert plan.lan_ports(s.device("core")) == ["ether2", "ether3", "ether4", "ether5"]
    assert plan.lan_ports(s.device("sw1")) == [f"Gi0-{n}" for n in range(1, 9)]
    assert plan.lan_ports(s.device("h1")) == ["eth1", "eth2", "eth3", "eth4"]
    assert plan.lan_ports(s.device("x")) == []  # snmp off: no ports
    assert plan.port_peers(s, "core")["ether2"] == "w1p1"


def test_ports_live_in_device_and_hidden_wire_netns() -> None:
    s = spec()
    lines = plan.ports_creation_batch("lab", s)
    assert lines[0] == "netns add lab-wire"
    assert "link add ether2 netns lab-core type veth peer name w1p1 netns lab-wire" in lines
    assert len(lines) == 1 + 4 + 8 + 4
    no_snmp = LabSpec((LabDevice("a", "10.52.0.1", None),), NOC, s.prefixes)
    assert plan.ports_creation_batch("lab", no_snmp) == []
    batch = plan.port_batch(s, "core")
    assert batch[0] == 'link set ether1 alias "uplink ke NOC"'
    assert 'link set c2 alias "downlink ke sw1"' in batch
    assert 'link set ether2 alias "LAN OPD"' in batch
    assert "link set ether5 up" in batch
    assert plan.creation_batch("lab", s)[-2].endswith(
        "peer name eth0 address 02:5a:01:00:00:03 netns lab-h1"
    )
    assert 'iifname "ether1"' in plan.fault_ruleset(failed=False, loss_pct=5, uplink="ether1")


def test_snmpd_conf() -> None:
    text = snmpd.conf("lab", spec(), "sw1")
    lines = text.splitlines()
    assert lines[0] == "engineID lab.2"
    assert "agentAddress udp:10.52.0.2:161" in lines
    assert "rocommunity sigap-lab default" in lines
    assert "createUser sigap-sha-aes SHA lab-auth-sha-aes AES lab-priv-sha-aes" in lines
    assert "createUser sigap-sha256-aes256 SHA-256 lab-auth-sha256 AES-256 lab-priv-aes256" in lines
    assert "createUser sigap-sha-nopriv SHA lab-auth-sha-nopriv" in lines
    assert "rouser sigap-sha-nopriv authnopriv" in lines
    assert "rouser sigap-sha-aes authpriv" in lines
    assert "sysName sw1" in lines
    assert "sysObjectID .1.3.6.1.4.1.9.1.1208" in lines
    assert "interface Gi0-0 6 100000000" in lines
    assert "interface c3 6 1000000000" in lines
    assert "interface Gi0-8 6 1000000000" in lines
    assert snmpd.identity("mikrotik_routeros", "", "r")[0] == ".1.3.6.1.4.1.14988.1"
    assert snmpd.identity("", "", "box")[1].startswith("Linux box ")


def test_get_request_encoding_and_match() -> None:
    req = snmpd.get_request("public", 1)
    assert req.hex() == (
        "302602010104067075626c6963a019020101020100020100300e300c06082b060102010105000500"
    )
    assert snmpd.encode_oid((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15, 300)) == bytes(
        [0x2B, 6, 1, 2, 1, 31, 1, 1, 1, 15, 0x82, 0x2C]
    )
    assert snmpd.gauge(100) == b"\x42\x01\x64"
    assert snmpd.gauge(1000) == b"\x42\x02\x03\xe8"
    response = bytes.fromhex("3010020101040170a2080201010201000201003000") + snmpd.gauge(100)
    assert snmpd.answered(response, 1)
    assert snmpd.answered(response, 1, snmpd.gauge(100))
    assert not snmpd.answered(response, 1, snmpd.gauge(10000))
    assert not snmpd.answered(b"\x30\x00", 1)


def test_alias_lines_for_net_snmp_store() -> None:
    links: list[dict[str, object]] = [
        {"ifindex": 1, "ifname": "lo"},
        {"ifindex": 2, "ifname": "ether1", "ifalias": "uplink ke NOC"},
        {"ifindex": 3, "ifname": "bad", "ifalias": 'a "quoted" alias'},
    ]
    assert snmpd.alias_lines(links) == ['ifXTable .2 14:0 18:"uplink ke NOC" $']


def test_credentials_validated_round_trip_and_redacted() -> None:
    s = spec()
    assert LabSpec.from_json(s.to_json()) == s
    assert "lab-auth" not in repr(s)
    assert "sigap-lab" not in repr(s.snmp)
    assert s.snmp.user("sigap-sha-nopriv").level == "authNoPriv"
    assert s.snmp.user("sigap-sha-aes").level == "authPriv"
    with pytest.raises(LabSpecError, match="auth 'SHA1'"):
        LabSpec(s.devices, NOC, s.prefixes, LabSnmp(users=(LabSnmpUser("u", "SHA1", "12345678"),)))
    with pytest.raises(LabSpecError, match=r"8\.\.64"):
        LabSpec(s.devices, NOC, s.prefixes, LabSnmp(users=(LabSnmpUser("u", "SHA", "short"),)))
    with pytest.raises(LabSpecError, match="go together"):
        LabSpec(
            s.devices, NOC, s.prefixes, LabSnmp(users=(LabSnmpUser("u", "SHA", "12345678", "AES"),))
        )
    with pytest.raises(LabSpecError, match="community"):
        LabSpec(s.devices, NOC, s.prefixes, LabSnmp(community="has space"))
    with pytest.raises(LabSpecError, match="reserved"):
        LabSpec((LabDevice("wire", "10.52.0.1", None),), NOC, s.prefixes)


def test_with_snmp() -> None:
    plain = LabSpec(
        (LabDevice("a", "10.52.0.1", None), LabDevice("b", "10.52.0.2", "a")),
        NOC,
        ("10.52.0.0/16",),
    )
    assert plain.snmp_devices == ()
    assert [d.name for d in plain.with_snmp(["b"]).snmp_devices] == ["b"]
    assert len(plain.with_snmp().snmp_devices) == 2
    assert plain.with_snmp(snmp=LabSnmp(community="c1")).snmp.community == "c1"
    with pytest.raises(LabSpecError, match="unknown devices"):
        plain.with_snmp(["zz"])
