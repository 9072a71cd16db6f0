"""The backup state of every device (worked or why not, failed nights in a row), as JSON.

Kept beside the repository (``<directory>/status.json``), not in its history: it changes every
night. Written atomically (temporary file + rename) under the caller's thread; a file that
cannot be read starts an empty state (the next backup writes it again).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """The last backup of one device."""

    ok: bool
    kind: str  # "" when it worked; auth, timeout, connect, host_key, protocol, refused, repo
    reason: str  # Indonesian, for people
    at: str  # ISO time of the attempt
    failed_nights: int = 0
    last_ok: str = ""  # ISO time of the last good backup


class StatusFile:
    """``status.json``: device -> :class:`DeviceStatus`."""

    def __init__(self, path: Path) -> None:
        """Nothing read until used."""
        self.path = path
        self._lock = threading.Lock()  # read-modify-write from the backup threads

    def read_blocking(self) -> dict[str, DeviceStatus]:
        """Every device's last backup (empty when the file is missing or unreadable)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {str(k): DeviceStatus(**v) for k, v in raw.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def update_blocking(
        self, device: str, kind: str, reason: str, at: datetime, *, nightly: bool
    ) -> DeviceStatus:
        """Record one attempt; a scheduled failure adds a night, any success clears them."""
        with self._lock:
            return self._update(device, kind, reason, at, nightly=nightly)

    def _update(
        self, device: str, kind: str, reason: str, at: datetime, *, nightly: bool
    ) -> DeviceStatus:
        states = self.read_blocking()
        old = states.get(device)
        nights = 0 if not kind else (old.failed_nights if old else 0) + (1 if nightly else 0)
        stamp = at.isoformat(timespec="seconds")
        last_ok = stamp if not kind else (old.last_ok if old else "")
        states[device] = DeviceStatus(not kind, kind, reason, stamp, nights, last_ok)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps({k: asdict(v) for k, v in sorted(states.items())}, indent=1),
            encoding="utf-8",
        )
        tmp.replace(self.path)
        return states[device]
