"""Secret references of the inventory: checks on the raw file, and reading them once at load.

Secrets are references (``*_env`` names an environment variable, ``*_file`` a file whose
first line is the secret; relative files are read from the inventory's folder). They are read
once at load time and live only in the resolved settings (:class:`collectors.model.SnmpAuth`
redacts itself, :class:`agent.config.model.SshSettings` keeps them out of its repr).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Final

from ticketing.display import shown

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
        if isinstance(file_name, str) and file_name:
            problem = _file_problem(base / file_name)
            if problem:
                yield (*path, file_key), problem


def _file_problem(path: Path) -> str:
    """Why the secret file at ``path`` cannot give a secret ('' when it can)."""
    where = shown(str(path))
    if not readable(path):
        return f"cannot read secret file {where}"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return f"cannot read secret file {where} as UTF-8 text"
    return "" if lines and lines[0].strip() else f"secret file {where} is empty"


def readable(path: Path) -> bool:
    """Whether ``path`` names a file this process can read (a NUL in the name: no)."""
    try:
        return os.access(path, os.R_OK)
    except ValueError:  # embedded null byte
        return False


def read_secret(
    env_name: str | None, file_name: str | None, env: Mapping[str, str], base: Path
) -> str:
    """Return the secret from the environment or the first line of a file ('' if none)."""
    if env_name:
        return env.get(env_name, "")
    if file_name:
        lines = (base / file_name).read_text(encoding="utf-8").splitlines()
        return lines[0].strip() if lines else ""
    return ""
