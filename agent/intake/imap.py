"""The mailbox watcher: IMAP IDLE where the server offers it, polling otherwise (blocking).

Runs in one thread (``run_blocking``) until ``stop`` is set. Each round searches the folder
for messages without the ``$SigapDone`` keyword, checks each one's size before downloading
it, hands the bytes to the handler (which commits the ticket and its ledger row) and only
then adds ``$SigapDone`` (and the Seen flag); rejected mail also gets ``$SigapRejected``. Mail is
never deleted or moved. The handler never raises for a message's sake (it quarantines it);
if it raises anyway (the database is away) the round ends, the mail stays unflagged and the
watcher retries with backoff, taking the mail that failed last in the next rounds. A mail that
failed :data:`POISON_AFTER` times while other mail went through is not the database's fault:
it is handed to ``give_up`` (quarantined) and flagged. The watcher itself never ends before
``stop``.

A crash after the download and before the commit leaves the mail
unflagged and the database without it: the next round takes it again. A crash after the
commit and before the flag: the ledger answers "duplicate" and the mail is just flagged.

TLS: ``tls`` (implicit, port 993) or ``starttls`` with certificate checks; ``none`` is
accepted by the configuration only for localhost.
"""

from __future__ import annotations

import logging
import ssl
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from imapclient import IMAPClient

from collectors.model import utc_now

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from agent.intake.settings import ImapSettings

    Handle = Callable[[bytes, datetime, int], str]
    GiveUp = Callable[[bytes, datetime, str], str]

logger = logging.getLogger(__name__)

DONE: Final = b"$SigapDone"
REJECTED: Final = b"$SigapRejected"
OUTCOMES_OK: Final = frozenset({"created", "joined", "duplicate"})
CONNECT_TIMEOUT: Final = 15.0
IDLE_SLICE: Final = 1.0  # seconds between checks of ``stop`` while idling
BACKOFF_FIRST: Final = 1.0
BACKOFF_MAX: Final = 60.0
BATCH: Final = 50
POISON_AFTER: Final = 3  # failures of one mail, with other mail taken meanwhile


class ImapWatcher:
    """Watches one folder and hands every new message to ``handle(raw, received_at, size)``."""

    def __init__(
        self,
        settings: ImapSettings,
        handle: Handle,
        *,
        max_bytes: int,
        stop: threading.Event,
        give_up: GiveUp | None = None,
    ) -> None:
        """Nothing connects until :meth:`run_blocking`; ``give_up`` quarantines a poison mail."""
        self.settings = settings
        self.handle = handle
        self.max_bytes = max_bytes
        self.stop = stop
        self.idle_used: bool | None = None  # known after the first login
        self.backoff_first = BACKOFF_FIRST
        self.backoff = self.backoff_first
        self.give_up = give_up
        self.taken = 0  # mail handled since start
        self.failing: dict[int, tuple[int, int]] = {}  # uid -> (failures, taken at the first)

    def connect_blocking(self) -> IMAPClient:
        """Log in and select the folder (TLS per settings)."""
        s = self.settings
        context = ssl.create_default_context() if s.tls != "none" else None
        client = IMAPClient(
            s.host, port=s.port, ssl=s.tls == "tls", ssl_context=context, timeout=CONNECT_TIMEOUT
        )
        client.normalise_times = False  # INTERNALDATE tz-aware
        try:
            if s.tls == "starttls":
                client.starttls(context)
            client.login(s.user, s.password)
            client.select_folder(s.folder)
        except BaseException:
            client.shutdown()  # close the socket; the caller retries with backoff
            raise
        return client

    def run_blocking(self) -> None:
        """Watch until ``stop``; after any error reconnect with backoff (never returns early)."""
        self.backoff = self.backoff_first
        while not self.stop.is_set():
            try:
                client = self.connect_blocking()
            except Exception as exc:  # noqa: BLE001 - every failure is retried
                self._pause(f"cannot connect ({exc})")
                continue
            try:
                self._watch(client)
            except (OSError, IMAPClient.Error) as exc:
                self._pause(f"connection lost ({exc})")
            except Exception as exc:  # the database away, a server oddity
                logger.exception("IMAP %s: round failed", self.settings.host)
                self._pause(f"round failed ({type(exc).__name__})")
            finally:
                _logout(client)

    def _pause(self, why: str) -> None:
        logger.warning("IMAP %s: %s; retry in %.0f s", self.settings.host, why, self.backoff)
        self.stop.wait(self.backoff)
        self.backoff = min(self.backoff * 2, BACKOFF_MAX)

    def _watch(self, client: IMAPClient) -> None:
        self.idle_used = b"IDLE" in client.capabilities()
        logger.info(
            "IMAP watching %s/%s (%s)",
            self.settings.host,
            self.settings.folder,
            "IDLE" if self.idle_used else f"polling every {self.settings.poll_interval}",
        )
        while not self.stop.is_set():
            self.process_blocking(client)
            self.backoff = self.backoff_first  # a whole round went through
            if self.idle_used:
                self._idle(client)
            else:
                self.stop.wait(self.settings.poll_interval.total_seconds())

    def _idle(self, client: IMAPClient) -> None:
        """Wait for the server to push something (or the IDLE timeout, or ``stop``)."""
        client.idle()
        try:
            deadline = time.monotonic() + self.settings.idle_timeout.total_seconds()
            while not self.stop.is_set() and time.monotonic() < deadline:
                if client.idle_check(timeout=IDLE_SLICE):
                    return
        finally:
            client.idle_done()

    def process_blocking(self, client: IMAPClient) -> int:
        """Handle every message not yet done; return how many were handled."""
        found = client.search(["UNKEYWORD", DONE.decode()])
        uids = sorted(found, key=lambda uid: uid in self.failing)  # failed mail last
        handled = 0
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            meta = client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
            for uid in chunk:
                if self.stop.is_set():
                    return handled
                handled += self._one(client, uid, meta.get(uid, {}))
        return handled

    def _one(self, client: IMAPClient, uid: int, meta: dict[bytes, Any]) -> int:
        size = int(meta.get(b"RFC822.SIZE", 0))
        received = _aware(meta.get(b"INTERNALDATE"))
        if size > self.max_bytes:  # never download it; the handler only needs the headers
            raw = client.fetch([uid], ["BODY.PEEK[HEADER]"]).get(uid, {}).get(b"BODY[HEADER]", b"")
        else:
            raw = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]", b"")
        try:
            result = self.handle(raw, received, size)
        except Exception as exc:  # noqa: BLE001 - counted, then re-raised or given up
            result = self._failed(uid, raw, received, exc)
        else:
            self.failing.pop(uid, None)
            self.taken += 1
        flags = [DONE, b"\\Seen"] if result in OUTCOMES_OK else [DONE, REJECTED, b"\\Seen"]
        client.add_flags([uid], flags)
        return 1

    def _failed(self, uid: int, raw: bytes, received: datetime, exc: Exception) -> str:
        """Count a failure of ``uid``; re-raise, or give the mail up as poison."""
        failures, taken_then = self.failing.get(uid, (0, self.taken))
        self.failing[uid] = (failures + 1, taken_then)
        if self.give_up is None or failures + 1 < POISON_AFTER or self.taken == taken_then:
            raise exc
        logger.error("IMAP uid %d failed %d times while other mail went in", uid, failures + 1)
        result = self.give_up(raw, received, f"{type(exc).__name__} {failures + 1} times: {exc}")
        self.failing.pop(uid, None)
        return result


def _aware(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return utc_now()


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (OSError, IMAPClient.Error):
        logger.debug("IMAP logout failed", exc_info=True)
