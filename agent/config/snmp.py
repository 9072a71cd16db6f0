"""SNMP of the inventory: checks of each host's merged ``snmp:`` block, and its resolution.

The secrets of the block (community, v3 keys) are references read by :mod:`.secrets`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from agent.config.model import SnmpSettings
from agent.config.precedence import merged
from agent.config.secrets import read_secret
from collectors.model import SnmpAuth, SnmpVersion

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from agent.config import schema
    from agent.config.source import Path as YPath

SNMP_DEFAULTS: Final = SnmpSettings(auth=SnmpAuth(SnmpVersion.V2C))


def snmp_problems(levels: list[tuple[YPath, dict[str, Any]]]) -> Iterator[tuple[YPath, str]]:
    """Yield problems of one host's *effective* ``snmp:`` settings, located where they were set.

    ``levels`` go from highest to lowest precedence (host, groups..., defaults).
    """
    merged: dict[str, Any] = {}
    origin: dict[str, YPath] = {}
    for path, node in reversed(levels):
        block = node.get("snmp")
        if isinstance(block, dict):
            for key, value in block.items():
                merged[key], origin[key] = value, (*path, "snmp", key)
    if not merged or merged.get("enabled") is False:
        return
    fallback = _block(levels)
    for key, message in _snmp_mistakes(merged):
        yield origin.get(key, fallback), message


def _snmp_mistakes(merged: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (offending key, message) for one merged ``snmp:`` block."""
    has = {k: bool(merged.get(f"{k}_env") or merged.get(f"{k}_file")) for k in _SECRETS}
    if str(merged.get("version", "2c")) == "2c":
        if not has["community"]:
            yield "version", "SNMP v2c needs community_env or community_file"
    else:
        if not merged.get("user"):
            yield "version", "SNMP v3 needs a user"
        if merged.get("priv_protocol") and not merged.get("auth_protocol"):
            yield (
                "priv_protocol",
                (
                    "priv_protocol without auth_protocol: SNMPv3 has no noAuthPriv level; "
                    "set auth_protocol (sha or sha256) too"
                ),
            )
        for proto, key in (("auth_protocol", "auth_key"), ("priv_protocol", "priv_key")):
            if merged.get(proto) and not has[key]:
                yield proto, f"{proto} needs {key}_env or {key}_file"
    for key in ("interfaces", "traffic"):
        pattern = merged.get(key)
        if isinstance(pattern, str) and pattern not in ("all", "marked"):
            try:
                re.compile(pattern)
            except re.error as exc:
                yield key, f"not 'all', 'marked' or a valid regular expression ({exc})"


_SECRETS: Final = ("community", "auth_key", "priv_key")


def _block(levels: list[tuple[YPath, dict[str, Any]]]) -> YPath:
    return (*levels[0][0], "snmp")


def resolve_snmp(
    levels: list[schema.NodeBlock], env: Mapping[str, str], base: Path
) -> SnmpSettings | None:
    """Merge the ``snmp:`` blocks (host first) and read the secrets; None when SNMP is off."""
    values = merged(levels, "snmp")
    if not values or values.get("enabled") is False:
        return None

    def secret(key: str) -> str:
        return read_secret(values.get(f"{key}_env"), values.get(f"{key}_file"), env, base)

    auth = SnmpAuth(
        version=SnmpVersion(values.get("version", "2c")),
        community=secret("community"),
        user=values.get("user", ""),
        auth_protocol=values.get("auth_protocol", ""),
        auth_key=secret("auth_key"),
        priv_protocol=values.get("priv_protocol", ""),
        priv_key=secret("priv_key"),
    )
    seconds = {k: v.total_seconds() for k, v in values.items() if hasattr(v, "total_seconds")}
    d = SNMP_DEFAULTS
    return SnmpSettings(
        auth=auth,
        interval=seconds.get("interval", d.interval),
        port=values.get("port", d.port),
        timeout=seconds.get("timeout", d.timeout),
        retries=values.get("retries", d.retries),
        max_repetitions=values.get("max_repetitions", d.max_repetitions),
        interfaces=values.get("interfaces", d.interfaces),
        traffic=values.get("traffic", d.traffic),
    )
