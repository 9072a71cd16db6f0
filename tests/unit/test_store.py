"""TicketStore behaviour on SQLite (unit) and PostgreSQL (integration, marked postgres)."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta, timezone
from unittest.mock import MagicMock

import pytest
from sqlalchemy import create_engine, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ticketing.errors import InvalidTransitionError, TicketNotFoundError
from ticketing.faults import Fault, FaultKind
from ticketing.lifecycle import transition
from ticketing.migrate import migrate
from ticketing.models import Ticket, TicketEvent
from ticketing.states import EventKind, TicketState
from ticketing.store import OpenOutcome, TicketStore

PG_URL = os.environ.get("SIGAP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
HOLD = timedelta(seconds=60)
WINDOW = timedelta(minutes=30)
R1 = Fault("core-r1", FaultKind.DEVICE_DOWN, "core-r1 tidak merespons ping", opd="Diskominfo")
R2 = Fault("edge-r2", FaultKind.DEVICE_DOWN, "edge-r2 tidak merespons ping", opd="RSUD Praya")


# -- backends ------------------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return TicketStore.sqlite_url(tmp_path / "sigap.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    s = TicketStore(db_url, hold_down=HOLD, reopen_window=WINDOW)
    migrate(s)
    yield s
    s.close()


@pytest.fixture
def raw(db_url):
    """A plain engine on the same database, to go around the store."""
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def kinds(store, number):
    return [e.kind for e in store.events(number)]


# -- lifecycle -----------------------------------------------------------------------------


def test_open_dedup_clear_hold_down_resolve(store):
    opened = store.open_fault(R1, at=T0)
    assert opened.outcome is OpenOutcome.OPENED
    t = opened.ticket
    assert (t.number, t.status, t.fault_key) == ("GJ/2026/0001", TicketState.OPEN, R1.key)
    assert (t.device, t.kind, t.opd, t.summary) == (
        "core-r1",
        "device_down",
        "Diskominfo",
        R1.summary,
    )
    assert t.opened_at == T0
    assert t.opened_at.tzinfo is not None

    again = store.open_fault(R1, at=T0 + timedelta(minutes=1))
    assert again.outcome is OpenOutcome.EXISTING
    assert again.ticket.id == t.id

    cleared = store.clear_fault(R1.key, at=T0 + timedelta(minutes=5))
    assert cleared is not None
    assert cleared.status is TicketState.RECOVERING
    assert cleared.cleared_at == T0 + timedelta(minutes=5)
    assert store.clear_fault(R1.key, at=T0 + timedelta(minutes=5, seconds=10)) == cleared

    assert store.resolve_due(now=T0 + timedelta(minutes=5, seconds=59)) == []
    resolved = store.resolve_due(now=T0 + timedelta(minutes=6))
    assert [v.number for v in resolved] == ["GJ/2026/0001"]
    assert resolved[0].status is TicketState.RESOLVED
    assert resolved[0].resolved_at == T0 + timedelta(minutes=6)
    assert store.resolve_due(now=T0 + timedelta(hours=1)) == []
    assert store.active() == []
    assert kinds(store, t.number) == [EventKind.OPENED, EventKind.CLEARED, EventKind.RESOLVED]


def test_clear_without_active_ticket_returns_none(store):
    assert store.clear_fault(R1.key, at=T0) is None


def test_recur_during_hold_down_keeps_the_ticket(store):
    first = store.open_fault(R1, at=T0).ticket
    store.clear_fault(R1.key, at=T0 + timedelta(minutes=1))
    back = store.open_fault(R1, at=T0 + timedelta(minutes=1, seconds=30))
    assert back.outcome is OpenOutcome.RECURRED
    assert back.ticket.id == first.id
    assert back.ticket.status is TicketState.OPEN
    assert back.ticket.cleared_at is None
    assert back.ticket.reopen_count == 0
    assert store.resolve_due(now=T0 + timedelta(hours=1)) == []
    assert kinds(store, first.number) == [EventKind.OPENED, EventKind.CLEARED, EventKind.RECURRED]


def _open_and_resolve(store, fault, at):
    ticket = store.open_fault(fault, at=at).ticket
    store.clear_fault(fault.key, at=at + timedelta(minutes=1))
    (resolved,) = store.resolve_due(now=at + timedelta(minutes=2))
    return ticket, resolved


def test_reopen_within_window_is_the_same_ticket(store):
    first, resolved = _open_and_resolve(store, R1, T0)
    result = store.open_fault(R1, at=resolved.resolved_at + WINDOW)
    assert result.outcome is OpenOutcome.REOPENED
    t = result.ticket
    assert (t.id, t.number, t.status) == (first.id, first.number, TicketState.OPEN)
    assert t.reopen_count == 1
    assert (t.cleared_at, t.resolved_at) == (None, None)
    assert kinds(store, t.number)[-1] is EventKind.REOPENED
    # and a second round counts up
    store.clear_fault(R1.key, at=resolved.resolved_at + WINDOW + timedelta(minutes=1))
    store.resolve_due(now=resolved.resolved_at + WINDOW + timedelta(minutes=3))
    again = store.open_fault(R1, at=resolved.resolved_at + WINDOW + timedelta(minutes=4))
    assert (again.outcome, again.ticket.reopen_count) == (OpenOutcome.REOPENED, 2)


def test_new_ticket_after_window(store):
    first, resolved = _open_and_resolve(store, R1, T0)
    result = store.open_fault(R1, at=resolved.resolved_at + WINDOW + timedelta(seconds=1))
    assert result.outcome is OpenOutcome.OPENED
    assert result.ticket.number == "GJ/2026/0002"
    assert store.get(first.number).status is TicketState.RESOLVED
    assert [t.number for t in store.active()] == ["GJ/2026/0002"]


def test_transition_table_is_enforced():
    ticket = Ticket(number="GJ/2026/0009", status=TicketState.RESOLVED)
    with pytest.raises(InvalidTransitionError) as info:
        transition(MagicMock(), ticket, TicketState.RECOVERING, (EventKind.CLEARED, ""), T0)
    assert (info.value.ticket, info.value.current, info.value.requested) == (
        "GJ/2026/0009",
        "resolved",
        "recovering",
    )


# -- database guarantees -------------------------------------------------------------------


def _raw_ticket(number, status, key=R1.key):
    return {
        "number": number,
        "fault_key": key,
        "device": "core-r1",
        "kind": "device_down",
        "status": status,
        "opened_at": T0,
        "version": 1,
    }


def test_database_rejects_second_active_ticket_for_a_key(store, raw):
    store.open_fault(R1, at=T0)
    table = Ticket.__table__
    with raw.begin() as conn:  # other keys and inactive duplicates are fine
        conn.execute(insert(table).values(_raw_ticket("X/1", "resolved")))
        conn.execute(insert(table).values(_raw_ticket("X/2", "open", key=None)))
        conn.execute(insert(table).values(_raw_ticket("X/3", "open", key=None)))
    for status in ("open", "recovering"):
        with pytest.raises(IntegrityError), raw.begin() as conn:
            conn.execute(insert(table).values(_raw_ticket(f"X/{status}", status)))


def test_database_rejects_duplicate_number(store, raw):
    store.open_fault(R1, at=T0)
    with pytest.raises(IntegrityError), raw.begin() as conn:
        conn.execute(insert(Ticket.__table__).values(_raw_ticket("GJ/2026/0001", "resolved")))


def test_events_are_append_only_in_the_database(store, raw):
    store.open_fault(R1, at=T0)
    table = TicketEvent.__table__
    with pytest.raises(DBAPIError), raw.begin() as conn:
        conn.execute(update(table).values(detail="diubah"))
    with pytest.raises(DBAPIError), raw.begin() as conn:
        conn.execute(delete(table))
    assert [e.detail for e in store.events("GJ/2026/0001")] == [f"Tiket dibuka: {R1.summary}"]


def test_version_column_counts_updates(store, raw):
    store.open_fault(R1, at=T0)
    store.clear_fault(R1.key, at=T0 + timedelta(minutes=1))
    with raw.connect() as conn:
        assert conn.execute(select(Ticket.__table__.c.version)).scalar_one() == 2


# -- numbering -----------------------------------------------------------------------------


def _fault(i):
    return Fault(f"sw-{i}", FaultKind.DEVICE_DOWN, f"sw-{i} mati")


def test_numbers_are_sequential_per_local_year(store):
    numbers = [store.open_fault(_fault(i), at=T0).ticket.number for i in range(3)]
    assert numbers == ["GJ/2026/0001", "GJ/2026/0002", "GJ/2026/0003"]
    # 2026-12-31 23:59 WITA is still 2026; 16:30Z is 00:30 on 1 January 2027 in WITA
    last_of_2026 = datetime(2026, 12, 31, 15, 59, tzinfo=UTC)
    first_of_2027 = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert store.open_fault(_fault(3), at=last_of_2026).ticket.number == "GJ/2026/0004"
    assert store.open_fault(_fault(4), at=first_of_2027).ticket.number == "GJ/2027/0001"
    assert store.open_fault(_fault(5), at=first_of_2027).ticket.number == "GJ/2027/0002"


def test_prefix_is_configurable_and_counted_apart(store, db_url):
    store.open_fault(R1, at=T0)
    other = TicketStore(db_url, number_prefix="PG")
    try:
        assert other.open_fault(R2, at=T0).ticket.number == "PG/2026/0001"
    finally:
        other.close()


# -- affected devices ----------------------------------------------------------------------


def test_attach_is_idempotent_and_detach_closes(store):
    t = store.open_fault(R1, at=T0).ticket
    assert store.attach(R1.key, "ap-1", at=T0 + timedelta(seconds=5)) is not None
    view = store.attach(R1.key, "ap-1", at=T0 + timedelta(seconds=9))
    assert view is not None
    assert [(a.device, a.attached_at, a.detached_at) for a in view.affected] == [
        ("ap-1", T0 + timedelta(seconds=5), None)
    ]
    assert store.attach(R1.key, "core-r1", at=T0).affected == view.affected  # root: no-op
    after = store.detach("ap-1", at=T0 + timedelta(minutes=1))
    assert after is not None
    assert after.number == t.number
    assert after.affected[0].detached_at == T0 + timedelta(minutes=1)
    assert store.detach("ap-1", at=T0 + timedelta(minutes=2)) is None
    assert kinds(store, t.number) == [EventKind.OPENED, EventKind.ATTACHED, EventKind.DETACHED]


def test_attach_without_active_ticket_returns_none(store):
    assert store.attach(R1.key, "ap-1", at=T0) is None
    assert store.detach("ap-1", at=T0) is None


def test_attach_moves_device_between_tickets(store):
    t1 = store.open_fault(R1, at=T0).ticket
    t2 = store.open_fault(R2, at=T0).ticket
    store.attach(R1.key, "ap-1", at=T0 + timedelta(seconds=1))
    store.attach(R1.key, "ap-2", at=T0 + timedelta(seconds=2))
    moved = store.attach(R2.key, "ap-1", at=T0 + timedelta(seconds=3))
    assert [(a.device, a.detached_at) for a in moved.affected] == [("ap-1", None)]
    old = store.get(t1.number)
    # currently attached first, then history
    assert [(a.device, a.detached_at) for a in old.affected] == [
        ("ap-2", None),
        ("ap-1", T0 + timedelta(seconds=3)),
    ]
    assert kinds(store, t1.number)[-1] is EventKind.DETACHED
    assert kinds(store, t2.number)[-1] is EventKind.ATTACHED
    # and back again: history keeps both stays on the first ticket
    back = store.attach(R1.key, "ap-1", at=T0 + timedelta(seconds=4))
    assert [(a.device, a.detached_at is None) for a in back.affected] == [
        ("ap-2", True),
        ("ap-1", True),
        ("ap-1", False),
    ]
    assert store.get(t2.number).affected[0].detached_at == T0 + timedelta(seconds=4)


def test_resolve_detaches_everything(store):
    t = store.open_fault(R1, at=T0).ticket
    store.attach(R1.key, "ap-1", at=T0)
    store.attach(R1.key, "ap-2", at=T0)
    store.clear_fault(R1.key, at=T0 + timedelta(minutes=1))
    (resolved,) = store.resolve_due(now=T0 + timedelta(minutes=3))
    assert {(a.device, a.detached_at) for a in resolved.affected} == {
        ("ap-1", T0 + timedelta(minutes=3)),
        ("ap-2", T0 + timedelta(minutes=3)),
    }
    # the devices are free again: another ticket may take them
    store.open_fault(R2, at=T0 + timedelta(minutes=4))
    assert store.attach(R2.key, "ap-1", at=T0 + timedelta(minutes=4)).affected[0].device == "ap-1"
    assert store.get(t.number).affected[0].detached_at is not None


# -- events, time, reads -------------------------------------------------------------------


def test_events_are_in_order_and_never_rewritten(store):
    t = store.open_fault(R1, at=T0).ticket
    store.attach(R1.key, "ap-1", at=T0 + timedelta(seconds=1))
    store.clear_fault(R1.key, at=T0 + timedelta(seconds=2))
    store.open_fault(R1, at=T0 + timedelta(seconds=3))
    before = store.events(t.number)
    store.clear_fault(R1.key, at=T0 + timedelta(seconds=4))
    store.resolve_due(now=T0 + timedelta(minutes=5))
    after = store.events(t.number)
    assert after[: len(before)] == before
    assert [e.kind for e in after] == [
        EventKind.OPENED,
        EventKind.ATTACHED,
        EventKind.CLEARED,
        EventKind.RECURRED,
        EventKind.CLEARED,
        EventKind.RESOLVED,
        EventKind.DETACHED,
    ]
    assert all(e.actor == "sistem" and e.at.tzinfo is not None for e in after)
    assert [e.at for e in after] == sorted(e.at for e in after)


def test_naive_datetimes_are_rejected(store):
    naive = datetime(2026, 5, 4, 10, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="naive"):
        store.open_fault(R1, at=naive)
    store.open_fault(R1, at=T0)
    for call in (
        lambda: store.clear_fault(R1.key, at=naive),
        lambda: store.resolve_due(now=naive),
        lambda: store.attach(R1.key, "ap-1", at=naive),
        lambda: store.detach("ap-1", at=naive),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()


def test_times_come_back_as_utc(store):
    wita = timezone(timedelta(hours=8))
    t = store.open_fault(R1, at=datetime(2026, 5, 4, 10, 0, tzinfo=wita)).ticket
    got = store.get(t.number).opened_at
    assert got == datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)


def test_get_unknown_number(store):
    with pytest.raises(TicketNotFoundError) as info:
        store.get("GJ/2026/9999")
    assert isinstance(info.value, LookupError)
    assert info.value.ref == "GJ/2026/9999"
    with pytest.raises(TicketNotFoundError):
        store.events("GJ/2026/9999")


def test_list_newest_first_with_filters(store):
    for i in range(4):
        store.open_fault(_fault(i), at=T0 + timedelta(minutes=i))
    store.clear_fault(_fault(0).key, at=T0 + timedelta(minutes=10))
    store.resolve_due(now=T0 + timedelta(minutes=20))
    numbers = [t.number for t in store.list()]
    assert numbers == [f"GJ/2026/000{i}" for i in (4, 3, 2, 1)]
    assert [t.number for t in store.list(limit=2)] == ["GJ/2026/0004", "GJ/2026/0003"]
    assert [t.number for t in store.list(status=[TicketState.RESOLVED])] == ["GJ/2026/0001"]
    assert [t.number for t in store.active()] == ["GJ/2026/0002", "GJ/2026/0003", "GJ/2026/0004"]


def test_migrate_is_idempotent(store, db_url):
    store.open_fault(R1, at=T0)
    migrate(store)
    second = TicketStore(db_url)
    try:
        migrate(second)
        assert [t.number for t in second.active()] == ["GJ/2026/0001"]
    finally:
        second.close()


@pytest.mark.postgres
@pytest.mark.integration
def test_open_race_lost_on_insert_returns_existing(pg_url, monkeypatch, caplog):
    """Another agent commits the same fault between our read and our insert (PostgreSQL)."""
    caplog.set_level(logging.INFO, logger="ticketing.store")
    store = TicketStore(pg_url)
    other = TicketStore(pg_url)
    migrate(store)
    real_next_number = TicketStore._next_number
    raced = []

    def next_number_after_rival(self, session, at):
        if self is store and not raced:
            raced.append(other.open_fault(R1, at=at))
        return real_next_number(self, session, at)

    monkeypatch.setattr(TicketStore, "_next_number", next_number_after_rival)
    try:
        result = store.open_fault(R1, at=T0)
        # the loser's counter increment was rolled back with its insert: no gap
        after = store.open_fault(R2, at=T0).ticket.number
    finally:
        store.close()
        other.close()
    assert raced[0].outcome is OpenOutcome.OPENED
    assert result.outcome is OpenOutcome.EXISTING
    assert result.ticket.number == raced[0].ticket.number == "GJ/2026/0001"
    assert "raced with another writer" in caplog.text
    assert after == "GJ/2026/0002"
