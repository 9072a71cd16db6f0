"""Collector exceptions: raised only for setup or programming errors, never for a dead device."""


class CollectorError(Exception):
    """Raised when a collector cannot work at all (setup, permissions, bad input)."""


class IcmpPermissionError(CollectorError, PermissionError):
    """Raised at start-up when neither a raw nor a datagram ICMP socket can be opened."""
