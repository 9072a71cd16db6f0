"""Engine set-up: SQLite pragmas and write transactions, the dialects sigap supports.

Schema migrations are :mod:`ticketing.migrate` (Alembic): a command that only reads does not
import Alembic, and one that writes imports it only when :func:`at_head` says the schema is
behind (one SELECT of the version table; Alembic costs ~0.1 s to import, docs/decisions.md).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

SUPPORTED_DIALECTS: Final = frozenset({"sqlite", "postgresql"})
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
READ_ONLY_OPTION: Final = "sigap_read_only"
# Own name, so that other components may keep their own Alembic history in the same database.
VERSION_TABLE: Final = "ticketing_alembic_version"
# The newest revision in ticketing/migrations/versions (tests/unit/test_store_schema.py checks
# it against Alembic's head). A new migration bumps it; until then writers only take the slower
# Alembic path, never a wrong one.
HEAD_REVISION: Final = "0017"
# libpq settings of every PostgreSQL connection, unless the URL sets them: a connection attempt
# to a server that does not answer gives up, and a dead TCP peer is noticed (issue 23: a
# daemon's exit waited on the dead database). Unix sockets ignore the keepalive settings.
PG_CONNECT_DEFAULTS: Final = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Turn on WAL, a busy timeout and foreign keys; take over transaction control."""
    # pysqlite's own BEGIN handling is disabled so that `_sqlite_on_begin` can issue
    # BEGIN IMMEDIATE (see SQLAlchemy's "Serializable isolation / Savepoints" recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    """Start write transactions with BEGIN IMMEDIATE.

    A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    another process wrote in between (the busy timeout does not help there); taking the write
    lock up front makes writers queue on the busy timeout instead.
    """
    read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def pg_connect_args(url: str) -> dict[str, Any]:
    """:data:`PG_CONNECT_DEFAULTS` the URL does not set itself (none for other databases)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    return {k: v for k, v in PG_CONNECT_DEFAULTS.items() if k not in parsed.query}


def abort_connection(dbapi_connection: Any) -> bool:
    """Shut a psycopg connection's socket down (from any thread); False if it had none.

    For a server that stopped answering without closing (frozen, a disk hang, dropped
    packets): no libpq timeout covers a query in flight over a unix socket, and closing the
    connection from another thread would free it under the thread blocked in it. A shutdown
    only makes that thread's read see end-of-file: its call fails as on a lost connection,
    and the connection is left broken for its owner to close.
    """
    try:
        fd = dbapi_connection.fileno()
    except Exception:  # noqa: BLE001 - closed already (psycopg raises its OperationalError)
        return False
    try:
        dup = os.dup(fd)  # libpq keeps its own descriptor
    except OSError:
        return False
    try:
        sock = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return False
    with sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # acts on the socket, not on a descriptor
        except OSError:
            return False
    return True


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url`` (SQLite or PostgreSQL) with sigap's connection settings."""
    engine = create_engine(url, echo=echo, pool_pre_ping=True, connect_args=pg_connect_args(url))
    if engine.dialect.name not in SUPPORTED_DIALECTS:
        engine.dispose()
        raise ValueError(
            f"unsupported database {engine.dialect.name!r} in {engine.url!r} "
            f"(expected one of {sorted(SUPPORTED_DIALECTS)})"
        )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def at_head(engine: Engine) -> bool:
    """Whether the schema is stamped with :data:`HEAD_REVISION`: one SELECT, no Alembic.

    False on any database error (no version table yet, unreachable): the caller then runs the
    Alembic upgrade, which creates the schema or reports the error as before.
    """
    query = text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a constant
    try:
        with engine.connect() as conn:
            conn.execution_options(**{READ_ONLY_OPTION: True})
            stored = list(conn.execute(query).scalars())
    except DBAPIError:
        return False
    return stored == [HEAD_REVISION]
