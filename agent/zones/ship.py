"""The poller's shipper: probe results -> batches in PostgreSQL, with a bounded replay buffer.

Every result the scheduler sees is appended to one bounded buffer (``--buffer`` results; when
full the oldest is dropped and counted). Once a second the buffer is written, oldest first, in
batches of at most ``batch_size`` results (one ``zone_observations`` row each), on the store
thread (the one seam to the database). A failed write keeps everything and is tried again the
next second: while the database is away the buffer fills, and when it is back the results go
in order with their original timestamps. Every lease/3 the heartbeat row is upserted with the
buffer's size and the drop count.

A payload item is ``[device, epoch seconds, status, rtt_ms | null, loss | null, detail]``;
:func:`decode` turns one back into an :class:`Observation` (hostile input -> None).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from collections import deque
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from collectors.model import Observation, ProbeStatus
from ticketing.zones import Beat, beat, ship

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from agent.zones.settings import PollerSettings
    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

FLUSH_SECONDS: Final = 1.0
BATCH_SIZE: Final = 2000  # results per row: a replay of 100,000 is 50 rows
DETAIL_MAX: Final = 200
DEVICE_MAX: Final = 128


def inventory_sha(path: Path) -> str:
    """The sha256 of the inventory file as deployed ('' when it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def encode(obs: Observation) -> list[Any]:
    """One result as a JSON-able payload item."""
    rtt = None if obs.value is None else round(obs.value * 1000, 3)
    return [obs.device, round(obs.at.timestamp(), 3), obs.status.value, rtt, obs.loss,
            obs.detail[:DETAIL_MAX]]  # fmt: skip


def decode(item: object) -> Observation | None:
    """A payload item back into an Observation; None when it is not one (never raises)."""
    if not isinstance(item, list) or len(item) != 6:  # noqa: PLR2004 - the item's fields
        return None
    device, epoch, status, rtt, loss, detail = item
    if not isinstance(device, str) or not 0 < len(device) <= DEVICE_MAX:
        return None
    if isinstance(epoch, bool) or not isinstance(epoch, int | float) or not math.isfinite(epoch):
        return None
    try:
        at = datetime.fromtimestamp(epoch, UTC)
        probe = ProbeStatus(status)
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    return Observation(
        device, "ping", probe, at, value=_number(rtt, 1000), loss=_number(loss, 1),
        detail=detail[:DETAIL_MAX] if isinstance(detail, str) else "",
    )  # fmt: skip


def _number(value: object, scale: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value / scale if math.isfinite(value) and value >= 0 else None


class Shipper:
    """Buffers the poller's results and writes them (and the heartbeat) to the database."""

    def __init__(
        self,
        settings: PollerSettings,
        store: TicketStore,
        call: Callable[[Callable[[], Any]], Awaitable[Any]],
        *,
        now: Callable[[], datetime],
        sha: str = "",
        batch_size: int = BATCH_SIZE,
    ) -> None:
        """``call`` runs a blocking database call on the store thread."""
        self.settings = settings
        self.store = store
        self.call = call
        self.now = now
        self.sha = sha
        self.batch_size = batch_size
        self.started_at = now()
        self.dropped = 0
        self.shipped = 0
        self.online: bool | None = None  # None: nothing written yet
        self._buffer: deque[tuple[int, datetime, list[Any]]] = deque()
        self._seq = 0

    @property
    def buffered(self) -> int:
        """Results waiting to be written."""
        return len(self._buffer)

    def record(self, obs: Observation) -> None:
        """Keep one result for the next write (the oldest is dropped when the buffer is full)."""
        self._seq += 1
        self._buffer.append((self._seq, obs.at, encode(obs)))
        while len(self._buffer) > self.settings.buffer:
            self._buffer.popleft()
            self.dropped += 1

    async def run(self) -> None:
        """Write every second and heartbeat every lease/3, until cancelled."""
        loop = asyncio.get_running_loop()
        next_beat = loop.time()
        while True:
            await self.flush()
            if loop.time() >= next_beat:  # a failed heartbeat is tried again with the next write
                beaten = await self.heartbeat()
                next_beat = loop.time() + (self.settings.heartbeat if beaten else FLUSH_SECONDS)
            await asyncio.sleep(FLUSH_SECONDS)

    async def flush(self) -> bool:
        """Write the buffer oldest first; False (all kept) when the database refuses."""
        s = self.settings
        replay = len(self._buffer) > self.batch_size or self.online is False
        written = 0
        while self._buffer:
            chunk = [self._buffer[i] for i in range(min(self.batch_size, len(self._buffer)))]
            batch = [(chunk[0][1], [item for _, _, item in chunk])]
            try:
                await self.call(partial(ship, self.store, s.node, s.cluster, batch))
            except Exception as exc:  # noqa: BLE001 - the database is away: keep, retry
                if self.online is not False:
                    logger.warning(
                        "database unreachable (%s): buffering results (%d kept, at most %d)",
                        exc.__class__.__name__, len(self._buffer), s.buffer,
                    )  # fmt: skip
                self.online = False
                return False
            last = chunk[-1][0]
            while self._buffer and self._buffer[0][0] <= last:  # drops may have moved the head
                self._buffer.popleft()
            written += len(chunk)
        if replay and written:
            logger.info("database reachable: %d buffered results sent in order", written)
        self.shipped += written
        self.online = True
        return True

    async def heartbeat(self) -> bool:
        """Upsert this poller's heartbeat row; False when the database refused it."""
        s = self.settings
        row = Beat(s.node, s.zones, self.started_at, self.now(), self.sha,
                   self.buffered, self.dropped)  # fmt: skip
        try:
            await self.call(partial(beat, self.store, s.cluster, row))
        except Exception as exc:  # noqa: BLE001 - the database is away: the flush logged it
            logger.debug("heartbeat not written: %s", exc.__class__.__name__)
            return False
        return True
