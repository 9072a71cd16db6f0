"""The notification outbox on SQLite and PostgreSQL: rows in the ticket's own transaction,
storm folding, claim leases, per-address order, backoff, give-up, reminders, stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import DeliveryStatus, Notification, Ticket, TicketEvent
from ticketing.outbox.enqueue import install, uninstall
from ticketing.outbox.queue import Outbox
from ticketing.outbox.types import (
    ChannelCounts,
    EventFacts,
    MessageContext,
    Planned,
    Rendered,
    RetryPolicy,
)
from ticketing.states import EventKind
from ticketing.store import TicketStore

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=30)
LEASE = timedelta(minutes=2)
FAULT = Fault("rtr-dist", FaultKind.DEVICE_DOWN, "Router rtr-dist mati", opd="Diskominfo")


@dataclass
class FakeRouter:
    """Kasi (two addresses) hears opened/attached/resolved/reminder; Kabid hears escalations."""

    routes: dict[str, list[tuple[str, str, str]]] = field(
        default_factory=lambda: {
            "opened": [("Kasi", "json", "k-json"), ("Kasi", "mailto", "k-mail")],
            "attached": [("Kasi", "json", "k-json"), ("Kasi", "mailto", "k-mail")],
            "resolved": [("Kasi", "json", "k-json")],
            "reminder": [("Kasi", "json", "k-json")],
        }
    )
    seen: list[EventFacts] = field(default_factory=list)

    def plan(self, facts: EventFacts) -> list[Planned]:
        self.seen.append(facts)
        delay = WINDOW if facts.kind in {"opened", "attached"} else timedelta(0)
        return [
            Planned(name, channel, key, facts.at + delay)
            for name, channel, key in self.routes.get(facts.kind, [])
        ]


def render(ctx: MessageContext) -> Rendered:
    return Rendered(f"{ctx.kind} {ctx.number}", f"{len(ctx.affected)} terdampak; Ref: {ctx.ref}")


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
def store(request, tmp_path):
    url = (
        TicketStore.sqlite_url(tmp_path / "o.db")
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = TicketStore(url)
    migrate(s)
    yield s
    uninstall(s)
    s.close()


@pytest.fixture
def router(store):
    r = FakeRouter()
    install(store, r)
    return r


def rows(store) -> list[Notification]:
    with store.transaction(write=False) as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def claim(store, at, owner="w1", limit=20):
    return Outbox(store).claim(now=at, owner=owner, lease=LEASE, render=render, limit=limit)


DEFAULT_RETRY = RetryPolicy()


def mark(store, d, ok, at, *, error="", retry=DEFAULT_RETRY):
    return Outbox(store).mark(d.id, ok=ok, error=error, now=at, retry=retry)


def test_rows_are_written_with_the_ticket_change(store, router):
    result = store.open_fault(FAULT, at=T0)
    got = rows(store)
    assert [(r.recipient, r.channel, r.kind) for r in got] == [
        ("Kasi", "json", "opened"),
        ("Kasi", "mailto", "opened"),
    ]
    assert all(r.ticket_id == result.ticket.id and r.event_id for r in got)
    assert got[0].due_at == T0 + WINDOW
    assert router.seen[0].number == result.ticket.number


def test_rolled_back_change_leaves_no_row(store, router):
    store.open_fault(FAULT, at=T0)
    before = len(rows(store))

    class BoomError(Exception):
        pass

    with pytest.raises(BoomError), store.transaction() as session:  # noqa: PT012
        ticket = session.scalars(select(Ticket)).one()
        session.add(TicketEvent(ticket_id=ticket.id, at=T0, kind=EventKind.RESOLVED, detail="x"))
        session.flush()
        session.flush()  # the hook's rows are flushed too, inside the doomed transaction
        assert session.scalars(select(Notification).where(Notification.kind == "resolved")).all()
        raise BoomError
    assert len(rows(store)) == before


def test_not_installed_store_writes_nothing(tmp_path):
    s = TicketStore(TicketStore.sqlite_url(tmp_path / "plain.db"))
    migrate(s)
    s.open_fault(FAULT, at=T0)
    assert rows(s) == []
    s.close()


def test_storm_folds_into_one_message_per_address(store, router):
    store.open_fault(FAULT, at=T0)
    for i in range(100):
        store.attach(FAULT.key, f"sw-{i:03d}", at=T0 + timedelta(seconds=2))
    got = rows(store)
    assert [(r.kind, r.channel) for r in got] == [("opened", "json"), ("opened", "mailto")]
    claimed = claim(store, T0 + WINDOW)
    assert [d.title for d in claimed] == ["opened GJ/2026/0001"] * 2
    assert all(d.body.startswith("100 terdampak") for d in claimed)


def test_attached_after_the_message_went_out_is_a_new_grouped_message(store, router):
    store.open_fault(FAULT, at=T0)
    for d in claim(store, T0 + WINDOW):
        mark(store, d, True, T0 + WINDOW)
    for i in range(3):
        store.attach(FAULT.key, f"late-{i}", at=T0 + timedelta(minutes=1))
    pending = [r for r in rows(store) if r.status is DeliveryStatus.PENDING]
    assert [(r.kind, r.channel) for r in pending] == [("attached", "json"), ("attached", "mailto")]


def test_claim_leases_and_freezes_the_text(store, router):
    store.open_fault(FAULT, at=T0)
    assert claim(store, T0 + timedelta(seconds=5)) == []  # inside the group window
    first = claim(store, T0 + WINDOW)
    assert len(first) == 2
    assert {d.attempt for d in first} == {1}
    assert claim(store, T0 + WINDOW, owner="w2") == []  # leased
    store.attach(FAULT.key, "sw-late", at=T0 + WINDOW)  # the text is frozen already
    again = claim(store, T0 + WINDOW + LEASE, owner="w2")  # lease ran out: the crash case
    assert [(d.id, d.body, d.attempt) for d in again] == [(d.id, d.body, 2) for d in first]


def test_mark_sent_failed_backoff_and_give_up(store, router):
    store.open_fault(FAULT, at=T0)
    retry = RetryPolicy(
        initial=timedelta(seconds=10),
        maximum=timedelta(seconds=40),
        give_up_after=timedelta(hours=1),
    )
    json_row, mail_row = claim(store, T0 + WINDOW)
    assert mark(store, json_row, True, T0 + WINDOW) is DeliveryStatus.SENT
    at = T0 + WINDOW
    waits = []
    d = mail_row
    for _ in range(4):
        assert (
            mark(store, d, False, at, error="conn refused", retry=retry) is DeliveryStatus.PENDING
        )
        due = next(r.due_at for r in rows(store) if r.id == d.id)
        waits.append((due - at).total_seconds())
        assert claim(store, due - timedelta(seconds=1)) == []
        (d,) = claim(store, due)
        at = due
    assert waits == [10, 20, 40, 40]
    late = T0 + timedelta(hours=2)
    assert mark(store, d, False, late, error="still down", retry=retry) is DeliveryStatus.FAILED
    row = next(r for r in rows(store) if r.id == d.id)
    assert row.attempts == 5
    assert [r["ok"] for r in row.results] == [False] * 5
    assert row.last_error == "still down"
    box = Outbox(store)
    assert box.stats() == {
        "json": ChannelCounts(sent=1),
        "mailto": ChannelCounts(failed=1),
    }
    assert [q.status for q in box.queue()] == [DeliveryStatus.FAILED]
    assert box.requeue([d.id], now=late) == 1
    assert [x.id for x in claim(store, late)] == [d.id]


def test_a_failing_row_holds_back_later_rows_to_its_address(store, router):
    store.open_fault(FAULT, at=T0)
    first = {d.channel: d for d in claim(store, T0 + WINDOW)}
    mark(store, first["json"], False, T0 + WINDOW, error="down")  # retry in 30 s
    mark(store, first["mailto"], True, T0 + WINDOW)
    store.clear_fault(FAULT.key, at=T0 + WINDOW)
    store.resolve_due(now=T0 + WINDOW + timedelta(minutes=2))  # resolved -> Kasi json
    at = T0 + WINDOW + timedelta(minutes=2)
    # the resolved row is due, but the failed opened row (due earlier, retrying) goes first
    (d,) = claim(store, at)
    assert d.kind == "opened"
    mark(store, d, True, at)
    (d,) = claim(store, at)
    assert d.kind == "resolved"


def test_scheduled_rows_do_not_hold_back_urgent_ones(store, router):
    router.routes["escalated"] = []
    store.open_fault(FAULT, at=T0)  # opened rows wait for the window
    late = Planned("Kasi", "json", "k-json", T0 + timedelta(hours=8))
    now_ = Planned("Kasi", "json", "k-json", T0, urgent=True)
    ids = Outbox(store).enqueue_test([late], at=T0, tag="t-a")
    ids += Outbox(store).enqueue_test([now_], at=T0, tag="t-b")
    assert [d.id for d in claim(store, T0 + timedelta(seconds=1))] == [ids[1]]


def test_release_dead_owner(store, router):
    store.open_fault(FAULT, at=T0)
    claim(store, T0 + WINDOW, owner="dead")
    at = T0 + WINDOW + timedelta(seconds=1)
    assert Outbox(store).lease_owners(now=at) == ["dead"]
    assert Outbox(store).release(["dead"]) == 2
    assert len(claim(store, at, owner="new")) == 2


def test_reminders_once_per_interval(store, router):
    store.open_fault(FAULT, at=T0)
    for d in claim(store, T0 + WINDOW):
        mark(store, d, True, T0 + WINDOW)
    interval = timedelta(hours=4)

    def remind(at):
        return Outbox(store).enqueue_reminders(router, now=at, interval=interval)

    assert remind(T0 + timedelta(hours=3)) == 0
    assert remind(T0 + timedelta(hours=4, minutes=1)) == 1
    assert remind(T0 + timedelta(hours=4, minutes=2)) == 0  # same interval: the same key
    (d,) = claim(store, T0 + timedelta(hours=5))
    assert d.kind == "reminder"
    mark(store, d, True, T0 + timedelta(hours=5))
    assert remind(T0 + timedelta(hours=8, minutes=1)) == 1
    assert remind(T0 + timedelta(hours=9)) == 0  # one still waiting is not joined
    store.clear_fault(FAULT.key, at=T0 + timedelta(hours=9))
    assert remind(T0 + timedelta(hours=13)) == 0  # not open any more
