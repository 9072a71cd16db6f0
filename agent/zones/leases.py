"""Device leases of the zone pollers (issue 23): the pollers of one zone share its devices.

One concept: who polls which device of a zone, decided in PostgreSQL. Every lease/3 each
poller calls :meth:`DeviceLeases.rebalance` for each of its zones: one transaction, every time
from the database's ``now()`` (never this machine's clock):

1. devices new to the zone get a free row (``owner = ''``) in ``device_leases``;
2. rows of devices no longer in the zone are dropped (this node's, free and expired ones);
3. this node renews its leases (``expires_at = now() + lease``); a lease another poller
   claimed after it ran out is lost;
4. its share: ``q, r = divmod(devices, live pollers)``; every poller holds ``q`` and ``r`` of
   them one more (the brief's ``ceil``). Pollers already above ``q`` keep the extra device in
   node-name order, so every poller computes the same split and nothing moves needlessly;
   above its share it releases the surplus (free at once);
5. below its share it claims free or expired rows with ``SELECT ... FOR UPDATE SKIP LOCKED``
   (claimers never wait on each other nor take the same row).

So a joining poller gets its share after the others' next round, a dead poller's devices
are claimed once its leases expire, and the sizes differ by at most one. The primary key
(cluster, device) gives every device one owner while the pollers reach the database. A
:class:`LeaseKeeper` that cannot renew before its leases could have run out (measured from
before the transaction started, so it always gives up first) polls its whole zone without a
lease instead: a cut poller cannot tell a dead partner from a partner cut off like itself.

Lock order (no deadlock cycle): the inserts come first and in device order; after that a
transaction waits only on this node's own rows (renew, release), which only a claimer can
lock, and the claim is the last statement and never waits. A deadlock or lock timeout left
anyway is retried.

PostgreSQL only: the table exists on SQLite but zone pollers refuse it at configuration.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from agent.errors import AgentError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from sqlalchemy import Connection, Engine

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_DEVICE: Final = 128  # device_leases.device
MAX_NODE: Final = 64  # device_leases.owner
MAX_CLUSTER: Final = 48
ZONE_RE: Final = re.compile(r"\A[a-z0-9][a-z0-9-]{0,39}\Z")
RETRIED: Final = frozenset({"40P01", "40001", "55P03"})  # deadlock, serialization, lock timeout
ATTEMPTS: Final = 3
CHANGES: Final = frozenset({"claimed", "released", "lost", "expired"})

INSERT_FREE = """
INSERT INTO device_leases (cluster, device, zone, owner, expires_at)
SELECT CAST(:cluster AS text), d, CAST(:zone AS text), '', now()
FROM unnest(CAST(:devices AS text[])) AS d
WHERE NOT EXISTS (SELECT 1 FROM device_leases l WHERE l.cluster = :cluster AND l.device = d)
ORDER BY d
ON CONFLICT (cluster, device) DO NOTHING
"""
DROP_GONE = """
DELETE FROM device_leases WHERE cluster = :cluster AND device IN (
  SELECT device FROM device_leases
  WHERE cluster = :cluster AND zone = :zone AND NOT device = ANY(CAST(:devices AS text[]))
    AND (owner = :node OR owner = '' OR expires_at <= now())
  FOR UPDATE SKIP LOCKED)
RETURNING device, owner
"""
RENEW = """
UPDATE device_leases SET expires_at = now() + make_interval(secs => :lease), zone = :zone
WHERE cluster = :cluster AND owner = :node AND device = ANY(CAST(:devices AS text[]))
RETURNING device
"""
OTHERS = """
SELECT owner, count(*) FROM device_leases
WHERE cluster = :cluster AND device = ANY(CAST(:devices AS text[])) AND owner NOT IN ('', :node)
  AND expires_at > now()
GROUP BY owner
"""
RELEASE = """
UPDATE device_leases SET owner = '', expires_at = now()
WHERE cluster = :cluster AND owner = :node AND device = ANY(CAST(:devices AS text[]))
RETURNING device
"""
CLAIM = """
WITH free AS (
  SELECT device FROM device_leases
  WHERE cluster = :cluster AND device = ANY(CAST(:devices AS text[])) AND owner <> :node
    AND (owner = '' OR expires_at <= now())
  ORDER BY device LIMIT :need
  FOR UPDATE SKIP LOCKED)
UPDATE device_leases l
SET owner = :node, zone = :zone, expires_at = now() + make_interval(secs => :lease)
FROM free WHERE l.cluster = :cluster AND l.device = free.device
RETURNING l.device
"""
# the zone's pollers whose heartbeat (table zone_pollers, written every lease/3) is within one
# lease, and this node; wider than the leader's 2x-lease liveness on purpose: a dead poller
# must stop counting soon, or the survivors' shares leave its devices unpolled meanwhile
LIVE = """
SELECT count(*) FROM (
  SELECT node FROM zone_pollers
  WHERE cluster = :cluster AND :zone = ANY(string_to_array(zones, ','))
    AND last_seen > now() - make_interval(secs => :lease)
  UNION SELECT CAST(:node AS text)) AS live
"""
RELEASE_ALL = """
UPDATE device_leases SET owner = '', expires_at = now()
WHERE cluster = :cluster AND owner = :node
RETURNING device
"""


class LeaseError(AgentError):
    """A lease request that cannot be stored (a device name the table cannot hold, SQLite)."""


@dataclass(frozen=True, slots=True)
class Rebalanced:
    """One zone's rebalance: what this node holds now, and what changed hands."""

    owned: frozenset[str]
    claimed: frozenset[str]
    released: frozenset[str]  # surplus given back, or the device left the zone


def share(devices: int, live: int, mine: int, others: Mapping[str, int], node: str) -> int:
    """How many of a zone's ``devices`` this ``node`` should hold (it holds ``mine`` now).

    ``others`` are the other pollers' unexpired holdings. ``q, r = divmod(devices, live)``:
    ``r`` pollers hold ``q + 1`` (never more than ``ceil``), the others ``q``; a poller above
    ``q`` keeps the extra one while it is among the first ``r`` such pollers by name, one at
    ``q`` or below takes it only while fewer than ``r`` others are above ``q``.
    """
    q, r = divmod(max(0, devices), max(1, live))
    if r == 0:
        return q
    above = sorted(owner for owner, held in others.items() if held > q)
    if mine > q:
        return q + 1 if sum(1 for owner in above if owner < node) < r else q
    return q + 1 if len(above) < r else q


def checked_devices(devices: Sequence[object]) -> list[str]:
    """The zone's device names, sorted and unique; :class:`LeaseError` for one unstorable."""
    names: set[str] = set()
    for name in devices:
        if not isinstance(name, str):
            msg = f"device name {name!r:.60} is not text"
            raise LeaseError(msg)
        if not name or len(name) > MAX_DEVICE or "\x00" in name:
            msg = f"device name {name[:40]!r} cannot be leased (1..{MAX_DEVICE} chars, no NUL)"
            raise LeaseError(msg)
        names.add(name)
    return sorted(names)


def _checked_zone(zone: str) -> str:
    if not isinstance(zone, str) or not ZONE_RE.match(zone):
        msg = f"zone {str(zone)[:60]!r} is not a zone name (a-z, 0-9, '-', max 40)"
        raise LeaseError(msg)
    return zone


def _retried(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in RETRIED


class DeviceLeases:
    """This node's device leases in one cluster, on a PostgreSQL engine (blocking calls)."""

    def __init__(self, engine: Engine, node: str, lease: float, *, cluster: str = "sigap") -> None:
        """``node`` names this poller (the lease owner); ``lease`` is in seconds."""
        if engine.dialect.name != "postgresql":
            msg = f"device leases need PostgreSQL, not {engine.dialect.name}"
            raise LeaseError(msg)
        if not node or len(node) > MAX_NODE or not cluster or len(cluster) > MAX_CLUSTER:
            msg = f"node {node[:70]!r} / cluster {cluster[:70]!r}: empty or too long"
            raise LeaseError(msg)
        if not math.isfinite(lease) or lease <= 0:
            msg = f"lease {lease!r} must be a positive number of seconds"
            raise LeaseError(msg)
        self.engine, self.node, self.lease, self.cluster = engine, node, float(lease), cluster
        # a statement may not outlive a keeper's round: it would only hold rows others want
        self._timeout = f"{max(1000, int(lease * 1000 / 3))}ms"

    def rebalance(self, zone: str, devices: Sequence[str], live_pollers: int) -> frozenset[str]:
        """Renew, release and claim this node's share of ``zone``; return what it holds."""
        return self.rebalance_detailed(zone, devices, live_pollers).owned

    def rebalance_detailed(
        self, zone: str, devices: Sequence[str], live_pollers: int
    ) -> Rebalanced:
        """:meth:`rebalance` with what was claimed and released (for the metrics)."""
        names = checked_devices(devices)
        params: dict[str, Any] = {
            "cluster": self.cluster,
            "zone": _checked_zone(zone),
            "node": self.node,
            "lease": self.lease,
            "devices": names,
        }
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return self._rebalance(conn, params, len(names), max(1, live_pollers))
            except DBAPIError as exc:
                if attempt == ATTEMPTS or not _retried(exc):
                    raise
                logger.info("leases of zone %s: retrying after %s", zone, exc.orig)
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def live_pollers(self, zone: str) -> int:
        """The zone's pollers heartbeating within one lease (by the database's clock), and this.

        The count that divides the zone: only the balance depends on it, never the safety
        (one owner per device is the lease rows' business).
        """
        params = {"cluster": self.cluster, "zone": _checked_zone(zone), "node": self.node}
        with self.engine.begin() as conn:
            self._limits(conn)
            return int(conn.execute(text(LIVE), {**params, "lease": self.lease}).scalar_one())

    def release_all(self) -> int:
        """Give back every lease of this node (a clean stop); return how many it held."""
        with self.engine.begin() as conn:
            self._limits(conn)
            rows = conn.execute(text(RELEASE_ALL), {"cluster": self.cluster, "node": self.node})
            return len(rows.fetchall())

    def _limits(self, conn: Connection) -> None:
        for setting in ("statement_timeout", "lock_timeout"):
            conn.execute(
                text("SELECT set_config(:s, :v, true)"), {"s": setting, "v": self._timeout}
            )

    def _rebalance(
        self, conn: Connection, params: dict[str, Any], devices: int, live: int
    ) -> Rebalanced:
        self._limits(conn)
        conn.execute(text(INSERT_FREE), params)
        gone = conn.execute(text(DROP_GONE), params).fetchall()
        dropped = frozenset(device for device, owner in gone if owner == self.node)
        renewed = {row[0] for row in conn.execute(text(RENEW), params)}
        others = {owner: int(n) for owner, n in conn.execute(text(OTHERS), params)}
        target = share(devices, live, len(renewed), others, self.node)
        released: set[str] = set()
        if len(renewed) > target:
            surplus = sorted(renewed)[target:]
            released = {
                row[0] for row in conn.execute(text(RELEASE), {**params, "devices": surplus})
            }
            renewed -= released
        claimed: set[str] = set()
        if len(renewed) < target:
            need = target - len(renewed)
            claimed = {row[0] for row in conn.execute(text(CLAIM), {**params, "need": need})}
        return Rebalanced(
            owned=frozenset(renewed | claimed),
            claimed=frozenset(claimed),
            released=frozenset(released) | dropped,
        )


class LeaseReport(Protocol):
    """Where the keeper reports its leases (``agent.runtime.metrics.leases.LeaseMetrics``)."""

    def poller_leases(self, node: str, zone: str, held: int) -> None:
        """Devices of ``zone`` this poller holds now."""

    def poller_lease_changes(self, node: str, zone: str, change: str, count: int) -> None:
        """``count`` devices of ``zone`` changed hands (``change`` in :data:`CHANGES`)."""


@dataclass(slots=True)
class _Zone:
    """One zone as the keeper sees it: what it polls, until when (``clock()`` s), and why.

    ``devices`` are the zone's devices as of the last round and ``alone`` whether this poller
    was its only live one then; ``fallback`` marks a poller polling the whole zone without
    the database (no lease).
    """

    owned: frozenset[str] = frozenset()
    valid_until: float = -math.inf
    devices: frozenset[str] = frozenset()
    alone: bool = False
    fallback: bool = False


Results: TypeAlias = "dict[str, tuple[Rebalanced, int] | Exception]"


class LeaseKeeper:
    """Rebalances this poller's zones every lease/3 and hands the devices it holds to ``apply``.

    ``zones()`` is the inventory's zone -> device names for this poller's zones (read every
    round: a reload takes effect at the next one; a zone gone from it is released);
    ``live_pollers(zone)`` counts the zone's live pollers (blocking: it runs on the lease
    thread; default :meth:`DeviceLeases.live_pollers`); ``apply(devices)`` gets the union of
    the zones' held devices whenever it changes. Database calls run through ``call``
    (default: a thread of the keeper's own).

    When the database fails or hangs, the keeper keeps what it holds until the leases could
    have run out (measured from before the transaction that renewed them began), then polls
    the whole zone without a lease (``cut_keeps_polling``, the default) and logs why; the same
    at start when the database does not answer within a round. A cut poller cannot tell
    whether the zone's other pollers are dead or cut off too (the kecamatan's one radio link
    down): if they still reach the database they have taken its devices over and the centre
    drops its replayed results as repeats (their own came first), but if they are cut too,
    nobody else polls the zone, and the buffered results are the only record of the cut.
    Without ``cut_keeps_polling`` it polls none of that zone's devices. Either way it takes
    up its leases at the first round that reaches the database.
    """

    def __init__(
        self,
        leases: DeviceLeases,
        zones: Callable[[], Mapping[str, Sequence[str]]],
        apply: Callable[[frozenset[str]], None],
        *,
        live_pollers: Callable[[str], int] | None = None,
        cut_keeps_polling: bool = True,
        report: LeaseReport | None = None,
        clock: Callable[[], float] = time.monotonic,
        call: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None,
    ) -> None:
        """See the class docstring; ``clock`` is monotonic seconds (injected in tests)."""
        self.leases, self.zones, self.apply = leases, zones, apply
        self.live_pollers = live_pollers or leases.live_pollers
        self.cut_keeps_polling = cut_keeps_polling
        self.report, self.clock = report, clock
        self.every = leases.lease / 3
        self._pool: ThreadPoolExecutor | None = None
        if call is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigap-leases")
        self._call = call or self._in_pool
        self._held: dict[str, _Zone] = {}
        self._applied: frozenset[str] | None = None
        self._failing = False
        self._pending: asyncio.Future[Results] | None = None

    def owned(self) -> frozenset[str]:
        """Every device this poller may poll now (the union over its zones)."""
        return frozenset().union(*(z.owned for z in self._held.values()))

    async def run(self, stopping: asyncio.Event) -> None:
        """Rebalance every lease/3 until ``stopping`` is set (then call :meth:`close`)."""
        stop = asyncio.ensure_future(stopping.wait())
        next_round = self.clock()
        for zone, devices in self.zones().items():  # until the first round answers
            self._held[zone] = _Zone(
                valid_until=next_round + self.every, devices=frozenset(devices), alone=True
            )
        try:
            while not stopping.is_set():
                now = self.clock()
                if self._pending is None and now >= next_round:
                    self._pending = asyncio.ensure_future(self._round(now))
                    next_round = now + self.every
                # a round still running is waited for (a hung database: only the expiry wakes)
                wake = min(
                    [next_round if self._pending is None else math.inf]
                    + [z.valid_until for z in self._held.values() if self._expires(z)]
                )
                waiting: set[asyncio.Future[Any]] = {stop}
                if self._pending is not None:
                    waiting.add(self._pending)
                timeout = None if wake == math.inf else max(0.0, wake - self.clock())
                await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if self._pending is not None and self._pending.done():
                    pending, self._pending = self._pending, None
                    self._finish(pending)
                self._expire()
        finally:
            stop.cancel()

    async def close(self) -> None:
        """Give the leases back (bounded by one round: the database may be gone); stop."""
        if self._pending is not None:  # its thread call finishes; release_all runs after it
            self._pending.cancel()
            self._pending = None
        self._held.clear()
        self._hand_over()
        try:
            count = await asyncio.wait_for(self._call(self.leases.release_all), self.every)
            logger.info("leases: %s released %s devices", self.leases.node, count)
        except Exception as exc:  # noqa: BLE001 - they expire by themselves after the lease
            logger.warning("leases: not released (%s); they expire after the lease", exc)
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    # -- one round ------------------------------------------------------------------------

    async def _in_pool(self, fn: Callable[[], T]) -> T:
        assert self._pool is not None  # noqa: S101 - set whenever _in_pool is the seam
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    async def _round(self, started: float) -> Results:
        wanted = {zone: list(devices) for zone, devices in self.zones().items()}
        for zone in self._held:
            wanted.setdefault(zone, [])  # left the inventory: released
        results: Results = await self._call(partial(self._rebalance_all, wanted))
        for zone, result in results.items():
            if not isinstance(result, Exception):
                self._took(zone, *result, started, frozenset(wanted[zone]))
        return results

    def _rebalance_all(self, wanted: Mapping[str, list[str]]) -> Results:
        results: Results = {}
        for zone, devices in wanted.items():
            try:
                live = self.live_pollers(zone) if devices else 1
                results[zone] = (self.leases.rebalance_detailed(zone, devices, live), live)
            except Exception as exc:  # noqa: BLE001 - one zone's failure is reported, kept apart
                results[zone] = exc
        return results

    def _took(
        self, zone: str, result: Rebalanced, live: int, started: float, devices: frozenset[str]
    ) -> None:
        before = self._held.get(zone, _Zone())
        lost = before.owned - result.owned - result.released if not before.fallback else set()
        valid_until = started + self.leases.lease
        if not devices:
            self._held.pop(zone, None)
        elif valid_until > self.clock():
            self._held[zone] = _Zone(result.owned, valid_until, devices, alone=live <= 1)
        else:  # the round outlasted a lease: nothing it renewed is provably still held
            self._held[zone] = _Zone(devices=devices, alone=live <= 1)
        for change, changed in (
            ("claimed", result.claimed), ("released", result.released), ("lost", lost)
        ):  # fmt: skip
            if changed:
                self._count(zone, change, len(changed))
        if lost:
            logger.warning(
                "leases of zone %s: %d devices now held by another poller", zone, len(lost)
            )
        if self.report is not None:
            self.report.poller_leases(self.leases.node, zone, len(result.owned))

    def _finish(self, done: asyncio.Future[Results]) -> None:
        failed: list[str] = []
        if (exc := done.exception()) is not None:
            failed.append(f"{exc.__class__.__name__}: {exc}")
        else:
            failed = [
                f"{zone}: {r.__class__.__name__}: {r}"
                for zone, r in done.result().items()
                if isinstance(r, Exception)
            ]
        if failed and not self._failing:
            logger.warning("leases: cannot renew (%s); polling what is held", "; ".join(failed))
        elif not failed and self._failing:
            logger.info("leases: renewed again; holding %d devices", len(self.owned()))
        self._failing = bool(failed)
        self._hand_over()

    def _expires(self, held: _Zone) -> bool:
        """Whether ``held`` changes when its time is up (leases held, or the whole zone next)."""
        if held.fallback or held.valid_until == -math.inf:
            return False
        return bool(held.owned) or self.cut_keeps_polling

    def _expire(self) -> None:
        now = self.clock()
        for zone, held in self._held.items():
            if not self._expires(held) or now < held.valid_until:
                continue
            if held.owned:
                self._count(zone, "expired", len(held.owned))
            if self.cut_keeps_polling:
                logger.warning(
                    "leases of zone %s: no database; %s polls all its %d devices until the "
                    "database answers%s",
                    zone,
                    "its only poller" if held.alone else "this poller",
                    len(held.devices),
                    "" if held.alone else " (another poller may poll them too)",
                )
                self._held[zone] = _Zone(held.devices, math.inf, held.devices, held.alone, True)
                if self.report is not None:
                    self.report.poller_leases(self.leases.node, zone, 0)
                continue
            logger.error(
                "leases of zone %s ran out without reaching the database: polling none of "
                "its %d devices until it answers (another poller may hold them now)",
                zone,
                len(held.owned),
            )
            self._held[zone] = _Zone(devices=held.devices)
            if self.report is not None:
                self.report.poller_leases(self.leases.node, zone, 0)
        self._hand_over()

    def _hand_over(self) -> None:
        owned = self.owned()
        if owned != self._applied:
            self._applied = owned
            self.apply(owned)

    def _count(self, zone: str, change: str, count: int) -> None:
        if self.report is not None:
            self.report.poller_lease_changes(self.leases.node, zone, change, count)
