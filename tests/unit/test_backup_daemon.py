"""The daemon runs the nightly configuration backup (issue 22): ``sigap run``'s assembly starts
a ``config-backup`` task beside the pollers, metrics go on the daemon's registry, a SIGHUP
reload hands the new inventory to it, and a night it runs reaches the devices of the
inventory (through an injected fetch; the SSH side is tested in the lab)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from prometheus_client import CollectorRegistry

from agent.backup.service import SCHEDULE, backed_up
from agent.config.load import load_inventory
from agent.runtime.metrics import Metrics
from agent.wiring import assemble_daemon, backup_service
from collectors.model import Observation, ProbeStatus
from ticketing.migrate import migrate
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from pathlib import Path

    from collectors.base import Prober
    from collectors.model import PingTarget

pytestmark = pytest.mark.unit

INVENTORY = """
office: {name: Test}
daemon: {metrics_listen: ""}
defaults:
  platform: mikrotik_routeros
  role: router
  ping: {interval: 1s}
  ssh: {user: sigap, password_file: pw}
hosts:
  rtr: {address: 10.52.0.1}
  ios: {address: 10.52.0.2, platform: cisco_ios}
  cam: {address: 10.52.0.3, platform: tplink_jetstream}
  plain: {address: 10.52.0.4, ssh: {user: "", password_file: pw}}
"""


class Up:
    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def probe(self, target: PingTarget) -> Observation:
        return Observation(target.name, "ping", ProbeStatus.OK, datetime.now(UTC), value=0.001)


def _prober(fake: Up) -> Prober:
    return fake


@pytest.fixture
def office(tmp_path: Path):
    (tmp_path / "pw").write_text("secret-pw\n")
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    store = TicketStore(TicketStore.sqlite_url(tmp_path / "state" / "t.db"))
    (tmp_path / "state").mkdir()
    migrate(store)
    yield load_inventory(path, env={}), store, path
    store.close()


async def test_the_daemon_runs_the_nightly_backup_task(office) -> None:
    inventory, store, path = office
    assert sorted(d.name for d in backed_up(inventory)) == ["ios", "rtr"]  # SSH + export
    metrics = Metrics(CollectorRegistry())
    daemon = assemble_daemon(inventory, store, _prober(Up()), metrics=metrics, backup=True,
                             rng=random.Random(1))  # fmt: skip
    assert daemon.backups is not None
    task = asyncio.create_task(daemon.run())
    try:
        async with asyncio.timeout(10):
            while not any(t.get_name() == "config-backup" for t in asyncio.all_tasks()):  # noqa: ASYNC110 - the daemon starts it; nothing to await
                await asyncio.sleep(0.01)
        ios = "  ios: {address: 10.52.0.2, platform: cisco_ios}\n"
        path.write_text(INVENTORY.replace(ios, ""))
        daemon._apply(load_inventory(path, env={}))  # what SIGHUP does
        nightly = daemon.backups.inventory  # type: ignore[attr-defined]
        assert sorted(d.name for d in backed_up(nightly)) == ["rtr"]
    finally:
        daemon.stop()
        async with asyncio.timeout(10):
            await task


async def test_the_cli_service_writes_beside_the_database_and_tickets(office) -> None:
    inventory, store, _ = office
    service = backup_service(inventory, store)
    assert service.repo.root == store_dir(store) / "konfigurasi" / "repo"
    seen: list[str] = []

    async def fetch(device):  # the SSH read, replaced
        seen.append(device.name)
        return f"/system identity set name={device.name}\n"

    service._fetch = fetch
    results = await service.backup_many(backed_up(inventory), SCHEDULE)
    assert [r.ok and bool(r.rev) for r in results] == [True, True]
    assert sorted(seen) == ["ios", "rtr"]
    assert sorted(t.device for t in store.active()) == ["ios", "rtr"]  # low config tickets


def store_dir(store: TicketStore):
    from pathlib import Path

    return Path(store.engine.url.database or "").parent


async def test_a_port_shut_by_hand_is_backed_up_when_its_ticket_opens(office) -> None:
    from agent.backup.service import NightlyBackups
    from ticketing.faults import Fault, FaultKind

    inventory, store, _ = office
    service = backup_service(inventory, store)
    texts = {"rtr": "/interface ethernet set [ find default-name=ether2 ]\n"}

    async def fetch(device):
        return texts[device.name]

    service._fetch = fetch
    duty = NightlyBackups(service, inventory)
    await service.backup(inventory.devices["rtr"], SCHEDULE)  # last night's
    texts["rtr"] = "/interface ethernet set [ find default-name=ether2 ] disabled=yes\n"
    at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    opened = store.open_fault(
        Fault("rtr", FaultKind.INTERFACE_DISABLED, "ether2 mati", subject="ether2"), at=at
    ).ticket
    down = store.open_fault(Fault("rtr", FaultKind.DEVICE_DOWN, "rtr mati"), at=at).ticket
    duty.on_ticket(down)  # not a configuration fault: nothing
    assert not duty._tasks
    duty.on_ticket(opened)
    [task] = duty._tasks
    result = await task
    assert result.trigger == f"tiket {opened.number}"
    assert "+/interface ethernet set [ find default-name=ether2 ] disabled=yes" in result.diff
    notes = [e.detail for e in store.events(opened.number) if e.kind.value == "note"]
    want = f"konfigurasi berubah ditemukan saat pencadangan (tiket {opened.number})"
    assert any(n.startswith(want) for n in notes), notes  # on that ticket, not the newer one
