"""Automatic remediation from the daemon: one attempt per ticket opening, each in its own task.

The ticket writer calls :meth:`Repairs.dispatch` for every ticket it opened or reopened; a
repair starts when the remediator says a playbook could apply, at most once per opening
(ticket number, reopen count) even if an open is reported twice, and never after the stop
request. The daemon cancels the tasks still running at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config.model import Inventory
    from agent.runtime.metrics import Metrics
    from agent.runtime.parts import Repairer, Runtime
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)


class Repairs:
    """Starts and tracks the daemon's remediation tasks."""

    def __init__(self, remediator: Repairer, runtime: Runtime, metrics: Metrics | None) -> None:
        """Repair with ``remediator``; nothing starts once ``runtime.stopping`` is set."""
        self.remediator = remediator
        self.runtime = runtime
        self.metrics = metrics
        self._tasks: set[asyncio.Task[object]] = set()
        self._tried: set[tuple[str, int]] = set()

    @property
    def running(self) -> list[asyncio.Task[object]]:
        """The repair tasks not finished yet (the daemon cancels them at shutdown)."""
        return list(self._tasks)

    async def restore(self) -> None:
        """At start: runs a previous process left running are recorded as aborted."""
        stale = await self.remediator.abort_stale()
        if stale:
            logger.warning("%d remediation runs were left running by a previous process", stale)

    def reconfigure(self, inventory: Inventory) -> None:
        """After SIGHUP: the remediator takes the reloaded inventory."""
        self.remediator.reconfigure(inventory)

    def close(self) -> None:
        """Stop the remediator's SSH threads."""
        self.remediator.close()

    def dispatch(self, ticket: TicketView) -> None:
        """Start the remediation of a newly opened ticket, if a playbook may apply."""
        remediator = self.remediator
        if self.runtime.stopping.is_set() or not remediator.wants(ticket):
            return
        episode = (ticket.number, ticket.reopen_count)  # once per opening, never in a loop
        if episode in self._tried:
            logger.warning("remediation of %s already tried for this opening", ticket.number)
            return
        self._tried.add(episode)
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(
            self._attempt(ticket), name=f"remediate:{ticket.number}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attempt(self, ticket: TicketView) -> None:
        try:
            outcome = await self.remediator.consider(ticket)
        except Exception:  # one failed repair must not stop the daemon
            logger.exception("remediation of %s failed", ticket.number)
            return
        if self.metrics is not None and outcome.status is not None:
            self.metrics.remediation_finished(outcome.playbook, outcome.status.value)
