"""Checks of the inventory's ``sop:`` block against the bundled SOPs and the people list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ticketing.faults import FaultKind
from ticketing.sop import bundled

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from agent.config.source import Path as YPath


def sop_problems(block: Mapping[str, Any], people: list[Any]) -> Iterator[tuple[YPath, str]]:
    """Yield (path inside ``sop``, message) for unknown SOP codes, kinds and people."""
    codes = {sop.code for sop in bundled()}
    known = ", ".join(sorted(codes))
    agent_sop = block.get("agent_sop")
    if isinstance(agent_sop, str) and agent_sop not in codes:
        yield ("agent_sop",), f"unknown SOP {agent_sop!r} (known: {known})"
    by_kind = block.get("by_kind")
    for kind, code in by_kind.items() if isinstance(by_kind, dict) else ():
        if kind not in {k.value for k in FaultKind}:
            kinds = ", ".join(k.value for k in FaultKind)
            yield ("by_kind", kind), f"unknown fault kind {kind!r} (known: {kinds})"
        if isinstance(code, str) and code not in codes:
            yield ("by_kind", kind), f"unknown SOP {code!r} (known: {known})"
    standing = block.get("standing_disposition")
    if isinstance(standing, dict):
        yield from _standing_problems(standing, people)


def _standing_problems(
    standing: Mapping[str, Any], people: list[Any]
) -> Iterator[tuple[YPath, str]]:
    roles = {p.get("name"): p.get("role") for p in people if isinstance(p, dict)}
    signer = standing.get("signer")
    if isinstance(signer, str) and signer not in roles:
        yield ("standing_disposition", "signer"), f"{signer!r} is not in the people list"
    elif isinstance(signer, str) and roles[signer] not in ("kadis", "kabid"):
        yield (
            ("standing_disposition", "signer"),
            (f"{signer!r} is {roles[signer]}; the kadis or kabid signs a standing disposition"),
        )
    technician = standing.get("technician")
    if isinstance(technician, str) and roles.get(technician) != "teknisi":
        yield (
            ("standing_disposition", "technician"),
            (f"{technician!r} is not a teknisi of the people list"),
        )
