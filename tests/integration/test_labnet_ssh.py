"""Integration tests of the lab's SSH endpoints with real netmiko (root).

Every SSH client runs inside the lab's NOC namespace (the calling thread switched with
``labnet.netns.entered``); the servers live in the device namespaces.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paramiko
import pytest
from netmiko import ConnectHandler
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from labnet import Lab, LabDevice, LabSpec
from labnet.netns import entered
from labnet.plan import ios_name
from labnet.topology import LabSsh
from tests.conftest import unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

LAB_NAME = f"s{os.getpid()}"
CREDS = LabSsh(password="lab-ssh-pass-9")  # noqa: S106 - lab-only
HANG_S = 120.0  # generous: only a hang fails it (time belongs in tests/bench)
SPEC = LabSpec(
    devices=(
        LabDevice("ros1", "10.56.0.1", None, "mikrotik_routeros", "router", snmp=True, ssh=True),
        LabDevice("ios1", "10.56.1.1", "ros1", "cisco_ios", "switch", ssh=True),
        LabDevice("lin1", "10.56.1.2", "ros1", "linux", "server", ssh=True),
    ),
    noc_address="10.56.255.254",
    prefixes=("10.56.0.0/16",),
    ssh=CREDS,
)
ADDR = {d.name: d.address for d in SPEC.devices}
KIND = {d.name: d.platform for d in SPEC.devices}
TIMEOUTS = {"conn_timeout": 5, "auth_timeout": 5, "banner_timeout": 5}


def _require_support() -> None:
    if os.geteuid() != 0:
        unavailable("needs root (network namespaces, veth, nftables)")
    for tool in ("ip", "nft", "setsid", "ssh-keygen", "openssl", "snmpd"):
        if shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
            unavailable(f"{tool!r} not found")
    if not Path("/usr/sbin/sshd").exists():
        unavailable("/usr/sbin/sshd not installed (apt package openssh-server)")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    _require_support()
    the_lab = Lab(LAB_NAME)
    try:
        started = time.monotonic()
        status = the_lab.up(SPEC)
        print(f"lab up with ssh in {time.monotonic() - started:.2f} s")
        assert status.is_up, status.problems
        yield the_lab
    finally:
        the_lab.down()
    left = [p.name for p in Path("/run/netns").glob(f"{LAB_NAME}-*")]
    left += [p.name for p in Path("/etc/netns").glob(f"{LAB_NAME}-*")]
    assert left == []
    assert not the_lab.state_dir.exists()


@pytest.fixture
def clean(lab: Lab) -> Iterator[Lab]:
    try:
        yield lab
    finally:
        for device in lab.status().faults:
            lab.restore(device)


def connect(lab: Lab, device: str, password: str = CREDS.password, **extra: Any) -> Any:
    """Open a netmiko session from the NOC netns."""
    with entered(lab.noc_netns):
        return ConnectHandler(
            device_type=KIND[device],
            host=ADDR[device],
            username=CREDS.user,
            password=password,
            secret=CREDS.enable_secret,
            **TIMEOUTS,
            **extra,
        )


def admin_up(lab: Lab, device: str, port: str) -> bool:
    out = subprocess.run(
        ["ip", "-j", "-n", lab.device_netns(device), "link", "show", port],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "UP" in json.loads(out)[0]["flags"]


def test_routeros_show_and_port_toggle(clean: Lab) -> None:
    port = clean.ports("ros1")[1]
    started = time.monotonic()
    conn = connect(clean, "ros1")
    try:
        assert conn.find_prompt().endswith("[sigap@ros1] >")  # netmiko may see it twice
        assert port in conn.send_command("/interface print")
        conn.send_command(f"/interface disable {port}")
        assert not admin_up(clean, "ros1", port)
        assert f"interface {port} disabled" in conn.send_command("/log print")
        conn.send_command(f"/interface enable {port}")
        assert admin_up(clean, "ros1", port)
        assert ADDR["ros1"] in conn.send_command("/ip address print")
    finally:
        conn.disconnect()
    print(f"routeros session {time.monotonic() - started:.2f} s")


def test_ios_show_and_port_toggle(clean: Lab) -> None:
    port = clean.ports("ios1")[0]
    conn = connect(clean, "ios1")
    try:
        conn.enable()
        assert conn.find_prompt() == "ios1#"
        brief = conn.send_command("show ip interface brief")
        assert ios_name(port) in brief  # GigabitEthernet0/1 for Gi0-1, as IOS prints it
        conn.send_config_set([f"interface {port}", "shutdown"])
        assert not admin_up(clean, "ios1", port)
        assert " shutdown" in conn.send_command(f"show running-config interface {port}")
        conn.send_config_set([f"interface {port}", "no shutdown"])
        assert admin_up(clean, "ios1", port)
        assert "changed state to up" in conn.send_command("show logging")
    finally:
        conn.disconnect()


def test_linux_sshd_show_and_port_toggle(clean: Lab) -> None:
    port = clean.ports("lin1")[0]
    conn = connect(clean, "lin1")
    try:
        assert conn.find_prompt().endswith("#")
        assert port in conn.send_command("ip -br link show")
        conn.send_command(f"ip link set {port} down")
        assert not admin_up(clean, "lin1", port)
        conn.send_command(f"ip link set {port} up")
        assert admin_up(clean, "lin1", port)
        assert "restricted" in conn.send_command("cat /etc/shadow") or "not found" in (
            conn.send_command("cat /etc/shadow")
        )
    finally:
        conn.disconnect()


@pytest.mark.parametrize("device", ["ros1", "ios1", "lin1"])
def test_wrong_password_is_an_authentication_error(clean: Lab, device: str) -> None:
    with pytest.raises(NetmikoAuthenticationException):
        connect(clean, device, password="definitely-wrong")  # noqa: S106


def test_linux_hang_after_login_times_out(clean: Lab) -> None:
    clean.ssh_hang("lin1")
    started = time.monotonic()
    with pytest.raises((ReadTimeout, NetmikoTimeoutException)):
        connect(clean, "lin1", read_timeout_override=3)
    assert time.monotonic() - started < HANG_S  # a hang, not a speed: the timeout is 3 s


def _hostkey_connect(lab: Lab, device: str) -> None:
    client = paramiko.SSHClient()
    client.load_host_keys(str(lab.known_hosts_path()))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        with entered(lab.noc_netns):
            client.connect(
                ADDR[device],
                username=CREDS.user,
                password=CREDS.password,
                timeout=5,
                look_for_keys=False,
                allow_agent=False,
            )
    finally:
        client.close()


@pytest.mark.parametrize("device", ["ros1", "lin1"])
def test_rotated_host_key_is_refused(clean: Lab, device: str) -> None:
    _hostkey_connect(clean, device)  # the lab known_hosts matches at first
    clean.rotate_host_key(device)
    with pytest.raises(paramiko.BadHostKeyException):
        _hostkey_connect(clean, device)
    with (
        pytest.raises(NetmikoTimeoutException, match=r"Host key .* does not match"),
        entered(clean.noc_netns),
    ):
        ConnectHandler(
            device_type=KIND[device],
            host=ADDR[device],
            username=CREDS.user,
            password=CREDS.password,
            ssh_strict=True,
            system_host_keys=False,
            alt_host_keys=True,
            alt_key_file=str(clean.known_hosts_path()),
            **TIMEOUTS,
        )
