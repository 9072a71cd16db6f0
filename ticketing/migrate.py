"""Schema migrations: Alembic, configured in code, run by :func:`migrate` at every start.

Apart from the store on purpose: Alembic costs ~0.1 s to import, the commands that only read
(``sigap tiket list``, ``diagnose``) never migrate, and the others import this module only when
:func:`ticketing.db.at_head` finds the schema behind.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from ticketing.db import VERSION_TABLE

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ticketing.store import TicketStore

__all__ = ["VERSION_TABLE", "alembic_config", "compare_server_default", "migrate", "upgrade_head"]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
# Arbitrary constant: serialises `migrate()` of several agents sharing one PostgreSQL database.
PG_MIGRATION_LOCK: Final = 0x5167_6170  # "Sgap"


def migrate(store: TicketStore) -> None:
    """Upgrade ``store``'s schema to the newest revision (idempotent; call at every start)."""
    upgrade_head(store.engine)


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
