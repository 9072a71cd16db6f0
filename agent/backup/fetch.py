"""Read one device's configuration over remediation's SSH seam (blocking, a worker thread).

The session is :class:`agent.remediation.ssh.Session`: the same timeouts, host-key checks
(a changed key is refused, never replaced) and error mapping as remediation and diagnose.
Every command is checked by :func:`agent.backup.platforms.allowed` just before it is sent;
the transcript keeps the session's record (redacted) for a failure report, not the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.backup.platforms import allowed, commands_for, joined
from agent.remediation.ssh import SshFailure

if TYPE_CHECKING:
    from agent.remediation.ssh import Session


def fetch_blocking(session: Session) -> str:
    """Open, run the platform's export commands, close; the normalised (unredacted) text."""
    platform = session.target.platform
    commands = commands_for(platform)
    if not commands:
        raise SshFailure("refused", f"tidak ada perintah ekspor untuk platform {platform!r}")
    outputs: dict[str, str] = {}
    try:
        session.open()
        for command in commands:
            if not allowed(platform, command):
                raise SshFailure("refused", f"perintah {command!r} bukan perintah baca")
            outputs[command] = session.show(command, "cadangan")
    finally:
        session.close()
    return joined(platform, outputs)
