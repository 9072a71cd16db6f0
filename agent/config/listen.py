"""Listen addresses as the inventory and the command line write them: ``host:port``.

A pure parser shared by the inventory checks (``daemon.metrics_listen``,
``intake.whatsapp.listen``), the metrics server and the web board. The host must be written
out: a wildcard (``0.0.0.0:9464``, ``[::]:9464``) is allowed but never implied.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final

DEFAULT_LISTEN: Final = "127.0.0.1:9464"  # the metrics endpoint's (/metrics, /healthz)
WILDCARDS: Final = frozenset({"0.0.0.0", "::"})  # noqa: S104 - the names we refuse by default


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Where the endpoint listens."""

    host: str
    port: int

    @property
    def wildcard(self) -> bool:
        """True when every interface would be reachable."""
        return self.host in WILDCARDS

    def __str__(self) -> str:
        """``host:port`` (IPv6 in brackets)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(text: str) -> ListenAddress:
    """Parse ``host:port`` (``[v6]:port`` for IPv6); the host must be written out.

    Raises:
        ValueError: with what is wrong (missing host, bad port, bad address).
    """
    text = text.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"expected host:port, e.g. {DEFAULT_LISTEN} (got {text!r})")
    port = int(port_text)
    if not 1 <= port <= 65535:  # noqa: PLR2004 - the TCP port range
        raise ValueError(f"port must be 1..65535 (got {port})")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ValueError(f"not an IPv6 address in brackets: {host!r} ({exc})") from exc
    elif ":" in host:
        raise ValueError(f"write an IPv6 address in brackets, e.g. [::1]:{port} (got {text!r})")
    if not host or host == "*":
        raise ValueError(
            f"the host is required: {DEFAULT_LISTEN} for this machine only, "
            f"0.0.0.0:{port} to listen on every interface (got {text!r})"
        )
    return ListenAddress(host, port)
