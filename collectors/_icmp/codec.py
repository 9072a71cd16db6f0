"""ICMPv4 echo codec: build echo requests and parse replies and errors (pure, no I/O)."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Final

ECHO_REPLY: Final = 0
DEST_UNREACHABLE: Final = 3
ECHO_REQUEST: Final = 8
TIME_EXCEEDED: Final = 11
PARAMETER_PROBLEM: Final = 12
ERROR_TYPES: Final = frozenset({DEST_UNREACHABLE, TIME_EXCEEDED, PARAMETER_PROBLEM})

# Same size as iputils ping's default payload; the content only has to be constant.
DEFAULT_PAYLOAD: Final = (b"sigap-ping-" * 6)[:56]

_HEADER: Final = struct.Struct("!BBHHH")
_ID_SEQ: Final = struct.Struct("!HH")
_PROTO_ICMP: Final = 1
IP_HEADER_MIN: Final = 20
ICMP_HEADER: Final = 8

UNREACHABLE_CODES: Final[dict[int, str]] = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    4: "fragmentation needed",
    5: "source route failed",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    13: "communication administratively prohibited",
}


def ones_sum(data: bytes) -> int:
    """Return the folded 16-bit one's-complement sum of ``data`` (RFC 1071)."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def checksum(data: bytes) -> int:
    """Return the Internet checksum of ``data``."""
    return ~ones_sum(data) & 0xFFFF


class EchoEncoder:
    """Builds echo requests with a fixed payload whose checksum part is computed once."""

    __slots__ = ("_payload", "_payload_sum")

    def __init__(self, payload: bytes = DEFAULT_PAYLOAD) -> None:
        """Precompute the payload's share of the checksum (the header starts 2-aligned)."""
        self._payload = payload
        self._payload_sum = ones_sum(payload)

    def encode(self, ident: int, seq: int) -> bytes:
        """Return one echo request (ICMP header + payload) for ``ident``/``seq``."""
        total = (ECHO_REQUEST << 8) + ident + seq + self._payload_sum
        total = (total & 0xFFFF) + (total >> 16)
        total = (total & 0xFFFF) + (total >> 16)
        return _HEADER.pack(ECHO_REQUEST, 0, ~total & 0xFFFF, ident, seq) + self._payload


@dataclass(frozen=True, slots=True)
class IcmpMessage:
    """An echo reply, or an ICMP error quoting one of our echo requests.

    ``peer`` is the address the echo was sent to: the replying host for a reply, the
    original destination (from the quoted header) for an error; ``reporter`` is who sent
    the ICMP message (a router, for errors).
    """

    icmp_type: int
    code: int
    ident: int
    seq: int
    peer: str
    reporter: str

    @property
    def is_reply(self) -> bool:
        """True for an echo reply, False for an error."""
        return self.icmp_type == ECHO_REPLY


def describe_error(icmp_type: int, code: int, reporter: str) -> str:
    """Return a human-readable reason for an ICMP error, e.g. ``host unreachable``."""
    if icmp_type == DEST_UNREACHABLE:
        what = UNREACHABLE_CODES.get(code, "destination unreachable")
    elif icmp_type == TIME_EXCEEDED:
        what = "ttl exceeded in transit" if code == 0 else "fragment reassembly time exceeded"
    else:
        what = "parameter problem"
    return f"{what} (icmp type {icmp_type} code {code} from {reporter})"


def parse_icmp(icmp: bytes, source: str) -> IcmpMessage | None:
    """Parse an ICMP message (no IP header); None unless it is an echo reply or error."""
    if len(icmp) < ICMP_HEADER:
        return None
    icmp_type, code = icmp[0], icmp[1]
    if icmp_type == ECHO_REPLY:
        ident, seq = _ID_SEQ.unpack_from(icmp, 4)
        return IcmpMessage(icmp_type, code, ident, seq, source, source)
    if icmp_type not in ERROR_TYPES:
        return None
    inner = icmp[8:]  # the quoted IP header + first 8 bytes of our echo request
    if len(inner) < IP_HEADER_MIN or inner[9] != _PROTO_ICMP:
        return None
    ihl = (inner[0] & 0x0F) * 4
    if len(inner) < ihl + ICMP_HEADER or inner[ihl] != ECHO_REQUEST:
        return None
    ident, seq = _ID_SEQ.unpack_from(inner, ihl + 4)
    return IcmpMessage(icmp_type, code, ident, seq, socket.inet_ntoa(inner[16:20]), source)


def parse_ip_packet(packet: bytes, source: str) -> IcmpMessage | None:
    """Parse what a raw ICMP socket returns: an IPv4 header followed by ICMP."""
    if len(packet) < IP_HEADER_MIN:
        return None
    return parse_icmp(packet[(packet[0] & 0x0F) * 4 :], source)


# Linux <linux/errqueue.h>: struct sock_extended_err, then the offender's sockaddr_in.
IP_RECVERR: Final = 11
MSG_ERRQUEUE: Final = 0x2000
SO_EE_ORIGIN_ICMP: Final = 2
_EXTENDED_ERR: Final = struct.Struct("=IBBBBII")


def parse_queued_error(
    data: bytes, ancdata: list[tuple[int, int, bytes]], destination: str
) -> IcmpMessage | None:
    """Parse one ``recvmsg(MSG_ERRQUEUE)`` result of a datagram ICMP socket.

    ``data`` is our echo request as sent (the kernel has rewritten its id), ``destination``
    the address it was sent to, ``ancdata`` holds the ``IP_RECVERR`` control message.
    """
    if len(data) < ICMP_HEADER or data[0] != ECHO_REQUEST:
        return None
    for level, kind, cmsg in ancdata:
        if level != socket.IPPROTO_IP or kind != IP_RECVERR or len(cmsg) < _EXTENDED_ERR.size:
            continue
        _errno, origin, icmp_type, code, _pad, _info, _data = _EXTENDED_ERR.unpack_from(cmsg)
        if origin != SO_EE_ORIGIN_ICMP:
            return None
        offender = cmsg[_EXTENDED_ERR.size :]
        # sockaddr_in: family, port, then the 4-byte address of whoever sent the error
        reporter = socket.inet_ntoa(offender[4:8]) if len(offender) >= 8 else destination  # noqa: PLR2004
        ident, seq = _ID_SEQ.unpack_from(data, 4)
        return IcmpMessage(icmp_type, code, ident, seq, destination, reporter)
    return None
