"""The SNMPv3 fast path: USM sessions over the shared UDP client (RFC 3412/3414/3826/7860).

One ``UsmSession`` per device and user: it discovers the agent's engine id, boots and time
with an empty noAuthNoPriv GET (RFC 3414 4), localises the keys once (cached), then sends
authenticated and encrypted GetBulk requests whose msgID equals the PDU request-id, so the
transport matches answers by msgID. Responses are verified (constant-time HMAC), checked
against the time window (RFC 3414 3.2.7), decrypted and decoded with ``collectors._snmp.ber``.
Reports become the same reasons as the pysnmp path; notInTimeWindow resynchronises and
unknownEngineID rediscovers, each retried once. pysnmp stays the fallback for what this
path does not speak (noAuthNoPriv v3, other protocols).
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from collectors._snmp import usm_crypto as crypto
from collectors._snmp.ber import (
    GET_BULK_REQUEST,
    GET_REQUEST,
    OCTET_STRING,
    REPORT,
    RESPONSE,
    BerDecodeError,
    Pdu,
    decode_oid,
    encode_oid_content,
    encode_pdu,
    encode_varbind_list,
    parse_oid,
    tlv,
)
from collectors._snmp.transport import TIMEOUT_REASON
from collectors._snmp.usm_message import (
    FLAG_AUTH,
    FLAG_PRIV,
    FLAG_REPORTABLE,
    INT31_MAX,
    decode_message,
    decode_scoped_pdu,
    encode_message,
    encode_scoped_pdu,
)
from collectors.errors import CollectorError
from collectors.model import SnmpAuth, SnmpVersion

if TYPE_CHECKING:
    from collections.abc import Callable

    from collectors._snmp.transport import Address, UdpClient

TIME_WINDOW: Final = 150  # seconds (RFC 3414 3.2.7.b)
V3_TIMEOUT: Final = "timeout"  # the pysnmp path's reason, kept identical
SYS_UPTIME_0: Final = encode_oid_content((1, 3, 6, 1, 2, 1, 1, 3, 0))
_USM_STATS: Final = "1.3.6.1.6.3.15.1.1."
REPORT_REASONS: Final = {
    encode_oid_content(parse_oid(_USM_STATS + suffix)): reason
    for suffix, reason in (
        ("1.0", "unsupported security level"),
        ("2.0", "not in time window"),
        ("3.0", "unknown user"),
        ("4.0", "unknown engine id"),
        ("5.0", "wrong digest (auth key)"),
        ("6.0", "decryption error (priv key)"),  # net-snmp drops instead: see _no_answer
    )
}
NOT_IN_TIME_WINDOW: Final = "not in time window"
UNKNOWN_ENGINE_ID: Final = "unknown engine id"
DECRYPTION_ERROR: Final = "decryption error (priv key)"
_SALTS: Final = itertools.count(int.from_bytes(os.urandom(8)))


class UsmError(CollectorError):
    """A v3 message that decodes but must not be trusted; the text is the poll reason."""


@dataclass(frozen=True, slots=True)
class UsmUser:
    """A v3 user the fast path can speak for: name, algorithms and passwords."""

    name: bytes
    auth: crypto.AuthAlgorithm
    auth_password: bytes
    priv: crypto.PrivAlgorithm | None
    priv_password: bytes


def fast_user(auth: SnmpAuth) -> UsmUser | None:
    """The fast-path user for ``auth``; None when pysnmp must handle it."""
    if auth.version is not SnmpVersion.V3 or auth.auth_protocol not in crypto.AUTH:
        return None
    if auth.priv_protocol and auth.priv_protocol not in crypto.PRIV:
        return None
    if not auth.auth_key or (auth.priv_protocol and not auth.priv_key):
        return None
    return UsmUser(
        auth.user.encode(),
        crypto.AUTH[auth.auth_protocol],
        auth.auth_key.encode(),
        crypto.PRIV[auth.priv_protocol] if auth.priv_protocol else None,
        auth.priv_key.encode(),
    )


def report_reason(pdu: Pdu) -> str:
    """The poll reason for a Report PDU (the pysnmp path's wording for usmStats)."""
    if not pdu.varbinds:
        return "snmp error: empty report"
    oid = pdu.varbinds[0][0]
    reason = REPORT_REASONS.get(oid)
    if reason is not None:
        return reason
    try:
        dotted = ".".join(map(str, decode_oid(oid)))
    except BerDecodeError:
        dotted = oid.hex()
    return f"snmp error: report {dotted}"


@dataclass(slots=True)
class _Engine:
    """What the agent told us about itself; times are seconds, ``synced`` is our clock."""

    engine_id: bytes
    boots: int
    time: int
    latest: int  # latestReceivedEngineTime
    synced: float
    auth_key: bytes = b""
    priv_key: bytes = b""


class UsmSession:
    """USM requests to one agent as one user, over the shared ``UdpClient``."""

    def __init__(
        self,
        udp: UdpClient,
        address: Address,
        user: UsmUser,
        *,
        wait: float,
        retries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure; discovery happens on the first request."""
        self._udp, self._address, self._user = udp, address, user
        self._wait, self._retries, self._clock = wait, retries, clock
        self._engine: _Engine | None = None
        self._level = FLAG_AUTH | (FLAG_PRIV if user.priv else 0)

    async def bulk(self, nonrep: list[bytes], reps: list[bytes], max_rep: int) -> Pdu | str:
        """One GetBulk; the Response, or the reason there is none (a ``BulkFn``)."""
        body = encode_varbind_list([*nonrep, *reps])
        return await self.request(GET_BULK_REQUEST, len(nonrep), max_rep, body)

    async def request(self, tag: int, field2: int, field3: int, body: bytes) -> Pdu | str:
        """Send one PDU at the user's level; resync or rediscover once on their reports."""
        reason = ""
        for attempt in range(2):
            engine = self._engine or await self._discover()
            if isinstance(engine, str):
                return engine
            pdu = await self._exchange(engine, tag, field2, field3, body, level=self._level)
            if isinstance(pdu, str):
                return await self._no_answer(engine, pdu)
            if pdu.tag == RESPONSE:
                return pdu
            reason = report_reason(pdu)
            if attempt == 0 and reason == UNKNOWN_ENGINE_ID:
                self._engine = None
                continue
            if attempt == 0 and reason == NOT_IN_TIME_WINDOW:
                continue  # an authenticated report has updated boots/time
            return reason
        return reason

    async def _no_answer(self, engine: _Engine, problem: str) -> str:
        """A timeout's reason; with privacy, an authNoPriv answer blames the priv key."""
        if problem != TIMEOUT_REASON:
            return problem
        if self._user.priv is None:
            return V3_TIMEOUT
        body = encode_varbind_list([SYS_UPTIME_0])
        probe = await self._exchange(engine, GET_REQUEST, 0, 0, body, level=FLAG_AUTH)
        if isinstance(probe, Pdu) and probe.tag == RESPONSE:
            return DECRYPTION_ERROR
        return V3_TIMEOUT

    async def _discover(self) -> _Engine | str:
        """Learn the engine id, boots and time from a usmStatsUnknownEngineIDs report."""
        found: list[_Engine] = []

        def build(msg_id: int) -> bytes:
            pdu = encode_pdu(GET_REQUEST, msg_id, 0, 0, encode_varbind_list([]))
            whole, _offset = encode_message(
                msg_id=msg_id, flags=FLAG_REPORTABLE, engine_id=b"", boots=0, time=0,
                user=b"", auth_size=0, priv_params=b"",
                msg_data=encode_scoped_pdu(b"", b"", pdu),
            )  # fmt: skip
            return whole

        def unwrap(data: bytes) -> Pdu:
            message = decode_message(data)
            if message.encrypted or not message.engine_id:
                raise BerDecodeError("discovery answer without an engine id")
            pdu = decode_scoped_pdu(message.data).pdu
            if pdu.tag != REPORT:
                raise BerDecodeError(f"discovery answered with PDU 0x{pdu.tag:02x}")
            found.append(
                _Engine(message.engine_id, message.boots, message.time, message.time, self._clock())
            )
            return pdu

        got = await self._udp.request(
            self._address, b"", build, wait=self._wait, retries=self._retries,
            version=3, unwrap=unwrap,
        )  # fmt: skip
        if isinstance(got, str):
            return V3_TIMEOUT if got == TIMEOUT_REASON else got
        engine = found[-1]
        user = self._user
        engine.auth_key = crypto.auth_key(user.auth_password, engine.engine_id, user.auth)
        if user.priv is not None:
            engine.priv_key = crypto.priv_key(
                user.priv_password, engine.engine_id, user.auth, user.priv
            )
        self._engine = engine
        return engine

    async def _exchange(
        self, engine: _Engine, tag: int, field2: int, field3: int, body: bytes, *, level: int
    ) -> Pdu | str:
        """Send one authenticated (maybe encrypted) PDU; the Response/Report or a reason."""

        def build(msg_id: int) -> bytes:
            return self._build(engine, level, encode_pdu(tag, msg_id, field2, field3, body), msg_id)

        def unwrap(data: bytes) -> Pdu:
            return self._unwrap(engine, level, data)

        return await self._udp.request(
            self._address, b"", build, wait=self._wait, retries=self._retries,
            version=3, unwrap=unwrap,
        )  # fmt: skip

    def _build(self, engine: _Engine, level: int, pdu: bytes, msg_id: int) -> bytes:
        """Encode, encrypt and sign one request (RFC 3414 3.1.1, RFC 3826 3.1.3)."""
        user = self._user
        boots = engine.boots
        now = min(INT31_MAX, engine.time + int(self._clock() - engine.synced))
        scoped = encode_scoped_pdu(engine.engine_id, b"", pdu)
        if level & FLAG_PRIV:
            salt = (next(_SALTS) % 2**64).to_bytes(8, "big")
            msg_data = tlv(OCTET_STRING, crypto.encrypt(engine.priv_key, boots, now, salt, scoped))
        else:
            salt, msg_data = b"", scoped
        whole, offset = encode_message(
            msg_id=msg_id, flags=level | FLAG_REPORTABLE, engine_id=engine.engine_id,
            boots=boots, time=now, user=user.name, auth_size=user.auth.digest_size,
            priv_params=salt, msg_data=msg_data,
        )  # fmt: skip
        mac = crypto.sign(engine.auth_key, user.auth, whole)
        return whole[:offset] + mac + whole[offset + len(mac) :]

    def _unwrap(self, engine: _Engine, level: int, data: bytes) -> Pdu:
        """Verify, time-check, decrypt and decode one answer (RFC 3414 3.2).

        Raises:
            BerDecodeError: malformed. UsmError: well-formed but not to be trusted.
        """
        message = decode_message(data)
        flags = message.flags & (FLAG_AUTH | FLAG_PRIV)
        if flags & FLAG_AUTH:
            self._authenticate(engine, message.auth_offset, message.auth_params, data)
            self._check_time(engine, message.engine_id, message.boots, message.time)
        if flags & FLAG_PRIV:
            if not flags & FLAG_AUTH or not message.encrypted:
                raise BerDecodeError("privacy flag without authentication or encryptedPDU")
            try:
                plain = crypto.decrypt(
                    engine.priv_key, message.boots, message.time, message.priv_params, message.data
                )
            except ValueError as exc:
                raise UsmError(f"decryption error: {exc}") from exc
            pdu = decode_scoped_pdu(plain, padded=True).pdu
        elif message.encrypted:
            raise BerDecodeError("encryptedPDU without the privacy flag")
        else:
            pdu = decode_scoped_pdu(message.data).pdu
        if pdu.tag == REPORT:
            return pdu  # reports may come at a lower level (unknown user, wrong digest)
        if pdu.tag != RESPONSE or flags != level or pdu.request_id != message.msg_id:
            raise BerDecodeError("response PDU type, security level or request-id not echoed")
        return pdu

    def _authenticate(self, engine: _Engine, offset: int, received: bytes, data: bytes) -> None:
        """Check the HMAC of an authenticated answer against our key."""
        auth = self._user.auth
        if len(received) != auth.digest_size:
            raise BerDecodeError("authentication parameters of the wrong size")
        zeroed = data[:offset] + bytes(auth.digest_size) + data[offset + auth.digest_size :]
        if not crypto.verify(engine.auth_key, auth, zeroed, received):
            raise UsmError("response failed authentication (wrong digest)")

    def _check_time(self, engine: _Engine, engine_id: bytes, boots: int, now: int) -> None:
        """RFC 3414 3.2.7 for a non-authoritative receiver: check, then update."""
        if engine_id != engine.engine_id:
            raise UsmError(UNKNOWN_ENGINE_ID)
        if (
            boots == INT31_MAX
            or boots < engine.boots
            or (boots == engine.boots and now < engine.latest - TIME_WINDOW)
        ):
            self._engine = None  # rediscover on the next request
            raise UsmError(NOT_IN_TIME_WINDOW)
        if boots > engine.boots or now > engine.latest:
            engine.boots, engine.time, engine.latest = boots, now, now
            engine.synced = self._clock()
