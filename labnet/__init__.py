"""The simulated OPD network: one network namespace per device, built from plain data."""

from __future__ import annotations

from labnet.errors import LabError
from labnet.lab import DeviceFaults, Lab, LabStatus
from labnet.topology import LabDevice, LabSnmp, LabSnmpUser, LabSpec, tree_spec

__all__ = [
    "DeviceFaults",
    "Lab",
    "LabDevice",
    "LabError",
    "LabSnmp",
    "LabSnmpUser",
    "LabSpec",
    "LabStatus",
    "tree_spec",
]
