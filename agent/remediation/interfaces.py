"""Reading a device's interfaces now, over SNMP: the guards check a name, verification a state.

``SnmpInterfaces`` polls through the daemon's own SNMP collector (or a fresh one for
``sigap remediasi``); ``NoInterfaces`` stands in when SNMP is off (the guards then refuse
names they cannot check, and verification fails: a repair is never counted unseen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from collectors import platform

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from agent.config.model import Device
    from collectors.model import InterfaceRow, SnmpPoll, SnmpTarget
    from collectors.snmp import TableColumns


class InterfaceReader(Protocol):
    """Reads a device's interfaces now (SNMP); None when they cannot be read."""

    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        """Return the interfaces by ifName."""
        ...


class _Poller(Protocol):
    async def poll(self, target: SnmpTarget) -> SnmpPoll: ...


class SnmpInterfaces:
    """InterfaceReader over an SNMP poller (the daemon's own, or a fresh collector)."""

    def __init__(self, poller: _Poller) -> None:
        """Use ``poller`` (already started)."""
        self._poller = poller

    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        """Poll the device once; None when SNMP is off or the poll failed."""
        target = device.snmp_target()
        if target is None:
            return None
        result = await self._poller.poll(target)
        if not result.interfaces:
            return None
        return {row.name: row for row in result.interfaces if row.name}


class NoInterfaces:
    """InterfaceReader when the daemon has no SNMP: nothing can be read."""

    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        """Always None."""
        return None


class PlatformReader(Protocol):
    """Detects the platform (netmiko device type) of a device the inventory writes none for."""

    async def platform(self, device: Device) -> str:
        """Return the detected device type, empty when it cannot be told."""
        ...


class ColumnWalker(Protocol):
    """What platform detection needs of the SNMP collector."""

    async def walk_columns(self, target: SnmpTarget, oids: Sequence[str]) -> TableColumns | str:
        """Walk table columns of one device; a failure comes back as its reason."""
        ...


class SnmpPlatforms:
    """PlatformReader over the daemon's SNMP collector: one walk of the platform columns."""

    def __init__(self, walker: ColumnWalker) -> None:
        """Use ``walker`` (already started)."""
        self._walker = walker

    async def platform(self, device: Device) -> str:
        """Walk sysObjectID, sysDescr, entPhysical and vendor columns; detect (issue 18)."""
        target = device.snmp_target()
        if target is None:
            return ""
        columns = await self._walker.walk_columns(target, platform.COLUMNS)
        return "" if isinstance(columns, str) else platform.detect(columns).device_type
