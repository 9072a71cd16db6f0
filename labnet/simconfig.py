"""Configurations the lab's RouterOS and IOS simulators export (issue 22).

Generated from the netns' REAL state (interfaces, addresses, admin state, aliases) plus a
stable body, so a lab change (``sigap lab if-down``, a renamed port) is a real diff. Like
real devices, each export also carries volatile text that changes without any change of the
device (RouterOS's header timestamp; IOS's byte count, "last change" stamp and the NTP drift
``ntp clock-period``) and secrets (IOS password hashes and the SNMP community; RouterOS only
with ``show-sensitive``), which the agent must normalise and redact.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from typing import TYPE_CHECKING, Protocol

from labnet.plan import ios_name, uplink_name

if TYPE_CHECKING:
    from collections.abc import Sequence


class Port(Protocol):
    """What an export reads of an interface (``labnet.sshsim.Port`` has it)."""

    @property
    def name(self) -> str:
        """Kernel name."""

    @property
    def admin_up(self) -> bool:
        """Admin state."""

    @property
    def alias(self) -> str:
        """Description."""

    @property
    def addresses(self) -> tuple[str, ...]:
        """``a.b.c.d/len`` each."""


ROUTEROS = "mikrotik_routeros"
LAB_COMMUNITY = "lab-ro-community"  # the community the exports show (a secret to redact)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _ports(ports: Sequence[Port]) -> list[Port]:
    return [p for p in ports if p.name != "lo" and not p.name.startswith("<")]


def routeros_export(
    identity: str,
    ports: Sequence[Port],
    *,
    sensitive: bool,
    secret: str = "",
    now: float | None = None,
) -> str:
    """``/export terse`` (``show-sensitive`` adds the secrets real RouterOS would print)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() if now is None else now))
    serial = _digest("serial", identity)[:12].upper()
    out = [
        f"# {stamp} by RouterOS 7.14.3",
        f"# software id = {serial[:4]}-{serial[4:8]}",
        "#",
        "# model = RB4011iGS+",
        f"# serial number = {serial}",
        "/interface bridge add name=bridge-lan",
    ]
    live = _ports(ports)
    for p in live:
        extra = f" comment={_quoted(p.alias)}" if p.alias else ""
        extra += " disabled=yes" if not p.admin_up else ""
        if extra:
            out.append(f"/interface ethernet set [ find default-name={p.name} ]{extra}")
    uplink = uplink_name(ROUTEROS)
    out += [
        f"/interface bridge port add bridge=bridge-lan interface={p.name}"
        for p in live
        if p.name.startswith("ether") and p.name != uplink
    ]
    for p in live:
        for addr in p.addresses:
            net = ipaddress.ip_interface(addr).network.network_address
            out.append(f"/ip address add address={addr} interface={p.name} network={net}")
    out += [
        "/ip dns set servers=10.63.255.254",
        "/ip service set telnet disabled=yes",
        "/ip service set ftp disabled=yes",
        f"/snmp community set [ find default=yes ] name={LAB_COMMUNITY}",
        "/snmp set enabled=yes",
        f"/system identity set name={identity}",
        "/system ntp client set enabled=yes",
        "/system ntp client servers add address=10.63.255.254",
    ]
    if sensitive:
        out.append(f"/ppp secret add name=kantor password={secret or 'lab'} service=pppoe")
    return "\n".join(out) + "\n"


def _quoted(text: str) -> str:
    if text and all(c.isalnum() or c in "-_.:/" for c in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ios_running_config(
    hostname: str, ports: Sequence[Port], *, user: str, secret: str, now: float | None = None
) -> str:
    """``show running-config`` with the header and NTP drift that change on every call."""
    when = time.time() if now is None else now
    changed = time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime(when))
    enable = f"$1${_digest('enable', secret)[:4]}${_digest('e', secret)[:22]}"
    hashed = f"$1${_digest('u', user)[:4]}${_digest(user, secret)[:22]}"
    body = [
        "!",
        f"! Last configuration change at {changed}",
        "!",
        "version 15.7",
        "service timestamps log datetime msec",
        "service password-encryption",
        "!",
        f"hostname {hostname}",
        "!",
        f"enable secret 5 {enable}",
        f"username {user} privilege 15 secret 5 {hashed}",
        "!",
        "ip domain name lab.local",
        "!",
    ]
    for p in _ports(ports):
        body.append(f"interface {ios_name(p.name)}")
        if p.alias:
            body.append(f" description {p.alias}")
        if p.addresses:
            iface = ipaddress.ip_interface(p.addresses[0])
            body.append(f" ip address {iface.ip} {iface.netmask}")
        else:
            body.append(" no ip address")
        if not p.admin_up:
            body.append(" shutdown")
        body.append("!")
    body += [
        f"snmp-server community {LAB_COMMUNITY} RO",
        f"ntp clock-period {17179000 + int(when * 1000) % 997}",
        "ntp server 10.63.255.254",
        "!",
        "line vty 0 4",
        " login local",
        " transport input ssh",
        "!",
        "end",
    ]
    text = "\n".join(body) + "\n"
    return f"Building configuration...\n\nCurrent configuration : {len(text)} bytes\n{text}"
