"""A kecamatan zone poller cut off from the centre, in the lab (issue 23).

The NOC namespace runs the central daemon (leader of its cluster; it polls ``core``, zone
``pusat``). The kecamatan router's namespace (``kr``: it reaches the zone's devices below it)
runs ``sigap run --zona kec``. Both use the machine's PostgreSQL over a unix socket, the
poller through a forwarder this test holds (:class:`SocketCut`): the "cut" closes every
connection of the poller and refuses new ones, so the poller loses the database while it goes
on polling (an nftables rule cannot cut a unix socket; the poller's own network is left alone).
During the cut ``k2`` dies. Expected: exactly one ``poller_down`` ticket and no device ticket
for the zone while it is cut; after the restore the ticket recovers and the buffered results
arrive with their original times: ``k2``'s ticket opens at a moment inside the cut.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_lab_capabilities, wait_for
from tests.labagent import Agent
from tests.zonelab import ZonePoller, noc_get
from ticketing.states import TicketState
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ticketing.views import TicketView

pytestmark = pytest.mark.integration

HANG = 120.0
PORT = 19481
PG_SOCKET = "/var/run/postgresql/.s.PGSQL.5432"
INVENTORY = """\
office: {{name: Diskominfo Uji Zona}}
lab: {{prefixes: [10.79.0.0/16], noc_address: 10.79.255.254}}
daemon:
  metrics_listen: "127.0.0.1:{port}"
  ha: {{node: noc-a, cluster: {cluster}, lease: 6s}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  ping: {{interval: 1s, count: 1, timeout: 500ms}}
hosts:
  core: {{address: 10.79.0.1}}
  kr: {{address: 10.79.1.1, parent: core, zone: kec}}
  k1: {{address: 10.79.1.2, parent: kr, zone: kec, role: switch}}
  k2: {{address: 10.79.1.3, parent: kr, zone: kec, role: switch}}
"""


class SocketCut:
    """A unix-socket forwarder to PostgreSQL that can drop the poller's every connection."""

    def __init__(self, folder: Path, target: str = PG_SOCKET) -> None:
        self.folder, self.target = folder, target
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(folder / ".s.PGSQL.5432"))
        self.server.listen(64)
        self.cut_off = threading.Event()
        self.lock = threading.Lock()
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.cut_off.is_set():
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.target)
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := a.recv(65536):
                b.sendall(data)
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.cut_off.set()
        with self.lock:
            sockets, self.open = self.open, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self.cut_off.clear()

    def close(self) -> None:
        self.server.close()
        self.cut()


def _metrics(lab: Lab) -> str:
    return noc_get(lab, PORT, "/metrics")


def _zones(lab: Lab) -> dict[str, object] | None:
    try:
        return dict(json.loads(noc_get(lab, PORT, "/healthz")).get("zones") or {})
    except ValueError:
        return None


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    folder = tmp_path_factory.mktemp("zones")
    lab = Lab(f"z{os.getpid() % 100000}")
    (folder / "lab.yaml").write_text(INVENTORY.format(port=1, cluster="lab"))
    try:
        labctl.up(load_inventory(folder / "lab.yaml"), lab)
        yield lab, folder
    finally:
        lab.down()


def _all_up(lab: Lab) -> bool | None:
    text = _metrics(lab)
    up = [
        f'sigap_device_up{{device="{d}",opd="Dinas Uji"}} 1.0' in text for d in ("kr", "k1", "k2")
    ]
    return all(up) or None


def test_a_cut_poller_gives_one_ticket_and_replays_what_it_saw(
    lab_folder: tuple[Lab, Path], pg_url: str
) -> None:
    lab, folder = lab_folder
    inventory = folder / "zones.yaml"
    inventory.write_text(INVENTORY.format(port=PORT, cluster=f"uji-{uuid.uuid4().hex[:8]}"))
    (folder / "pg").mkdir()
    link = SocketCut(folder / "pg")
    url = make_url(pg_url).update_query_dict({"host": str(folder / "pg")})
    centre = Agent(lab, inventory, pg_url, folder)
    poller = None
    try:
        # the poller first: it heartbeats as soon as the centre created the tables, well
        # inside the centre's start-up grace (a zone without a poller gets a "-" ticket)
        poller = ZonePoller(
            lab, inventory, url.render_as_string(hide_password=False), folder / "poller.log"
        )
        centre.start()
        wait_for(
            "the centre to see kec's devices up through the poller", lambda: _all_up(lab), HANG
        )
        with TicketStore(pg_url) as store:
            link.cut()
            cut_at = datetime.now(UTC)
            lab.fail("k2")
            _while_cut(lab, store, poller.log)
            restored_at = datetime.now(UTC)
            link.restore()
            _after_restore(store, cut_at, restored_at)
        assert "database reachable" in poller.log.read_text()
    finally:
        if poller is not None:
            poller.stop()
        centre.close()
        link.close()
        lab.restore("k2")
        for log in (folder / "poller.log", centre.log):
            if log.exists():
                print(f"--- {log.name}\n{log.read_text()[-3000:]}")


def _while_cut(lab: Lab, store: TicketStore, poller_log: Path) -> None:
    """One poller_down ticket, the zone tak terpantau, no device ticket; the poller buffers."""

    def poller_ticket() -> list[TicketView] | None:
        tickets = store.list(limit=50)
        return tickets if any(t.kind == "poller_down" for t in tickets) else None

    tickets = wait_for("one poller_down ticket", poller_ticket, HANG)
    assert [(t.device, t.kind) for t in tickets] == [("poller:kec-1", "poller_down")]
    zones = _zones(lab)
    assert zones is not None
    assert zones["unmonitored_devices"] == 3
    assert 'sigap_device_monitored{device="k2"} 0.0' in _metrics(lab)
    # the poller goes on polling: k2's failures wait in its buffer
    wait_for("the poller to buffer k2's failures", lambda: _buffering(poller_log), HANG)
    assert [t.kind for t in store.list(limit=50)] == ["poller_down"]  # still no device's


def _after_restore(store: TicketStore, cut_at: datetime, restored_at: datetime) -> None:
    """The poller ticket recovers; k2's buffered failures open its ticket at their own time."""

    def replayed() -> dict[str, TicketView] | None:
        tickets = {t.device: t for t in store.list(limit=50)}
        down, pt = tickets.get("k2"), tickets.get("poller:kec-1")
        if down is None or pt is None or pt.status is TicketState.OPEN:
            return None
        return tickets

    by_device = wait_for("the poller ticket recovered and k2's replayed ticket", replayed, HANG)
    assert set(by_device) == {"poller:kec-1", "k2"}
    assert by_device["k2"].kind == "device_down"
    assert cut_at <= by_device["k2"].opened_at < restored_at  # the original time


def _live(lab: Lab) -> bool | None:
    zones = _zones(lab) or {}
    pollers = zones.get("pollers")
    if not isinstance(pollers, list):
        return None
    return any(p.get("node") == "kec-1" and p.get("live") for p in pollers) or None


def _buffering(log: Path) -> bool | None:
    text = log.read_text()
    return True if "buffering results" in text and "k2 suspect -> down" in text else None
