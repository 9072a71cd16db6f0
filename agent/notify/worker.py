"""The delivery worker: claims due outbox rows, sends them through a :class:`Sender`, records.

``Notifier.run(stop)`` is the loop the daemon runs as one task and ``sigap notifikasi antar``
runs alone. Database calls go through ``run_blocking`` (default ``asyncio.to_thread``; the
daemon may pass its single store thread); the sender (Apprise: ``agent.notify.apprise_sender``,
never imported here) runs in ``asyncio.to_thread``, one address at a time in order, several
addresses at once (``concurrency``). See ``ticketing.outbox`` for the delivery guarantee
(at-least-once with a dedup ref; duplicates only after a crash mid-send). Every error a
sender reports passes :func:`agent.redaction.redact` with the address URL here, before it is
stored or logged, whichever sender wrote it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from agent.redaction import redact
from collectors.model import utc_now
from ticketing.outbox.queue import Outbox
from ticketing.outbox.types import RetryPolicy

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from agent.notify.routing import InventoryRouter
    from agent.notify.templates import Renderer
    from ticketing.models import DeliveryStatus
    from ticketing.outbox.types import Delivery
    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)

T = TypeVar("T")
POLL_SECONDS: Final = 1.0
REMINDER_CHECK: Final = timedelta(minutes=1)
ERROR_MAX_CHARS: Final = 500


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one send said; ``permanent`` errors are not retried."""

    ok: bool
    error: str = ""
    permanent: bool = False


class Sender(Protocol):
    """Sends one message to one address URL (blocking; called in a thread)."""

    def send_blocking(self, url: str, title: str, body: str) -> SendResult:
        """Send and report; never raise for delivery failures."""
        ...


def clean_error(text: str, secrets: Iterable[str] = (), *, urls: Iterable[str] = ()) -> str:
    """A sender's error as it may be stored and shown: redacted, then cut to the column."""
    return redact(text, secrets, urls=urls)[:ERROR_MAX_CHARS]


def worker_id() -> str:
    """``host:pid:random``: lease owner of this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dead_local_owners(owners: list[str]) -> list[str]:
    """Lease owners that were processes on this host which no longer exist."""
    host = socket.gethostname()
    dead = []
    for owner in owners:
        parts = owner.rsplit(":", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():  # noqa: PLR2004
            continue
        pid = int(parts[1])
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            dead.append(owner)
        except PermissionError:  # alive, another user's
            continue
    return dead


async def _to_thread(fn: Callable[[], T]) -> T:
    return await asyncio.to_thread(fn)


class Notifier:
    """Delivers the outbox of ``store`` to the people the router knows."""

    def __init__(
        self,
        store: TicketStore,
        router: InventoryRouter,
        renderer: Renderer,
        *,
        sender: Sender,
        now: Callable[[], datetime] = utc_now,
        run_blocking: Callable[[Callable[[], T]], Awaitable[T]] | None = None,
        concurrency: int = 4,
        poll: float = POLL_SECONDS,
        batch: int = 20,
    ) -> None:
        """Wire the parts; nothing runs until :meth:`run` or :meth:`tick`."""
        self.outbox = Outbox(store)
        self.router = router
        self.renderer = renderer
        self.sender = sender
        self.now = now
        self._blocking = run_blocking or _to_thread
        self._sem = asyncio.Semaphore(concurrency)
        self.poll = poll
        self.batch = batch
        self.owner = worker_id()
        s = router.settings
        self.retry = RetryPolicy(
            initial=s.retry_initial, maximum=s.retry_maximum, give_up_after=s.give_up_after
        )
        self.lease = s.lease
        self._reminders_at: datetime | None = None
        self._started = False
        self.on_result: Callable[[str, str], None] | None = None  # (channel, status): metrics

    async def _db(self, fn: Callable[[], T]) -> T:
        return await self._blocking(fn)  # type: ignore[arg-type,return-value]

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; a failing tick is logged and retried after ``poll``."""
        logger.info("notifier started (%s)", self.owner.rsplit(":", 1)[0])
        while not stop.is_set():
            try:
                sent = await self.tick()
            except SQLAlchemyError as exc:
                logger.warning("notifications wait: database unreachable (%s)", type(exc).__name__)
                sent = 0
            except Exception:
                logger.exception("notification tick failed")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), await self._idle())
        logger.info("notifier stopped")

    async def _idle(self) -> float:
        """Seconds to sleep: until the next due row, at most ``poll`` (``poll`` if unknown)."""
        try:
            due = await self._db(self._next_due_blocking)
        except SQLAlchemyError:  # the database is down: the next tick says so
            return self.poll
        if due is None:
            return self.poll
        return min(max((due - self.now()).total_seconds(), 0.05), self.poll)

    def _next_due_blocking(self) -> datetime | None:
        return self.outbox.next_due()

    async def tick(self) -> int:
        """Release dead leases (first tick), queue reminders, send what is due; return count."""
        if not self._started:
            await self._db(self._release_dead_blocking)
            self._started = True
        await self._maybe_remind()
        deliveries = await self._db(self._claim_blocking)
        if not deliveries:
            return 0
        by_address: dict[str, list[Delivery]] = {}
        for d in deliveries:
            by_address.setdefault(d.address_key, []).append(d)
        async with asyncio.TaskGroup() as group:
            for key, items in by_address.items():
                group.create_task(self._deliver_all(items), name=f"notify:{key}")
        return len(deliveries)

    def _release_dead_blocking(self) -> None:
        owners = self.outbox.lease_owners(now=self.now())
        released = self.outbox.release(dead_local_owners(owners))
        if released:
            logger.warning("released %d deliveries leased by a dead process", released)

    async def _maybe_remind(self) -> None:
        interval = self.router.settings.reminder_interval
        now = self.now()
        if interval is None or (self._reminders_at and now - self._reminders_at < REMINDER_CHECK):
            return
        self._reminders_at = now
        added = await self._db(partial(self._remind_blocking, now, interval))
        if added:
            logger.info("queued %d reminders", added)

    def _remind_blocking(self, now: datetime, interval: timedelta) -> int:
        return self.outbox.enqueue_reminders(self.router, now=now, interval=interval)

    def _claim_blocking(self) -> list[Delivery]:
        return self.outbox.claim(
            now=self.now(),
            owner=self.owner,
            lease=self.lease,
            render=self.renderer,
            limit=self.batch,
        )

    async def _deliver_all(self, items: list[Delivery]) -> None:
        async with self._sem:
            for d in items:
                await self._deliver(d)

    def _send_blocking(self, d: Delivery) -> SendResult:
        """Resolve the row's address (a reporter's may read the ledger) and send."""
        address = self.router.address_of(d)
        if address is None:
            return SendResult(False, "alamat tidak ada lagi di inventory", permanent=True)
        result = self.sender.send_blocking(address.url, d.title, d.body)
        return replace(result, error=clean_error(result.error, urls=[address.url]))

    async def _deliver(self, d: Delivery) -> None:
        try:
            result = await asyncio.to_thread(self._send_blocking, d)
        except Exception as exc:  # a sender bug must not leave the row leased for long
            logger.exception("%s: sender raised", d.ref)
            result = SendResult(False, f"galat internal: {type(exc).__name__}")
        status = await self._db(partial(self._mark_blocking, d, result))
        if self.on_result is not None:
            self.on_result(d.channel, "sent" if result.ok else "failed")
        if result.ok:
            logger.info("%s %s to %s via %s: sent", d.ref, d.kind, d.recipient, d.channel)
        else:
            logger.warning(
                "%s %s to %s via %s: attempt %d failed (%s), now %s",
                d.ref,
                d.kind,
                d.recipient,
                d.channel,
                d.attempt,
                result.error,
                status.value,
            )

    def _mark_blocking(self, d: Delivery, result: SendResult) -> DeliveryStatus:
        return self.outbox.mark(
            d.id,
            ok=result.ok,
            error=result.error,
            now=self.now(),
            retry=self.retry,
            permanent=result.permanent,
        )
