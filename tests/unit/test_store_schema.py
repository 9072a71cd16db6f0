"""The Alembic migrations build exactly the schema the ORM models describe (SQLite); at_head."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from agent.config.load import load_inventory
from agent.wiring import open_store
from ticketing.db import HEAD_REVISION, at_head
from ticketing.migrate import VERSION_TABLE, alembic_config, compare_server_default, migrate
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


def test_head_revision_is_alembics_head():
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head == HEAD_REVISION  # a new migration bumps ticketing.db.HEAD_REVISION


def test_at_head_only_when_stamped_with_the_newest_revision(tmp_path):
    store = TicketStore(TicketStore.sqlite_url(tmp_path / "h.db"))
    assert not at_head(store.engine)  # a new file: no version table
    migrate(store)
    assert at_head(store.engine)
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0013'"))  # noqa: S608
    assert not at_head(store.engine)  # behind (or ahead): the writer runs Alembic
    with store.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {VERSION_TABLE}"))  # noqa: S608
    assert not at_head(store.engine)
    store.close()


def test_open_store_migrates_a_new_database_and_skips_alembic_at_head(tmp_path, monkeypatch):
    inventory = load_inventory(Path(__file__).resolve().parents[2] / "inventory.yaml")
    url = TicketStore.sqlite_url(tmp_path / "w.db")
    with open_store(inventory, url, migrate=True) as store:
        assert at_head(store.engine)
    called = []
    monkeypatch.setattr("ticketing.migrate.upgrade_head", called.append)
    with open_store(inventory, url, migrate=True) as store:
        assert store.list() == []
    assert called == []
