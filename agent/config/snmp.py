"""SNMP and secret handling of the inventory: checks on the raw file, resolution of settings.

Secrets are references (``*_env`` names an environment variable, ``*_file`` a file whose
first line is the secret; relative files are read from the inventory's folder). They are read
once at load time and live only in :class:`collectors.model.SnmpAuth` (which redacts itself).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Final

from agent.config.model import PortMark, SnmpSettings, SshSettings
from collectors.model import SnmpAuth, SnmpVersion

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from agent.config import schema
    from agent.config.source import Path as YPath

SECRET_PAIRS: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "ssh": (("password_env", "password_file"), ("secret_env", "secret_file")),
    "snmp": (
        ("community_env", "community_file"),
        ("auth_key_env", "auth_key_file"),
        ("priv_key_env", "priv_key_file"),
    ),
}
SNMP_DEFAULTS: Final = SnmpSettings(auth=SnmpAuth(SnmpVersion.V2C))


def secret_problems(
    path: YPath, block: Mapping[str, Any], kind: str, env: Mapping[str, str], base: Path
) -> Iterator[tuple[YPath, str]]:
    """Yield (path, message) for unusable secret references in one ``ssh:``/``snmp:`` block."""
    for env_key, file_key in SECRET_PAIRS[kind]:
        env_name, file_name = block.get(env_key), block.get(file_key)
        if env_name and file_name:
            yield (*path, env_key), f"give {env_key} or {file_key}, not both"
        if isinstance(env_name, str) and env_name and env_name not in env:
            yield (*path, env_key), f"environment variable {env_name} is not set"
        if isinstance(file_name, str) and file_name and not os.access(base / file_name, os.R_OK):
            yield (*path, file_key), f"cannot read secret file {base / file_name}"


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
    pattern = merged.get("interfaces")
    if isinstance(pattern, str) and pattern not in ("all", "marked"):
        try:
            re.compile(pattern)
        except re.error as exc:
            yield "interfaces", f"not 'all', 'marked' or a valid regular expression ({exc})"


_SECRETS: Final = ("community", "auth_key", "priv_key")


def _block(levels: list[tuple[YPath, dict[str, Any]]]) -> YPath:
    return (*levels[0][0], "snmp")


def resolve_snmp(
    levels: list[schema.NodeBlock], env: Mapping[str, str], base: Path
) -> SnmpSettings | None:
    """Merge the ``snmp:`` blocks (host first) and read the secrets; None when SNMP is off."""
    values: dict[str, Any] = {}
    for level in reversed(levels):
        if level.snmp is not None:
            values.update(level.snmp.model_dump(exclude_none=True))
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
    )


def resolve_ssh(
    levels: list[schema.NodeBlock], env: Mapping[str, str], base: Path
) -> SshSettings | None:
    """Merge the ``ssh:`` blocks (host first) and read the secrets; None when not set."""
    values: dict[str, Any] = {}
    for level in reversed(levels):
        if level.ssh is not None:
            values.update(level.ssh.model_dump(exclude_none=True))
    if not values:
        return None
    return SshSettings(
        user=values.get("user", ""),
        port=values.get("port", 22),
        password=read_secret(values.get("password_env"), values.get("password_file"), env, base),
        secret=read_secret(values.get("secret_env"), values.get("secret_file"), env, base),
    )


def read_secret(
    env_name: str | None, file_name: str | None, env: Mapping[str, str], base: Path
) -> str:
    """Return the secret from the environment or the first line of a file ('' if none)."""
    if env_name:
        return env.get(env_name, "")
    if file_name:
        return (base / file_name).read_text(encoding="utf-8").splitlines()[0].strip()
    return ""


def resolve_ports(levels: list[schema.NodeBlock]) -> dict[str, PortMark]:
    """The interface marks of one host by ifName; a port's mark from a higher level wins."""
    marks: dict[str, PortMark] = {}
    for level in reversed(levels):
        for name, mark in level.interfaces.items():
            marks[name] = PortMark(name, mark.required_up, mark.uplink, mark.description)
    return marks
