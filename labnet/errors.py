"""Errors raised by the lab (labnet)."""

from __future__ import annotations


class LabError(Exception):
    """Raised when the lab cannot do what was asked (root of all labnet errors)."""


class LabSpecError(LabError):
    """Raised when a lab specification is invalid (names, addresses, parents, prefixes)."""


class UnknownDeviceError(LabError):
    """Raised when a device name is not part of the lab that is up."""


class LabNotUpError(LabError):
    """Raised when an operation needs the lab to be up and it is not."""


class LabPermissionError(LabError):
    """Raised when the lab needs root (network namespaces, nftables) and does not have it."""


class LabCommandError(LabError):
    """Raised when an external command (ip, nft) used to build or change the lab fails."""


class NetnsError(LabError):
    """Raised when the calling thread cannot enter or leave a network namespace."""
