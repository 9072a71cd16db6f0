"""The ticket writer: detector events reach the database in order, through one store thread.

The pollers, the ticker and the topology watcher put events on the runtime's ticket queue;
this one consumer applies them on the store thread (SQLAlchemy is synchronous; one writer
also suits SQLite). A database outage stops the queue, not the pollers: the item in hand is
retried with backoff while the rest queue up behind it. The daemon's stop request bounds
those retries, so SIGTERM stays bounded.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from agent.detect.ping import Attached, Detached, FaultCleared, FaultOpened
from agent.runtime.leader import LeadershipLostError
from ticketing.outbox.queue import Outbox
from ticketing.views import OpenOutcome

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent.detect.ping import Event
    from agent.runtime.metrics import Metrics
    from agent.runtime.parts import Runtime
    from ticketing.service import TicketService
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.5  # database outage: first retry of a ticket write, doubling
RETRY_MAX_SECONDS = 10.0
SHUTDOWN_RETRY_SECONDS = 15.0  # after SIGTERM, how long queued writes keep retrying
REFRESH_SECONDS = 15.0  # ticket gauges and the notification backlog, read from the database


class TicketWriter:
    """Applies detector events to the store, in order, on the runtime's store thread."""

    def __init__(
        self,
        runtime: Runtime,
        service: TicketService | None = None,
        *,
        metrics: Metrics | None = None,
        on_opened: Callable[[TicketView], None] | None = None,
    ) -> None:
        """Consume ``runtime.tickets``; ``on_opened`` hears of every ticket opened or reopened.

        ``service`` starts the SOP of a new ticket (standing disposition); ``metrics`` counts
        tickets and reports the database's state; ``runtime.stopping`` bounds the retries.
        """
        self.runtime = runtime
        self.store = runtime.store
        self.now = runtime.now
        self.queue = runtime.tickets
        self.service = service
        self.metrics = metrics
        self.on_opened = on_opened
        self._refreshed: datetime | None = None
        self._db_up = True
        self._give_up: float | None = None  # loop time after which shutdown stops retrying

    async def run(self) -> None:
        """Consume the queue until ``None`` arrives (sent at shutdown, after the pollers stop).

        A database outage stops the queue, not the pollers: the item is retried with backoff
        (events queue up behind it, in order) until the database answers again; writes are
        idempotent by fault key, so a retried open never makes a second ticket. Clock ticks are
        not retried (the next one does the same work). After a stop request the retries end
        at ``SHUTDOWN_RETRY_SECONDS``, so SIGTERM stays bounded; what is left is logged.
        """
        while (item := await self.queue.get()) is not None:
            opened = await self._write(item)
            if opened is not None and self.on_opened is not None:
                self.on_opened(opened)

    async def _write(self, item: Event | datetime) -> TicketView | None:
        delay = RETRY_FIRST_SECONDS
        loop = asyncio.get_running_loop()
        while True:
            try:
                opened = await self.runtime.call(partial(self._apply_blocking, item))
            except (OperationalError, InterfaceError, DisconnectionError) as exc:
                if isinstance(item, datetime):
                    return None
                self._database(up=False, error=exc)
                if self.runtime.stopping.is_set():
                    self._give_up = self._give_up or loop.time() + SHUTDOWN_RETRY_SECONDS
                    if loop.time() >= self._give_up:
                        logger.error(  # noqa: TRY400 - a count, not a traceback
                            "database unreachable at shutdown: ticket change not written: %r",
                            item,
                        )
                        return None
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            except LeadershipLostError as exc:
                # the fence refused: a renewal came late (a loaded machine), or the lock is
                # gone and the leadership task stops the daemon. Retrying is safe (the database
                # fence checks the lock in every transaction); dropping would lose the change
                if isinstance(item, datetime) or self._stopped_retrying(loop.time()):
                    return None
                logger.warning("ticket write waits for the leader lock: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                continue
            except Exception:
                logger.exception("ticket write failed for %r", item)
                return None
            self._database(up=True)
            return opened

    def _stopped_retrying(self, now: float) -> bool:
        """After a stop request, retries end at ``SHUTDOWN_RETRY_SECONDS``."""
        if not self.runtime.stopping.is_set():
            return False
        self._give_up = self._give_up or now + SHUTDOWN_RETRY_SECONDS
        return now >= self._give_up

    def _database(self, *, up: bool, error: Exception | None = None) -> None:
        if up == self._db_up:
            return
        self._db_up = up
        if up:
            logger.info("ticket database reachable again; %d changes queued", self.queue.qsize())
        else:
            logger.warning(
                "ticket database unreachable (%s); polling goes on, changes are queued",
                type(error).__name__,
            )
        if self.metrics is not None:
            self.metrics.set_database_up(up=up)

    def _apply_blocking(self, item: Event | datetime) -> TicketView | None:
        """Apply one item; return the ticket when a fault opened (or reopened) one."""
        store = self.store
        if isinstance(item, datetime):
            self._tick_blocking(item)
        elif isinstance(item, FaultOpened):
            return self._open_blocking(item)
        elif isinstance(item, FaultCleared):
            cleared = store.clear_fault(item.key, at=item.at)
            if cleared is not None:
                logger.info("ticket %s cleared (%s), hold-down", cleared.number, item.reason)
        elif isinstance(item, Attached):
            store.attach(item.root_key, item.device, at=item.at)
        elif isinstance(item, Detached):
            store.detach(item.device, at=item.at)
        return None

    def _open_blocking(self, item: FaultOpened) -> TicketView | None:
        result = self.store.open_fault(item.fault, at=item.at)
        number = result.ticket.number
        if self.metrics is not None:
            self.metrics.ticket_opened(item.fault.kind.value, result.outcome.value)
        logger.warning("ticket %s %s: %s", number, result.outcome, item.fault.summary)
        if self.service is not None and result.outcome is OpenOutcome.OPENED:
            steps = self.service.start(number)  # standing disposition: a technician at once
            logger.info("ticket %s: SOP started, %d steps", number, len(steps))
        if result.outcome in (OpenOutcome.OPENED, OpenOutcome.REOPENED):
            return self.store.get(number)
        return None

    def _tick_blocking(self, now: datetime) -> None:
        for ticket in self.store.resolve_due(now=now):
            logger.info("ticket %s resolved (%s)", ticket.number, ticket.device)
            if self.metrics is not None:
                self.metrics.ticket_resolved(ticket.kind)
        if self.service is not None:
            for escalation in self.service.escalate_due():
                logger.warning("escalation: %s", escalation)
        metrics = self.metrics
        if metrics is not None and (
            self._refreshed is None or (now - self._refreshed).total_seconds() >= REFRESH_SECONDS
        ):
            self._refreshed = now
            if metrics.refresh_tickets_blocking(self.store, now):
                metrics.set_outbox("notifications", Outbox(self.store).backlog())
            metrics.set_outbox("tickets", self.queue.qsize())
