"""Read every inventory device's interface names and neighbour tables over SNMP (I/O shell).

Runs where the caller's network namespace is: the lab's NOC for the lab inventory (the CLI
refuses otherwise, see ``agent.lab.control.refuse_lab_inventory_outside_lab``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

from agent.topology import mibs
from agent.topology.graph import Known
from agent.topology.model import DeviceScan
from collectors import platform

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from agent.config.model import Device, Inventory
    from collectors.model import SnmpTarget
    from collectors.snmp import TableColumns

CORE_TAG = "core"
MAX_IN_FLIGHT = 32
COLUMNS = (*mibs.COLUMNS, *platform.COLUMNS)  # neighbours, names and what the device is


class Walker(Protocol):
    """What a scan needs from the SNMP collector (the daemon's, the CLI's, or a fake)."""

    async def walk_columns(self, target: SnmpTarget, oids: Sequence[str]) -> TableColumns | str:
        """Walk table columns of one device; a failure comes back as its reason."""
        ...


def known_devices(inventory: Inventory) -> dict[str, Known]:
    """Return the inventory devices as discovery sees them."""
    return {
        d.name: Known(d.name, d.address, d.parent, core=CORE_TAG in d.tags, platform=d.platform)
        for d in inventory.devices.values()
    }


async def scan_device(collector: Walker, device: Device) -> DeviceScan:
    """Walk one device's interface names and neighbour columns; failures come back as data."""
    target = device.snmp_target()
    if target is None:
        return DeviceScan(device.name, {}, (), error="no snmp in the inventory")
    columns = await collector.walk_columns(target, COLUMNS)
    if isinstance(columns, str):
        return DeviceScan(device.name, {}, (), error=columns)
    return DeviceScan(
        device.name,
        mibs.if_names(columns),
        tuple(mibs.neighbours(columns)),
        if_descrs=mibs.if_descrs(columns),
        platform=platform.detect(columns),
    )


async def read_platform(collector: Walker, target: SnmpTarget) -> platform.Platform | str:
    """What the device says it is (one walk of the platform columns), or why it did not say."""
    columns = await collector.walk_columns(target, platform.COLUMNS)
    return columns if isinstance(columns, str) else platform.detect(columns)


async def scan(
    collector: Walker, devices: Iterable[Device], *, max_in_flight: int = MAX_IN_FLIGHT
) -> list[DeviceScan]:
    """Scan ``devices`` concurrently (bounded); one result per device, in the given order."""
    slots = asyncio.Semaphore(max_in_flight)

    async def one(device: Device) -> DeviceScan:
        async with slots:
            return await scan_device(collector, device)

    return list(await asyncio.gather(*(one(d) for d in devices)))
