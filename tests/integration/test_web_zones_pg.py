"""Tak terpantau on a real ``sigap web`` over PostgreSQL (issue 23).

The board runs as its own process, as in production, apart from any daemon: it learns that a
zone's poller is silent only from the heartbeat rows in the database. A row far older than
2 x lease makes the zone's devices *tak terpantau* on the dashboard and the device page; a
fresh heartbeat makes the board normal again, without a restart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from agent.config.load import load_inventory
from tests.webboard import ZONED_INVENTORY, csrf_of, password_of, served_board, set_passwords
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.store import TicketStore
from ticketing.zones import Beat, beat

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.integration

CLUSTER = "webzona"
LEASE = "2m"  # a generous window (4 min): the fresh heartbeat stays fresh however slow the run
HANG = 60.0
ZONED = (
    ZONED_INVENTORY
    + f"daemon: {{metrics_listen: '', ha: {{node: noc-1, cluster: {CLUSTER}, lease: {LEASE}}}}}\n"
)


def heartbeat(store: TicketStore, node: str, zone: str, seen: datetime, cluster: str = CLUSTER):
    beat(store, cluster, Beat(node, (zone,), seen - timedelta(hours=1), seen, "", 0, 0))


def banners(page: str) -> list[str]:
    return [part.split("</section>", 1)[0] for part in page.split('class="card unmonitored"')[1:]]


def down_card(page: str) -> str:
    return page.split("<h2>Perangkat mati per OPD</h2>", 1)[1].split("</div>", 1)[0]


def test_a_silent_poller_makes_its_zone_tak_terpantau_until_it_beats_again(
    pg_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(ZONED, encoding="utf-8")
    inventory = load_inventory(path)
    set_passwords(pg_url)
    now = datetime.now(UTC)
    silent_since = now - timedelta(hours=1)
    with TicketStore(pg_url) as store:
        migrate(store)
        fault = Fault("rsud-r1", FaultKind.DEVICE_DOWN, "Router rsud-r1 mati", opd="RSUD Praya")
        number = store.open_fault(fault, at=silent_since - timedelta(minutes=1)).ticket.number
        heartbeat(store, "pol-praya", "kec-praya", silent_since)
        heartbeat(store, "pol-jonggat", "kec-jonggat", now)
        heartbeat(store, "pol-lain", "kec-praya", now, cluster="lain")  # not our cluster
    with (
        served_board(path, pg_url, tmp_path) as base,
        httpx.Client(base_url=base, timeout=HANG) as client,
    ):
        token = csrf_of(client.get("/masuk").text)
        data = {"nama": "Baiq Kasi", "sandi": password_of("Baiq Kasi"), "csrf": token}
        assert client.post("/masuk", data=data).status_code == 303

        page = client.get("/").text
        [banner] = banners(page)
        since = silent_since.astimezone(inventory.tz).strftime("%d/%m/%Y %H:%M")
        assert "Zona kec-praya: 2 perangkat" in banner
        assert f"Poller <b>pol-praya</b> tidak melapor sejak {since} WITA" in banner
        assert "rsud-r1</a> (mati sejak" in banner
        assert number in banner
        assert "rsud-r1" not in down_card(page)
        device = client.get("/perangkat/rsud-r1").text
        assert '<span class="st-unmonitored">tak terpantau</span> (poller zona diam)' in device

        with TicketStore(pg_url) as store:
            heartbeat(store, "pol-praya", "kec-praya", datetime.now(UTC))
        page = client.get("/").text
        assert banners(page) == []
        assert "tak terpantau" not in page
        assert "rsud-r1" in down_card(page)
        device = client.get("/perangkat/rsud-r1").text
        assert "tak terpantau" not in device
        assert '<span class="st-open">bermasalah</span>' in device


def test_the_exported_map_shows_a_silent_zone_tak_terpantau(pg_url: str, tmp_path: Path) -> None:
    """``sigap peta --html`` reads the heartbeats as the board does (its own process)."""
    import json
    import subprocess
    import sys

    path = tmp_path / "inventory.yaml"
    path.write_text(ZONED, encoding="utf-8")
    now = datetime.now(UTC)
    with TicketStore(pg_url) as store:
        migrate(store)
        heartbeat(store, "pol-praya", "kec-praya", now - timedelta(hours=1))
        heartbeat(store, "pol-jonggat", "kec-jonggat", now)
    out = tmp_path / "peta.html"
    argv = [sys.executable, "-m", "agent", "peta", "--html", str(out)]
    done = subprocess.run(
        [*argv, "--inventory", str(path), "--db", pg_url],
        capture_output=True, text=True, timeout=HANG, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "unmonitored 2" in done.stdout
    page = out.read_text()
    embedded = page.split('id="sigap-map-data">', 1)[1].split("</script>", 1)[0]
    data = json.loads(embedded)
    states = {n["id"]: n["state"] for n in data["nodes"]}
    assert {n for n, s in states.items() if s == "unmonitored"} == {"rsud-r1", "rsud-sw1"}
