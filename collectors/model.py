"""Value objects shared by every collector: what is probed and what was observed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime


class ProbeStatus(StrEnum):
    """Outcome of one probe round; stored and compared as lowercase slugs."""

    OK = "ok"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PingTarget:
    """One device to ping, with its per-device probe settings (already resolved)."""

    name: str
    address: str
    count: int = 3
    interval: float = 0.2
    timeout: float = 1.0


@dataclass(frozen=True, slots=True)
class Observation:
    """What one probe round saw on one device; a dead device is data, not an exception.

    ``value`` is the probe's main number (for ping: average RTT in seconds) and ``loss``
    the ratio of probes lost in the round (ping only).
    """

    device: str
    probe: str
    status: ProbeStatus
    at: datetime
    value: float | None = None
    loss: float | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the probe got an answer."""
        return self.status is ProbeStatus.OK

    @property
    def failed(self) -> bool:
        """True when the probe got no usable answer."""
        return self.status is not ProbeStatus.OK
