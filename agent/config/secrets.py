"""Secret references of the inventory: checks on the raw file, and reading them once at load.

Secrets are references (``*_env`` names an environment variable, ``*_file`` a file whose
first line is the secret; relative files are read from the inventory's folder). They are read
once at load time and live only in the resolved settings (:class:`collectors.model.SnmpAuth`
redacts itself, :class:`agent.config.model.SshSettings` keeps them out of its repr).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from agent.config.source import Path as YPath

SECRET_PAIRS: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "ssh": (("password_env", "password_file"), ("secret_env", "secret_file")),
    "snmp": (
        ("community_env", "community_file"),
        ("auth_key_env", "auth_key_file"),
        ("priv_key_env", "priv_key_file"),
    ),
}


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


def read_secret(
    env_name: str | None, file_name: str | None, env: Mapping[str, str], base: Path
) -> str:
    """Return the secret from the environment or the first line of a file ('' if none)."""
    if env_name:
        return env.get(env_name, "")
    if file_name:
        return (base / file_name).read_text(encoding="utf-8").splitlines()[0].strip()
    return ""
