"""ICMP codec: echo encoding, reply/error parsing, error-queue parsing (pure)."""

from __future__ import annotations

import socket
import struct

import pytest
from icmplib.sockets import ICMPv4Socket

from collectors._icmp import codec as _icmp

pytestmark = pytest.mark.unit


def ip_header(src: str, dst: str, payload_len: int, *, options: bytes = b"") -> bytes:
    """A minimal IPv4 header (checksum left 0: the parser does not check it)."""
    ihl = 5 + len(options) // 4
    return (
        struct.pack(
            "!BBHHHBBH4s4s",
            0x40 | ihl,
            0,
            ihl * 4 + payload_len,
            0,
            0,
            64,
            1,
            0,
            socket.inet_aton(src),
            socket.inet_aton(dst),
        )
        + options
    )


def echo(icmp_type: int, ident: int, seq: int, payload: bytes = b"x" * 8) -> bytes:
    body = struct.pack("!BBHHH", icmp_type, 0, 0, ident, seq) + payload
    csum = _icmp.checksum(body)
    return body[:2] + struct.pack("!H", csum) + body[4:]


def icmp_error(icmp_type: int, code: int, quoted_dst: str, ident: int, seq: int) -> bytes:
    quoted = echo(_icmp.ECHO_REQUEST, ident, seq)[:8]
    inner = ip_header("10.0.0.1", quoted_dst, len(quoted)) + quoted
    return struct.pack("!BBHI", icmp_type, code, 0, 0) + inner


@pytest.mark.parametrize(("ident", "seq"), [(0, 0), (1, 2), (0xFFFF, 0xFFFF), (0x1234, 0xFFFE)])
def test_encoded_echo_has_valid_checksum_and_fields(ident, seq):
    packet = _icmp.EchoEncoder().encode(ident, seq)
    assert _icmp.checksum(packet) == 0
    assert struct.unpack_from("!BBxxHH", packet) == (_icmp.ECHO_REQUEST, 0, ident, seq)
    assert packet[8:] == _icmp.DEFAULT_PAYLOAD


def test_encoded_echo_matches_icmplib():
    payload = b"abcdefghijklmnopqrstuvwxyz0123"
    ours = _icmp.EchoEncoder(payload).encode(4321, 77)
    sock = ICMPv4Socket.__new__(ICMPv4Socket)  # packet building only, no socket
    sock._sock = None  # what its __del__ looks at
    assert ours == ICMPv4Socket._create_packet(sock, 4321, 77, payload)


def test_odd_payload_checksum():
    packet = _icmp.EchoEncoder(b"abc").encode(1, 1)
    assert _icmp.checksum(packet) == 0


def test_parse_raw_echo_reply():
    icmp = echo(_icmp.ECHO_REPLY, 0xBEEF, 42)
    msg = _icmp.parse_ip_packet(ip_header("10.9.9.9", "10.0.0.1", len(icmp)) + icmp, "10.9.9.9")
    assert msg == _icmp.IcmpMessage(0, 0, 0xBEEF, 42, "10.9.9.9", "10.9.9.9")
    assert msg.is_reply


def test_parse_raw_reply_with_ip_options():
    icmp = echo(_icmp.ECHO_REPLY, 7, 8)
    packet = ip_header("10.1.1.1", "10.0.0.1", len(icmp), options=b"\x01" * 8) + icmp
    msg = _icmp.parse_ip_packet(packet, "10.1.1.1")
    assert msg is not None
    assert (msg.ident, msg.seq) == (7, 8)


def test_parse_error_recovers_original_destination_id_and_seq():
    icmp = icmp_error(_icmp.DEST_UNREACHABLE, 1, "10.99.0.5", 0xAAAA, 513)
    packet = ip_header("10.98.0.2", "10.98.0.1", len(icmp)) + icmp
    msg = _icmp.parse_ip_packet(packet, "10.98.0.2")
    assert msg == _icmp.IcmpMessage(3, 1, 0xAAAA, 513, "10.99.0.5", "10.98.0.2")
    assert not msg.is_reply
    assert "host unreachable" in _icmp.describe_error(3, 1, "10.98.0.2")


@pytest.mark.parametrize(
    "icmp",
    [
        echo(_icmp.ECHO_REQUEST, 1, 1),  # our own request looped back
        echo(13, 1, 1),  # timestamp request
        b"\x00\x00\x00",  # truncated
        struct.pack("!BBHI", 3, 1, 0, 0) + b"\x45" + b"\x00" * 10,  # truncated quote
    ],
)
def test_parse_ignores_what_is_not_reply_or_error(icmp):
    assert _icmp.parse_icmp(icmp, "10.0.0.9") is None


def test_parse_error_quoting_non_echo_is_ignored():
    udp = ip_header("10.0.0.1", "10.0.0.2", 8)
    udp = udp[:9] + b"\x11" + udp[10:] + b"\x00" * 8
    assert _icmp.parse_icmp(struct.pack("!BBHI", 3, 3, 0, 0) + udp, "10.0.0.2") is None


def test_parse_queued_error_from_datagram_socket():
    sent = _icmp.EchoEncoder().encode(0x3333, 900)
    ext = struct.pack("=IBBBBII", 113, _icmp.SO_EE_ORIGIN_ICMP, 3, 1, 0, 0, 0)
    offender = struct.pack("=HH4s8x", socket.AF_INET, 0, socket.inet_aton("10.98.0.2"))
    anc = [(socket.IPPROTO_IP, _icmp.IP_RECVERR, ext + offender)]
    msg = _icmp.parse_queued_error(sent, anc, "10.99.0.7")
    assert msg == _icmp.IcmpMessage(3, 1, 0x3333, 900, "10.99.0.7", "10.98.0.2")


def test_parse_queued_error_ignores_local_origin():
    sent = _icmp.EchoEncoder().encode(1, 2)
    ext = struct.pack("=IBBBBII", 90, 1, 0, 0, 0, 0, 0)  # SO_EE_ORIGIN_LOCAL (EMSGSIZE ...)
    anc = [(socket.IPPROTO_IP, _icmp.IP_RECVERR, ext)]
    assert _icmp.parse_queued_error(sent, anc, "10.0.0.1") is None
