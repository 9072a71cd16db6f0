"""Probes that turn a device into Observations; no I/O beyond probing, no tickets, no agent.

The registry is static (STYLE point 14) but resolved lazily: importing ``collectors.ping``
must not import the SNMP stack (USM, cryptography), and vice versa.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

__all__ = ["COLLECTORS", "PingCollector", "SnmpCollector"]

# name -> (module, class); the agent rejects unknown names with this list.
REGISTRY: Final = {
    "ping": ("collectors.ping", "PingCollector"),
    "snmp": ("collectors.snmp", "SnmpCollector"),
}
_CLASSES: Final = {cls: (module, cls) for module, cls in REGISTRY.values()}


def __getattr__(name: str) -> Any:
    """``COLLECTORS`` (name -> class) and the collector classes, imported on first use."""
    if name == "COLLECTORS":
        return {key: _load(*where) for key, where in REGISTRY.items()}
    if name in _CLASSES:
        return _load(*_CLASSES[name])
    raise AttributeError(f"module 'collectors' has no attribute {name!r}")


def _load(module: str, cls: str) -> Any:
    return getattr(importlib.import_module(module), cls)
