"""Plain-data description of a lab: devices, their parents, addresses, and validation.

One concept: the lab specification (the types, their JSON form, the checks a spec passes
when built, and ``tree_spec`` to generate one); labnet.plan turns it into commands.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from labnet.errors import LabSpecError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

DEVICE_NAME_RE = re.compile(r"\A[a-z0-9][a-z0-9-]*\Z")
MAX_DEVICE_NAME = 48
RESERVED_NAMES = frozenset({"noc", "wire"})  # f"{lab}-noc" NOC, f"{lab}-wire" port peers
SNMP_NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\Z")
SNMP_SECRET_RE = re.compile(r"\A[A-Za-z0-9_.:@+-]{8,64}\Z")
SNMP_COMMUNITY_RE = re.compile(r"\A[A-Za-z0-9_.:@+-]{1,64}\Z")
SNMP_AUTH_PROTOCOLS = ("MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
SNMP_PRIV_PROTOCOLS = ("DES", "AES", "AES-192", "AES-256")
SSH_PLATFORMS = ("mikrotik_routeros", "cisco_ios", "linux")  # simulators + real sshd
SSH_USER_RE = re.compile(r"\A[a-z][a-z0-9_-]{0,31}\Z")
SSH_SECRET_RE = re.compile(r"\A[A-Za-z0-9_.:@+-]{8,64}\Z")


@dataclass(frozen=True, slots=True)
class LabSnmpUser:
    """One SNMPv3 USM user of every lab snmpd (lab-only secrets, not real credentials).

    ``auth``/``priv`` use net-snmp's protocol names (``SHA``, ``SHA-256``, ``AES`` =
    AES-128-CFB, ``AES-256``); ``priv=None`` makes an authNoPriv user.
    """

    name: str
    auth: str
    auth_key: str = field(repr=False)
    priv: str | None = None
    priv_key: str | None = field(default=None, repr=False)

    @property
    def level(self) -> str:
        """Return the USM security level: ``authPriv`` or ``authNoPriv``."""
        return "authNoPriv" if self.priv is None else "authPriv"


DEFAULT_SNMP_USERS = (
    LabSnmpUser("sigap-sha-aes", "SHA", "lab-auth-sha-aes", "AES", "lab-priv-sha-aes"),
    LabSnmpUser("sigap-sha256-aes256", "SHA-256", "lab-auth-sha256", "AES-256", "lab-priv-aes256"),
    LabSnmpUser("sigap-sha-nopriv", "SHA", "lab-auth-sha-nopriv"),
)


@dataclass(frozen=True, slots=True)
class LabSnmp:
    """Credentials served by every lab snmpd: a v2c read community and v3 read users."""

    community: str = field(default="sigap-lab", repr=False)
    users: tuple[LabSnmpUser, ...] = DEFAULT_SNMP_USERS
    trap_sink: str = ""  # host:port of the agent's trap receiver (issue 20); "" = no traps

    def user(self, name: str) -> LabSnmpUser:
        """Return the v3 user called ``name`` (KeyError if absent)."""
        for user in self.users:
            if user.name == name:
                return user
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (inverse of ``from_json``)."""
        return {
            "community": self.community,
            "users": [
                {
                    "name": u.name,
                    "auth": u.auth,
                    "auth_key": u.auth_key,
                    "priv": u.priv,
                    "priv_key": u.priv_key,
                }
                for u in self.users
            ],
            "trap_sink": self.trap_sink,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LabSnmp:
        """Build credentials from ``to_json`` output."""
        return cls(
            community=str(data["community"]),
            users=tuple(
                LabSnmpUser(
                    name=str(u["name"]),
                    auth=str(u["auth"]),
                    auth_key=str(u["auth_key"]),
                    priv=None if u.get("priv") is None else str(u["priv"]),
                    priv_key=None if u.get("priv_key") is None else str(u["priv_key"]),
                )
                for u in data["users"]
            ),
            trap_sink=str(data.get("trap_sink", "")),
        )


@dataclass(frozen=True, slots=True)
class LabSsh:
    """SSH login of every lab device with ``ssh`` (lab-only secrets, not real credentials).

    ``secret`` is the IOS enable secret (the password when empty).
    """

    user: str = "sigap"
    password: str = field(default="sigap-lab-ssh", repr=False)
    secret: str = field(default="", repr=False)

    @property
    def enable_secret(self) -> str:
        """Return the IOS enable secret."""
        return self.secret or self.password

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (inverse of ``from_json``)."""
        return {"user": self.user, "password": self.password, "secret": self.secret}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LabSsh:
        """Build credentials from ``to_json`` output."""
        return cls(str(data["user"]), str(data["password"]), str(data.get("secret", "")))


@dataclass(frozen=True, slots=True)
class LabDevice:
    """One simulated device: a network namespace with ``address`` as a /32 on ``lo``.

    ``snmp=True`` gives the device LAN ports (veth pairs, see ``plan.lan_ports``) and a
    real net-snmp ``snmpd`` on ``address``:161; off by default so that big labs stay
    light. ``role`` ``switch`` gets more LAN ports. ``ssh=True`` (platforms in
    ``SSH_PLATFORMS``) gives it LAN ports too and an SSH endpoint on ``address``:22 (see
    labnet.ssh). ``aliases``: more /32 addresses on its ``lo``, routed like ``address``
    (the device zoo serves one recording on each, see labnet.zoo).
    """

    name: str
    address: str
    parent: str | None
    platform: str = ""
    role: str = ""
    snmp: bool = False
    ssh: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabSpec:
    """A whole lab; validated on construction (raises LabSpecError)."""

    devices: tuple[LabDevice, ...]
    noc_address: str
    prefixes: tuple[str, ...]
    snmp: LabSnmp = LabSnmp()
    ssh: LabSsh = LabSsh()

    def __post_init__(self) -> None:
        """Validate the spec."""
        validate(self)

    def device(self, name: str) -> LabDevice:
        """Return the device called ``name`` (KeyError if absent)."""
        for dev in self.devices:
            if dev.name == name:
                return dev
        raise KeyError(name)

    @property
    def snmp_devices(self) -> tuple[LabDevice, ...]:
        """Return the devices running snmpd (spec order)."""
        return tuple(d for d in self.devices if d.snmp)

    @property
    def ssh_devices(self) -> tuple[LabDevice, ...]:
        """Return the devices with an SSH endpoint (spec order)."""
        return tuple(d for d in self.devices if d.ssh)

    @property
    def port_devices(self) -> tuple[LabDevice, ...]:
        """Return the devices having LAN ports (snmp or ssh; spec order)."""
        return tuple(d for d in self.devices if d.snmp or d.ssh)

    def with_snmp(self, names: Iterable[str] | None = None, snmp: LabSnmp | None = None) -> LabSpec:
        """Return a copy with snmpd on ``names`` (all devices if None) and ``snmp`` credentials."""
        wanted = None if names is None else set(names)
        if wanted is not None:
            unknown = wanted - {d.name for d in self.devices}
            if unknown:
                raise LabSpecError(f"unknown devices for snmp: {', '.join(sorted(unknown))}")
        devices = tuple(
            replace(d, snmp=True) if wanted is None or d.name in wanted else d for d in self.devices
        )
        return replace(self, devices=devices, snmp=self.snmp if snmp is None else snmp)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (inverse of ``from_json``)."""
        return {
            "devices": [
                {
                    "name": d.name,
                    "address": d.address,
                    "parent": d.parent,
                    "platform": d.platform,
                    "role": d.role,
                    "snmp": d.snmp,
                    "ssh": d.ssh,
                    "aliases": list(d.aliases),
                }
                for d in self.devices
            ],
            "noc_address": self.noc_address,
            "prefixes": list(self.prefixes),
            "snmp": self.snmp.to_json(),
            "ssh": self.ssh.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LabSpec:
        """Build a spec from ``to_json`` output."""
        try:
            devices = tuple(
                LabDevice(
                    name=str(d["name"]),
                    address=str(d["address"]),
                    parent=None if d["parent"] is None else str(d["parent"]),
                    platform=str(d.get("platform", "")),
                    role=str(d.get("role", "")),
                    snmp=bool(d.get("snmp", False)),
                    ssh=bool(d.get("ssh", False)),
                    aliases=tuple(str(a) for a in d.get("aliases", ())),
                )
                for d in data["devices"]
            )
            snmp = LabSnmp.from_json(data["snmp"]) if "snmp" in data else LabSnmp()
            ssh = LabSsh.from_json(data["ssh"]) if "ssh" in data else LabSsh()
            return cls(
                devices=devices,
                noc_address=str(data["noc_address"]),
                prefixes=tuple(str(p) for p in data["prefixes"]),
                snmp=snmp,
                ssh=ssh,
            )
        except (KeyError, TypeError) as exc:
            raise LabSpecError(f"malformed lab spec data: {exc!r}") from exc


def _parse_ip(text: str, what: str) -> ipaddress.IPv4Address:
    """Parse an IPv4 address or raise LabSpecError mentioning ``what``."""
    try:
        return ipaddress.IPv4Address(text)
    except ValueError as exc:
        raise LabSpecError(f"{what}: {text!r} is not an IPv4 address") from exc


def parse_prefixes(prefixes: Iterable[str]) -> list[ipaddress.IPv4Network]:
    """Parse and check lab prefixes: IPv4, private, not loopback/link-local, at least one."""
    nets: list[ipaddress.IPv4Network] = []
    for text in prefixes:
        try:
            net = ipaddress.IPv4Network(text, strict=True)
        except ValueError as exc:
            raise LabSpecError(f"prefix {text!r} is not an IPv4 network: {exc}") from exc
        if not net.is_private or net.is_loopback or net.is_link_local or net.prefixlen < 8:  # noqa: PLR2004
            raise LabSpecError(
                f"prefix {text} must be a private range (RFC 1918 style), not loopback or "
                "link-local, and at most a /8"
            )
        nets.append(net)
    if not nets:
        raise LabSpecError("a lab needs at least one prefix")
    return nets


def _check_names(devices: Sequence[LabDevice]) -> None:
    """Check device names: format, length, reserved, unique."""
    seen: set[str] = set()
    for dev in devices:
        if not DEVICE_NAME_RE.match(dev.name) or len(dev.name) > MAX_DEVICE_NAME:
            raise LabSpecError(
                f"device name {dev.name!r} must match [a-z0-9][a-z0-9-]* "
                f"and be at most {MAX_DEVICE_NAME} characters"
            )
        if dev.name in RESERVED_NAMES:
            raise LabSpecError(f"device name {dev.name!r} is reserved")
        if dev.name in seen:
            raise LabSpecError(f"duplicate device name {dev.name!r}")
        seen.add(dev.name)


def _check_addresses(spec: LabSpec) -> None:
    """Check addresses: IPv4, unique, inside the prefixes; NOC inside too but not a device's."""
    nets = parse_prefixes(spec.prefixes)
    noc = _parse_ip(spec.noc_address, "noc_address")
    if not any(noc in net for net in nets):
        raise LabSpecError(
            f"noc_address {noc} must be inside the lab prefixes {', '.join(spec.prefixes)} "
            "(so the root-namespace guard covers it)"
        )
    owner: dict[ipaddress.IPv4Address, str] = {noc: "the NOC"}
    for dev in spec.devices:
        for text in (dev.address, *dev.aliases):
            addr = _parse_ip(text, f"device {dev.name!r} address")
            if not any(addr in net for net in nets):
                raise LabSpecError(
                    f"device {dev.name!r} address {addr} is not inside the lab prefixes "
                    f"{', '.join(spec.prefixes)}"
                )
            if addr in owner:
                raise LabSpecError(
                    f"duplicate address {addr}: device {dev.name!r} and {owner[addr]}"
                )
            owner[addr] = f"device {dev.name!r}"


def _check_parents(devices: Sequence[LabDevice]) -> None:
    """Check that every parent exists and that parent links form no cycle."""
    parents = {d.name: d.parent for d in devices}
    for dev in devices:
        if dev.parent is not None and dev.parent not in parents:
            raise LabSpecError(f"device {dev.name!r} has unknown parent {dev.parent!r}")
    done: set[str] = set()
    for dev in devices:
        path: list[str] = []
        on_path: set[str] = set()
        cur: str | None = dev.name
        while cur is not None and cur not in done:  # bounded: each step adds to on_path
            if cur in on_path:
                cycle = [*path[path.index(cur) :], cur]
                raise LabSpecError(f"parent cycle: {' -> '.join(cycle)}")
            on_path.add(cur)
            path.append(cur)
            cur = parents[cur]
        done.update(on_path)


def _check_snmp(snmp: LabSnmp) -> None:
    """Check SNMP credentials: names, secrets (no spaces or quotes), protocols."""
    if not SNMP_COMMUNITY_RE.match(snmp.community):
        raise LabSpecError("snmp community must be 1..64 characters of [A-Za-z0-9_.:@+-]")
    seen: set[str] = set()
    for user in snmp.users:
        if not SNMP_NAME_RE.match(user.name) or user.name in seen:
            raise LabSpecError(f"snmp user name {user.name!r} is invalid or duplicate")
        seen.add(user.name)
        if user.auth not in SNMP_AUTH_PROTOCOLS:
            raise LabSpecError(
                f"snmp user {user.name!r}: auth {user.auth!r} not in {SNMP_AUTH_PROTOCOLS}"
            )
        if (user.priv is None) != (user.priv_key is None):
            raise LabSpecError(f"snmp user {user.name!r}: priv and priv_key go together")
        if user.priv is not None and user.priv not in SNMP_PRIV_PROTOCOLS:
            raise LabSpecError(
                f"snmp user {user.name!r}: priv {user.priv!r} not in {SNMP_PRIV_PROTOCOLS}"
            )
        for key in (user.auth_key, user.priv_key):
            if key is not None and not SNMP_SECRET_RE.match(key):
                raise LabSpecError(
                    f"snmp user {user.name!r}: keys must be 8..64 characters of [A-Za-z0-9_.:@+-]"
                )


def _check_ssh(spec: LabSpec) -> None:
    """Check SSH credentials and that SSH devices have a platform that has an endpoint."""
    if not SSH_USER_RE.match(spec.ssh.user) or spec.ssh.user == "root":
        raise LabSpecError(f"ssh user {spec.ssh.user!r} must match [a-z][a-z0-9_-]* (not root)")
    for secret in (spec.ssh.password, spec.ssh.enable_secret):
        if not SSH_SECRET_RE.match(secret):
            raise LabSpecError("ssh password/secret must be 8..64 characters of [A-Za-z0-9_.:@+-]")
    if spec.ssh.password in spec.ssh.user:
        raise LabSpecError("ssh password must not be part of the user name (netmiko masks it)")
    for dev in spec.ssh_devices:
        if dev.platform not in SSH_PLATFORMS:
            raise LabSpecError(
                f"device {dev.name!r}: ssh needs a platform in {SSH_PLATFORMS}, "
                f"not {dev.platform!r}"
            )


def validate(spec: LabSpec) -> None:
    """Validate a spec; raise LabSpecError with a clear message on the first problem."""
    if not spec.devices:
        raise LabSpecError("a lab needs at least one device")
    _check_names(spec.devices)
    _check_addresses(spec)
    _check_parents(spec.devices)
    _check_snmp(spec.snmp)
    _check_ssh(spec)


def tree_spec(
    fanout: Sequence[int],
    *,
    prefix: str = "10.52.0.0/16",
    noc_address: str = "10.52.255.254",
    root: str = "core",
    platform: str = "",
    snmp: bool = False,
) -> LabSpec:
    """Build a tree: one ``root``, then ``fanout[0]`` children, each with ``fanout[1]``, ...

    Names are ``root``, ``d<i>`` for the first level and ``<parent>-<j>`` below; addresses
    are taken in order from ``prefix`` (skipping ``noc_address``). ``tree_spec((50, 20))``
    gives the 1,051-device benchmark lab. ``snmp=True`` runs snmpd on every device.
    """
    net = ipaddress.IPv4Network(prefix)
    noc = ipaddress.IPv4Address(noc_address)
    hosts = (h for h in net.hosts() if h != noc)
    devices = [LabDevice(root, str(next(hosts)), None, platform, snmp=snmp)]
    level = [root]
    for depth, count in enumerate(fanout):
        nxt: list[str] = []
        for parent in level:
            for j in range(1, count + 1):
                name = f"d{j}" if depth == 0 else f"{parent}-{j}"
                try:
                    address = str(next(hosts))
                except StopIteration as exc:
                    raise LabSpecError(f"prefix {prefix} too small for this tree") from exc
                devices.append(LabDevice(name, address, parent, platform, snmp=snmp))
                nxt.append(name)
        level = nxt
    return LabSpec(devices=tuple(devices), noc_address=noc_address, prefixes=(prefix,))
