"""Guess the OPD of a new device: from its sysLocation, its name, its parent, its subnet.

Pure. Every guess is a suggestion for a person to confirm; its confidence says how much:
- ``tinggi``: sysLocation names an OPD of the inventory (``Kantor Dinas Kesehatan, Praya``),
  or two sources below agree;
- ``sedang``: sysLocation names a known site, the name shares a distinctive word with known
  devices of one OPD (``sw-setda`` beside ``rtr-setda``), the parent serves one OPD only, or
  every known device in the same /24 belongs to one OPD;
- ``rendah``: a single shared word in sysLocation, or most (not all) of the /24.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from agent.discovery.model import CONFIDENCE, OpdGuess

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

SUBNET_BITS: Final = 24
# words that say nothing about which office a device serves
GENERIC_WORDS: Final = frozenset(
    {
        "rtr", "router", "sw", "switch", "ap", "gw", "core", "dist", "distribusi", "olt",
        "kantor", "dinas", "badan", "gedung", "lantai", "ruang", "jalan", "jl", "lab",
        "dan", "kabupaten", "lombok", "tengah", "praya", "pop", "the", "lt", "mgmt",
        "perangkat", "server", "wifi", "radio", "edge", "uplink", "utama", "induk",
    }
)  # fmt: skip
_WORD: Final = re.compile(r"[a-z0-9]+")
MIN_WORD: Final = 3


@dataclass(frozen=True, slots=True)
class KnownHost:
    """An inventory device as the guess needs it."""

    name: str
    address: str
    opd: str
    site: str = ""
    parent: str | None = None


def words(text: str) -> set[str]:
    """Distinctive lowercase words of ``text`` (generic words and short ones dropped)."""
    found = _WORD.findall(text.casefold())
    return {w for w in found if len(w) >= MIN_WORD and w not in GENERIC_WORDS and not w.isdigit()}


def _up(confidence: str) -> str:
    return CONFIDENCE[min(CONFIDENCE.index(confidence) + 1, len(CONFIDENCE) - 1)]


def from_location(
    location: str, opds: Iterable[str], known: Sequence[KnownHost]
) -> OpdGuess | None:
    """The OPD sysLocation names, else the OPD of the known site it names, else shared words."""
    folded = " ".join(location.casefold().split())
    if not folded:
        return None
    for opd in sorted(set(opds), key=len, reverse=True):  # longest first: "Dinas Kesehatan" ...
        if opd and " ".join(opd.casefold().split()) in folded:
            return OpdGuess(opd, "tinggi", f"sysLocation menyebut {opd!r}")
    for host in known:
        head = host.site.split(",", 1)[0].casefold().strip()
        if host.opd and len(head) >= MIN_WORD * 2 and head in folded:
            return OpdGuess(host.opd, "sedang", f"sysLocation menyebut lokasi {host.site!r}")
    mine = words(location)
    scores = Counter({opd: len(mine & words(opd)) for opd in set(opds) if opd})
    ranked = scores.most_common(2)
    if ranked and ranked[0][1] and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        opd, score = ranked[0]
        level = "sedang" if score >= 2 else "rendah"  # noqa: PLR2004 - two shared words
        return OpdGuess(opd, level, f"sysLocation berbagi kata dengan {opd!r}")
    return None


def from_name(name: str, known: Sequence[KnownHost]) -> OpdGuess | None:
    """The one OPD whose known devices share a distinctive word of ``name``."""
    mine = words(name.replace("-", " "))
    if not mine:
        return None
    owners: dict[str, set[str]] = {}
    for host in known:
        if host.opd and mine & words(host.name.replace("-", " ")):
            owners.setdefault(host.opd, set()).add(host.name)
    if len(owners) != 1:
        return None
    ((opd, hosts),) = owners.items()
    return OpdGuess(opd, "sedang", f"nama mirip {', '.join(sorted(hosts)[:3])}")


def from_parent(parent: str | None, known: Mapping[str, KnownHost]) -> OpdGuess | None:
    """The parent's OPD when every known child of the parent belongs to it too."""
    host = known.get(parent or "")
    if host is None or not host.opd:
        return None
    children = {k.opd for k in known.values() if k.parent == host.name}
    if children <= {host.opd}:
        return OpdGuess(host.opd, "sedang", f"induk {host.name} milik {host.opd!r}")
    return None


def from_subnet(address: str, known: Sequence[KnownHost]) -> OpdGuess | None:
    """The OPD of the known devices in the same /24: all of them (sedang) or most (rendah)."""
    net = ipaddress.IPv4Network(f"{address}/{SUBNET_BITS}", strict=False)
    opds = Counter(k.opd for k in known if k.opd and _in(k.address, net))
    if not opds:
        return None
    (opd, count), total = opds.most_common(1)[0], sum(opds.values())
    if count == total:
        return OpdGuess(opd, "sedang", f"semua perangkat di {net} milik {opd!r}")
    if count * 2 > total:
        return OpdGuess(opd, "rendah", f"{count} dari {total} perangkat di {net} milik {opd!r}")
    return None


def _in(address: str, net: ipaddress.IPv4Network) -> bool:
    try:
        return ipaddress.IPv4Address(address) in net
    except ValueError:
        return False


def guess(
    *,
    name: str,
    location: str,
    address: str,
    parent: str | None,
    known: Mapping[str, KnownHost],
    opds: Iterable[str],
) -> OpdGuess | None:
    """The best guess of the four sources; two sources agreeing raise its confidence."""
    hosts = list(known.values())
    found = [
        g
        for g in (
            from_location(location, opds, hosts),
            from_name(name, hosts),
            from_parent(parent, known),
            from_subnet(address, hosts),
        )
        if g is not None
    ]
    if not found:
        return None
    best = max(found, key=lambda g: CONFIDENCE.index(g.confidence))  # first of the best
    agreeing = [g for g in found if g.opd == best.opd]
    if len(agreeing) > 1:
        reasons = "; ".join(g.reason for g in agreeing)
        return OpdGuess(best.opd, _up(best.confidence), reasons)
    return best
