"""Probes that turn a device into Observations; no I/O beyond probing, no tickets, no agent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collectors.ping import PingCollector
from collectors.snmp import SnmpCollector

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["COLLECTORS", "PingCollector", "SnmpCollector"]

# Static registry (STYLE point 14): the agent rejects unknown names with this list.
COLLECTORS: Final[Mapping[str, type]] = {"ping": PingCollector, "snmp": SnmpCollector}
