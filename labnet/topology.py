"""Plain-data description of a lab: devices, their parents, addresses, and validation."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labnet.errors import LabSpecError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

DEVICE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_DEVICE_NAME = 48
RESERVED_NAMES = frozenset({"noc"})  # f"{lab}-noc" is the NOC netns


@dataclass(frozen=True, slots=True)
class LabDevice:
    """One simulated device: a network namespace with ``address`` as a /32 on ``lo``."""

    name: str
    address: str
    parent: str | None
    platform: str = ""


@dataclass(frozen=True, slots=True)
class LabSpec:
    """A whole lab; validated on construction (raises LabSpecError)."""

    devices: tuple[LabDevice, ...]
    noc_address: str
    prefixes: tuple[str, ...]

    def __post_init__(self) -> None:
        """Validate the spec."""
        validate(self)

    def device(self, name: str) -> LabDevice:
        """Return the device called ``name`` (KeyError if absent)."""
        for dev in self.devices:
            if dev.name == name:
                return dev
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (inverse of ``from_json``)."""
        return {
            "devices": [
                {"name": d.name, "address": d.address, "parent": d.parent, "platform": d.platform}
                for d in self.devices
            ],
            "noc_address": self.noc_address,
            "prefixes": list(self.prefixes),
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
                )
                for d in data["devices"]
            )
            return cls(
                devices=devices,
                noc_address=str(data["noc_address"]),
                prefixes=tuple(str(p) for p in data["prefixes"]),
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
        addr = _parse_ip(dev.address, f"device {dev.name!r} address")
        if not any(addr in net for net in nets):
            raise LabSpecError(
                f"device {dev.name!r} address {addr} is not inside the lab prefixes "
                f"{', '.join(spec.prefixes)}"
            )
        if addr in owner:
            raise LabSpecError(f"duplicate address {addr}: device {dev.name!r} and {owner[addr]}")
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


def validate(spec: LabSpec) -> None:
    """Validate a spec; raise LabSpecError with a clear message on the first problem."""
    if not spec.devices:
        raise LabSpecError("a lab needs at least one device")
    _check_names(spec.devices)
    _check_addresses(spec)
    _check_parents(spec.devices)


def tree_spec(
    fanout: Sequence[int],
    *,
    prefix: str = "10.52.0.0/16",
    noc_address: str = "10.52.255.254",
    root: str = "core",
    platform: str = "",
) -> LabSpec:
    """Build a tree: one ``root``, then ``fanout[0]`` children, each with ``fanout[1]``, ...

    Names are ``root``, ``d<i>`` for the first level and ``<parent>-<j>`` below; addresses
    are taken in order from ``prefix`` (skipping ``noc_address``). ``tree_spec((50, 20))``
    gives the 1,051-device benchmark lab.
    """
    net = ipaddress.IPv4Network(prefix)
    noc = ipaddress.IPv4Address(noc_address)
    hosts = (h for h in net.hosts() if h != noc)
    devices = [LabDevice(root, str(next(hosts)), None, platform)]
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
                devices.append(LabDevice(name, address, parent, platform))
                nxt.append(name)
        level = nxt
    return LabSpec(devices=tuple(devices), noc_address=noc_address, prefixes=(prefix,))
