"""The role of a device (router, switch, ap, server, firewall) from what it says it is.

Pure. First the model and OS names (``CRS328`` and ``C2960`` are switches, UniFi and airOS
access points, FortiOS a firewall), then sysServices (RFC 3418 layer bits: 4 = IP routing;
2 alone = a bridge; 8/64 without 4 = a host), else ``router`` (the usual OPD edge).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collectors.platform import Platform

_SWITCH: Final = re.compile(
    r"\b(?:crs\d|css\d|c2960|c3560|c3650|c3750|c3850|c9200|c9300|catalyst|ws-c|s5\d\d\d|"
    r"s6\d\d\d|t\d{4}g|tl-sg|sg\d{3,4}|edgeswitch|switch)",
    re.IGNORECASE,
)
_AP: Final = re.compile(  # RouterOS boards carry an RB prefix: RBDynaDishG-5HacD, RBLHGG-60ad
    r"\b(?:rb)?(?:cap|wap|uap|u6|nanostation|litebeam|powerbeam|dynadish|lhg|sxt|disc)", re.I
)
LAYER_ROUTING: Final = 4
LAYER_BRIDGE: Final = 2
LAYER_HOST: Final = 8 | 64


def role_of(found: Platform | None, services: int | None) -> tuple[str, str]:  # noqa: PLR0911 - a decision table
    """``(role, why)``; ``why`` is shown to the person confirming it."""
    if found is not None:
        names = f"{found.model} {found.os}"
        if found.os in ("UniFi", "airOS") or _AP.search(found.model):
            return "ap", f"model/OS {names.strip()}"
        if found.os == "FortiOS":
            return "firewall", "FortiOS"
        if found.os in ("EdgeSwitch", "JetStream") or _SWITCH.search(found.model):
            return "switch", f"model {found.model or found.os}"
    if services is not None and 0 <= services < 128:  # noqa: PLR2004 - seven layer bits
        if services & LAYER_ROUTING:
            return "router", f"sysServices {services} (routing)"
        if services & LAYER_BRIDGE:
            return "switch", f"sysServices {services} (bridging)"
        if services & LAYER_HOST:
            return "server", f"sysServices {services} (host)"
    if found is not None and found.os == "Linux":
        return "server", "Linux"
    return "router", "bawaan (tidak ada petunjuk)"
