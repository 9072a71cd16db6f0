"""Faults: what the agent tells the ticketing layer; keyed so they deduplicate to one ticket."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """Kinds of fault the agent detects; values are stored in the database."""

    DEVICE_DOWN = "device_down"
    FLAPPING = "flapping"


def fault_key(device: str, kind: FaultKind) -> str:
    """Return the dedup key of a fault: at most one open ticket exists per key."""
    return f"{device}/{kind.value}"


@dataclass(frozen=True, slots=True)
class Fault:
    """A detected fault on one device (the root cause, not its victims)."""

    device: str
    kind: FaultKind
    summary: str
    opd: str = ""
    address: str = ""

    @property
    def key(self) -> str:
        """Dedup key (``device/kind``)."""
        return fault_key(self.device, self.kind)
