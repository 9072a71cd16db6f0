"""One session per device at a time, whoever opens it: remediation and configuration backup.

Remediation refuses a run while another remediation holds the device (a repeated repair
must not stack); a backup waits for whatever holds the device, and a remediation waits
for a backup (it is short). In-process only: across processes the database's
one-running-run-per-device index covers remediation, and the repository lock covers commits.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class DeviceGuard:
    """Per-device locks, with who holds each (``remediation`` or ``backup``)."""

    def __init__(self) -> None:
        """No device held."""
        self._locks: dict[str, asyncio.Lock] = {}
        self._owners: dict[str, str] = {}

    def owner(self, device: str) -> str | None:
        """Who holds ``device`` now, or None."""
        lock = self._locks.get(device)
        return self._owners.get(device) if lock is not None and lock.locked() else None

    @asynccontextmanager
    async def hold(self, device: str, owner: str) -> AsyncIterator[None]:
        """Wait for ``device``, hold it as ``owner`` for the block."""
        lock = self._locks.setdefault(device, asyncio.Lock())
        async with lock:
            self._owners[device] = owner
            try:
                yield
            finally:
                self._owners.pop(device, None)
