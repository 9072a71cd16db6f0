"""Re-polls of zone devices (issue 23): the leader forwards them, a poller takes only its own."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.detect.ping import Detector
from agent.runtime.parts import Runtime
from agent.runtime.scheduler import Scheduler
from agent.zones.ingest import ZoneIngest
from agent.zones.liveness import Liveness
from agent.zones.settings import PollerSettings
from collectors.model import Observation, ProbeStatus
from tests.unit.test_zones_liveness import INVENTORY
from tests.unit.test_zones_snmp import T0, Pinging

if TYPE_CHECKING:
    from pathlib import Path

    from agent.config.model import Inventory
    from ticketing.store import TicketStore

pytestmark = pytest.mark.unit


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    return load_inventory(path, env={})


def _central(inventory: Inventory) -> tuple[Scheduler, ZoneIngest]:
    detector = Detector(inventory)
    runtime = Runtime(None, asyncio.Semaphore(1), detector.states)  # type: ignore[arg-type]
    scheduler = Scheduler(
        inventory,
        runtime,
        Pinging(ProbeStatus.TIMEOUT),
        detector,
        polls=lambda d: d.zone == "pusat",
    )
    liveness = Liveness(inventory, 15.0, started=0.0, started_at=T0, sha="")
    ingest = ZoneIngest(inventory, runtime, scheduler.ingest_any, liveness, cluster="c", lease=15.0)
    scheduler.forward = ingest.forward
    return scheduler, ingest


def test_a_trap_for_a_zone_device_goes_to_its_pollers(inventory: Inventory) -> None:
    scheduler, ingest = _central(inventory)
    scheduler.repoll("k1")  # a trap or syslog line named it
    scheduler.repoll("core")  # polled here: woken here, not forwarded
    scheduler.repoll("ghost")
    ingest.forward("core")  # never forwarded: a central device is the centre's
    assert ingest._repolls == {"k1"}
    assert ingest._repoll_wake.is_set()


def test_the_leaders_detector_asks_the_pollers_to_confirm_a_zone_parent(
    inventory: Inventory,
) -> None:
    scheduler, ingest = _central(inventory)
    for seconds in (0, 1):
        at = T0.replace(second=seconds)
        scheduler.ingest_any(Observation("k2", "ping", ProbeStatus.OK, at))
    scheduler.ingest_any(Observation("k2", "ping", ProbeStatus.TIMEOUT, T0.replace(second=5)))
    assert ingest._repolls == {"k1"}  # k2 suspect: its parent is confirmed now, where polled


HOSTILE = ["", "k1 ", "K1", "k1\n", "\x1b[31mk1", "k1;DROP", "x" * 7999, "j1", "core", "k2\x00"]


def test_a_poller_polls_at_once_only_what_it_polls(
    inventory: Inventory, sqlite_store: TicketStore
) -> None:
    from agent.wiring import build_poller

    settings = PollerSettings(("kec",), "kec-1")
    poller = build_poller(inventory, sqlite_store, settings, prober=Pinging(), rng=random.Random(2))
    for payload in HOSTILE:
        poller.repoll(payload)
    assert poller.repolled == 0
    poller.repoll("k2")
    assert poller.repolled == 1
    assert poller.scheduler._wake["k2"].is_set()
    poller.hold(frozenset({"k1"}))  # the lease keeper handed k2 to the other poller
    poller.repoll("k2")
    assert poller.repolled == 1
