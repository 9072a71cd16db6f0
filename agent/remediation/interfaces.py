"""Reading a device's interfaces now, over SNMP: the guards check a name, verification a state.

``SnmpInterfaces`` polls through the daemon's own SNMP collector (or a fresh one for
``sigap remediasi``); ``NoInterfaces`` stands in when SNMP is off (the guards then refuse
names they cannot check, and verification fails: a repair is never counted unseen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agent.config.model import Device
    from collectors.model import InterfaceRow, SnmpPoll, SnmpTarget


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
