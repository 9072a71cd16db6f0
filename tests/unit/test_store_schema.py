"""The Alembic migrations build exactly the schema the ORM models describe (SQLite)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from ticketing.migrate import VERSION_TABLE, compare_server_default, migrate
from ticketing.models import Base
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit


@pytest.fixture
def migrated(tmp_path):
    url = TicketStore.sqlite_url(tmp_path / "schema.db")
    store = TicketStore(url)
    migrate(store)
    store.close()
    engine = create_engine(url)
    yield engine
    engine.dispose()


def test_migrations_match_models(migrated):
    with migrated.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "version_table": VERSION_TABLE,
                "compare_type": True,
                "compare_server_default": compare_server_default,
            },
        )
        assert compare_metadata(ctx, Base.metadata) == []


def test_partial_unique_indexes_exist(migrated):
    indexes = {ix["name"]: ix for ix in inspect(migrated).get_indexes("tickets")}
    assert indexes["uq_tickets_active_fault_key"]["unique"]
    with migrated.connect() as conn:
        sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'uq_tickets_active_fault_key'")
        ).scalar_one()
    assert "WHERE status IN ('open', 'recovering')" in sql


def test_sqlite_pragmas(tmp_path):
    store = TicketStore(TicketStore.sqlite_url(tmp_path / "p.db"))
    migrate(store)
    engine = store._engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 1000
    store.close()
