"""Which addresses a scan may probe: the ranges asked for, bounded, and never a known device.

A prefix larger than /16 (more than 65,536 addresses) is refused unless forced (``--paksa``);
even forced, one scan probes at most :data:`MAX_FORCED` addresses. An inventory that describes
the lab may only scan inside the lab's own prefixes (the lab's NOC has no other route anyway).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Final

from agent.errors import AgentError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

LARGEST_PREFIX: Final = 16  # /16: the largest range scanned without --paksa
MAX_FORCED: Final = 1 << 20  # a /12: the bound even with --paksa
MAX_RANGES: Final = 64
MAX_TEXT: Final = 4096
POINT_TO_POINT: Final = 31  # /31 and /32 have no network or broadcast address


class ScanRangeError(AgentError):
    """Raised when the ranges to scan are malformed, too large, or outside what is allowed."""


def parse_ranges(text: str, *, force: bool = False) -> list[ipaddress.IPv4Network]:
    """``10.52.10.0/24,10.52.11.0/24`` -> networks (host bits refused, duplicates merged)."""
    if len(text) > MAX_TEXT:
        raise ScanRangeError(f"daftar rentang terlalu panjang (maks {MAX_TEXT} karakter)")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ScanRangeError("tidak ada rentang alamat: contoh --scan 10.52.10.0/24")
    if len(parts) > MAX_RANGES:
        raise ScanRangeError(f"terlalu banyak rentang ({len(parts)}; maks {MAX_RANGES})")
    networks = [_network(p, force=force) for p in parts]
    merged = list(ipaddress.collapse_addresses(networks))
    total = sum(n.num_addresses for n in merged)
    if total > MAX_FORCED:
        raise ScanRangeError(
            f"{total} alamat dalam satu pemindaian; batasnya {MAX_FORCED} (/12), "
            "juga dengan --paksa"
        )
    return merged


def _network(part: str, *, force: bool) -> ipaddress.IPv4Network:
    shown = part.encode("ascii", "backslashreplace").decode("ascii")[:64]
    try:
        network = ipaddress.IPv4Network(part, strict=True)
    except ValueError as exc:
        raise ScanRangeError(
            f"{shown!r} bukan rentang IPv4 (contoh 10.52.10.0/24; bit host harus nol)"
        ) from exc
    if network.prefixlen < LARGEST_PREFIX and not force:
        raise ScanRangeError(
            f"{network} lebih besar dari /{LARGEST_PREFIX} ({network.num_addresses} alamat); "
            "pecah rentangnya atau pakai --paksa"
        )
    if network.is_multicast or network.is_unspecified or network.is_reserved:
        raise ScanRangeError(f"{network} bukan rentang perangkat (multicast/reserved)")
    return network


def inside_lab(networks: Sequence[ipaddress.IPv4Network], lab_prefixes: Iterable[str]) -> None:
    """Refuse any range not inside the lab's prefixes (the inventory describes the lab)."""
    labs = [ipaddress.IPv4Network(p, strict=False) for p in lab_prefixes]
    for network in networks:
        if not any(network.subnet_of(lab) for lab in labs):
            allowed = ", ".join(map(str, labs))
            raise ScanRangeError(f"{network} di luar prefiks lab ({allowed}); tidak dipindai")


def addresses(networks: Sequence[ipaddress.IPv4Network], known: Iterable[str]) -> Iterator[str]:
    """Every host address of ``networks`` (no network/broadcast below /31) not in ``known``."""
    skip = set(known)
    for network in networks:
        for host in network.hosts() if network.prefixlen < POINT_TO_POINT else network:
            text = str(host)
            if text not in skip:
                yield text
