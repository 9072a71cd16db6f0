"""The poller's shipper: probe results -> batches in PostgreSQL, with a bounded replay buffer.

Every result the scheduler sees is appended to one bounded buffer (``--buffer`` units; when
full the oldest are dropped and counted). Once a second the buffer is written, oldest first, in
batches of at most ``batch_size`` units (one ``zone_observations`` row each), on the store
thread (the one seam to the database). A failed write keeps everything and is tried again the
next second: while the database is away the buffer fills, and when it is back the results go
in order with their original timestamps. Every lease/3 the heartbeat row is upserted with the
buffer's size and the drop count.

A result is a ping, an SNMP poll or a health poll (:mod:`agent.zones.codec` has their payload
items); the buffer and the batches are measured in units of :func:`agent.zones.codec.weight`:
one per result plus one per interface, sensor or radio row it carries.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from agent.zones.codec import encode, weight
from ticketing.zones import Beat, beat, ship

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime
    from pathlib import Path

    from agent.zones.codec import Result
    from agent.zones.settings import PollerSettings
    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

FLUSH_SECONDS: Final = 1.0
BATCH_SIZE: Final = 2000  # results per row: a replay of 100,000 is 50 rows


def inventory_sha(path: Path) -> str:
    """The sha256 of the inventory file as deployed ('' when it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


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
        self._buffer: deque[tuple[int, datetime, Any, int]] = deque()  # seq, at, item, weight
        self._weight = 0
        self._seq = 0

    @property
    def buffered(self) -> int:
        """Units waiting to be written (:func:`agent.zones.codec.weight`)."""
        return self._weight

    def record(self, result: Result) -> None:
        """Keep one result for the next write (the oldest go when the buffer is full)."""
        self._seq += 1
        units = weight(result)
        self._buffer.append((self._seq, result.at, encode(result), units))
        self._weight += units
        while self._weight > self.settings.buffer and len(self._buffer) > 1:
            self._drop()

    def _drop(self) -> None:
        *_, units = self._buffer.popleft()
        self._weight -= units
        self.dropped += units

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
        replay = self._weight > self.batch_size or self.online is False
        written = 0
        while self._buffer:
            chunk = self._chunk()
            batch = [(chunk[0][1], [item for _, _, item, _ in chunk])]
            try:
                await self.call(partial(ship, self.store, s.node, s.cluster, batch))
            except Exception as exc:  # noqa: BLE001 - the database is away: keep, retry
                if self.online is not False:
                    logger.warning(
                        "database unreachable (%s): buffering results (%d kept, at most %d)",
                        exc.__class__.__name__, self._weight, s.buffer,
                    )  # fmt: skip
                self.online = False
                return False
            last = chunk[-1][0]
            while self._buffer and self._buffer[0][0] <= last:  # drops may have moved the head
                *_, units = self._buffer.popleft()
                self._weight -= units
                written += units
        if replay and written:
            logger.info("database reachable: %d buffered results sent in order", written)
        self.shipped += written
        self.online = True
        return True

    def _chunk(self) -> list[tuple[int, datetime, Any, int]]:
        """The oldest results up to ``batch_size`` units (at least one: one row each write)."""
        chunk: list[tuple[int, datetime, Any, int]] = []
        units = 0
        for entry in self._buffer:
            if chunk and units + entry[3] > self.batch_size:
                break
            chunk.append(entry)
            units += entry[3]
        return chunk

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
