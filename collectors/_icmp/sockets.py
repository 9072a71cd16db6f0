"""Opening and tuning the one ICMPv4 socket a ping collector shares across all probes."""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
from pathlib import Path
from typing import Final

from collectors._icmp.codec import (
    DEST_UNREACHABLE,
    ECHO_REPLY,
    IP_RECVERR,
    PARAMETER_PROBLEM,
    TIME_EXCEEDED,
)
from collectors.errors import CollectorError, IcmpPermissionError

logger = logging.getLogger(__name__)

# Linux socket options the socket module does not export.
SO_RCVBUFFORCE: Final = 33
SO_SNDBUFFORCE: Final = 32
SOL_RAW: Final = 255
ICMP_FILTER: Final = 1

PING_GROUP_RANGE: Final = Path("/proc/sys/net/ipv4/ping_group_range")

PERMISSION_HELP: Final = (
    "cannot open an ICMP socket ({tried}): raw sockets need root or CAP_NET_RAW, datagram "
    "ICMP sockets need the process's group id inside net.ipv4.ping_group_range (now {range}). "
    "Fix one of: run as root; `setcap cap_net_raw+ep <python binary>`; systemd "
    '`AmbientCapabilities=CAP_NET_RAW`; or `sysctl -w net.ipv4.ping_group_range="0 2147483647"`'
)


def _current_ping_group_range() -> str:
    """Return the sysctl value quoted, or 'unknown' if it cannot be read."""
    try:
        return repr(" ".join(PING_GROUP_RANGE.read_text().split()))
    except OSError:
        return "unknown"


def open_icmp_socket(privileged: bool | None) -> tuple[socket.socket, bool]:
    """Open a non-blocking ICMPv4 socket: raw, datagram, or (None) raw then datagram.

    Returns the socket and whether it is raw (privileged).

    Raises:
        IcmpPermissionError: no allowed kind of socket could be opened.
        CollectorError: the kernel refused for another reason (e.g. no IPv4).
    """
    kinds = (True, False) if privileged is None else (privileged,)
    denied: PermissionError | None = None
    for raw in kinds:
        kind = socket.SOCK_RAW if raw else socket.SOCK_DGRAM
        try:
            sock = socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP)
        except PermissionError as exc:
            denied = exc
            continue
        except OSError as exc:
            raise CollectorError(f"cannot open an ICMP socket: {exc}") from exc
        _tune(sock, raw=raw)
        return sock, raw
    tried = " and ".join("raw" if raw else "datagram" for raw in kinds) + " denied"
    raise IcmpPermissionError(
        PERMISSION_HELP.format(tried=tried, range=_current_ping_group_range())
    ) from denied


def _tune(sock: socket.socket, *, raw: bool) -> None:
    """Make the socket non-blocking, filter what a raw socket sees, ask for ICMP errors."""
    sock.setblocking(False)
    if raw:
        # A raw ICMP socket gets every ICMP packet the host receives: let the kernel drop
        # all but echo replies and the errors that can quote our requests.
        wanted = (1 << ECHO_REPLY) | (1 << DEST_UNREACHABLE) | (1 << TIME_EXCEEDED)
        wanted |= 1 << PARAMETER_PROBLEM
        sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("I", ~wanted & 0xFFFFFFFF))
    else:
        # Without IP_RECVERR an unconnected datagram ICMP socket never reports errors.
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)


IP_MTU_DISCOVER: Final = 10  # <linux/in.h>
IP_PMTUDISC_DO: Final = 2  # always set DF; never fragment locally (EMSGSIZE instead)


def set_dont_fragment(sock: socket.socket) -> None:
    """Set DF on every packet ``sock`` sends (path MTU checks)."""
    sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)


def size_buffers(sock: socket.socket, nbytes: int) -> None:
    """Ask for ``nbytes`` of receive and send buffer, beyond rmem_max when allowed.

    A sweep's replies arrive nearly at once; a default 208 KiB receive buffer holds only a
    few hundred of them before the kernel drops the rest.
    """
    for force, plain in ((SO_RCVBUFFORCE, socket.SO_RCVBUF), (SO_SNDBUFFORCE, socket.SO_SNDBUF)):
        try:
            sock.setsockopt(socket.SOL_SOCKET, force, nbytes)
        except PermissionError:  # needs CAP_NET_ADMIN; fall back to the rmem/wmem_max cap
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, plain, nbytes)
    got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2  # the kernel doubles it
    if got < nbytes:
        logger.warning(
            "ICMP receive buffer is %d bytes, wanted %d: large sweeps may lose replies "
            "(raise net.core.rmem_max or lower max_in_flight)",
            got,
            nbytes,
        )
