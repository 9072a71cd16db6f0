"""``--ssh``: a fixed read-only command set per platform, through remediation's SSH seam.

The commands are data, checked against :data:`agent.remediation.playbooks.READ_ONLY` by a unit
test and again before each command is sent: nothing that is not a ``print``/``show``/``ip ...
show`` ever reaches a device, and nothing from the inventory or the device is pasted into a
command.
Host keys, timeouts and the hard session bound are remediation's (``remediation:`` block of
the inventory); outputs are redacted by the same :class:`Transcript`. Logs are cut to their
last lines here (RouterOS ``/log print`` has no tail of its own).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from agent.diagnose.report import CommandOutput, SshReport
from agent.remediation.playbooks import READ_ONLY
from agent.remediation.ssh import Session, SshFailure, SshOptions, SshTarget
from agent.remediation.transcript import Transcript, secrets_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agent.config.model import Device, RemediationSettings

TAIL_LINES: Final = 20
# platform -> (command, keep only the last TAIL_LINES lines of its output)
COMMANDS: Final[Mapping[str, tuple[tuple[str, bool], ...]]] = {
    "mikrotik_routeros": (
        ("/interface print", False),
        ("/ip address print", False),
        ("/log print", True),
    ),
    "cisco_ios": (
        ("show ip interface brief", False),
        ("show logging", True),
    ),
    "linux": (
        ("ip -br addr show", False),
        ("ip route show", False),
    ),
}


def read_only(platform: str, command: str) -> bool:
    """True when ``command`` has a read-only shape on ``platform``."""
    shape = READ_ONLY.get(platform)
    return shape is not None and shape.fullmatch(command) is not None


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    kept = [line for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
    return "\n".join(kept[-lines:])


def run_blocking(session: Session, commands: tuple[tuple[str, bool], ...]) -> None:
    """Open, run every read-only command, close (a worker thread's whole job)."""
    platform = session.target.platform
    try:
        session.open()
        for command, _tail_only in commands:
            if not read_only(platform, command):
                raise SshFailure("refused", f"perintah {command!r} bukan perintah baca")
            session.show(command, "diagnosa")
    finally:
        session.close()


def _outputs(transcript: Transcript, commands: tuple[tuple[str, bool], ...]) -> list[CommandOutput]:
    tails = dict(commands)
    out = []
    for entry in transcript.entries():
        command = str(entry.get("command", ""))
        if entry.get("step") != "diagnosa":
            continue
        text = str(entry.get("output", ""))
        out.append(
            CommandOutput(
                command,
                _tail(text) if tails.get(command) else text.strip("\r\n"),
                int(entry.get("elapsed_ms", 0)),
            )
        )
    return out


async def collect(device: Device, settings: RemediationSettings) -> SshReport:
    """Run the platform's read-only commands on ``device``; failures come back as data."""
    commands = COMMANDS.get(device.platform)
    if commands is None:
        return SshReport(False, f"tidak ada perintah baca untuk platform {device.platform!r}")
    ssh = device.ssh
    if ssh is None or not ssh.user or not ssh.password:
        return SshReport(False, "kredensial SSH perangkat tidak dikonfigurasi di inventaris")
    transcript = Transcript(secrets_of(device), settings.transcript_max_bytes)
    session = Session(SshTarget.of(device, ssh), SshOptions.of(settings), transcript)
    work = asyncio.ensure_future(asyncio.to_thread(run_blocking, session, commands))
    try:
        await asyncio.wait_for(asyncio.shield(work), settings.session_timeout)
    except TimeoutError:
        session.abort()
        reason = f"perangkat tidak menjawab dalam {settings.session_timeout:.0f} s"
        return SshReport(False, reason, tuple(_outputs(transcript, commands)))
    except SshFailure as exc:
        return SshReport(False, exc.reason, tuple(_outputs(transcript, commands)))
    except asyncio.CancelledError:
        session.abort()
        raise
    return SshReport(True, "", tuple(_outputs(transcript, commands)))
