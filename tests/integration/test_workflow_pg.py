"""Two processes act on the same ticket step at once on PostgreSQL: one wins, nothing doubles."""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, date, datetime

import pytest

from ticketing.calendar import OfficeCalendar
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.people import Person, Role
from ticketing.service import TicketService
from ticketing.states import EventKind
from ticketing.store import TicketStore

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PG_URL = os.environ.get("SIGAP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
CAL = OfficeCalendar(holidays={date(2026, 11, 30): "Libur uji"})
PEOPLE = [Person("Hj Kabid", Role.KABID), Person("Lalu Kadis", Role.KADIS),
          Person("Baiq Kasi", Role.KASI), Person("Teknisi Satu", Role.TEKNISI)]  # fmt: skip
WORKERS = 4
DEADLINE_S = 60


def _dispose_worker(url, number, who, barrier, results):
    store = TicketStore(url)
    svc = TicketService(store, people=PEOPLE, calendar=CAL, now=lambda: T0)
    try:
        version = svc.ticket(number).version  # both read the same version
        barrier.wait(timeout=DEADLINE_S)
        svc.dispose(number, by=who, isi=f"disposisi {who}", expected_version=version)
        results.put(("ok", who))
    except Exception as exc:  # noqa: BLE001 - report any outcome to the parent
        results.put((type(exc).__name__, str(exc)))
    finally:
        store.close()


def test_concurrent_dispositions_one_wins(pg_url):
    store = TicketStore(pg_url)
    migrate(store)
    number = store.open_fault(Fault("r1", FaultKind.DEVICE_DOWN, "r1 mati"), at=T0).ticket.number
    svc = TicketService(store, people=PEOPLE, calendar=CAL, now=lambda: T0)
    svc.start(number)  # no standing order: step 2 (disposisi) waits for a human
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    who = ["Hj Kabid", "Lalu Kadis", "Baiq Kasi", "Hj Kabid"]
    procs = [
        ctx.Process(target=_dispose_worker, args=(pg_url, number, w, barrier, results)) for w in who
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=DEADLINE_S) for _ in procs]
    for p in procs:
        p.join(timeout=DEADLINE_S)
    oks = [o for o in outcomes if o[0] == "ok"]
    assert len(oks) == 1, outcomes
    losers = {o[0] for o in outcomes if o[0] != "ok"}
    assert losers <= {"ConcurrentUpdateError", "StepStateError"}, outcomes
    done = [e for e in store.events(number) if e.kind is EventKind.STEP_DONE]
    assert [e.data["position"] for e in done] == [1, 2, 3][: len(done)]
    assert sum(1 for e in done if e.data["position"] == 2) == 1
    steps = svc.steps(number)
    assert steps[1].completed_by == oks[0][1]
    assert steps[2].state == "berjalan"
    store.close()
