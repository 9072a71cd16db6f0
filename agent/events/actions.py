"""What the daemon does with the messages it accepted: act first, then store, then prune.

One task consumes the hub's queue: each message's action runs as it arrives; messages are
stored in batches (up to :data:`BATCH`, or :data:`FLUSH_SECONDS` after the first), one
transaction each:

* ``repoll``: the device's ping and SNMP loops wake now, at most once a second per device
  (the poll confirms; a trap never opens a ticket on its own word);
* ``login_failure``: failures are counted per device and source address in a sliding
  window; ``login_count`` within ``login_window`` opens one ``login_failures`` ticket naming
  the address (informational: it clears at once and resolves after the hold-down; the window
  starts again, so a continuing attack reopens it);
* ``config_changed``: one ``config_changed`` ticket per device and user per
  :data:`CONFIG_QUIET` (a change session writes many lines);
* ``attach`` (and ``repoll``, ``config_changed``): a note on the device's open ticket(s), at
  most :data:`NOTES_PER_MINUTE` per device per minute (everything stays searchable in the
  log and the ticket context anyway);
* every message is written to ``device_messages`` (one transaction per batch, on the store
  thread); messages older than ``events.retention`` are deleted every :data:`PRUNE_EVERY`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Final

from agent.detect.ping import FaultCleared, FaultOpened
from ticketing import device_log
from ticketing.faults import Fault, FaultKind

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.config.model import Inventory
    from agent.events.hub import EventHub, Received
    from agent.runtime.parts import Runtime

logger = logging.getLogger(__name__)

BATCH: Final = 500
FLUSH_SECONDS: Final = 0.25  # a batch is stored when full or this long after its first message
CONFIG_QUIET: Final = 600.0  # seconds: one config_changed ticket per device and user
NOTES_PER_MINUTE: Final = 20
PRUNE_EVERY: Final = 3600.0
REPOLL_GAP: Final = 1.0  # seconds between two trap/syslog re-polls of one device
MAX_TRACKED: Final = 10000  # (device, address) windows kept at most


class EventActions:
    """Consumes the hub's queue: actions, storage and retention (one task in the daemon)."""

    def __init__(
        self,
        hub: EventHub,
        runtime: Runtime,
        inventory: Inventory,
        repoll: Callable[[str], None],
    ) -> None:
        """Act for ``hub`` through ``runtime`` (store thread, ticket queue); ``repoll`` wakes."""
        self.hub = hub
        self.runtime = runtime
        self.inventory = inventory
        self.repoll = repoll
        self.settings = hub.settings
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._changes: dict[tuple[str, str], datetime] = {}
        self._notes: dict[str, deque[datetime]] = {}
        self._repolled: dict[str, datetime] = {}

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory."""
        self.inventory = inventory
        self.hub.reconfigure(inventory)

    async def run(self) -> None:
        """Consume until cancelled; a failed write is logged and counted, never fatal."""
        loop = asyncio.get_running_loop()
        pruned = loop.time() - PRUNE_EVERY + 30.0  # first prune shortly after start
        queue = self.hub.queue
        while True:
            batch = [await queue.get()]
            notes = self.act(batch)  # at once: a re-poll must not wait for the batch
            flush = loop.time() + FLUSH_SECONDS
            try:
                while len(batch) < BATCH:
                    try:
                        async with asyncio.timeout_at(flush):
                            item = await queue.get()
                    except TimeoutError:
                        break
                    batch.append(item)
                    notes += self.act([item])
            except asyncio.CancelledError:  # stopping: what was heard is still stored
                await self._store(batch, notes)
                raise
            self.hub.metrics.depth.set(queue.qsize())
            await self._store(batch, notes)
            if loop.time() - pruned >= PRUNE_EVERY:
                pruned = loop.time()
                await self._prune()

    def act(self, batch: list[Received]) -> list[Received]:
        """Apply the actions of ``batch`` (on the loop); return the messages to note."""
        notes: list[Received] = []
        for item in batch:
            if not item.action:
                continue
            self.hub.metrics.match(item.channel, item.action)
            if item.action == "repoll":
                self._repoll(item)
            elif item.action == "login_failure":
                self._login_failure(item)
            elif item.action == "config_changed":
                self._config_changed(item)
            if item.action != "login_failure" and self._may_note(item):
                notes.append(item)
        return notes

    def _repoll(self, item: Received) -> None:
        """Wake the device's polls, at most once per :data:`REPOLL_GAP` (a flood polls once)."""
        last = self._repolled.get(item.device)
        if last is not None and (item.at - last).total_seconds() < REPOLL_GAP:
            return
        self._repolled[item.device] = item.at
        self.repoll(item.device)

    def _may_note(self, item: Received) -> bool:
        recent = self._notes.setdefault(item.device, deque())
        while recent and (item.at - recent[0]).total_seconds() > 60:  # noqa: PLR2004
            recent.popleft()
        if len(recent) >= NOTES_PER_MINUTE:
            return False
        recent.append(item.at)
        return True

    def _login_failure(self, item: Received) -> None:
        address = item.groups.get("address", "")[:45]
        if not address:
            return
        key = (item.device, address)
        if key not in self._failures and len(self._failures) >= MAX_TRACKED:
            self._failures.pop(next(iter(self._failures)))
        seen = self._failures.setdefault(key, deque())
        seen.append(item.at)
        window = self.settings.login_window
        while seen and item.at - seen[0] > window:
            seen.popleft()
        if len(seen) < self.settings.login_count:
            return
        count = len(seen)
        seen.clear()
        user = item.groups.get("user", "")
        minutes = round(window.total_seconds() / 60)
        who = f" (pengguna {user})" if user else ""
        summary = (
            f"{count} kali login gagal ke {item.device} dari alamat {address}{who} "
            f"dalam {minutes} menit: kemungkinan serangan brute force"
        )
        self._raise(item, FaultKind.LOGIN_FAILURES, address, summary)

    def _config_changed(self, item: Received) -> None:
        user = item.groups.get("user", "")[:64]
        key = (item.device, user)
        last = self._changes.get(key)
        if last is not None and (item.at - last).total_seconds() < CONFIG_QUIET:
            return
        if len(self._changes) >= MAX_TRACKED:
            self._changes.clear()
        self._changes[key] = item.at
        by = f"oleh {user}" if user else "(pengguna tidak disebut)"
        summary = f"Konfigurasi {item.device} diubah {by}: {item.text[:200]}"
        self._raise(item, FaultKind.CONFIG_CHANGED, user, summary)

    def _raise(self, item: Received, kind: FaultKind, subject: str, summary: str) -> None:
        """Open an informational ticket (cleared at once: it resolves after the hold-down)."""
        device = self.inventory.devices.get(item.device)
        if device is None:
            return
        fault = Fault(item.device, kind, summary, device.opd, device.address, subject)
        self.runtime.submit(FaultOpened(fault, item.at))
        self.runtime.submit(FaultCleared(fault.key, item.at, "informational"))
        logger.warning("%s: %s", kind.value, summary)

    async def _store(self, batch: list[Received], notes: list[Received]) -> None:
        lines = [item.line for item in batch]
        store = self.runtime.store
        try:
            await self.runtime.call(partial(device_log.write, store, lines))
            for item in notes:
                detail = (
                    f"{'Trap' if item.channel == 'trap' else 'Syslog'} dari perangkat: {item.text}"
                )
                await self.runtime.call(
                    partial(device_log.attach_note, store, item.device, item.at, detail)
                )
        except Exception:  # the database may be down: the messages are lost, the loop is not
            logger.exception("storing %d device messages failed", len(lines))
            for item in batch:
                self.hub.metrics.drop(item.channel, "store_failed")
            return
        self.hub.metrics.stored.inc(len(lines))

    async def _prune(self) -> None:
        before = self.runtime.now() - self.settings.retention
        try:
            gone = await self.runtime.call(partial(device_log.prune, self.runtime.store, before))
        except Exception:
            logger.exception("pruning device messages failed")
            return
        if gone:
            logger.info("device messages: %d older than %s deleted", gone, before.isoformat())
