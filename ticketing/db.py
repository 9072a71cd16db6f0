"""Engine set-up: SQLite pragmas and write transactions, the dialects sigap supports.

Schema migrations are :mod:`ticketing.migrate` (Alembic): a command that only reads does not
import Alembic, and one that writes imports it only when :func:`at_head` says the schema is
behind (one SELECT of the version table; Alembic costs ~0.1 s to import, docs/decisions.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import create_engine, event, text
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


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url`` (SQLite or PostgreSQL) with sigap's connection settings."""
    engine = create_engine(url, echo=echo, pool_pre_ping=True)
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
