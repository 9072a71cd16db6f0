"""External commands the lab runs (``ip``, ``nft``, ``ssh-keygen``...): one spawn helper.

No shell anywhere: every command is a fixed argv list; a failure raises LabCommandError
carrying the command and its stderr.
"""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

from labnet.errors import LabCommandError, LabPermissionError

if TYPE_CHECKING:
    from collections.abc import Sequence

COMMAND_TIMEOUT_S = 300.0
MAX_WORKERS = 4


def run(
    argv: Sequence[str], stdin: str | None = None, *, timeout_s: float = COMMAND_TIMEOUT_S
) -> str:
    """Run ``argv`` (no shell) and return stdout; raise LabCommandError on failure."""
    try:
        proc = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout_s,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabCommandError(f"{' '.join(argv)}: {exc}") from exc
    if proc.returncode != 0:
        raise LabCommandError(
            f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[:2000]}"
        )
    return proc.stdout


def ip_batch(netns: str | None, lines: Sequence[str], *, force: bool = False) -> None:
    """Run ``ip [-n netns] [-force] -batch -`` with ``lines`` on stdin."""
    argv = ["ip"]
    if netns is not None:
        argv += ["-n", netns]
    if force:
        argv.append("-force")
    argv += ["-batch", "-"]
    run(argv, "\n".join(lines) + "\n")


def nft(netns: str | None, ruleset: str) -> None:
    """Load an nftables ruleset in the root namespace or in ``netns``."""
    argv = ["nft", "-f", "-"] if netns is None else ["ip", "netns", "exec", netns, "nft", "-f", "-"]
    run(argv, ruleset)


def require_root() -> None:
    """Raise LabPermissionError unless running as root."""
    if os.geteuid() != 0:
        raise LabPermissionError("the lab needs root (network namespaces, veth, nftables)")


def pool_size() -> int:
    """Return how many threads run per-device commands in parallel."""
    return max(1, min(MAX_WORKERS, (os.cpu_count() or 1) * 2))
