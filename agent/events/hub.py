"""From a datagram to a queued message: source check, rate limit, decode, rule match.

Every receiver (:mod:`agent.events.listeners`) hands its bytes and the sender's address to
one :class:`EventHub` on the event loop. In order, cheapest first:

1. the source address must be a device of the inventory, else dropped (``unknown_source``);
2. a token bucket per source (``events.rate`` per second, ``events.burst``) bounds a flood;
3. decode (syslog: never fails; traps: malformed, wrong community or USM problems are
   dropped with their reason, logged once per source and reason per minute);
4. the first matching syslog rule (or the trap's kind) names the action;
5. the message goes on a bounded queue; when it is full the message is dropped and counted
   (``queue_full``) rather than held: memory stays bounded whatever arrives.

Nothing here touches the database; :mod:`agent.events.actions` consumes the queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from agent.events import syslog, traps
from collectors._snmp.ber import BerDecodeError
from collectors._snmp.trap import V3Receiver, decode_community, inform_response
from collectors._snmp.usm import UsmError, fast_user
from collectors._snmp.usm_message import is_v3
from collectors.model import utc_now
from ticketing.device_log import LogLine

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from agent.config.model import Device, Inventory
    from agent.events.settings import EventsSettings
    from agent.runtime.metrics.events import EventMetrics

logger = logging.getLogger(__name__)

WARN_EVERY: Final = 60.0  # seconds between two warnings for one source and reason
UNKNOWN: Final = "unknown"


@dataclass(frozen=True, slots=True)
class Received:
    """One accepted message (as it will be stored), the action its rule names and the groups.

    ``action``: "", attach, repoll, login_failure or config_changed; ``groups`` what the
    rule's named groups caught (address, user, interface).
    """

    line: LogLine
    action: str = ""
    groups: Mapping[str, str] = field(default_factory=dict)

    @property
    def device(self) -> str:
        """The device that sent it."""
        return self.line.device

    @property
    def at(self) -> datetime:
        """When it was received."""
        return self.line.at

    @property
    def channel(self) -> str:
        """``syslog`` or ``trap``."""
        return self.line.channel

    @property
    def source(self) -> str:
        """The sender's address."""
        return self.line.source

    @property
    def text(self) -> str:
        """The message text."""
        return self.line.text


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class EventHub:
    """Checks, limits, decodes and queues what the receivers hear (one per daemon)."""

    def __init__(
        self,
        settings: EventsSettings,
        inventory: Inventory,
        metrics: EventMetrics,
        *,
        now: Callable[[], datetime] = utc_now,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Index the inventory's devices by address; the queue holds ``settings.queue``."""
        self.settings = settings
        self.metrics = metrics
        self.now = now
        self.clock = clock
        self.queue: asyncio.Queue[Received] = asyncio.Queue(maxsize=settings.queue)
        self.v3 = V3Receiver()
        self._buckets: dict[str, _Bucket] = {}
        self._warned: dict[tuple[str, str], float] = {}
        self._by_address: dict[str, Device] = {}
        self._communities: set[str] = set()
        self.reconfigure(inventory)

    def reconfigure(self, inventory: Inventory) -> None:
        """Take a reloaded inventory (new devices are heard, removed ones dropped)."""
        self._by_address = {d.address: d for d in inventory.devices.values()}
        # v2c traps: the configured trap communities and every read community of the inventory
        self._communities = set(self.settings.trap_communities) | {
            d.snmp.auth.community
            for d in inventory.devices.values()
            if d.snmp is not None and d.snmp.auth.community
        }
        self._buckets = {a: b for a, b in self._buckets.items() if a in self._by_address}

    def known(self, address: str) -> bool:
        """True when ``address`` is a device of the inventory."""
        return address in self._by_address

    # ------------------------------------------------------------------ entry points
    def syslog(self, data: bytes, address: str) -> None:
        """One syslog message (a datagram or a TCP frame) from ``address``."""
        device = self._admit("syslog", address)
        if device is None:
            return
        line = syslog.parse(data[: self.settings.max_line])
        rule = next(
            (
                r
                for r in self.settings.rules
                if r.applies(device.platform) and r.pattern.search(line.text)
            ),
            None,
        )
        groups: dict[str, str] = {}
        if rule is not None:
            match = rule.pattern.search(line.text)
            groups = {k: v for k, v in (match.groupdict() if match else {}).items() if v}
        stored = LogLine(
            device.name, self.now(), "syslog", address, line.text, line.severity,
            line.app[:64], rule.name if rule else "",
        )  # fmt: skip
        self._queue(Received(stored, rule.action if rule else "", groups))

    def trap(self, data: bytes, address: str) -> bytes | None:
        """One trap datagram from ``address``; returns the Response to send for an INFORM."""
        device = self._admit("trap", address)
        if device is None:
            return None
        try:
            note = self._decode(device, data)
        except BerDecodeError as exc:
            self._refuse("trap", "malformed", address, str(exc))
            return None
        except UsmError as exc:
            self._refuse("trap", "usm", address, str(exc))
            return None
        if note is None:
            return None
        action, text, groups = traps.describe(note)
        stored = LogLine(
            device.name, self.now(), "trap", address, text, None, traps.name_of(note.trap_oid)
        )
        self._queue(Received(stored, action, groups))
        if note.inform:
            return inform_response(data)
        return None

    # ------------------------------------------------------------------ steps
    def _admit(self, channel: str, address: str) -> Device | None:
        """Known source and within its rate: the device; else counted and None."""
        device = self._by_address.get(address)
        source_class = device.role if device is not None else UNKNOWN
        self.metrics.receive(channel, source_class)
        if device is None:
            self._refuse(channel, "unknown_source", address, "not a device of the inventory")
            return None
        if not self._take(address):
            self.metrics.limit(channel, source_class)
            return None
        return device

    def _take(self, address: str) -> bool:
        """Token bucket: ``rate`` per second, at most ``burst`` saved up."""
        now = self.clock()
        rate, burst = self.settings.rate, float(self.settings.burst)
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = _Bucket(burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def _decode(self, device: Device, data: bytes) -> traps.Notification | None:
        """v1/v2c with the community checked, or v3 with the device's USM user."""
        snmp = device.snmp
        if is_v3(data):
            user = fast_user(snmp.auth) if snmp is not None else None
            return self.v3.decode(data, user)
        note = decode_community(data)
        if note.principal.decode("utf-8", "replace") not in self._communities:
            self._refuse("trap", "wrong_community", device.address, "community not accepted")
            return None
        return note

    def _queue(self, item: Received) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.metrics.drop(item.channel, "queue_full")
            self._warn(item.source, "queue_full", "event queue full: message dropped")

    def _refuse(self, channel: str, reason: str, address: str, detail: str) -> None:
        self.metrics.drop(channel, reason)
        self._warn(address, reason, f"{channel} from {address} dropped ({reason}): {detail}")

    def _warn(self, address: str, reason: str, message: str) -> None:
        """Log once per source and reason per minute (a flood must not flood the log)."""
        now = self.clock()
        key = (address, reason)
        last = self._warned.get(key)
        if last is not None and now - last < WARN_EVERY:
            return
        if len(self._warned) > 10000:  # noqa: PLR2004 - bounded whatever the sources
            self._warned.clear()
        self._warned[key] = now
        logger.warning("%s", message)
