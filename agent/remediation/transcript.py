"""The record of a remediation session: every command and its output, redacted, size-capped.

Redaction (:func:`agent.redaction.redact`) happens when a line is added, before anything is
stored or logged: the session's own secrets (SSH password, enable secret, the device's SNMP
community and keys) are replaced wherever and however they appear, and so are values after
keywords that carry secrets in device output (``password``, ``secret``, ``community``,
``auth-key``...), credentials in URLs and headers, and PEM private keys. The total
size is capped: past the cap, output is cut and the cut is marked, commands are still listed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.redaction import redact
from collectors.model import utc_now

if TYPE_CHECKING:
    from collections.abc import Iterable

    from agent.config.model import Device


def secrets_of(device: Device) -> tuple[str, ...]:
    """Every secret the inventory holds for ``device`` (for redaction)."""
    out: list[str] = []
    if device.ssh is not None:
        out += [device.ssh.password, device.ssh.secret]
    if device.snmp is not None:
        a = device.snmp.auth
        out += [a.community, a.auth_key, a.priv_key]
    return tuple(s for s in out if s)


@dataclass
class Transcript:
    """Commands and outputs of one run, in order (JSON-ready through :meth:`entries`)."""

    secrets: tuple[str, ...] = field(default=(), repr=False)
    max_bytes: int = 32768
    _entries: list[dict[str, Any]] = field(default_factory=list)
    _size: int = 0
    truncated: bool = False

    def add(self, step: str, command: str, output: str, elapsed_s: float = 0.0) -> None:
        """Record one command (``step``: precheck, command, config, verify, rollback)."""
        self._append(
            {
                "at": utc_now().isoformat(timespec="milliseconds"),
                "step": step,
                "command": redact(command, self.secrets),
                "output": redact(output.replace("\r\n", "\n"), self.secrets),
                "elapsed_ms": round(elapsed_s * 1000),
            }
        )

    def note(self, text: str) -> None:
        """Record something sigap decided or saw (no command sent)."""
        self._append(
            {
                "at": utc_now().isoformat(timespec="milliseconds"),
                "step": "catatan",
                "command": "",
                "output": redact(text, self.secrets),
                "elapsed_ms": 0,
            }
        )

    def _append(self, entry: dict[str, Any]) -> None:
        size = len(entry["command"].encode()) + len(entry["output"].encode())
        room = self.max_bytes - self._size
        if size > room:
            self.truncated = True
            keep = max(0, room - len(entry["command"].encode()))
            cut = len(entry["output"].encode()) - keep
            entry["output"] = (
                entry["output"].encode()[:keep].decode(errors="ignore")
                + f"\n[... dipotong {cut} byte: batas transkrip {self.max_bytes} byte]"
            )
            size = len(entry["command"].encode()) + keep
        self._size += size
        self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        """Return the recorded entries (copies)."""
        return [dict(e) for e in self._entries]

    def text(self) -> str:
        """Return the transcript as terminal text."""
        return render(self._entries)


def render(entries: Iterable[dict[str, Any]]) -> str:
    """Render stored transcript entries as text (``sigap tiket show``)."""
    out: list[str] = []
    for e in entries:
        if e.get("step") == "catatan":
            out.append(f"# {e.get('output', '')}")
            continue
        out.append(f"[{e.get('step', '')}] {e.get('command', '')}  ({e.get('elapsed_ms', 0)} ms)")
        body = str(e.get("output", "")).rstrip("\n")
        out += [f"    {line}" for line in body.splitlines()] if body else []
    return "\n".join(out)


def monotonic() -> float:
    """Seconds from a monotonic clock (a seam for tests)."""
    return time.monotonic()
