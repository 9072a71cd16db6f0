"""Issue 17, finding 8: names and commands sent to a device are checked as whole strings.

An interface name comes from the device (SNMP ifName) and ends up in an SSH command; the
pattern was anchored with ``$`` and used with ``re.match``, so ``"ether1\\n"`` passed and the
newline would have ended the command early. Every whole-string shape (interface names, the
read-only command shapes of playbooks and ``sigap diagnose --ssh``) must refuse anything more.
"""

from __future__ import annotations

import pytest

from agent.diagnose.readonly import read_only
from agent.remediation.playbooks import READ_ONLY, RefusedError, check_interface, load_playbooks

pytestmark = pytest.mark.unit

BOOK = load_playbooks()
HOSTILE_NAMES = (
    "ether1\n",
    "ether1\r\n",
    "ether1\n/system reset-configuration",
    "ether1\r",
    "ether1\x00",
    "ether1\t",
    " ether1",
    "ether1 ",
    "ether1;reboot",
    "ether1\u2028",
    "eth\u0661",  # an Arabic-Indic digit: \d would take it, the shape must not
    "-ether1",
    "",
    "x" * 65,
)
READ_ONLY_SAMPLES = {
    "mikrotik_routeros": "/interface print",
    "cisco_ios": "show ip interface brief",
    "linux": "ip -br link show dev eth1",
}


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
def test_an_interface_name_with_anything_more_is_refused(name: str) -> None:
    with pytest.raises(RefusedError, match="ditolak"):
        check_interface(name, {name, name.strip()})  # even when the device reports it
    playbook = next(iter(BOOK))
    with pytest.raises(RefusedError, match="ditolak"):
        playbook.render(next(iter(playbook.platforms)), name)


@pytest.mark.parametrize("name", ["ether1", "Gi0/1", "sfp-sfpplus1", "eth1.100", "wlan1:1"])
def test_plain_names_still_pass(name: str) -> None:
    assert check_interface(name, {name}) == name


@pytest.mark.parametrize(("platform", "command"), READ_ONLY_SAMPLES.items())
@pytest.mark.parametrize("tail", ["\n", "\r\n", "\n/system reboot", "\x00"], ids=repr)
def test_a_read_only_command_with_a_tail_is_not_read_only(
    platform: str, command: str, tail: str
) -> None:
    assert read_only(platform, command)
    assert not read_only(platform, command + tail)
    assert READ_ONLY[platform].match(command + tail) is None  # whatever a caller uses
