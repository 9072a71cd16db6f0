"""sd_notify without a dependency: READY=1, STOPPING=1, WATCHDOG=1 to $NOTIFY_SOCKET."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

logger = logging.getLogger(__name__)


def notify(message: str) -> bool:
    """Send ``message`` to systemd if it is listening; return True when sent."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        logger.warning("sd_notify %s failed: %s", message, exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Return how often to ping (half of ``$WATCHDOG_USEC``), or None if no watchdog is armed.

    ``$WATCHDOG_PID``, when set, must be this process: a child never pings for its parent.
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000


async def watchdog(interval: float | None = None) -> None:
    """Send ``WATCHDOG=1`` every ``interval`` seconds from the event loop, until cancelled.

    Run it as a task of the daemon's TaskGroup: the pings come from the loop itself, so a loop
    stuck in a blocking call stops them and systemd restarts the service (``WatchdogSec=``).
    Returns at once when no watchdog is armed (``interval`` defaults to
    :func:`watchdog_interval`).
    """
    interval = watchdog_interval() if interval is None else interval
    if interval is None:
        return
    logger.info("systemd watchdog armed: ping every %.1f s", interval)
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval)
