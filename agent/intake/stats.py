"""Intake counters: taken in, joined, and every kind of rejection (bounded labels)."""

from __future__ import annotations

import threading
from collections import Counter


class IntakeStats:
    """Thread-safe counters ``(channel, result)``; result is an outcome or a rejection."""

    def __init__(self) -> None:
        """Start at zero."""
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def count(self, channel: str, result: str) -> None:
        """Add one (e.g. ``("email", "created")``, ``("wa", "bad_signature")``)."""
        with self._lock:
            self._counts[(channel, result)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        """A copy of every counter."""
        with self._lock:
            return dict(self._counts)

    def get(self, channel: str, result: str) -> int:
        """One counter."""
        with self._lock:
            return self._counts[(channel, result)]


STATS = IntakeStats()


def stats() -> dict[tuple[str, str], int]:
    """The process-wide intake counters (for ``sigap_intake_messages_total``)."""
    return STATS.snapshot()
