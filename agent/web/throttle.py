"""A limit on failed logins, per account and address pair and per address (in memory).

Five failures for one name from one address within five minutes lock that pair for the rest
of the five minutes; twenty failures from one address lock the address the same way (higher,
because an office behind one NAT shares it, and a password sprayer tries many names from one
place). A name alone is never locked: a stranger failing five times with the Kadis's name
must not lock the Kadis out. Failures for one name from anywhere are counted too, and past
``account_warning`` within the window each further one is logged as a warning (someone is
guessing that account's password; ``Limits.per_account`` still holds per address).
While locked, the login form answers 429 without checking the password at all, so a guess
made during the lockout tells nothing. A successful login clears its pair's failures.

In memory on purpose: ``sigap web`` is one process, a restart clears the counts (an attacker
cannot restart it), and the database stays free of per-request writes. Keys are bounded
(``MAX_KEYS``; the stalest are dropped, found in constant time: the table is ordered by
each key's latest failure) so that random names cannot grow it without end, nor make each
failure cost a scan of the table.

Behind the TLS proxy every peer is 127.0.0.1: the address is then the last
``X-Forwarded-For`` entry, the one the trusted proxy itself appended (a client can put
anything before it, not after it), when ``agent.web.auth.from_proxy`` says the request came
through the proxy.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request

MAX_KEYS: Final = 10_000


@dataclass(frozen=True, slots=True)
class Limits:
    """How many failures lock what, for how long (seconds)."""

    per_account: int = 5  # one name from one address
    per_address: int = 20
    window: float = 300.0
    account_warning: int = 20  # one name from anywhere: logged, never locked


class LoginThrottle:
    """Failed-login counters per ``pair:``, ``addr:`` and ``name:`` key over a sliding window."""

    def __init__(
        self, limits: Limits | None = None, *, now: Callable[[], float] | None = None
    ) -> None:
        """Count with ``limits``; ``now`` is a monotonic clock in seconds (tests pass their own)."""
        self.limits = limits or Limits()
        self.now = now or time.monotonic
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    @staticmethod
    def _keys(name: str, address: str) -> tuple[str, str, str]:
        who = name.strip().casefold()[:64]
        return f"pair:{who}\x00{address}", "addr:" + address, "name:" + who

    def retry_after(self, name: str, address: str) -> int:
        """Seconds until a login for ``name`` from ``address`` may be tried; 0: now."""
        pair, addr, _name = self._keys(name, address)
        with self._lock:
            now = self.now()
            waits = (
                self._wait(pair, self.limits.per_account, now),
                self._wait(addr, self.limits.per_address, now),
            )
        return max(waits)

    def _wait(self, key: str, limit: int, now: float) -> int:
        times = self._recent(key, now)
        if len(times) < limit:
            return 0
        # locked until the failure that made it reach the limit leaves the window
        return max(1, math.ceil(times[-limit] + self.limits.window - now))

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.limits.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def failed(self, name: str, address: str) -> bool:
        """Count a failed login; True when the name alone is past ``account_warning``."""
        keep = max(self.limits.per_account, self.limits.per_address, self.limits.account_warning)
        with self._lock:
            now = self.now()
            for key in self._keys(name, address):
                self._recent(key, now)
                # re-inserted: the dict stays ordered by each key's latest failure
                times = self._failures.pop(key, None) or deque(maxlen=keep)
                times.append(now)
                self._failures[key] = times
            while len(self._failures) > MAX_KEYS:  # the stalest first: O(1) per failure
                del self._failures[next(iter(self._failures))]
            named = self._failures.get(self._keys(name, address)[2], ())
            return len(named) >= self.limits.account_warning

    def succeeded(self, name: str, address: str) -> None:
        """Forget the pair's failures (the address and the name keep their counts)."""
        with self._lock:
            self._failures.pop(self._keys(name, address)[0], None)


def client_address(request: Request, *, via_proxy: bool) -> str:
    """The client's address: the peer, or through the trusted proxy its last X-Forwarded-For."""
    peer = request.client.host if request.client else ""
    if via_proxy:
        last = request.headers.get("x-forwarded-for", "").rsplit(",", 1)[-1].strip()
        if last:
            return last[:64]
    return peer
