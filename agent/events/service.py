"""The receivers as one daemon part: listen, act and store until cancelled (issue 20)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config.model import Inventory
    from agent.events.actions import EventActions
    from agent.events.listeners import Listeners


class EventReceivers:
    """Sockets (``Listeners``) and the queue's consumer (``EventActions``), run together."""

    def __init__(self, listeners: Listeners, actions: EventActions) -> None:
        """Hold the parts built by ``agent.wiring``."""
        self.listeners = listeners
        self.actions = actions

    async def run(self) -> None:
        """Bind (a port that cannot be bound stops the daemon with its name), then consume."""
        await self.listeners.start()
        try:
            await self.actions.run()
        finally:
            await self.listeners.close()

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory (sources and devices; the sockets stay as they are)."""
        self.actions.reconfigure(inventory)
