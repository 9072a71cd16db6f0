"""Value objects of topology discovery: neighbours seen, links, proposals, unknown neighbours."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collectors.platform import Platform

# netmiko device types that drive the same CLI: detecting one where the other is written
# is no mismatch (an ISR on IOS-XE written as cisco_ios works with either)
SAME_CLI: Final = (frozenset({"cisco_ios", "cisco_xe"}),)


@dataclass(frozen=True, slots=True)
class Neighbour:
    """One row of a device's neighbour table, decoded (LLDP, MNDP or CDP).

    ``local_port`` is the local ifIndex (None when the table does not say: RouterOS's
    single-integer lldpRemTable index); ``remote_*`` is what the neighbour announces.
    """

    protocol: str  # "lldp" | "mndp" | "cdp"
    local_port: int | None
    remote_name: str
    remote_port: str = ""
    remote_address: str = ""
    remote_chassis: str = ""
    remote_platform: str = ""


@dataclass(frozen=True, slots=True)
class DeviceScan:
    """What one inventory device answered: its ifNames, ifDescrs and neighbours, or why not."""

    device: str
    if_names: dict[int, str]
    neighbours: tuple[Neighbour, ...]
    error: str = ""
    if_descrs: dict[int, str] = field(default_factory=dict)
    platform: Platform | None = None  # what the device says it is (None: not read)

    @property
    def ok(self) -> bool:
        """Return True when the device answered."""
        return not self.error

    def port_name(self, index: int | None) -> str:
        """Return the ifName of ``index`` (``?`` when unknown)."""
        if index is None:
            return "?"
        return self.if_names.get(index, f"ifIndex {index}")

    def own_name(self, port: str) -> str | None:
        """Return this device's ifName of a port a neighbour announced, or None.

        Neighbours name a port by ifName (LLDP on most devices), by ifDescr (CDP:
        ``GigabitEthernet1/0/3`` for ifName ``Gi1/0/3``), or by RouterOS's path through
        its bridge and bond (``bridge1/server-trunk/ether6``, ``trunk: switch (br1)/wlan1``):
        the last part counts when the first part is one of this device's interfaces too.
        """
        names = {d: self.if_names[i] for i, d in self.if_descrs.items() if d and i in self.if_names}
        names |= {n: n for n in self.if_names.values() if n}  # an ifName wins over an ifDescr
        folded = {k.casefold(): v for k, v in names.items()}
        found = names.get(port) or folded.get(port.casefold())
        if found is not None:
            return found
        head, sep, _ = port.partition("/")
        last = port.rsplit("/", 1)[-1]
        return names[last] if sep and head in names and last in names else None


@dataclass(frozen=True, slots=True, order=True)
class Link:
    """A cable between two inventory devices: ``a`` port ``a_port`` <-> ``b`` port ``b_port``.

    Canonical: ``a`` < ``b`` by name. ``protocols`` says which tables showed it.
    """

    a: str
    a_port: str
    b: str
    b_port: str
    protocols: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Return the identity of the link (devices and ports, not how it was seen)."""
        return (self.a, self.a_port, self.b, self.b_port)

    def ends(self) -> frozenset[str]:
        """Return the two device names."""
        return frozenset({self.a, self.b})

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "a": self.a,
            "a_port": self.a_port,
            "b": self.b,
            "b_port": self.b_port,
            "protocols": list(self.protocols),
        }


@dataclass(frozen=True, slots=True)
class UnknownNeighbour:
    """A neighbour announced to an inventory device that the inventory does not know."""

    seen_by: str
    port: str
    name: str
    remote_port: str
    address: str
    protocol: str
    platform: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "seen_by": self.seen_by,
            "port": self.port,
            "name": self.name,
            "remote_port": self.remote_port,
            "address": self.address,
            "protocol": self.protocol,
            "platform": self.platform,
        }


@dataclass(frozen=True, slots=True)
class ParentProposal:
    """The parent discovery proposes for ``device`` and how it compares to the inventory.

    ``status``: ``same`` (the inventory agrees), ``new`` (no parent written: --apply writes
    it), ``conflict`` (a hand-written parent differs: the hand wins, reported only),
    ``root`` (a core device: no parent), ``unlinked`` (no path to the core was seen).
    """

    device: str
    proposed: str | None
    current: str | None
    status: str
    via: str = ""  # "<parent> port X <-> <device> port Y"

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "device": self.device,
            "proposed": self.proposed,
            "current": self.current,
            "status": self.status,
            "via": self.via,
        }


def platform_status(current: str, found: Platform) -> str:
    """Compare the inventory's ``platform`` with the detected one.

    ``same``; ``new`` (none written: ``--apply`` writes the detected one); ``conflict`` (a
    written platform differs: it still wins, reported only); ``unknown`` (not recognised).
    """
    if not found.device_type:
        return "unknown"
    if not current:
        return "new"
    same = current == found.device_type or any(
        {current, found.device_type} <= family for family in SAME_CLI
    )
    return "same" if same else "conflict"


@dataclass(frozen=True, slots=True)
class PlatformProposal:
    """The platform detected on ``device`` and how it compares with the inventory's."""

    device: str
    current: str
    found: Platform
    status: str

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "device": self.device,
            "current": self.current,
            "status": self.status,
            **asdict(self.found),
        }


@dataclass(frozen=True, slots=True)
class Discovery:
    """The whole result: links, proposals, unknown neighbours, devices that did not answer."""

    links: tuple[Link, ...]
    parents: tuple[ParentProposal, ...]
    unknown: tuple[UnknownNeighbour, ...]
    silent: dict[str, str]  # device -> why it was not scanned
    roots: tuple[str, ...]
    platforms: tuple[PlatformProposal, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (``sigap discover --json``)."""
        return {
            "roots": list(self.roots),
            "links": [link.to_json() for link in self.links],
            "parents": [p.to_json() for p in self.parents],
            "unknown_neighbours": [u.to_json() for u in self.unknown],
            "silent": dict(sorted(self.silent.items())),
            "platforms": [p.to_json() for p in self.platforms],
        }

    def changes(self) -> dict[str, str]:
        """Return device -> proposed parent for the proposals ``--apply`` writes."""
        return {p.device: p.proposed for p in self.parents if p.status == "new" and p.proposed}

    def platform_changes(self) -> dict[str, str]:
        """Return device -> detected platform for the hosts that have none written."""
        return {p.device: p.found.device_type for p in self.platforms if p.status == "new"}
