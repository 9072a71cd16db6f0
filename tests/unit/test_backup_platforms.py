"""Export commands and normalisation (issue 22): the lab simulators' real output, exported at
two different times with NTP drift and fresh timestamps, normalises to the same text; an
admin-down port is one changed line naming the port; the command guard; hostile output."""

from __future__ import annotations

import difflib

import pytest

from agent.backup.platforms import COMMANDS, allowed, commands_for, joined, normalise
from agent.backup.redact import redact_config
from agent.remediation.playbooks import READ_ONLY
from labnet.simconfig import LAB_COMMUNITY
from labnet.sshsim import DeviceLog, IosCli, Port, RouterOSCli
from tests.hostile_text import CORPUS

pytestmark = pytest.mark.unit

PORTS = [
    Port("lo", True, True, addresses=()),
    Port("ether1", True, True, mac="02:00:00:00:00:01", addresses=("10.63.1.1/24",)),
    Port("ether2", True, True, alias="LAN Puskesmas", mac="02:00:00:00:00:02"),
    Port("ether3", True, False, mac="02:00:00:00:00:03"),
]
IOS_PORTS = [
    Port("Gi0-0", True, True, addresses=("10.63.1.2/24",)),
    Port("Gi0-1", True, True, alias="ke AP lantai 2"),
]


def down(ports: list[Port], name: str) -> list[Port]:
    return [Port(p.name, False, False, p.mtu, p.alias, p.mac, p.addresses) if p.name == name
            else p for p in ports]  # fmt: skip


def ros_export(ports: list[Port], at: float, command: str = "/export terse") -> str:
    cli = RouterOSCli("pkm-praya", "sigap", DeviceLog())
    import time_machine  # the export stamps the time; two calls, two stamps

    with time_machine.travel(at, tick=False):
        return cli.handle(command, ports).output


def ios_running(ports: list[Port], at: float) -> str:
    cli = IosCli("core-sw1", "enable-pw", DeviceLog(), "sigap")
    cli.handle("enable", ports)
    cli.handle("enable-pw", ports)
    import time_machine

    with time_machine.travel(at, tick=False):
        return cli.handle("show running-config", ports).output


def test_routeros_export_normalises_to_the_same_text_at_another_time() -> None:
    first, second = ros_export(PORTS, 1_800_000_000), ros_export(PORTS, 1_800_050_017)
    assert first != second  # the header's timestamp differs
    assert normalise("mikrotik_routeros", first) == normalise("mikrotik_routeros", second)
    assert "# software id" in normalise("mikrotik_routeros", first)


def test_ios_running_config_normalises_drift_and_stamps_away() -> None:
    first, second = ios_running(IOS_PORTS, 1_800_000_000), ios_running(IOS_PORTS, 1_800_000_777)
    assert first != second
    assert "ntp clock-period" in first
    a, b = normalise("cisco_ios", first), normalise("cisco_ios", second)
    assert a == b
    assert "ntp server 10.63.255.254" in a
    assert "Current configuration" not in a


def test_a_port_shut_by_hand_is_one_changed_line_naming_it() -> None:
    before = normalise("mikrotik_routeros", ros_export(PORTS, 1_800_000_000))
    after = normalise("mikrotik_routeros", ros_export(down(PORTS, "ether2"), 1_800_086_400))
    changed = [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]  # fmt: skip
    assert changed == [
        '-/interface ethernet set [ find default-name=ether2 ] comment="LAN Puskesmas"',
        '+/interface ethernet set [ find default-name=ether2 ] comment="LAN Puskesmas" '
        "disabled=yes",
    ]
    ios_before = normalise("cisco_ios", ios_running(IOS_PORTS, 1_800_000_000))
    ios_after = normalise("cisco_ios", ios_running(down(IOS_PORTS, "Gi0-1"), 1_800_000_900))
    diff = list(difflib.unified_diff(ios_before.splitlines(), ios_after.splitlines(), lineterm=""))
    assert [d for d in diff if d.startswith("+ ")] == ["+ shutdown"]
    assert " description ke AP lantai 2" in "\n".join(diff)  # the context names the port


def test_the_export_hides_secrets_unless_show_sensitive_and_redaction_takes_the_rest() -> None:
    plain = ros_export(PORTS, 1_800_000_000)
    assert "password=" not in plain
    assert "password=" in ros_export(PORTS, 1_800_000_000, "/export terse show-sensitive")
    saved = redact_config(normalise("mikrotik_routeros", plain))
    assert LAB_COMMUNITY not in saved
    ios = redact_config(normalise("cisco_ios", ios_running(IOS_PORTS, 1_800_000_000)))
    assert LAB_COMMUNITY not in ios
    assert "$1$" not in ios


def test_the_guard_allows_exactly_the_export_commands() -> None:
    for platform, commands in COMMANDS.items():
        for command in commands:
            assert allowed(platform, command)
            assert "show-sensitive" not in command
            # remediation's read-only shapes agree, except RouterOS: they refuse every /export
            # (``/export file=x`` writes to flash); backup sends only the exact string
            if platform in READ_ONLY and platform != "mikrotik_routeros":
                assert READ_ONLY[platform].fullmatch(command), command
    for platform, command in [
        ("mikrotik_routeros", "/export terse show-sensitive"),
        ("mikrotik_routeros", "/export"),
        ("mikrotik_routeros", "/export terse file=flash/x"),
        ("mikrotik_routeros", "/system reset-configuration"),
        ("cisco_ios", "show running-config | redirect tftp://x"),
        ("cisco_ios", "/export terse"),
        ("linux", "ip addr show; reboot"),
        ("tplink_jetstream", "show running-config"),
    ]:
        assert not allowed(platform, command), command
    assert commands_for("fortinet") == ()


def test_linux_output_keeps_addresses_and_drops_lifetimes() -> None:
    out = joined(
        "linux",
        {
            "ip addr show": "2: eth1: <UP> mtu 1500\r\n    inet 10.0.0.5/24 scope global eth1\r\n"
            "       valid_lft 86391sec preferred_lft 86391sec\r\n",
            "ip route show": "default via 10.0.0.1 dev eth1\n",
        },
    )
    assert out == (
        "# ip addr show\n2: eth1: <UP> mtu 1500\n    inet 10.0.0.5/24 scope global eth1\n\n"
        "# ip route show\ndefault via 10.0.0.1 dev eth1\n"
    )


@pytest.mark.parametrize("hostile", CORPUS, ids=lambda h: h.marker)
def test_hostile_device_output_is_text_not_a_crash(hostile: object) -> None:
    text = str(getattr(hostile, "text", ""))
    for platform in COMMANDS:
        out = redact_config(normalise(platform, text + "\npassword=S_x_S\n" + text))
        assert "S_x_S" not in out


def test_huge_lines_are_redacted_in_one_pass() -> None:
    line = "a " * 200_000 + "key 7 S_deep_S"
    out = redact_config(normalise("cisco_ios", line + "\n" + "x" * 1_000_000))
    assert "S_deep_S" not in out
