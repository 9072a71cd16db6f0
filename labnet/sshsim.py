"""SSH CLI simulators of RouterOS and Cisco IOS devices for netmiko: the command parsers.

One concept: the simulated CLIs (the command parsers of two dialects and their output).

The parsers (``RouterOSCli``, ``IosCli``) are pure: they get a snapshot of the netns'
interfaces and return the output plus the port changes to apply; labnet.sshserver (the
asyncssh process serving every simulated device of a lab) applies them to the REAL
interfaces, so ping and SNMP see them. The device's log lives per device in the server
(``DeviceLog``), not per session.

What netmiko 4.8's unmodified drivers need is in ../shared/notes/netmiko-lab-facts.md.
Output follows real devices' (``shared/devices/cli``): RouterOS prints flags as columns
(``D`` dynamic, ``X`` disabled or ``R`` running, ``S`` slave; the router bridges its LAN
ports, every ``etherN`` but the uplink, and ``<...>`` interfaces are dynamic) in table,
``detail`` and ``terse`` form; IOS prints ``GigabitEthernet0/1`` for the kernel's ``Gi0-1``
(the short ifName, as on real IOS) and accepts ``Gi0-1``, ``Gi0/1`` or the long name.
Differences from real devices: RouterOS has no menu navigation (full-path commands only),
output tables are abridged.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from dataclasses import dataclass, field

from labnet.plan import ios_name, uplink_name
from labnet.simconfig import ios_running_config, routeros_export

LOG_KEEP = 200
ROUTEROS = "mikrotik_routeros"


# -- interface snapshot ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Port:
    """One kernel interface of the device netns as the CLI shows it."""

    name: str
    admin_up: bool
    oper_up: bool
    mtu: int = 1500
    alias: str = ""
    mac: str = ""
    addresses: tuple[str, ...] = ()  # "a.b.c.d/len"


def parse_ip_addr_json(text: str) -> list[Port]:
    """Parse ``ip -j addr show`` output into ports (``lo`` included)."""
    ports = []
    for link in json.loads(text or "[]"):
        flags = link.get("flags", [])
        addrs = tuple(
            f"{a['local']}/{a['prefixlen']}"
            for a in link.get("addr_info", [])
            if a.get("family") == "inet" and a.get("local") != "127.0.0.1"
        )
        ports.append(
            Port(
                name=str(link["ifname"]),
                admin_up="UP" in flags,
                oper_up="LOWER_UP" in flags and "UP" in flags,
                mtu=int(link.get("mtu", 1500)),
                alias=str(link.get("ifalias", "")),
                mac=str(link.get("address", "")),
                addresses=addrs,
            )
        )
    return ports


@dataclass(slots=True)
class Reply:
    """What a command line produced: output text, port changes, and whether to close."""

    output: str = ""
    changes: list[tuple[str, bool]] = field(default_factory=list)  # (port, admin up?)
    close: bool = False


@dataclass(slots=True)
class DeviceLog:
    """The device's log (per device, shared by its sessions), newest last, bounded."""

    lines: list[tuple[float, str, str]] = field(default_factory=list)  # (time, topic, text)

    def add(self, topic: str, text: str, when: float | None = None) -> None:
        """Append one entry."""
        self.lines.append((time.time() if when is None else when, topic, text))
        del self.lines[:-LOG_KEEP]


def _by_name(ports: list[Port]) -> dict[str, Port]:
    return {p.name: p for p in ports if p.name != "lo"}


def login_name(platform: str, username: str) -> str:
    """Return the user name a device checks (RouterOS: netmiko appends ``+ct511w4098h``)."""
    return username.split("+", 1)[0] if platform == "mikrotik_routeros" else username


# -- RouterOS ----------------------------------------------------------------------------

_ROS_SET_DISABLED = re.compile(r"\Adisabled=(yes|no|true|false)\Z")
_ROS_PRINT_FORMS = frozenset({"detail", "terse"})
_ROS_PRINT_NOOP = frozenset({"brief", "without-paging"})
_ROS_FLAGS_LEGEND = "Flags: D - dynamic, X - disabled, R - running, S - slave"
_ROS_TABLE_HEADER = " #     NAME" + " " * 32 + "TYPE       ACTUAL-MTU MAC-ADDRESS"


def ros_flags(port: Port) -> str:
    """Return the flag columns RouterOS prints for ``port`` (``D``, ``X``/``R``, ``S``)."""
    dynamic = "D" if port.name.startswith("<") else " "
    state = "X" if not port.admin_up else "R" if port.oper_up else " "
    bridged = port.name.startswith("ether") and port.name != uplink_name(ROUTEROS)
    return dynamic + state + ("S" if bridged else " ")


def _ros_print_args(words: list[str]) -> tuple[str, str | None] | None:
    """Return (form, name filter) of ``print`` arguments, or None when they are not known."""
    form, only, rest = "table", None, list(words)
    while rest:
        word = rest.pop(0)
        if word in _ROS_PRINT_FORMS:
            form = word
        elif word == "where" and len(rest) == 1 and rest[0].startswith("name="):
            only = rest.pop(0).removeprefix("name=")
        elif word not in _ROS_PRINT_NOOP:
            return None
    return form, only


def _ros_item(n: int, port: Port, form: str) -> list[str]:
    """The lines of one ``/interface print`` item in ``form`` (table, detail, terse)."""
    head = f"{n:>2} {ros_flags(port)} "
    ether = port.name.startswith("ether")
    mac = f" mac-address={port.mac.upper()}" if port.mac else ""  # none on PPP interfaces
    mtu = f"mtu={port.mtu} actual-mtu={port.mtu}"
    if form == "terse":
        comment = f"comment={port.alias} " if port.alias else ""
        default = f" default-name={port.name}" if ether else ""
        return [f"{head}{comment}name={port.name}{default} type=ether {mtu}{mac}"]
    if form == "detail":
        default = f' default-name="{port.name}"' if ether else ""
        data = f'name="{port.name}"{default} type="ether" {mtu}{mac}'
    else:
        data = f"{port.name:<35} {'ether':<10} {port.mtu:>10} {port.mac.upper()}".rstrip()
    lines = [head + data]
    if port.alias:  # the comment after the flags, the item's data on the next line
        lines = [f"{head};;; {port.alias}", " " * len(head) + data]
    return lines + ([""] if form == "detail" else [])


class RouterOSCli:
    """Full-path RouterOS commands (no menu navigation), prompt ``[user@name] > ``."""

    def __init__(self, identity: str, user: str, log: DeviceLog) -> None:
        """Create the CLI of one session."""
        self.identity = identity
        self.user = user
        self.log = log

    @property
    def prompt(self) -> str:
        """Return the current prompt."""
        return f"[{self.user}@{self.identity}] > "

    def handle(self, line: str, ports: list[Port]) -> Reply:  # noqa: C901, PLR0911, PLR0912
        """Run one command line against the interface snapshot ``ports``."""
        words = line.strip().split()
        if not words:
            return Reply()
        if words[0] in ("quit", "/quit"):
            return Reply(output="interrupted\n", close=True)
        path = words[0]
        rest = words[1:]
        known = _by_name(ports)
        if path == "/interface" and rest[:1] == ["print"]:
            args = _ros_print_args(rest[1:])
            if args is None:
                return Reply(output=f"syntax error (line 1 column {len(line.strip()) + 1})\n")
            return Reply(output=self._interface_print(ports, *args))
        if path == "/interface" and rest[:1] in (["enable"], ["disable"]) and len(rest) == 2:  # noqa: PLR2004
            return self._set(known, rest[1], up=rest[0] == "enable")
        if path == "/interface" and rest[:1] == ["set"] and len(rest) == 3:  # noqa: PLR2004
            m = _ROS_SET_DISABLED.match(rest[2])
            if m:
                return self._set(known, rest[1], up=m.group(1) in ("no", "false"))
        if path == "/ip" and rest == ["address", "print"]:
            return Reply(output=self._address_print(ports))
        if path == "/export" and set(rest) <= {"terse", "show-sensitive"}:
            return Reply(
                output=routeros_export(self.identity, ports, sensitive="show-sensitive" in rest)
            )
        if path == "/log" and rest == ["print"]:
            return Reply(output=self._log_print())
        if path == "/system" and rest == ["identity", "print"]:
            return Reply(output=f"  name: {self.identity}\n")
        if path == "/system" and rest == ["resource", "print"]:
            return Reply(output="  version: 7.14.3 (stable)\n  board-name: RB4011iGS+\n")
        if not path.startswith("/"):
            return Reply(output=f"bad command name {path} (line 1 column 1)\n")
        return Reply(output=f"syntax error (line 1 column {len(path) + 2})\n")

    def _set(self, known: dict[str, Port], name: str, *, up: bool) -> Reply:
        if name not in known:
            return Reply(output="no such item\n")
        if known[name].admin_up != up:
            state = "enabled" if up else "disabled"
            self.log.add("system,info", f"interface {name} {state} by {self.user}")
        return Reply(changes=[(name, up)])

    @staticmethod
    def _interface_print(ports: list[Port], form: str = "table", only: str | None = None) -> str:
        out = [] if form == "terse" else [_ROS_FLAGS_LEGEND]
        out += [_ROS_TABLE_HEADER] if form == "table" else []
        for n, p in enumerate(q for q in ports if q.name != "lo"):
            if only is None or p.name == only:  # `where name=X` keeps the full list's numbers
                out += _ros_item(n, p, form)
        return "\n".join(out) + "\n"

    @staticmethod
    def _address_print(ports: list[Port]) -> str:
        out = [
            "Flags: X - disabled, I - invalid, D - dynamic ",
            " #   ADDRESS            NETWORK         INTERFACE",
        ]
        n = 0
        for p in ports:
            for addr in p.addresses:
                network = addr.split("/")[0]
                out.append(f"{n:>2}   {addr:<18} {network:<15} {p.name}")
                n += 1
        return "\n".join(out) + "\n"

    def _log_print(self) -> str:
        return "".join(
            f"{time.strftime('%H:%M:%S', time.localtime(t))} {topic} {text}\n"
            for t, topic, text in self.log.lines
        )


# -- Cisco IOS ---------------------------------------------------------------------------

_IOS_IF_RE = re.compile(r"\A(?:g|gi|gig|gigabitethernet)\s*(\d+)[/-](\d+)\Z", re.IGNORECASE)
INVALID = "% Invalid input detected at '^' marker.\n"
_IOS_BRIEF_HEADER = f"{'Interface':<26} {'IP-Address':<15} OK? Method {'Status':<21} Protocol"


def ios_port_name(text: str, known: dict[str, Port]) -> str | None:
    """Map ``Gi0-1``, ``Gi0/1``, ``GigabitEthernet0/1`` to the kernel name, or None."""
    if text in known:
        return text
    m = _IOS_IF_RE.match(text.strip())
    if m:
        name = f"Gi{m.group(1)}-{m.group(2)}"
        if name in known:
            return name
    return None


class IosCli:
    """Cisco IOS exec / privileged / config / config-if modes."""

    def __init__(self, hostname: str, secret: str, log: DeviceLog, user: str) -> None:
        """Create the CLI of one session (starts in user exec mode)."""
        self.hostname = hostname
        self.secret = secret
        self.log = log
        self.user = user
        self.mode = "exec"  # exec | enable | config | config-if
        self.interface: str | None = None
        self.awaiting_secret = False

    @property
    def prompt(self) -> str:
        """Return the current prompt (``Password: `` while waiting for the secret)."""
        if self.awaiting_secret:
            return "Password: "
        return {
            "exec": f"{self.hostname}>",
            "enable": f"{self.hostname}#",
            "config": f"{self.hostname}(config)#",
            "config-if": f"{self.hostname}(config-if)#",
        }[self.mode]

    def handle(self, line: str, ports: list[Port]) -> Reply:
        """Run one command line against the interface snapshot ``ports``."""
        if self.awaiting_secret:
            self.awaiting_secret = False
            if hmac.compare_digest(line.encode(), self.secret.encode()):
                self.mode = "enable"
                return Reply()
            return Reply(output="% Access denied\n")
        cmd = " ".join(line.split())
        low = cmd.lower()
        if not cmd:
            return Reply()
        if low in ("terminal length 0", "terminal width 511") or low.startswith(
            ("terminal length ", "terminal width ")
        ):
            return Reply()
        if self.mode in ("exec", "enable"):
            return self._exec(cmd, low, ports)
        return self._config(cmd, low, ports)

    def _exec(self, cmd: str, low: str, ports: list[Port]) -> Reply:  # noqa: C901, PLR0911
        if low in ("exit", "logout", "quit"):
            return Reply(close=True)
        if low in ("enable", "en"):
            if self.mode == "exec":
                self.awaiting_secret = True
            return Reply()
        if low == "disable":
            self.mode = "exec"
            return Reply()
        if low in ("show ip interface brief", "sh ip int brief", "sh ip int br"):
            return Reply(output=self._ip_int_brief(ports))
        if low.startswith(("show running-config interface ", "sh run int ")):
            name = ios_port_name(cmd.rsplit(maxsplit=1)[-1], _by_name(ports))
            if name is None:
                return Reply(output=INVALID)
            return Reply(output=self._run_int(_by_name(ports)[name]))
        if self.mode == "enable" and low in ("show running-config", "sh run"):
            return Reply(
                output=ios_running_config(self.hostname, ports, user=self.user, secret=self.secret)
            )
        if low in ("show logging", "sh log"):
            return Reply(output=self._logging())
        if low in ("show version", "sh ver"):
            return Reply(output=f"Cisco IOS Software, Version 15.7(3)M8\n{self.hostname} uptime\n")
        if self.mode == "enable" and low in ("configure terminal", "conf t"):
            self.mode = "config"
            return Reply(output="Enter configuration commands, one per line.  End with CNTL/Z.\n")
        if self.mode == "enable" and low in (
            "write memory",
            "wr",
            "copy running-config startup-config",
        ):
            return Reply(output="Building configuration...\n[OK]\n")
        return Reply(output=INVALID)

    def _config(self, cmd: str, low: str, ports: list[Port]) -> Reply:  # noqa: C901, PLR0911
        known = _by_name(ports)
        if low == "end":
            self.mode, self.interface = "enable", None
            self.log.add("SYS-5-CONFIG_I", f"Configured from console by {self.user} on vty0")
            return Reply()
        if low == "exit":
            if self.mode == "config-if":
                self.mode, self.interface = "config", None
            else:
                self.mode = "enable"
                self.log.add("SYS-5-CONFIG_I", f"Configured from console by {self.user} on vty0")
            return Reply()
        if low.startswith(("interface ", "int ")):
            name = ios_port_name(cmd.split(maxsplit=1)[1], known)
            if name is None:
                return Reply(output=INVALID)
            self.mode, self.interface = "config-if", name
            return Reply()
        if self.mode == "config-if" and self.interface is not None:
            if low in ("shutdown", "shut", "no shutdown", "no shut"):
                up = low.startswith("no ")
                port = known.get(self.interface)
                if port is not None and port.admin_up != up:
                    state = "up" if up else "administratively down"
                    name = ios_name(self.interface)
                    self.log.add("LINK-5-CHANGED", f"Interface {name}, changed state to {state}")
                return Reply(changes=[(self.interface, up)])
            if low.startswith(("description ", "no description")):
                return Reply()
        if low.startswith("hostname ") or low.startswith("do "):
            return Reply(output=INVALID)
        return Reply(output=INVALID)

    @staticmethod
    def _ip_int_brief(ports: list[Port]) -> str:
        out = [_IOS_BRIEF_HEADER]
        for p in ports:
            name = "Loopback0" if p.name == "lo" else ios_name(p.name)
            addr = p.addresses[0].split("/")[0] if p.addresses else "unassigned"
            status = "administratively down" if not p.admin_up else "up" if p.oper_up else "down"
            if p.name == "lo":
                status, proto = "up", "up"
            else:
                proto = "up" if p.admin_up and p.oper_up else "down"
            method = "manual" if p.addresses else "unset"
            out.append(f"{name:<26} {addr:<15} YES {method:<6} {status:<21} {proto}")
        return "\n".join(out) + "\n"

    @staticmethod
    def _run_int(port: Port) -> str:
        body = [f"interface {ios_name(port.name)}"]
        if port.alias:
            body.append(f" description {port.alias}")
        body.append(" no ip address")
        if not port.admin_up:
            body.append(" shutdown")
        body.append("end")
        text = "!\n" + "\n".join(body) + "\n"
        return f"Building configuration...\n\nCurrent configuration : {len(text)} bytes\n{text}"

    def _logging(self) -> str:
        head = "Syslog logging: enabled (0 messages dropped)\n\nLog Buffer (8192 bytes):\n"
        return head + "".join(
            f"*{time.strftime('%b %d %H:%M:%S', time.localtime(t))}: %{topic}: {text}\n"
            for t, topic, text in self.log.lines
        )
