"""SNMPv3 message framing for the fast path (RFC 3412 6, RFC 3414 2.4): BER in, BER out.

Builds ``SNMPv3Message`` requests around a ScopedPDU (plaintext or an encryptedPDU) and
reads responses down to the msgData, keeping the offset of msgAuthenticationParameters so
the digest is checked without searching for it. Crypto is in ``collectors._snmp.usm_crypto``;
the PDU codec is ``collectors._snmp.ber``. Proven equal to pysnmp's ASN.1 specs by
``tests/unit/test_usm_message.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from collectors._snmp.ber import (
    INTEGER,
    OCTET_STRING,
    SEQUENCE,
    BerDecodeError,
    Pdu,
    decode_pdu,
    encode_integer,
    expect,
    read_integer,
    tlv,
)

VERSION_3: Final = 3
USM: Final = 3  # msgSecurityModel
MAX_SIZE: Final = 65507  # msgMaxSize we announce (largest UDP/IPv4 payload)
INT31_MAX: Final = 2**31 - 1
FLAG_AUTH: Final = 0x01
FLAG_PRIV: Final = 0x02
FLAG_REPORTABLE: Final = 0x04
MIN_MAX_SIZE: Final = 484  # RFC 3412: msgMaxSize (484..2147483647)


@dataclass(frozen=True, slots=True)
class V3Message:
    """A decoded SNMPv3 message down to msgData (not yet verified or decrypted)."""

    msg_id: int
    flags: int
    engine_id: bytes
    boots: int
    time: int
    user: bytes
    auth_params: bytes
    auth_offset: int  # index of the auth params' content in the whole message
    priv_params: bytes
    encrypted: bool  # msgData is an encryptedPDU (else a plaintext ScopedPDU)
    data: bytes  # the encryptedPDU content, or the whole plaintext ScopedPDU TLV


@dataclass(frozen=True, slots=True)
class ScopedPdu:
    """A decoded ScopedPDU: context engine id, context name, PDU."""

    context_engine_id: bytes
    context_name: bytes
    pdu: Pdu


def encode_scoped_pdu(context_engine_id: bytes, context_name: bytes, pdu: bytes) -> bytes:
    """Return a ScopedPDU around an encoded PDU."""
    context = tlv(OCTET_STRING, context_engine_id) + tlv(OCTET_STRING, context_name)
    return tlv(SEQUENCE, context + pdu)


def encode_message(
    *,
    msg_id: int,
    flags: int,
    engine_id: bytes,
    boots: int,
    time: int,
    user: bytes,
    auth_size: int,
    priv_params: bytes,
    msg_data: bytes,
) -> tuple[bytes, int]:
    """Return (whole message with ``auth_size`` zero auth octets, offset of those octets).

    ``msg_data`` is an encoded ScopedPDU, or ``tlv(OCTET_STRING, encrypted)``.
    """
    tail = tlv(OCTET_STRING, priv_params)
    security = tlv(
        SEQUENCE,
        tlv(OCTET_STRING, engine_id)
        + encode_integer(boots)
        + encode_integer(time)
        + tlv(OCTET_STRING, user)
        + tlv(OCTET_STRING, bytes(auth_size))
        + tail,
    )
    header = tlv(
        SEQUENCE,
        encode_integer(msg_id)
        + encode_integer(MAX_SIZE)
        + tlv(OCTET_STRING, bytes((flags,)))
        + encode_integer(USM),
    )
    whole = tlv(
        SEQUENCE, encode_integer(VERSION_3) + header + tlv(OCTET_STRING, security) + msg_data
    )
    return whole, len(whole) - len(msg_data) - len(tail) - auth_size


def _bounded(data: bytes, pos: int, end: int, what: str, low: int = 0) -> tuple[int, int]:
    """Read an INTEGER that must lie in ``low``..2**31-1."""
    value, pos = read_integer(data, pos, end, what)
    if not low <= value <= INT31_MAX:
        raise BerDecodeError(f"{what} out of range")
    return value, pos


def _octets(data: bytes, pos: int, end: int, what: str) -> tuple[bytes, int]:
    """Read an OCTET STRING; return (content, next position)."""
    start, stop = expect(data, pos, end, OCTET_STRING, what)
    return data[start:stop], stop


def peek_msg_id(data: bytes) -> int | None:
    """Return the msgID of an SNMPv3 message, None if ``data`` does not start like one."""
    try:
        start, stop = expect(data, 0, len(data), SEQUENCE, "Message")
        version, pos = read_integer(data, start, stop, "msgVersion")
        if version != VERSION_3:
            return None
        g_start, g_stop = expect(data, pos, stop, SEQUENCE, "msgGlobalData")
        msg_id, _pos = read_integer(data, g_start, g_stop, "msgID")
    except BerDecodeError:
        return None
    return msg_id


def is_v3(data: bytes) -> bool:
    """True when ``data`` starts with a SEQUENCE and msgVersion 3 (cheap header check)."""
    try:
        start, stop = expect(data, 0, len(data), SEQUENCE, "Message")
        return data[start] == INTEGER and read_integer(data, start, stop, "v")[0] == VERSION_3
    except (BerDecodeError, IndexError):
        return False


def decode_message(data: bytes) -> V3Message:
    """Decode an SNMPv3 message with USM security parameters, down to msgData.

    Raises:
        BerDecodeError: anything malformed, truncated, out of range or trailing.
    """
    start, stop = expect(data, 0, len(data), SEQUENCE, "Message")
    if stop != len(data):
        raise BerDecodeError("trailing bytes after the message")
    version, pos = read_integer(data, start, stop, "msgVersion")
    if version != VERSION_3:
        raise BerDecodeError(f"msgVersion {version} is not 3")
    g_start, g_stop = expect(data, pos, stop, SEQUENCE, "msgGlobalData")
    msg_id, g_pos = _bounded(data, g_start, g_stop, "msgID")
    _max, g_pos = _bounded(data, g_pos, g_stop, "msgMaxSize", MIN_MAX_SIZE)
    flags, g_pos = _octets(data, g_pos, g_stop, "msgFlags")
    model, g_pos = read_integer(data, g_pos, g_stop, "msgSecurityModel")
    if len(flags) != 1 or g_pos != g_stop:
        raise BerDecodeError("malformed msgGlobalData")
    if model != USM:
        raise BerDecodeError(f"security model {model} is not USM")
    s_start, s_stop = expect(data, g_stop, stop, OCTET_STRING, "msgSecurityParameters")
    u_start, u_stop = expect(data, s_start, s_stop, SEQUENCE, "UsmSecurityParameters")
    if u_stop != s_stop:
        raise BerDecodeError("trailing bytes after UsmSecurityParameters")
    engine_id, u_pos = _octets(data, u_start, u_stop, "msgAuthoritativeEngineID")
    boots, u_pos = _bounded(data, u_pos, u_stop, "msgAuthoritativeEngineBoots")
    time, u_pos = _bounded(data, u_pos, u_stop, "msgAuthoritativeEngineTime")
    user, u_pos = _octets(data, u_pos, u_stop, "msgUserName")
    a_start, a_stop = expect(data, u_pos, u_stop, OCTET_STRING, "msgAuthenticationParameters")
    priv_params, u_pos = _octets(data, a_stop, u_stop, "msgPrivacyParameters")
    if u_pos != u_stop or len(engine_id) > 32 or len(user) > 32:  # noqa: PLR2004 - RFC 3414
        raise BerDecodeError("malformed UsmSecurityParameters")
    if s_stop >= stop:
        raise BerDecodeError("missing msgData")
    encrypted = data[s_stop] == OCTET_STRING
    if encrypted:
        d_start, d_stop = expect(data, s_stop, stop, OCTET_STRING, "encryptedPDU")
        body = data[d_start:d_stop]
    else:
        _d_start, d_stop = expect(data, s_stop, stop, SEQUENCE, "ScopedPDU")
        body = data[s_stop:d_stop]
    if d_stop != stop:
        raise BerDecodeError("trailing bytes after msgData")
    return V3Message(
        msg_id, flags[0], engine_id, boots, time, user, data[a_start:a_stop], a_start,
        priv_params, encrypted, body,
    )  # fmt: skip


def decode_scoped_pdu(data: bytes, *, padded: bool = False) -> ScopedPdu:
    """Decode a ScopedPDU TLV; ``padded`` allows bytes after it (decrypted data).

    Raises:
        BerDecodeError: anything malformed or truncated.
    """
    start, stop = expect(data, 0, len(data), SEQUENCE, "ScopedPDU")
    if stop != len(data) and not padded:
        raise BerDecodeError("trailing bytes after the ScopedPDU")
    engine_id, pos = _octets(data, start, stop, "contextEngineID")
    name, pos = _octets(data, pos, stop, "contextName")
    return ScopedPdu(engine_id, name, decode_pdu(data, pos, stop))
