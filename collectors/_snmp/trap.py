"""Notification PDUs for the trap receiver: v1 Trap, v2c SNMPv2-Trap/InformRequest, v3 USM.

Pure codec on top of :mod:`collectors._snmp.ber` and :mod:`collectors._snmp.usm_message`:

* v1 Trap-PDUs are translated to the v2 form (RFC 3584 3.1: snmpTrapOID from the generic or
  enterprise-specific trap, sysUpTime from the time-stamp);
* an InformRequest gets its Response (same request-id and varbinds, RFC 3416 4.2.7);
* v3 notifications are sent by the authoritative engine (the device), so keys are localised
  to the message's own engine id; the HMAC is checked, the time window is checked against
  what that engine said before (RFC 3414 3.2.7, a small per-engine cache), then decrypted.

Malformed input raises :class:`BerDecodeError`; well-formed but untrusted input raises
:class:`UsmError` with the reason. Proven against pysnmp and net-snmp's ``snmptrap`` by
``tests/unit/test_trap_codec.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from collectors._snmp import usm_crypto as crypto
from collectors._snmp.ber import (
    IP_ADDRESS,
    OBJECT_IDENTIFIER,
    RESPONSE,
    SEQUENCE,
    TIMETICKS,
    BerDecodeError,
    Pdu,
    Varbind,
    decode_message,
    decode_oid,
    decode_pdu,
    decode_varbinds,
    encode_message,
    encode_oid_content,
    encode_pdu,
    expect,
    read_integer,
)
from collectors._snmp.usm import TIME_WINDOW, UsmError, UsmUser
from collectors._snmp.usm_message import (
    FLAG_AUTH,
    FLAG_PRIV,
    INT31_MAX,
    ScopedPdu,
    V3Message,
    decode_scoped_pdu,
)
from collectors._snmp.usm_message import decode_message as decode_v3

TRAP_V1: Final = 0xA4
INFORM: Final = 0xA6
TRAP_V2: Final = 0xA7
SYS_UPTIME_0: Final = encode_oid_content((1, 3, 6, 1, 2, 1, 1, 3, 0))
SNMP_TRAP_OID_0: Final = encode_oid_content((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0))
SNMP_TRAPS: Final = (1, 3, 6, 1, 6, 3, 1, 1, 5)  # coldStart.1 ... authenticationFailure.5
_V1_GENERIC_MAX: Final = 6  # enterpriseSpecific
_CACHE_LIMIT: Final = 4096  # engines remembered for the time window


@dataclass(frozen=True, slots=True)
class Notification:
    """A trap or inform, in the v2 shape whatever version carried it."""

    version: int  # 0 (v1), 1 (v2c), 3
    inform: bool
    principal: bytes  # community (v1/v2c) or USM user name (v3)
    trap_oid: tuple[int, ...]
    uptime: int | None  # hundredths of a second, as the sender said
    varbinds: tuple[Varbind, ...]  # the payload, without sysUpTime.0 and snmpTrapOID.0
    request_id: int = 0
    agent_address: str = ""  # v1 agent-addr


def _v1_trap_oid(enterprise: tuple[int, ...], generic: int, specific: int) -> tuple[int, ...]:
    """RFC 3584 3.1.2: the snmpTrapOID of a v1 trap."""
    if 0 <= generic < _V1_GENERIC_MAX:
        return (*SNMP_TRAPS, generic + 1)
    if generic == _V1_GENERIC_MAX:
        return (*enterprise, 0, specific)
    raise BerDecodeError(f"generic-trap {generic} out of range")


def _decode_v1_pdu(data: bytes, pos: int, end: int) -> tuple[tuple[int, ...], str, int, Pdu]:
    """The Trap-PDU at ``pos``: (trap oid, agent-addr, time-stamp, varbinds as a Pdu)."""
    start, stop = expect(data, pos, end, TRAP_V1, "Trap-PDU")
    if stop != end:
        raise BerDecodeError("trailing bytes after the Trap-PDU")
    e_start, e_stop = expect(data, start, stop, OBJECT_IDENTIFIER, "enterprise")
    enterprise = decode_oid(data[e_start:e_stop])
    a_start, a_stop = expect(data, e_stop, stop, IP_ADDRESS, "agent-addr")
    if a_stop - a_start != 4:  # noqa: PLR2004 - IPv4
        raise BerDecodeError("agent-addr is not 4 octets")
    address = ".".join(str(b) for b in data[a_start:a_stop])
    generic, p = read_integer(data, a_stop, stop, "generic-trap")
    specific, p = read_integer(data, p, stop, "specific-trap")
    t_start, t_stop = expect(data, p, stop, TIMETICKS, "time-stamp")
    stamp = int.from_bytes(data[t_start:t_stop], "big") if t_stop > t_start else 0
    pdu = Pdu(TRAP_V1, 0, 0, 0, decode_varbinds(data, t_stop, stop))
    return _v1_trap_oid(enterprise, generic, specific), address, stamp, pdu


def _from_v2_pdu(version: int, principal: bytes, pdu: Pdu) -> Notification:
    """A v2 notification PDU: sysUpTime.0 and snmpTrapOID.0 first (RFC 3416 4.2.6)."""
    if pdu.tag not in (TRAP_V2, INFORM):
        raise BerDecodeError(f"not a notification PDU (tag 0x{pdu.tag:02x})")
    binds = pdu.varbinds
    if len(binds) < 2 or binds[0][0] != SYS_UPTIME_0 or binds[1][0] != SNMP_TRAP_OID_0:  # noqa: PLR2004
        raise BerDecodeError("notification without sysUpTime.0 and snmpTrapOID.0 first")
    uptime, trap_oid = binds[0][2], binds[1][2]
    if not isinstance(uptime, int) or not isinstance(trap_oid, tuple):
        raise BerDecodeError("sysUpTime.0 or snmpTrapOID.0 of the wrong type")
    return Notification(
        version, pdu.tag == INFORM, principal, trap_oid, uptime, tuple(binds[2:]), pdu.request_id
    )


def decode_community(data: bytes) -> Notification:
    """Decode a v1 or v2c notification.

    Raises:
        BerDecodeError: malformed, or not a notification.
    """
    start, stop = expect(data, 0, len(data), SEQUENCE, "Message")
    if stop != len(data):
        raise BerDecodeError("trailing bytes after the message")
    version, pos = read_integer(data, start, stop, "version")
    c_start, c_stop = expect(data, pos, stop, 0x04, "community")
    community = data[c_start:c_stop]
    if version == 0:
        trap_oid, address, stamp, pdu = _decode_v1_pdu(data, c_stop, stop)
        return Notification(0, False, community, trap_oid, stamp, tuple(pdu.varbinds), 0, address)
    if version != 1:
        raise BerDecodeError(f"version {version} is not v1 or v2c")
    return _from_v2_pdu(1, community, decode_pdu(data, c_stop, stop))


def inform_response(data: bytes) -> bytes:
    """The Response to a v2c InformRequest ``data`` (same request-id, same varbinds)."""
    message = decode_message(data)
    pdu = message.pdu
    start = _varbind_list_start(data)
    body = data[start:]
    return encode_message(
        message.community, encode_pdu(RESPONSE, pdu.request_id, 0, 0, body), message.version
    )


def _varbind_list_start(data: bytes) -> int:
    """Offset of the VarBindList inside a v2c message (after request-id and error fields)."""
    start, stop = expect(data, 0, len(data), SEQUENCE, "Message")
    _v, pos = read_integer(data, start, stop, "version")
    _c, pos = expect(data, pos, stop, 0x04, "community")
    p_start, _p = expect(data, pos, stop, data[pos], "PDU")
    _r, pos = read_integer(data, p_start, stop, "request-id")
    _s, pos = read_integer(data, pos, stop, "error-status")
    _i, pos = read_integer(data, pos, stop, "error-index")
    return pos


@dataclass(slots=True)
class _Clock:
    boots: int
    latest: int


@dataclass(slots=True)
class V3Receiver:
    """Checks v3 notifications from authoritative engines and remembers their clocks."""

    engines: dict[bytes, _Clock] = field(default_factory=dict)

    def decode(self, data: bytes, user: UsmUser | None) -> Notification:
        """Verify, time-check, decrypt and decode one v3 notification for ``user``.

        Raises:
            BerDecodeError: malformed. UsmError: the reason it is not trusted.
        """
        message = decode_v3(data)
        if user is None or message.user != user.name:
            raise UsmError(f"unknown user {message.user.decode('utf-8', 'replace')!r}")
        self._authenticate(message, data, user)
        self._check_time(message.engine_id, message.boots, message.time)
        scoped = self._scoped(message, user)
        if scoped.pdu.tag == INFORM:
            raise UsmError("v3 InformRequest is not answered (use v3 traps or v2c informs)")
        return _from_v2_pdu(3, message.user, scoped.pdu)

    @staticmethod
    def _authenticate(message: V3Message, data: bytes, user: UsmUser) -> None:
        """The message must be authenticated with the user's key localised to its engine."""
        if not message.flags & FLAG_AUTH:
            raise UsmError("unsupported security level (noAuthNoPriv)")
        if not message.engine_id:
            raise UsmError("unknown engine id (empty)")
        key = crypto.auth_key(user.auth_password, message.engine_id, user.auth)
        size = user.auth.digest_size
        if len(message.auth_params) != size:
            raise UsmError("wrong digest (auth key): authentication parameters of the wrong size")
        off = message.auth_offset
        zeroed = data[:off] + bytes(size) + data[off + size :]
        if not crypto.verify(key, user.auth, zeroed, message.auth_params):
            raise UsmError("wrong digest (auth key)")

    @staticmethod
    def _scoped(message: V3Message, user: UsmUser) -> ScopedPdu:
        """The ScopedPDU, decrypted when the privacy flag is set."""
        if not message.flags & FLAG_PRIV:
            if message.encrypted:
                raise BerDecodeError("encryptedPDU without the privacy flag")
            return decode_scoped_pdu(message.data)
        if user.priv is None or not message.encrypted:
            raise UsmError("unsupported security level (privacy)")
        pkey = crypto.priv_key(user.priv_password, message.engine_id, user.auth, user.priv)
        try:
            plain = crypto.decrypt(
                pkey, message.boots, message.time, message.priv_params, message.data
            )
            return decode_scoped_pdu(plain, padded=True)
        except (ValueError, BerDecodeError) as exc:
            raise UsmError(f"decryption error (priv key): {exc}") from exc

    def _check_time(self, engine_id: bytes, boots: int, now: int) -> None:
        """RFC 3414 3.2.7 as a non-authoritative receiver: refuse replays, learn newer clocks."""
        known = self.engines.get(engine_id)
        if known is not None and (
            boots == INT31_MAX
            or boots < known.boots
            or (boots == known.boots and now < known.latest - TIME_WINDOW)
        ):
            raise UsmError("not in time window")
        if known is None:
            if len(self.engines) >= _CACHE_LIMIT:
                self.engines.pop(next(iter(self.engines)))
            self.engines[engine_id] = _Clock(boots, now)
        elif boots > known.boots or now > known.latest:
            known.boots, known.latest = boots, now


def oid_text(oid: bytes | tuple[int, ...]) -> str:
    """Dotted text of an OID (content octets or arcs)."""
    arcs = decode_oid(oid) if isinstance(oid, bytes) else oid
    return ".".join(map(str, arcs))
