"""LISTEN on one PostgreSQL channel from a thread of its own, for an asyncio task (issue 23).

The leader listens for its pollers' batches, a poller for the leader's re-poll requests. The
blocking psycopg session runs on a daemon thread; each notification's payload is handed to
``on_notify`` on the event loop. A failed or lost session is opened again after
:data:`RETRY_SECONDS` (a notification sent meanwhile is lost: both users also work without
one, by polling the table or by their own schedule).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

RETRY_SECONDS: Final = 5.0


async def listen(
    connect: Callable[[], Any], channel: str, on_notify: Callable[[str], None]
) -> None:
    """LISTEN on ``channel`` (a checked identifier) until cancelled."""
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def notified(payload: str) -> None:
        loop.call_soon_threadsafe(on_notify, payload)

    thread = threading.Thread(
        target=listen_blocking,
        args=(connect, channel, notified, stop),
        name=f"sigap-listen-{channel}"[:40],
        daemon=True,
    )
    thread.start()
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        stop.set()


def listen_blocking(
    connect: Callable[[], Any], channel: str, notified: Callable[[str], None], stop: threading.Event
) -> None:
    """Wait for notifications until ``stop``; reconnect after a failure."""
    while not stop.is_set():
        try:
            with connect() as conn:
                conn.execute(f'LISTEN "{channel}"')  # a checked cluster name: [a-z0-9_]
                while not stop.is_set():
                    for note in conn.notifies(timeout=1.0, stop_after=1):
                        notified(str(note.payload))
        except Exception as exc:  # noqa: BLE001 - the database is away: retry later
            logger.debug("LISTEN %s failed: %s", channel, exc.__class__.__name__)
            stop.wait(RETRY_SECONDS)
