"""The receivers as one daemon part: listen, act and store until cancelled (issue 20).

A reload (SIGHUP) takes the new ``events:`` block as it is: sources, communities, rules and
limits at once; changed listen addresses rebind the sockets (closed, then opened on the new
addresses). A new address that cannot be bound is logged and the old ones are opened again,
so a typo in a port never leaves the office deaf. The queue's size stays as it started
(restart to change it); adding or removing the whole block needs a restart too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config.model import Inventory
    from agent.events.actions import EventActions
    from agent.events.listeners import Listeners
    from agent.events.settings import EventsSettings

logger = logging.getLogger(__name__)


def _sockets(settings: EventsSettings) -> tuple[object, ...]:
    return settings.syslog_listen, settings.syslog_tcp, settings.trap_listen


class EventReceivers:
    """Sockets (``Listeners``) and the queue's consumer (``EventActions``), run together."""

    def __init__(self, listeners: Listeners, actions: EventActions) -> None:
        """Hold the parts built by ``agent.wiring``."""
        self.listeners = listeners
        self.actions = actions
        self._rebind = asyncio.Event()
        self._bound: EventsSettings | None = None  # what the open sockets listen on

    async def run(self) -> None:
        """Bind (a port that cannot be bound stops the daemon with its name), then consume."""
        await self.listeners.start()
        self._bound = self.actions.hub.settings
        consumer = asyncio.create_task(self.actions.run(), name="sigap-events-actions")
        try:
            while True:
                waiter = asyncio.create_task(self._rebind.wait())
                done, _ = await asyncio.wait(
                    {consumer, waiter}, return_when=asyncio.FIRST_COMPLETED
                )
                if consumer in done:
                    waiter.cancel()
                    await consumer  # its error, if any, stops the daemon as before
                    return
                self._rebind.clear()
                await self._rebind_sockets()
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            await self.listeners.close()

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory: devices, the ``events:`` block; rebind when it moved."""
        new = inventory.events
        hub = self.actions.hub
        if new is None:
            logger.warning("events: block removed from the inventory; restart sigap to stop")
        else:
            if new.queue != hub.settings.queue:
                logger.warning("events.queue changed: takes effect at the next restart")
                new = replace(new, queue=hub.settings.queue)
            hub.settings = self.actions.settings = new
        self.actions.reconfigure(inventory)
        bound = self._bound
        if bound is not None and _sockets(bound) != _sockets(hub.settings):
            self._rebind.set()

    async def _rebind_sockets(self) -> None:
        hub = self.actions.hub
        old, new = self._bound, hub.settings
        if old is None or _sockets(old) == _sockets(new):
            return
        await self.listeners.close()
        try:
            await self.listeners.start()
        except OSError as exc:
            logger.error("events: new listen addresses refused, the old ones reopened: %s", exc)  # noqa: TRY400 - the reason is the message
            hub.settings = self.actions.settings = replace(
                new,
                syslog_listen=old.syslog_listen,
                syslog_tcp=old.syslog_tcp,
                trap_listen=old.trap_listen,
            )
            await self.listeners.start()  # the ports it held a moment ago
            return
        self._bound = new
