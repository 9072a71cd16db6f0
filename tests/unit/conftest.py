"""Fixtures shared by unit modules: a migrated ticket store on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from ticketing.migrate import migrate
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    """A migrated store on both databases (a module may define its own ``store``)."""
    url = (
        TicketStore.sqlite_url(tmp_path / "t.db")
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = TicketStore(url)
    migrate(s)
    yield s
    s.close()


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on both engines, by URL (a SQLite file; a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        return TicketStore.sqlite_url(tmp_path / "any.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[TicketStore]:
    """A migrated store on SQLite only (for what does not depend on the database's engine)."""
    s = TicketStore(TicketStore.sqlite_url(tmp_path / "s.db"))
    migrate(s)
    yield s
    s.close()
