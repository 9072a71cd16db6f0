"""Value objects of a scan: what each address answered, and the proposal made of it.

The proposal is what the admin board shows too: one :class:`HostProposal` per new device,
each with its markers (things a person must confirm), plus the diff of the inventory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from agent.config.model import SnmpSettings
    from agent.topology.model import Neighbour
    from collectors.platform import Platform

# confidence of a guess, lowest first
CONFIDENCE: Final = ("rendah", "sedang", "tinggi")


@dataclass(frozen=True, slots=True)
class Credential:
    """One way the inventory talks SNMP: where it is written and the groups that give it."""

    label: str  # "defaults" or "group snmpv3": shown, never the secret
    groups: tuple[str, ...]  # a new host joins these to use it (empty: the defaults' own)
    settings: SnmpSettings = field(repr=False)  # secrets inside: never shown


@dataclass(frozen=True, slots=True)
class Answer:
    """What one address answered: ping only, or SNMP with what the device says it is."""

    address: str
    snmp: bool = False
    credential: str = ""  # Credential.label that worked
    groups: tuple[str, ...] = ()
    sys_name: str = ""
    sys_location: str = ""
    sys_services: int | None = None
    platform: Platform | None = None
    neighbours: tuple[Neighbour, ...] = ()
    if_names: dict[int, str] = field(default_factory=dict)
    if_descrs: dict[int, str] = field(default_factory=dict)
    rtt: float | None = None


@dataclass(frozen=True, slots=True)
class OpdGuess:
    """Which OPD a device probably belongs to, how sure, and why (always to be confirmed)."""

    opd: str
    confidence: str  # one of CONFIDENCE
    reason: str

    def to_json(self) -> dict[str, str]:
        """Return the JSON form."""
        return {"opd": self.opd, "confidence": self.confidence, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class HostProposal:
    """One proposed ``hosts:`` entry and what a person should check before accepting it."""

    name: str
    address: str
    role: str
    platform: str  # netmiko device type; "" when not recognised (not written)
    parent: str | None
    opd: OpdGuess | None
    groups: tuple[str, ...] = ()
    site: str = ""  # from sysLocation, cleaned
    snmp: bool = True  # False: answered ping only (written with snmp disabled)
    summary: str = ""  # "MikroTik RB4011iGS+, RouterOS [mikrotik_routeros]"
    sys_name: str = ""  # as the device said it (cleaned), for the reviewer
    parent_via: str = ""  # "rtr-a ether3 <-> sw-b Gi0-0" or how the parent was chosen
    markers: tuple[str, ...] = ()  # Indonesian notes: what to confirm

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (the admin board's proposal rows)."""
        return {
            "name": self.name,
            "address": self.address,
            "role": self.role,
            "platform": self.platform,
            "parent": self.parent,
            "opd": None if self.opd is None else self.opd.to_json(),
            "groups": list(self.groups),
            "site": self.site,
            "snmp": self.snmp,
            "summary": self.summary,
            "sys_name": self.sys_name,
            "parent_via": self.parent_via,
            "markers": list(self.markers),
        }


@dataclass(frozen=True, slots=True)
class Proposal:
    """A whole scan: the ranges, the new hosts, the known ones seen, and the inventory diff."""

    ranges: tuple[str, ...]
    hosts: tuple[HostProposal, ...]
    known_seen: tuple[str, ...] = ()  # inventory devices that answered inside the ranges
    probed: int = 0  # addresses pinged
    diff: str = ""
    text: str = ""  # the inventory text with the hosts added (what --apply writes)
    before: str = ""  # the inventory text the proposal was made on (--apply checks it)
    title: str = ""  # the comment line above the new hosts

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (``sigap discover --scan ... --json``)."""
        return {
            "ranges": list(self.ranges),
            "probed": self.probed,
            "hosts": [h.to_json() for h in self.hosts],
            "known_seen": list(self.known_seen),
            "diff": self.diff,
        }
