"""Several processes on one ticket database: one ticket per fault, unique numbers.

The backend fixtures repeat those of ``tests/unit/test_store.py`` on purpose (test modules
are not importable from each other here); move them to ``tests/conftest.py`` when shared.
"""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import Ticket
from ticketing.store import OpenOutcome, TicketStore

PG_URL = os.environ.get("SIGAP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
WORKERS = 4
DEADLINE_S = 60


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.integration),
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        url = TicketStore.sqlite_url(tmp_path / "shared.db")
    else:
        url = request.getfixturevalue("pg_url")
    store = TicketStore(url)
    migrate(store)
    store.close()
    return url


def _open_worker(url, device, barrier, results):
    """Child process: wait for the others, then open one fault and report the outcome."""
    store = TicketStore(url)
    try:
        fault = Fault(device, FaultKind.DEVICE_DOWN, f"{device} mati")
        store.active()  # connect before the race so that all workers start together
        barrier.wait(timeout=DEADLINE_S)
        result = store.open_fault(fault, at=T0)
        results.put((result.outcome.value, result.ticket.number))
    except Exception as exc:
        results.put(("error", repr(exc)))
        raise
    finally:
        store.close()


def _race(url, devices):
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(devices))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_open_worker, args=(url, device, barrier, results), name=f"w{i}")
        for i, device in enumerate(devices)
    ]
    for proc in procs:
        proc.start()
    try:
        outcomes = [results.get(timeout=DEADLINE_S) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=DEADLINE_S)
            if proc.is_alive():
                proc.kill()
    assert [p.exitcode for p in procs] == [0] * len(procs), outcomes
    return outcomes


def _count_tickets(url):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Ticket)).scalar_one()
    finally:
        engine.dispose()


def test_same_fault_from_several_processes_gives_one_ticket(db_url):
    outcomes = _race(db_url, ["core-r1"] * WORKERS)
    assert sorted(o for o, _ in outcomes) == sorted(
        [OpenOutcome.OPENED.value] + [OpenOutcome.EXISTING.value] * (WORKERS - 1)
    )
    assert {n for _, n in outcomes} == {"GJ/2026/0001"}
    assert _count_tickets(db_url) == 1


def test_different_faults_from_several_processes_get_distinct_numbers(db_url):
    outcomes = _race(db_url, [f"sw-{i}" for i in range(WORKERS)])
    assert {o for o, _ in outcomes} == {OpenOutcome.OPENED.value}
    assert sorted(n for _, n in outcomes) == [f"GJ/2026/{i:04d}" for i in range(1, WORKERS + 1)]
    assert _count_tickets(db_url) == WORKERS
