"""A small BER codec for the SNMP messages the hot path needs (RFC 3416 PDUs, v2c framing).

Encodes GetBulk/Get requests and decodes Response PDUs; everything else stays with pysnmp.
OIDs travel as their BER content octets (``bytes``): a column's encoding is a byte prefix of
every instance under it, so matching needs no decoding (sub-identifiers are self-delimiting).
Every fast path here is proven equal to pysnmp by ``tests/unit/test_snmp_codec.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from collectors.errors import CollectorError

# Universal and SMIv2 application tags (first identifier octet).
INTEGER: Final = 0x02
OCTET_STRING: Final = 0x04
NULL: Final = 0x05
OBJECT_IDENTIFIER: Final = 0x06
SEQUENCE: Final = 0x30
IP_ADDRESS: Final = 0x40
COUNTER32: Final = 0x41
GAUGE32: Final = 0x42
TIMETICKS: Final = 0x43
OPAQUE: Final = 0x44
COUNTER64: Final = 0x46
NO_SUCH_OBJECT: Final = 0x80
NO_SUCH_INSTANCE: Final = 0x81
END_OF_MIB_VIEW: Final = 0x82
# PDU tags (context-specific, constructed).
GET_REQUEST: Final = 0xA0
GET_NEXT_REQUEST: Final = 0xA1
RESPONSE: Final = 0xA2
GET_BULK_REQUEST: Final = 0xA5
REPORT: Final = 0xA8

LONG_FORM: Final = 0x80  # length octet flag; also the continuation bit of OID arcs
EXCEPTIONS: Final = frozenset({NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW})
_UNSIGNED_MAX: Final = {
    COUNTER32: 0xFFFFFFFF,
    GAUGE32: 0xFFFFFFFF,
    TIMETICKS: 0xFFFFFFFF,
    COUNTER64: 0xFFFFFFFFFFFFFFFF,
}
_INT32_MIN: Final = -(2**31)
_INT32_MAX: Final = 2**31 - 1
_BYTES_VALUED: Final = frozenset({OCTET_STRING, IP_ADDRESS, OPAQUE})

Value = int | bytes | tuple[int, ...] | None
Varbind = tuple[bytes, int, Value]  # (OID content octets, value tag, value)

ERROR_STATUS: Final = (
    "noError",
    "tooBig",
    "noSuchName",
    "badValue",
    "readOnly",
    "genErr",
    "noAccess",
    "wrongType",
    "wrongLength",
    "wrongEncoding",
    "wrongValue",
    "noCreation",
    "inconsistentValue",
    "resourceUnavailable",
    "commitFailed",
    "undoFailed",
    "authorizationError",
    "notWritable",
    "inconsistentName",
)


class BerDecodeError(CollectorError, ValueError):
    """Raised when a datagram is not a well-formed SNMP message of the expected shape."""


@dataclass(frozen=True, slots=True)
class Pdu:
    """A decoded PDU: type, request id, error status/index and the varbinds."""

    tag: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[Varbind]


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded v1/v2c message: version, community and its PDU."""

    version: int
    community: bytes
    pdu: Pdu


# ---------------------------------------------------------------- encoding


def encode_length(n: int) -> bytes:
    """Return the BER length octets for ``n`` (short form below 128, long form above)."""
    if n < LONG_FORM:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((LONG_FORM | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    """Return one TLV: tag octet, length octets, content."""
    return bytes((tag,)) + encode_length(len(content)) + content


def encode_integer(value: int, tag: int = INTEGER) -> bytes:
    """Return a minimal two's-complement INTEGER (or an SMI integer type with ``tag``)."""
    size = value.bit_length() // 8 + 1  # one spare bit for the sign
    return tlv(tag, value.to_bytes(size, "big", signed=True))


def encode_oid_content(oid: tuple[int, ...]) -> bytes:
    """Return the content octets of an OBJECT IDENTIFIER (at least two arcs)."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] > 39):  # noqa: PLR2004 - X.690
        raise ValueError(f"not a valid OID: {oid!r}")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):
        if arc < 0:
            raise ValueError(f"negative arc in OID {oid!r}")
        rest = arc >> 7
        chunk = [arc & 0x7F]
        while rest:
            chunk.append(LONG_FORM | (rest & 0x7F))
            rest >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def parse_oid(text: str) -> tuple[int, ...]:
    """Return the arcs of a dotted OID (leading dot allowed)."""
    return tuple(int(part) for part in text.strip(".").split("."))


def encode_varbind_list(oids: list[bytes]) -> bytes:
    """Return a VarBindList asking for ``oids`` (content octets), each with a NULL value."""
    body = b"".join(tlv(SEQUENCE, tlv(OBJECT_IDENTIFIER, oid) + b"\x05\x00") for oid in oids)
    return tlv(SEQUENCE, body)


def encode_pdu(tag: int, request_id: int, field2: int, field3: int, varbind_list: bytes) -> bytes:
    """Return a PDU; for GetBulk the two middle fields are non-repeaters, max-repetitions."""
    body = encode_integer(request_id) + encode_integer(field2) + encode_integer(field3)
    return tlv(tag, body + varbind_list)


def encode_message(community: bytes, pdu: bytes, version: int = 1) -> bytes:
    """Return a v1 (0) / v2c (1) message around an encoded PDU."""
    return tlv(SEQUENCE, encode_integer(version) + tlv(OCTET_STRING, community) + pdu)


# ---------------------------------------------------------------- decoding


def _length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """Return (content length, content start) for the length octets at ``pos``."""
    if pos >= end:
        raise BerDecodeError("truncated length")
    first = data[pos]
    if first < LONG_FORM:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 4:  # noqa: PLR2004 - indefinite or absurd lengths are not SNMP
        raise BerDecodeError(f"unsupported length form 0x{first:02x}")
    start = pos + 1 + count
    if start > end:
        raise BerDecodeError("truncated length")
    return int.from_bytes(data[pos + 1 : start], "big"), start


def _expect(data: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    """Check the tag at ``pos``; return (content start, content end) within ``end``."""
    if pos >= end or data[pos] != tag:
        got = f"0x{data[pos]:02x}" if pos < end else "end of data"
        raise BerDecodeError(f"expected {what} (0x{tag:02x}), got {got}")
    length, start = _length(data, pos + 1, end)
    stop = start + length
    if stop > end:
        raise BerDecodeError(f"{what} overruns its container")
    return start, stop


def _integer(data: bytes, pos: int, end: int, what: str) -> tuple[int, int]:
    """Decode an INTEGER at ``pos``; return (value, next position)."""
    start, stop = _expect(data, pos, end, INTEGER, what)
    if stop == start:
        raise BerDecodeError(f"empty {what}")
    return int.from_bytes(data[start:stop], "big", signed=True), stop


def decode_oid(content: bytes) -> tuple[int, ...]:
    """Return the arcs of OBJECT IDENTIFIER content octets."""
    if not content or content[-1] & 0x80:
        raise BerDecodeError("malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    arc = 0
    fresh = True
    for byte in content:
        if fresh and byte == LONG_FORM:  # a leading 0x80 is a non-minimal arc
            raise BerDecodeError("non-minimal OBJECT IDENTIFIER arc")
        arc = (arc << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            arcs.append(arc)
            arc = 0
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)  # noqa: PLR2004
    return (*head, *arcs[1:])


def _unsigned(tag: int, content: bytes) -> int:
    """Decode Counter32/Gauge32/TimeTicks/Counter64 content within its range."""
    if not content:
        raise BerDecodeError("empty unsigned integer")
    value = int.from_bytes(content, "big", signed=True)
    if not 0 <= value <= _UNSIGNED_MAX[tag]:
        raise BerDecodeError(f"value of type 0x{tag:02x} out of range")
    return value


def _value(tag: int, content: bytes) -> Value:
    """Convert one varbind value's content octets by tag."""
    if tag in _BYTES_VALUED:
        if tag == IP_ADDRESS and len(content) != 4:  # noqa: PLR2004 - IPv4 only (RFC 2578)
            raise BerDecodeError("IpAddress is not 4 octets")
        return content
    if tag in _UNSIGNED_MAX:
        return _unsigned(tag, content)
    if tag == INTEGER:
        if not content:
            raise BerDecodeError("empty INTEGER")
        value = int.from_bytes(content, "big", signed=True)
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise BerDecodeError("INTEGER out of Integer32 range")
        return value
    if tag == NULL or tag in EXCEPTIONS:
        if content:
            raise BerDecodeError("NULL with content")
        return None
    if tag == OBJECT_IDENTIFIER:
        return decode_oid(content)
    raise BerDecodeError(f"unknown value tag 0x{tag:02x}")


def decode_varbinds(data: bytes, pos: int, end: int) -> list[Varbind]:
    """Decode a VarBindList at ``pos`` that must end exactly at ``end``."""
    start, stop = _expect(data, pos, end, SEQUENCE, "VarBindList")
    if stop != end:
        raise BerDecodeError("trailing bytes after the VarBindList")
    out: list[Varbind] = []
    append = out.append
    pos = start
    while pos < stop:
        # Inlined TLV walking: this loop runs once per value (441 times for 49 interfaces).
        if data[pos] != SEQUENCE:
            raise BerDecodeError("expected a VarBind SEQUENCE")
        vb_len, vb_start = _length(data, pos + 1, stop)
        vb_end = vb_start + vb_len
        if vb_end > stop or vb_start >= vb_end or data[vb_start] != OBJECT_IDENTIFIER:
            raise BerDecodeError("malformed VarBind")
        oid_len, oid_start = _length(data, vb_start + 1, vb_end)
        oid_end = oid_start + oid_len
        if oid_end >= vb_end:
            raise BerDecodeError("VarBind without a value")
        oid = data[oid_start:oid_end]
        if not oid or oid[-1] & 0x80:
            raise BerDecodeError("malformed OBJECT IDENTIFIER")
        tag = data[oid_end]
        val_len, val_start = _length(data, oid_end + 1, vb_end)
        if val_start + val_len != vb_end:
            raise BerDecodeError("VarBind value length mismatch")
        append((oid, tag, _value(tag, data[val_start:vb_end])))
        pos = vb_end
    return out


def decode_pdu(data: bytes, pos: int, end: int) -> Pdu:
    """Decode the PDU at ``pos`` that must end exactly at ``end``."""
    if pos >= end:
        raise BerDecodeError("missing PDU")
    tag = data[pos]
    if tag & 0xE0 != 0xA0:  # noqa: PLR2004 - context-specific constructed
        raise BerDecodeError(f"not a PDU (tag 0x{tag:02x})")
    start, stop = _expect(data, pos, end, tag, "PDU")
    if stop != end:
        raise BerDecodeError("trailing bytes after the PDU")
    request_id, pos = _integer(data, start, stop, "request-id")
    error_status, pos = _integer(data, pos, stop, "error-status")
    error_index, pos = _integer(data, pos, stop, "error-index")
    return Pdu(tag, request_id, error_status, error_index, decode_varbinds(data, pos, stop))


def decode_message(data: bytes) -> Message:
    """Decode a whole v1/v2c message.

    Raises:
        BerDecodeError: anything malformed, truncated, or with trailing bytes.
    """
    start, stop = _expect(data, 0, len(data), SEQUENCE, "Message")
    if stop != len(data):
        raise BerDecodeError("trailing bytes after the message")
    version, pos = _integer(data, start, stop, "version")
    c_start, c_stop = _expect(data, pos, stop, OCTET_STRING, "community")
    return Message(version, data[c_start:c_stop], decode_pdu(data, c_stop, stop))


def peek_request_id(data: bytes) -> int | None:
    """Return a v1/v2c message's request-id without decoding the varbinds, None if unreadable."""
    try:
        start, stop = _expect(data, 0, len(data), SEQUENCE, "Message")
        _version, pos = _integer(data, start, stop, "version")
        _c_start, pos = _expect(data, pos, stop, OCTET_STRING, "community")
        p_start, _p_stop = _expect(data, pos, stop, data[pos] if pos < stop else 0, "PDU")
        request_id, _pos = _integer(data, p_start, stop, "request-id")
    except BerDecodeError:
        return None
    return request_id


# Shared with the SNMPv3 framing (``collectors._snmp.usm_message``).
expect = _expect
read_integer = _integer
