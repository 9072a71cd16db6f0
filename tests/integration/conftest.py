"""Fixtures shared by the agent's lab tests: each module provides ``lab_env`` (its lab and
inventory); these give a clean lab per test, both ticket databases, the agent process and a
private dovecot for the mail intake tests."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from tests.integration import dovecot_server
from tests.labagent import Agent
from ticketing.store import TicketStore

SNMP_CACHE_S = 5.0

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from labnet.lab import Lab


@pytest.fixture
def lab(lab_env: tuple[Lab, Path]) -> Iterator[Lab]:
    """The module's lab; every fault a test injected is restored afterwards."""
    handle = lab_env[0]
    yield handle
    ports = False
    for name, faults in handle.status().faults.items():
        if faults.any:
            ports = ports or bool(faults.ports_down or faults.unplugged)
            handle.restore(name)
    if ports:  # net-snmp serves its cached ifTable for a few seconds: let it expire, or the
        time.sleep(SNMP_CACHE_S)  # next test's agent sees the restored port still down


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both ticket databases: a SQLite file, and a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return TicketStore.sqlite_url(tmp_path / "sigap.db")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[TicketStore]:
    """The test's view of the agent's ticket database."""
    with TicketStore(db_url) as handle:
        yield handle


@pytest.fixture
def agent(
    request: pytest.FixtureRequest,
    lab: Lab,
    lab_env: tuple[Lab, Path],
    db_url: str,
    tmp_path: Path,
) -> Iterator[Agent]:
    """`sigap run` for the module's inventory (not started); its log goes into the report."""
    handle = Agent(lab, lab_env[1], db_url, tmp_path)
    try:
        yield handle
    finally:
        handle.close()
        if handle.log.exists():
            request.node.add_report_section("call", "agent log", handle.log.read_text()[-20000:])


@pytest.fixture
def dovecot(request: pytest.FixtureRequest) -> Iterator[dovecot_server.Dovecot]:
    """A private dovecot IMAP server on 127.0.0.1; its log tail is added to the report."""
    server = dovecot_server.start()
    yield server
    request.node.add_report_section("call", "dovecot", server.log()[-4000:])
    server.stop()
