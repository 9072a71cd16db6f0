"""The daemon's re-discovery reports a written platform that differs from the device (issue 18)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.detect.ping import DeviceState
from agent.runtime.parts import Runtime
from agent.topology import watcher
from agent.topology.model import DeviceScan
from agent.topology.watcher import TopologyWatcher
from collectors.platform import Platform
from tests.unit.test_topology_watch import AT, INVENTORY, NoWalker
from ticketing.migrate import migrate
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from pathlib import Path

    from agent.config.model import Device

pytestmark = pytest.mark.unit

VRP = Platform("Huawei", "AR169F", "VRP", "5.170", "huawei")
ROS = Platform("MikroTik", "RB760iGS", "RouterOS", "7.1.1", "mikrotik_routeros")


async def test_platform_conflict_logged_once_per_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(INVENTORY)
    inventory = load_inventory(path, env={"C": "c"})  # every device: mikrotik_routeros
    seen = {"dist": VRP}

    async def fake_scan(_walker: object, device: Device) -> DeviceScan:
        return DeviceScan(device.name, {}, (), platform=seen.get(device.name, ROS))

    monkeypatch.setattr(watcher, "scan_device", fake_scan)
    caplog.set_level(logging.WARNING, logger="agent.topology.watcher")
    with TicketStore(TicketStore.sqlite_url(tmp_path / "t.db")) as store:
        migrate(store)
        runtime = Runtime(
            store, asyncio.Semaphore(4), lambda: dict.fromkeys(inventory.devices, DeviceState.UP),
            now=lambda: AT,
        )  # fmt: skip
        topo = TopologyWatcher(inventory, NoWalker(), runtime)
        await topo.round()
        await topo.round()
        seen["dist"] = ROS  # fixed on the device: nothing more to say
        await topo.round()
        seen["dist"] = Platform("Cisco", "C2960X", "IOS", "15.2", "cisco_ios")
        await topo.round()
        runtime.thread.close()
    lines = [r.getMessage() for r in caplog.records if "platform of" in r.getMessage()]
    assert lines == [
        "platform of dist: inventory says mikrotik_routeros, the device reports huawei "
        "(Huawei AR169F, VRP 5.170 [huawei]); the inventory's is used",
        "platform of dist: inventory says mikrotik_routeros, the device reports cisco_ios "
        "(Cisco C2960X, IOS 15.2 [cisco_ios]); the inventory's is used",
    ]
