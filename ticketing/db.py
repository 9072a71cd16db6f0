"""Engine set-up (SQLite pragmas, write transactions) and Alembic migrations run in code."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
SUPPORTED_DIALECTS: Final = frozenset({"sqlite", "postgresql"})
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000
# Arbitrary constant: serialises `migrate()` of several agents sharing one PostgreSQL database.
PG_MIGRATION_LOCK: Final = 0x5167_6170  # "Sgap"
READ_ONLY_OPTION: Final = "sigap_read_only"
# Own name, so that other components may keep their own Alembic history in the same database.
VERSION_TABLE: Final = "ticketing_alembic_version"


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


def compare_server_default(
    _context: object,
    _inspected_column: object,
    _metadata_column: object,
    inspected_default: str | None,
    _metadata_default: object,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Alembic hook: treat the empty-string default as equal to itself on every backend.

    On SQLite Alembic compares the reflected ``('')`` with the rendered ``''`` and reports
    a change; every other default is left to Alembic's own comparison.
    """
    if rendered_metadata_default in {"", "''"}:
        inspected = (inspected_default or "''").strip("()").split("::")[0]
        if inspected == "''":
            return False
    return None


def alembic_config() -> Config:
    """Build the Alembic configuration in code (no alembic.ini, no dependency on the cwd)."""
    cfg = Config()
    # ConfigParser interpolation: a literal % in the install path must be doubled.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return cfg


def upgrade_head(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it already is there."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    logger.debug("ticket schema at head (%s)", engine.url.render_as_string(hide_password=True))
