"""The leader's view of zone pollers (issue 23): liveness, one poller_down ticket, the feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.detect.ping import (
    Attached,
    Detector,
    DeviceState,
    Event,
    FaultCleared,
    FaultOpened,
)
from agent.zones.codec import encode
from agent.zones.ingest import ZoneIngest
from agent.zones.liveness import Liveness
from agent.zones.poller import owned_devices, zone_inventory
from collectors.model import Observation, ProbeStatus
from ticketing.faults import FaultKind
from ticketing.zones import Batch, Beat

if TYPE_CHECKING:
    from pathlib import Path

    from agent.config.model import Inventory

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 WITA
LEASE = 15.0
INVENTORY = """\
office: {name: Uji}
defaults: {platform: mikrotik_routeros, role: router, opd: Dinas Uji}
hosts:
  core: {address: 10.7.0.1}
  k1: {address: 10.7.1.1, parent: core, zone: kec}
  k2: {address: 10.7.1.2, parent: k1, zone: kec}
  j1: {address: 10.7.2.1, parent: core, zone: jon}
"""


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    return load_inventory(path, env={})


def _liveness(inventory: Inventory) -> Liveness:
    return Liveness(inventory, LEASE, started=0.0, started_at=T0, sha="aa")


def _beat(node: str, zones: tuple[str, ...], seen: datetime, sha: str = "aa") -> Beat:
    return Beat(node, zones, T0, seen, sha, 0, 0)


def _kinds(events: list[Event]) -> list[tuple[str, str]]:
    out = []
    for e in events:
        if isinstance(e, FaultOpened):
            out.append(("opened", e.fault.key))
        elif isinstance(e, FaultCleared):
            out.append(("cleared", e.key))
    return out


def test_nothing_is_declared_during_the_start_up_grace(inventory: Inventory) -> None:
    live = _liveness(inventory)
    assert live.update([], 29.0, T0) == []
    assert live.unmonitored == frozenset()


def test_zones_that_never_had_a_poller_share_one_ticket_after_the_grace(
    inventory: Inventory,
) -> None:
    live = _liveness(inventory)
    events = live.update([], 31.0, T0 + timedelta(seconds=31))
    assert _kinds(events) == [("opened", "poller:-/poller_down")]
    opened = events[0]
    assert isinstance(opened, FaultOpened)
    assert opened.fault.kind is FaultKind.POLLER_DOWN
    assert "jon, kec" in opened.fault.summary
    assert "10:00 WITA" in opened.fault.summary
    assert "3 perangkat tak terpantau" in opened.fault.summary
    assert live.unmonitored == {"k1", "k2", "j1"}
    assert live.update([], 40.0, T0 + timedelta(seconds=40)) == []  # once, not again


def test_a_silent_poller_gets_one_ticket_and_recovers_when_it_beats_again(
    inventory: Inventory,
) -> None:
    live = _liveness(inventory)
    beats = lambda seen: [  # noqa: E731
        _beat("kec-1", ("kec",), seen),
        _beat("jon-1", ("jon",), T0 + timedelta(seconds=1000 + seen.second)),
    ]
    mono, at = 0.0, T0
    events: list[Event] = []
    for _ in range(12):  # both beat every 5 s: nothing happens
        mono, at = mono + 5, at + timedelta(seconds=5)
        events += live.update(beats(at), mono, at)
    assert events == []
    frozen = at
    for _ in range(8):  # kec-1 stops beating (its row stays), jon-1 goes on
        mono, at = mono + 5, at + timedelta(seconds=5)
        events += live.update(
            [_beat("kec-1", ("kec",), frozen), _beat("jon-1", ("jon",), at)], mono, at
        )
    assert _kinds(events) == [("opened", "poller:kec-1/poller_down")]
    assert live.unmonitored == {"k1", "k2"}
    assert live.view().monitored == {"core": True, "k1": False, "k2": False, "j1": True}
    mono, at = mono + 5, at + timedelta(seconds=5)
    back = live.update([_beat("kec-1", ("kec",), at), _beat("jon-1", ("jon",), at)], mono, at)
    assert _kinds(back) == [("cleared", "poller:kec-1/poller_down")]
    assert live.unmonitored == frozenset()


def test_a_poller_clock_far_off_still_counts_as_live_while_its_row_moves(
    inventory: Inventory,
) -> None:
    live = _liveness(inventory)
    skew = timedelta(hours=-3)
    events: list[Event] = []
    for i in range(1, 20):
        at = T0 + timedelta(seconds=5 * i)
        beats = [_beat("kec-1", ("kec", "jon"), at + skew)]
        events += live.update(beats, 5.0 * i, at)
    # first seen 3 h old, but its row moves on every beat: live, no ticket
    assert events == []
    assert live.live("kec-1")


def test_a_restored_open_ticket_is_not_reopened_and_clears_when_the_poller_is_back(
    inventory: Inventory,
) -> None:
    live = _liveness(inventory)
    live.restore(["poller:kec-1"])
    assert live.update([], 10.0, T0) == []  # grace: the restored ticket is left alone
    beats = [_beat("kec-1", ("kec", "jon"), T0 + timedelta(seconds=31))]
    events = live.update(beats, 31.0, T0 + timedelta(seconds=31))
    assert _kinds(events) == [("cleared", "poller:kec-1/poller_down")]


def test_a_silent_poller_with_a_restored_ticket_opens_nothing_new(inventory: Inventory) -> None:
    live = _liveness(inventory)
    live.restore(["poller:kec-1"])
    old = [_beat("kec-1", ("kec", "jon"), T0 - timedelta(minutes=5))]
    assert live.update(old, 31.0, T0) == []
    assert live.unmonitored == {"k1", "k2", "j1"}


def test_status_shows_an_inventory_mismatch(inventory: Inventory) -> None:
    live = _liveness(inventory)
    live.update([_beat("kec-1", ("kec", "jon"), T0, sha="bb")], 1.0, T0)
    (poller,) = live.status()["pollers"]  # type: ignore[misc]
    assert poller["inventory_matches"] is False


# ---- the feed: remote results take the local path, parents across zones stay right


class _Runtime:
    now = staticmethod(lambda: T0)


def _ingest(inventory: Inventory, detector: Detector, events: list[Event]) -> ZoneIngest:
    def feed(obs: Observation) -> None:
        events.extend(detector.observe(obs))

    return ZoneIngest(
        inventory,
        _Runtime(),
        feed,
        _liveness(inventory),
        cluster="sigap",
        lease=LEASE,  # type: ignore[arg-type]
    )


def _obs(device: str, seconds: float, *, ok: bool) -> Observation:
    status = ProbeStatus.OK if ok else ProbeStatus.TIMEOUT
    return Observation(device, "ping", status, T0 + timedelta(seconds=seconds))


def test_a_zone_device_behind_a_central_parent_attaches_to_its_ticket(
    inventory: Inventory,
) -> None:
    detector = Detector(inventory)
    events: list[Event] = []
    ingest = _ingest(inventory, detector, events)
    for t in (0, 1):
        events += detector.observe(_obs("core", t, ok=True))
        ingest._feed(Batch(1, "kec-1", T0, [encode(_obs("k1", t, ok=True))]))
    for t in (10, 11, 12):  # the core (polled here) dies; k1 (polled in kec) too
        ingest._feed(Batch(2, "kec-1", T0, [encode(_obs("k1", t, ok=False))]))
        events += detector.observe(_obs("core", t, ok=False))
    opened = [e.fault.key for e in events if isinstance(e, FaultOpened)]
    assert opened == ["core/device_down"]
    assert [e.device for e in events if isinstance(e, Attached)] == ["k1"]
    assert detector.state("k1") is DeviceState.UNREACHABLE
    assert ingest.fed == 5


def test_hostile_or_central_results_are_refused(inventory: Inventory) -> None:
    detector = Detector(inventory)
    events: list[Event] = []
    ingest = _ingest(inventory, detector, events)
    payload = [
        encode(_obs("core", 1, ok=False)),  # a central device: only the centre polls it
        encode(_obs("ghost", 1, ok=False)),  # not in the inventory
        ["k1", "x", "ok", None, None, ""],
        "garbage",
        None,
        encode(_obs("k2", 1, ok=True)),
    ]
    ingest._feed(Batch(3, "kec-1\x1b[31m", T0, payload))
    ingest._feed(Batch(4, "kec-1", T0, {"not": "a list"}))
    assert (ingest.fed, ingest.refused) == (1, 6)
    assert detector.state("core") is DeviceState.UNKNOWN
    assert detector.state("k2") is DeviceState.UP


def test_the_poller_sees_only_its_devices_with_outside_parents_cut(inventory: Inventory) -> None:
    local = zone_inventory(inventory, owned_devices(inventory, ["kec"]))
    assert sorted(local.devices) == ["k1", "k2"]
    assert local.devices["k1"].parent is None
    assert local.devices["k2"].parent == "k1"
    assert local.children("k1") == ("k2",)
    assert list(local.ancestors("k2")) == [local.devices["k1"]]


def test_a_batch_written_twice_is_fed_once(inventory: Inventory) -> None:
    detector = Detector(inventory)
    events: list[Event] = []
    ingest = _ingest(inventory, detector, events)
    batch = [encode(_obs("k1", t, ok=False)) for t in (1, 2)]
    ingest._feed(Batch(5, "kec-1", T0, batch))
    ingest._feed(Batch(6, "kec-1", T0, batch))  # its first commit was lost: written again
    assert (ingest.fed, ingest.repeated) == (2, 2)


def test_status_lists_each_zone_monitored_or_not(inventory: Inventory) -> None:
    from agent.cli.status import zone_lines
    from agent.zones.liveness import zone_table

    now = T0 + timedelta(minutes=10)
    beats = [
        _beat("kec-1", ("kec",), now - timedelta(seconds=4)),
        _beat("jon-1", ("jon",), now - timedelta(minutes=5), sha="bb"),
    ]
    rows = zone_table(inventory, beats, now, LEASE, sha="aa")
    assert [(r["zone"], r["monitored"], r["devices"]) for r in rows] == [
        ("jon", False, 1),
        ("kec", True, 2),
    ]
    lines = zone_lines(rows)
    assert lines[0] == (
        "Zona jon: TAK TERPANTAU, 1 perangkat; poller: jon-1 (diam, 300 s lalu, INVENTORY BERBEDA)"
    )
    assert lines[1] == "Zona kec: terpantau, 2 perangkat; poller: kec-1 (hidup, 4 s lalu)"
    assert zone_lines(zone_table(inventory, [], now, LEASE)) == [
        "Zona jon: TAK TERPANTAU, 1 perangkat; poller: belum pernah ada poller",
        "Zona kec: TAK TERPANTAU, 2 perangkat; poller: belum pernah ada poller",
    ]
