"""Availability: interval algebra (property tests), figures, and outages read from tickets.

The store tests run the real lifecycle (open, clear, recur, resolve, reopen, attach, detach)
on SQLite and PostgreSQL with hand-computed minutes: an outage of N minutes appears as N.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.notify.monthly import summary_text
from ticketing.availability import (
    OutageRecords,
    Scope,
    availability,
    clip,
    figures,
    intersect,
    subtract,
    total,
    union,
)
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.reports.documents import monthly_doc, write_monthly
from ticketing.reports.outages import read_outages, walk
from ticketing.reports.query import month_report
from ticketing.reports.render import render
from ticketing.rollups import Rollups, Sample
from ticketing.rollups import write as write_rollups
from ticketing.sop import SopRegistry
from ticketing.states import EventKind
from ticketing.store import TicketStore

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 1, tzinfo=UTC)
MIN = timedelta(minutes=1)


def at(minute: float) -> datetime:
    return T0 + minute * MIN


spans_st = st.lists(
    st.tuples(st.integers(0, 200), st.integers(0, 200)).map(lambda p: (at(p[0]), at(p[1]))),
    max_size=12,
)


def inside(spans, point: datetime) -> bool:
    return any(s <= point < e for s, e in spans)


POINTS = [at(m / 2) for m in range(-2, 404)]  # every half minute: endpoints are whole minutes


def well_formed(spans) -> bool:
    ordered = all(s < e for s, e in spans)
    disjoint = all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    return ordered and disjoint


# -- algebra ------------------------------------------------------------------------------------


@given(spans_st)
def test_union_is_disjoint_sorted_and_covers_the_same_instants(spans):
    merged = union(spans)
    assert well_formed(merged)
    assert all(inside(merged, p) == inside(spans, p) for p in POINTS)
    assert union(merged) == merged


@given(spans_st, st.integers(0, 200), st.integers(0, 200))
def test_clip_keeps_exactly_the_instants_inside_the_period(spans, a, b):
    start, end = at(a), at(b)
    cut = clip(spans, start, end)
    assert well_formed(cut)
    assert all(inside(cut, p) == (inside(spans, p) and start <= p < end) for p in POINTS)
    assert total(cut) <= max(end - start, timedelta())


@given(spans_st, spans_st)
def test_subtract_and_intersect_split_the_union(a, b):
    rest, common = subtract(a, b), intersect(a, b)
    assert well_formed(rest)
    assert well_formed(common)
    assert all(inside(rest, p) == (inside(a, p) and not inside(b, p)) for p in POINTS)
    assert all(inside(common, p) == (inside(a, p) and inside(b, p)) for p in POINTS)
    assert total(rest) + total(common) == total(a)


@given(spans_st, spans_st, st.integers(0, 200), st.integers(0, 200))
def test_figures_stay_within_bounds(down, windows, a, b):
    start, end = at(a), at(b)
    f = figures("x", subtract(down, windows), union(windows), start, end)
    assert timedelta() <= f.downtime <= max(f.judged, timedelta())
    assert f.outages == len(clip(subtract(down, windows), start, end))
    assert f.longest <= f.downtime
    if f.percent is not None:
        assert 0.0 <= f.percent <= 100.0


def test_reversed_and_empty_spans_count_nothing():
    assert union([(at(5), at(5)), (at(9), at(3))]) == ()
    assert total([(at(5), at(1))]) == timedelta()


def test_touching_outages_merge_into_one():
    assert union([(at(0), at(10)), (at(10), at(20))]) == ((at(0), at(20)),)


# -- report from records --------------------------------------------------------------------------


def report(records, scope, start=0, end=1440, as_of=10_000):
    return availability(records, scope, start=at(start), end=at(end), as_of=at(as_of))


SCOPE = Scope(
    devices={"rtr-a": "Dinas A", "sw-a": "Dinas A", "rtr-b": "Dinas B", "core": "Diskominfo"},
    uplinks={"Dinas A": ("rtr-a",), "Dinas B": ("rtr-b",), "Diskominfo": ("core",)},
)


def by_name(figs):
    return {f.name: f for f in figs}


def test_parent_outage_counts_for_the_victim_but_not_for_its_isp_link():
    records = OutageRecords(
        own={"rtr-a": ((at(100), at(110)),), "core": ((at(200), at(260)),)},
        attached={"rtr-a": ((at(201), at(262)),), "sw-a": ((at(105), at(112)),)},
    )
    r = report(records, SCOPE)
    devices, opds, links = by_name(r.devices), by_name(r.opds), by_name(r.links)
    assert devices["rtr-a"].downtime == 71 * MIN  # 10 own + 61 behind the core
    assert devices["rtr-a"].outages == 2
    assert devices["sw-a"].downtime == 7 * MIN
    assert opds["Dinas A"].downtime == 73 * MIN  # 100-112 and 201-262, union
    assert opds["Dinas A"].longest == 61 * MIN
    assert links["rtr-a"].downtime == 10 * MIN  # own fault only: the ISP's share
    assert links["rtr-a"].opd == "Dinas A"
    assert opds["Dinas B"].percent == 100.0
    assert opds["Dinas B"].mtbf is None
    assert r.opds[0].name == "Dinas B"  # best first
    assert r.below_target()[0].name == "Dinas A"  # worst first


def test_maintenance_is_taken_out_of_downtime_and_of_the_judged_time():
    records = OutageRecords(own={"rtr-b": ((at(100), at(160)),)})
    scope = Scope(SCOPE.devices, SCOPE.uplinks, maintenance={"rtr-b": ((at(90), at(130)),)})
    f = by_name(report(records, scope).devices)["rtr-b"]
    assert f.downtime == 30 * MIN
    assert f.judged == (1440 - 40) * MIN
    assert f.mtbf == (1440 - 40 - 30) * MIN
    assert f.percent == pytest.approx(100 * (1 - 30 / 1400))


def test_opd_judged_time_excludes_only_maintenance_of_every_device():
    scope = Scope(
        SCOPE.devices, SCOPE.uplinks,
        maintenance={"rtr-a": ((at(0), at(60)),), "sw-a": ((at(30), at(90)),)},
    )  # fmt: skip
    assert by_name(report(OutageRecords(), scope).opds)["Dinas A"].judged == (1440 - 30) * MIN


def test_period_clips_and_stops_at_as_of():
    records = OutageRecords(own={"rtr-b": ((at(-50), at(20)), (at(1400), at(1500)))})
    r = report(records, SCOPE, as_of=1420)
    f = by_name(r.devices)["rtr-b"]
    assert r.end == at(1420)
    assert f.downtime == 40 * MIN  # 0-20 and 1400-1420
    assert f.judged == 1420 * MIN


def test_a_period_that_has_not_started_judges_nothing():
    r = report(OutageRecords(), SCOPE, start=100, end=200, as_of=50)
    assert all(f.percent is None for f in r.opds)


def test_devices_outside_the_scope_are_ignored():
    records = OutageRecords(own={"gone": ((at(0), at(100)),)})
    assert "gone" not in by_name(report(records, SCOPE).devices)


# -- walk of ticket events ----------------------------------------------------------------------


def test_walk_pairs_starts_with_ends_per_ticket_and_leaves_the_last_open():
    o, c, rc, rs, ro = (EventKind.OPENED, EventKind.CLEARED, EventKind.RECURRED,
                        EventKind.RESOLVED, EventKind.REOPENED)  # fmt: skip
    rows = [
        (1, "a", at(0), o), (1, "a", at(10), c), (1, "a", at(12), rc), (1, "a", at(20), c),
        (1, "a", at(50), rs), (1, "a", at(60), ro), (1, "a", at(65), rs),
        (2, "b", at(5), c),  # an end without a start: nothing
        (3, "b", at(30), o), (3, "b", at(31), o),  # a second start while down: still one span
    ]  # fmt: skip
    assert walk(rows, at(100)) == {
        "a": [(at(0), at(10)), (at(12), at(20)), (at(60), at(65))],
        "b": [(at(30), at(100))],
    }


# -- from the ticket database ---------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
def store(request, tmp_path):
    if request.param == "sqlite":
        url = TicketStore.sqlite_url(tmp_path / "a.db")
    else:
        url = request.getfixturevalue("pg_url")
    s = TicketStore(url, hold_down=timedelta(minutes=5), reopen_window=timedelta(minutes=30))
    migrate(s)
    yield s
    s.close()


def down(device: str, opd: str = "Dinas A") -> Fault:
    return Fault(device, FaultKind.DEVICE_DOWN, f"{device} mati", opd=opd)


def test_an_outage_of_n_minutes_appears_as_n_minutes(store):
    key = down("rtr-a").key
    store.open_fault(down("rtr-a"), at=at(100))
    store.clear_fault(key, at=at(117))
    store.resolve_due(now=at(130))  # resolution (hold-down) is not downtime
    records = read_outages(store, start=at(0), end=at(1440), as_of=at(2000))
    f = by_name(report(records, SCOPE).devices)["rtr-a"]
    assert (f.downtime, f.outages, f.longest) == (17 * MIN, 1, 17 * MIN)


def test_recur_reopen_and_attached_victims_from_the_store(store):
    core, rtr = down("core", "Diskominfo"), down("rtr-a")
    store.open_fault(core, at=at(10))
    store.attach(core.key, "rtr-a", at=at(11))
    store.attach(core.key, "sw-a", at=at(11))
    store.clear_fault(core.key, at=at(40))
    store.detach("rtr-a", at=at(41))
    store.open_fault(core, at=at(42))  # recurred during the hold-down
    store.clear_fault(core.key, at=at(50))
    store.resolve_due(now=at(60))  # sw-a still attached: detached at resolution
    store.open_fault(core, at=at(70))  # reopened within the window
    store.open_fault(rtr, at=at(80))  # rtr-a's own fault, after the core came back
    store.clear_fault(core.key, at=at(75))
    records = read_outages(store, start=at(0), end=at(1440), as_of=at(100))
    r = report(records, SCOPE, as_of=100)
    devices, links = by_name(r.devices), by_name(r.links)
    assert devices["core"].downtime == (30 + 8 + 5) * MIN
    assert devices["core"].outages == 3
    assert devices["sw-a"].downtime == 49 * MIN  # 11 -> 60
    assert devices["rtr-a"].downtime == (30 + 20) * MIN  # 11-41 behind core, 80-100 own
    assert links["rtr-a"].downtime == 20 * MIN
    assert by_name(r.opds)["Dinas A"].downtime == (49 + 20) * MIN


def test_outages_outside_the_period_are_not_read(store):
    store.open_fault(down("rtr-b", "Dinas B"), at=at(-100))
    store.clear_fault(down("rtr-b").key, at=at(-90))
    store.resolve_due(now=at(-80))
    records = read_outages(store, start=at(0), end=at(1440), as_of=at(2000))
    assert records.own == {}
    assert records.attached == {}


# -- in the monthly recap -------------------------------------------------------------------------


def test_monthly_recap_carries_availability_with_its_target_line_and_files(store, tmp_path):
    wita = ZoneInfo("Asia/Makassar")
    rtr = down("rtr-a")
    store.open_fault(rtr, at=datetime(2026, 11, 3, 9, tzinfo=wita))
    store.clear_fault(rtr.key, at=datetime(2026, 11, 3, 13, 36, tzinfo=wita))  # 276 min: 99.36%
    scope = Scope(SCOPE.devices, SCOPE.uplinks, target=99.5,
                  uplink_ports={("rtr-a", "ether1"): ("Dinas A", 20e6)})  # fmt: skip
    as_of = datetime(2026, 12, 2, tzinfo=wita)
    start = datetime(2026, 11, 4, 8, tzinfo=wita)
    step = timedelta(seconds=30)
    traffic = [Sample("rtr-a", "ether1", start + i * step, start + (i + 1) * step, 15e6, 4e6)
               for i in range(120)]  # fmt: skip
    roll = Rollups()
    write_rollups(store, roll.add(traffic) + roll.close_due(as_of))
    report = month_report(store, SopRegistry.from_dir(), [], year=2026, month=11, tz=wita,
                          as_of=as_of, scope=scope)  # fmt: skip
    assert report.availability is not None
    found = by_name(report.availability.opds)
    assert found["Dinas A"].downtime == 276 * MIN
    assert [f.name for f in report.availability.below_target()] == ["Dinas A"]
    text = render(monthly_doc(report, tz=wita), "md")
    assert "## Ketersediaan per OPD" in text
    assert text.index("--- target 99.5% ---") < text.index("| Dinas A |")  # under the line
    assert "| Dinas A | rtr-a | 99.36% | 276.0 | 1 | 4 jam 36 menit |" in text
    assert "| OPD di bawah target ketersediaan 99.5% | 1 dari 3 |" in text
    assert "Ketersediaan: 1 dari 3 OPD di bawah 99.5%: Dinas A 99.36%" in summary_text(report)
    assert "## Uplink tersibuk" in text
    assert "| Dinas A | rtr-a | ether1 | 15.00 | 4.00 | 20.00 | 75% |" in text
    paths = {p.name for p in write_monthly(report, tmp_path, fmt="md", tz=wita)}
    assert {"laporan-bulanan-2026-11-ketersediaan.svg",
            "laporan-bulanan-2026-11-ketersediaan-link.csv"} <= paths  # fmt: skip
    plain = month_report(store, SopRegistry.from_dir(), [], year=2026, month=11, tz=wita,
                         as_of=as_of)  # fmt: skip
    assert plain.availability is None
    assert "Ketersediaan" not in render(monthly_doc(plain, tz=wita), "md")
    assert plain.busiest == ()


def test_monthly_recap_before_the_rollup_migration_has_no_traffic_but_comes_out(store):
    from sqlalchemy import text

    with store.transaction() as session:  # as a database the upgraded daemon has not migrated
        session.execute(text("DROP TABLE traffic_rollups"))
    scope = Scope(SCOPE.devices, SCOPE.uplinks, uplink_ports={("rtr-a", "ether1"): ("A", None)})
    report = month_report(store, SopRegistry.from_dir(), [], year=2026, month=11, tz=UTC,
                          as_of=datetime(2026, 12, 2, tzinfo=UTC), scope=scope)  # fmt: skip
    assert report.availability is not None
    assert report.busiest == ()
