"""What the daemon's parts share (``Runtime``) and what the daemon needs of the parts it is given.

``agent.wiring`` builds one :class:`Runtime` first, then the remediator, the topology watcher
and the notifier from it, then the daemon from all of them: no part is handed the daemon, and
nothing under ``agent.runtime`` imports the packages of those parts. The daemon knows them
only by the small Protocols below (``Repairer``, ``Watcher``, ``Receiver``, ``Deliverer``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar

from agent.detect.ping import DeviceState
from collectors.model import utc_now

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from agent.config.model import Inventory
    from agent.detect.ping import Event
    from collectors.base import HealthPoller, SnmpPoller
    from ticketing.models import RunStatus
    from ticketing.store import TicketStore
    from ticketing.views import TicketView

    # what the ticket writer's queue carries: an event, a clock tick, or None (drain and stop)
    TicketItem: TypeAlias = Event | datetime | None

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
FINISH_GRACE_SECONDS = 2.0  # at stop, how long the store thread's last call may take
ABORTED_SECONDS = 15.0  # after an abort: a connection attempt in flight ends by its timeout


class StoreThread:
    """The one thread every ticket-store call of the daemon runs on (SQLAlchemy is blocking).

    One worker serialises the writes (which also suits SQLite); the writer, the remediator,
    the topology watcher and the notifier all use this seam.
    """

    def __init__(self) -> None:
        """Own a single-thread executor."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigap-store")

    async def call(self, fn: Callable[[], _T]) -> _T:
        """Run a blocking store call on the store thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def close(self) -> None:
        """Wait for the thread to finish its last call."""
        self._pool.shutdown(wait=True)

    async def finish(
        self, abort: Callable[[], int] | None = None, grace: float = FINISH_GRACE_SECONDS
    ) -> bool:
        """Let the last call finish; past ``grace``, ``abort`` what it is blocked on, once.

        ``abort`` makes calls blocked on a database that stopped answering fail (issue 23:
        the daemon's exit waited on the dead database); the thread is then free, and the
        interpreter, which joins it at exit, can end. True when the thread is idle.
        """
        last = asyncio.wrap_future(self._pool.submit(_idle))
        self._pool.shutdown(wait=False)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(last), grace)
            return True
        if abort is not None:
            aborted = abort()
            logger.warning(
                "store call still running %.0f s after stop: %d database connections aborted",
                grace,
                aborted,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(last), ABORTED_SECONDS)
                return True
        logger.error("store thread still busy at stop: the exit waits for it")
        return False


def _idle() -> None:
    """Nothing: queued behind the store thread's last call, it runs once that call ended."""


@dataclass(frozen=True, slots=True)
class Runtime:
    """The daemon's shared parts: store thread, ticket queue, probe slots, SNMP, device states.

    ``tickets`` is the ticket writer's ordered queue (events reach the database in the order
    they are put there); ``slots`` bounds probes in flight (pings, SNMP polls, topology walks);
    ``states`` reads the ping detector's device states; ``stopping`` is the daemon's stop
    request. The inventory is not here: parts that depend on it take ``reconfigure(inventory)``
    after a SIGHUP reload.
    """

    store: TicketStore
    slots: asyncio.Semaphore
    states: Callable[[], Mapping[str, DeviceState]]
    snmp: SnmpPoller | None = None
    health: HealthPoller | None = None  # started and closed with ``snmp`` (the same collector)
    now: Callable[[], datetime] = utc_now
    thread: StoreThread = field(default_factory=StoreThread)
    tickets: asyncio.Queue[TicketItem] = field(default_factory=asyncio.Queue)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def call(self, fn: Callable[[], _T]) -> _T:
        """Run a blocking store call on the store thread (in order with the ticket writes)."""
        return await self.thread.call(fn)

    async def finish(self) -> bool:
        """Stop the store thread in bounded time (see :meth:`StoreThread.finish`)."""
        return await self.thread.finish(self.store.abort)

    def submit(self, event: Event) -> None:
        """Queue a ticket event for the writer, in order with the pollers' events."""
        self.tickets.put_nowait(event)

    def answering(self) -> set[str]:
        """Return the devices whose ping state is UP (SUSPECT is not proof of an answer)."""
        return {name for name, state in self.states().items() if state is DeviceState.UP}


class RepairOutcome(Protocol):
    """What a remediation attempt reports back (``status`` None: no playbook applied)."""

    @property
    def status(self) -> RunStatus | None:
        """The run's result."""
        ...

    @property
    def playbook(self) -> str:
        """The playbook that ran (or was refused)."""
        ...


class Repairer(Protocol):
    """The remediation runner as the daemon uses it (``agent.remediation.runner.Remediator``)."""

    def wants(self, ticket: TicketView) -> bool:
        """Cheap check: could a playbook apply to this ticket at all?"""
        ...

    async def consider(self, ticket: TicketView) -> RepairOutcome:
        """Run the ticket's playbook if every guard allows it."""
        ...

    async def abort_stale(self) -> int:
        """Mark runs a previous process left running as aborted; return how many."""
        ...

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory."""

    def close(self) -> None:
        """Stop the SSH threads."""


class Watcher(Protocol):
    """A periodic duty of the daemon: the topology re-discovery, the nightly backup."""

    async def run(self) -> None:
        """Discover periodically until cancelled."""

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory."""


class Receiver(Protocol):
    """The trap/syslog receivers as the daemon runs them (``agent.events.service``)."""

    async def run(self) -> None:
        """Listen, act and store until cancelled."""

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory."""


class Deliverer(Protocol):
    """The notification worker as the daemon runs it (``agent.notify.worker.Notifier``)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then finish the message in flight."""
