"""Unit tests of the lab's lldpd configuration (pure: names, sockets, snmpd AgentX lines)."""

from __future__ import annotations

import pytest

from labnet import lldp, snmpd
from labnet.topology import LabDevice, LabSpec

pytestmark = pytest.mark.unit


def spec() -> LabSpec:
    return LabSpec(
        devices=(
            LabDevice("core", "10.52.0.1", None, "mikrotik_routeros", snmp=True),
            LabDevice("sw1", "10.52.0.2", "core", "cisco_ios", "switch", snmp=True),
            LabDevice("h1", "10.52.0.3", "sw1", "linux", snmp=True),
            LabDevice("h2", "10.52.0.4", "sw1"),
        ),
        noc_address="10.52.255.254",
        prefixes=("10.52.0.0/16",),
    )


def test_lldpd_runs_on_the_uplink_and_the_downlinks() -> None:
    assert lldp.interfaces(spec(), "core") == ["ether1", "c2"]
    assert lldp.interfaces(spec(), "sw1") == ["Gi0-0", "c3", "c4"]
    assert lldp.interfaces(spec(), "h1") == ["eth0"]


def test_lldpd_names_itself_and_reports_interface_names() -> None:
    text = lldp.conf("sw1")
    assert "configure system hostname sw1" in text.splitlines()
    assert "configure lldp portidsubtype ifname" in text.splitlines()


def test_snmpd_is_the_agentx_master_on_a_short_per_device_socket() -> None:
    lines = snmpd.conf("mylab", spec(), "sw1").splitlines()
    assert "master agentx" in lines
    assert "agentXSocket unix:/run/mylab-agentx/2.sock" in lines
    longest = lldp.agentx_socket("a" * 16, 16_777_215)
    assert len(str(longest)) < 108  # sun_path limit
