"""Active/standby (issue 23): one ``sigap run`` leads, the others wait, by a PostgreSQL lock.

Any number of daemons may run on one PostgreSQL database; the one holding the session-level
advisory lock of its cluster (:func:`lock_key`) is the leader and runs everything (polls,
ticket writes, the SOP ticker, notifications, remediation, topology, retention). The others
are standbys: they serve
``/healthz`` and ``/metrics`` (role ``standby``, the leader's name) and try the lock every
quarter of the lease. No protocol of sigap's own: PostgreSQL decides, and it frees the lock
the moment the leader's session ends.

The lock lives on a connection of its own (not the store's pool) with TCP keepalives and
``idle_session_timeout`` = the lease. The leader proves it is alive by asking PostgreSQL,
every quarter of the lease, whether its session still holds the lock:

* killed (``kill -9``, a crash, the machine gone): the kernel closes the socket and PostgreSQL
  frees the lock at once; a standby takes it at its next try (<= lease / 4).
* frozen (``SIGSTOP``, a VM paused, a swap storm): its session goes idle and PostgreSQL ends it
  after the lease; a standby takes over. When the old leader wakes it must not write. Two
  fences: every write transaction first checks :meth:`Leadership.fence` (refused once two
  thirds of the lease passed since the last confirmed renewal; the server's clock of the same
  interval starts later, so the leader gives up first), then takes the cluster's *fence lock*
  shared and checks, in the database, that this node's lock session still holds the leader
  lock (:func:`install_fence`). A new leader takes the fence lock exclusively once before it
  starts (:meth:`Leadership.acquire`): it waits for the old leader's transactions in flight to
  end (committed, or ended by the server after the lease idle in transaction), and every later
  one finds it no longer leads and rolls back. The daemon stops with
  :class:`LeadershipLostError`; systemd starts it again as a standby.
* PostgreSQL unreachable: the renewal fails and the leader steps down the same way; nothing is
  written anyway, and whoever reaches the database first afterwards leads. A server that stops
  answering without closing the session (frozen, a disk hang, packets dropped) is the same:
  every call on the lock session has a deadline on the client (no libpq timeout covers a
  query in flight over a unix socket); past it the session's socket is shut down
  (:func:`~ticketing.db.abort_connection`), so the thread blocked on it returns and the
  process can exit (issue 23: it hung until the server came back).

SQLite has no such lock: HA is refused there by ``sigap check`` (single node, the demo).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from agent.errors import AgentError
from ticketing.db import READ_ONLY_OPTION, abort_connection

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

SIGAP_KEY: Final = 0x51_6A_50  # pg_try_advisory_lock(int4, int4): (sigap, the cluster's key)
APP_PREFIX: Final = "sigap/"  # application_name of the lock session names the node
LOST_EXIT: Final = 75  # EX_TEMPFAIL: `sigap run` after losing the lock (systemd restarts it)
CLOSE_SECONDS: Final = 2.0  # how long closing the lock session may take (it is dead otherwise)
LEADER: Final = "leader"
STANDBY: Final = "standby"
HOLDER_SQL: Final = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.objsubid = 2
  AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
MINE_SQL: Final = HOLDER_SQL + " AND l.pid = pg_backend_pid()"
LEADS_SQL: Final = HOLDER_SQL + " AND a.application_name = %s"


class LeadershipLostError(AgentError):
    """The leader could not confirm its lock within its lease: it must stop writing now."""


class LockSessionTimeoutError(AgentError, TimeoutError):
    """A call on the lock session got no answer in time (its socket was shut down)."""

    def __init__(self, call: str, seconds: float) -> None:
        """``call`` is the lock session's function that did not return within ``seconds``."""
        super().__init__(f"lock session: {call} got no answer within {seconds:.1f} s")
        self.call = call
        self.seconds = seconds


def conninfo(url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://`` -> libpq)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        msg = f"active/standby needs PostgreSQL, not {parsed.get_backend_name()}"
        raise AgentError(msg)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def lock_key(cluster: str) -> tuple[int, int]:
    """The advisory lock of one cluster (daemons sharing a database but not a cluster differ)."""
    return SIGAP_KEY, zlib.crc32(cluster.encode()) & 0x7FFF_FFFF


def fence_key(cluster: str) -> tuple[int, int]:
    """The cluster's fence lock: write transactions hold it shared, a new leader once exclusive."""
    return SIGAP_KEY + 1, lock_key(cluster)[1]


def session_options(node: str, lease: float, options: str = "") -> dict[str, Any]:
    """The lock session's libpq settings: named after the node, ended by the server when idle.

    ``options`` are the URL's own (e.g. a search_path); the timeouts are added to them.
    """
    ms = max(1000, int(lease * 1000))
    return dict(
        autocommit=True,
        application_name=f"{APP_PREFIX}{node}"[:63],
        connect_timeout=max(2, int(lease / 3)),
        keepalives=1,
        keepalives_idle=max(1, int(lease / 3)),
        keepalives_interval=1,
        keepalives_count=3,
        tcp_user_timeout=ms,
        options=f"{options} -c idle_session_timeout={ms} -c statement_timeout={ms}".strip(),
    )


class Leadership:
    """Who leads: take the lock (standby until then), renew it, fence every store call."""

    def __init__(
        self,
        url: str,
        node: str,
        connect: Callable[..., Any],
        lease: float = 15.0,
        *,
        cluster: str = "sigap",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``url`` is the ticket database; ``node`` names this process to the others.

        ``connect`` is ``psycopg.connect`` (handed in: the driver is loaded only with HA on).
        """
        self.info = conninfo(url)
        self.options = str(make_url(url).query.get("options", ""))
        self.connect = connect
        self.key = lock_key(cluster)
        self.fence_key = fence_key(cluster)
        self.node = node
        self.lease = lease
        self.every = lease / 4  # tries and renewals: two may fail inside the fence
        self.valid_for = lease * 2 / 3  # the fence: below the server's idle timeout
        self.clock = clock
        self.role = STANDBY
        self.leader = ""  # the node holding the lock, as last seen
        self.renewed: float | None = None  # clock() when the last confirmed renewal started
        self._conn: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigap-leader")

    # -- what the daemon asks -----------------------------------------------------------

    def fence(self) -> None:
        """Raise :class:`LeadershipLostError` unless the lock was confirmed within the fence."""
        renewed = self.renewed
        if self.role != LEADER or renewed is None:
            msg = f"{self.node} is not the leader"
            raise LeadershipLostError(msg)
        age = self.clock() - renewed
        if age > self.valid_for:
            msg = f"{self.node}: lock not confirmed for {age:.1f} s (lease {self.lease:g} s)"
            raise LeadershipLostError(msg)

    def lease_age(self) -> float | None:
        """Seconds since the leader last confirmed its lock (None on a standby)."""
        if self.role != LEADER or self.renewed is None:
            return None
        return max(0.0, self.clock() - self.renewed)

    def status(self) -> dict[str, object]:
        """Role, this node, the leader as last seen, lease age (for /healthz and the logs)."""
        age = self.lease_age()
        return {
            "role": self.role,
            "node": self.node,
            "leader": self.leader,
            "lease_age_seconds": None if age is None else round(age, 3),
        }

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Wait as a standby until this process holds the lock; False when stopped first."""
        seen = None
        while not stopping.is_set():
            started = self.clock()
            try:
                got, holder = await self._call(self._try, self.lease)
                if got:  # the old leader's writes in flight end first (server-bounded: lease)
                    await self._call(self._barrier, 2 * self.lease)
            except Exception as exc:  # noqa: BLE001 - the database is down: stay standby, retry
                with contextlib.suppress(Exception):  # frees the lock if it was taken
                    await self._call(self._drop, CLOSE_SECONDS)
                got, holder = False, f"? ({exc.__class__.__name__})"
            if got:
                self.role, self.leader, self.renewed = LEADER, self.node, started
                logger.info("leader: %s holds the sigap lock (lease %g s)", self.node, self.lease)
                return True
            self.leader = holder
            if holder != seen:
                logger.info("standby: %s waits; leader is %s", self.node, holder or "nobody")
                seen = holder
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.every)
        return False

    async def hold(self) -> None:
        """Renew every quarter of the lease, forever; raise LeadershipLostError when it fails.

        A renewal unanswered when the fence expires (two thirds of the lease) has failed: its
        answer could not renew anything any more.
        """
        while True:
            await asyncio.sleep(self.every)
            started = self.clock()
            try:
                mine = await self._call(self._mine, self.valid_for)
            except Exception as exc:
                self.step_down(f"lock session failed: {exc.__class__.__name__}: {exc}")
                raise LeadershipLostError(self.node) from exc
            if not mine:
                self.step_down("the lock is no longer held by this session")
                raise LeadershipLostError(self.node)
            self.renewed = started

    async def close(self) -> None:
        """Release the lock (closing its session) and the thread, in bounded time."""
        with contextlib.suppress(Exception):
            await self._call(self._drop, CLOSE_SECONDS)
        self._pool.shutdown(wait=False)

    # -- the lock session (its own thread) ----------------------------------------------

    async def _call(self, fn: Callable[[], Any], seconds: float) -> Any:
        """Run ``fn`` on the lock thread; past ``seconds``, shut the session's socket down.

        The thread cannot be cancelled; the shutdown makes the call it is blocked in fail
        (as on a lost connection), so the thread is free again and the process can exit.
        """
        call = asyncio.get_running_loop().run_in_executor(self._pool, fn)
        try:
            return await asyncio.wait_for(call, seconds)
        except TimeoutError as exc:
            conn = self._conn
            if conn is not None:
                abort_connection(conn)
            raise LockSessionTimeoutError(getattr(fn, "__name__", "call"), seconds) from exc

    def _try(self) -> tuple[bool, str]:
        if self._conn is None or self._conn.closed:
            self._drop()  # a session broken by an abort: closed here, on its own thread
            self._conn = self.connect(
                self.info, **session_options(self.node, self.lease, self.options)
            )
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", self.key).fetchone()
        if row is not None and row[0]:
            return True, self.node
        holder = self._conn.execute(HOLDER_SQL, self.key).fetchone()
        return False, _node_of(holder[0]) if holder else ""

    def _barrier(self) -> None:
        self._conn.execute("SELECT pg_advisory_lock(%s, %s)", self.fence_key)
        self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", self.fence_key)

    def _mine(self) -> bool:
        if self._conn is None or self._conn.closed:
            return False
        return self._conn.execute(MINE_SQL, self.key).fetchone() is not None

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def step_down(self, why: str) -> None:
        """Stop leading at once (logged): every later fence check refuses."""
        logger.error("leadership lost (%s): %s stops without writing", why, self.node)
        self.role, self.renewed = STANDBY, None


MEMBERS_SQL: Final = """
SELECT a.application_name,
       EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory'
               AND l.classid = :classid AND l.objid = :objid AND l.objsubid = 2 AND l.granted),
       EXTRACT(EPOCH FROM clock_timestamp() - a.state_change)
FROM pg_stat_activity a
WHERE a.application_name LIKE 'sigap/%' AND a.datname = current_database()
"""


@dataclass(frozen=True, slots=True)
class Member:
    """One daemon's lock session as PostgreSQL sees it (``sigap status``)."""

    node: str
    leads: bool
    idle_seconds: float  # since its last query: for the leader, since its last renewal


def members(connection: Connection, cluster: str) -> list[Member]:
    """The daemons connected to this database, the leader of ``cluster`` first.

    The leader is the session holding the cluster's lock; the others are every session named
    ``sigap/NODE`` that does not (standbys of this cluster, or of another cluster sharing the
    database: the lock session does not name its cluster).
    """
    classid, objid = lock_key(cluster)
    rows = connection.execute(text(MEMBERS_SQL), {"classid": classid, "objid": objid})
    found = [Member(_node_of(str(r[0])), bool(r[1]), max(0.0, float(r[2] or 0.0))) for r in rows]
    return sorted(found, key=lambda m: (not m.leads, m.node))


def _node_of(application_name: str) -> str:
    return application_name.removeprefix(APP_PREFIX) if application_name else ""


def install_fence(engine: Engine, leadership: Leadership) -> None:
    """Make every write transaction on ``engine`` prove, in the database, that we still lead.

    Read transactions (the store's read-only engine) are not fenced: a standby may read.
    """
    app = f"{APP_PREFIX}{leadership.node}"[:63]
    idle = f"{max(1000, int(leadership.lease * 1000))}ms"

    @event.listens_for(Session, "after_begin")
    def _fenced(_session: Session, _tx: object, connection: Connection) -> None:
        if connection.engine is not engine or connection.get_execution_options().get(
            READ_ONLY_OPTION
        ):
            return
        leadership.fence()
        raw = connection.exec_driver_sql
        raw("SELECT pg_advisory_xact_lock_shared(%s, %s)", leadership.fence_key)
        raw(f"SET LOCAL idle_in_transaction_session_timeout = '{idle}'")
        if raw(LEADS_SQL, (*leadership.key, app)).first() is None:
            why = "the database says another session holds the leader lock"
            leadership.step_down(why)
            raise LeadershipLostError(f"{leadership.node}: {why}")
