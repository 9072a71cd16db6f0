"""The general path: GetBulk through one pysnmp 7 SnmpEngine (v3 USM, discovery, keys).

pysnmp does engine-id discovery, time synchronisation and key localisation once per
device; its results are translated to the fast path's ``Pdu`` shape so that one walker
serves both. Raw OIDs only, ``lookupMib=False``: no MIB resolution here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    usmAesBlumenthalCfb256Protocol,
    usmAesCfb128Protocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMACSHAAuthProtocol,
    usmNoAuthProtocol,
    usmNoPrivProtocol,
)
from pysnmp.proto import errind

from collectors._snmp.ber import RESPONSE, Pdu, Varbind, decode_oid, encode_oid_content
from collectors._snmp.transport import TIMEOUT_REASON
from collectors.errors import CollectorError
from collectors.model import SnmpAuth, SnmpTarget, SnmpVersion

if TYPE_CHECKING:
    from collections.abc import Sequence

SYS_UPTIME: Final = (1, 3, 6, 1, 2, 1, 1, 3, 0)
AUTH_PROTOCOLS: Final[dict[str, Any]] = {
    "": usmNoAuthProtocol,
    "sha": usmHMACSHAAuthProtocol,
    "sha256": usmHMAC192SHA256AuthProtocol,
}
# net-snmp's AES-256 is the Blumenthal draft (key extension by chained hashing); with a
# SHA-256 auth key it equals Cisco's "AES-256-C" since no extension is needed.
PRIV_PROTOCOLS: Final[dict[str, Any]] = {
    "": usmNoPrivProtocol,
    "aes128": usmAesCfb128Protocol,
    "aes256": usmAesBlumenthalCfb256Protocol,
}
# pysnmp error indications -> the SnmpPoll reasons of issue 4.
REASONS: Final[tuple[tuple[type[Exception], str], ...]] = (
    (errind.RequestTimedOut, "timeout"),
    (errind.UnknownUserName, "unknown user"),
    (errind.WrongDigest, "wrong digest (auth key)"),
    (errind.DecryptionError, "decryption error (priv key)"),
    (errind.UnsupportedSecurityLevel, "unsupported security level"),
    (errind.NotInTimeWindow, "not in time window"),
    (errind.UnknownEngineID, "unknown engine id"),
)


def reason_for(indication: object) -> str:
    """Translate a pysnmp error indication into a poll reason."""
    for kind, reason in REASONS:
        if isinstance(indication, kind):
            return reason
    return f"snmp error: {indication}"


def auth_data(auth: SnmpAuth) -> Any:
    """Build pysnmp's CommunityData / UsmUserData for ``auth``.

    Raises:
        CollectorError: an unknown protocol name, or priv without auth.
    """
    if auth.version is SnmpVersion.V2C:
        return CommunityData(auth.community, mpModel=1)  # noqa: S508 - v2c devices exist
    if auth.auth_protocol not in AUTH_PROTOCOLS or auth.priv_protocol not in PRIV_PROTOCOLS:
        raise CollectorError(
            f"unsupported v3 protocols {auth.auth_protocol!r}/{auth.priv_protocol!r} "
            f"(known: {sorted(AUTH_PROTOCOLS)} / {sorted(PRIV_PROTOCOLS)})"
        )
    if auth.priv_protocol and not auth.auth_protocol:
        raise CollectorError("SNMPv3 privacy needs authentication (priv without auth)")
    return UsmUserData(
        auth.user,
        authKey=auth.auth_key or None,
        privKey=auth.priv_key or None,
        authProtocol=AUTH_PROTOCOLS[auth.auth_protocol],
        privProtocol=PRIV_PROTOCOLS[auth.priv_protocol],
    )


def to_varbind(oid: Any, value: Any) -> Varbind:
    """Convert a pysnmp (ObjectName, value) pair to the fast path's varbind tuple."""
    tag = value.tagSet[-1]
    tag_octet = tag.tagClass | tag.tagFormat | tag.tagId
    python: int | bytes | tuple[int, ...] | None
    if tag_octet in (0x05, 0x80, 0x81, 0x82):  # NULL and the v2 exceptions
        python = None
    elif tag_octet == 0x06:  # noqa: PLR2004 - OBJECT IDENTIFIER
        python = tuple(value)
    elif tag_octet in (0x04, 0x40, 0x44):  # OCTET STRING, IpAddress, Opaque
        python = bytes(value)
    else:
        python = int(value)
    return encode_oid_content(tuple(oid)), tag_octet, python


def open_engine() -> EngineSession:
    """A started session: what ``SnmpCollector(general=open_engine)`` opens on first need."""
    session = EngineSession()
    session.start()
    return session


class EngineSession:
    """One pysnmp SnmpEngine for the process, and the per-device objects it needs."""

    def __init__(self) -> None:
        """Configure; the engine is created by ``start``."""
        self._engine: Any = None
        self._diagnose_engine: Any = None
        self._auth: dict[SnmpAuth, Any] = {}
        self._transports: dict[tuple[str, int, float, int], Any] = {}

    def start(self) -> None:
        """Create the engine (once)."""
        if self._engine is None:
            self._engine = SnmpEngine()

    def close(self) -> None:
        """Close the engine's dispatcher and forget per-device objects."""
        for engine in (self._engine, self._diagnose_engine):
            if engine is not None:
                engine.close_dispatcher()
        self._engine = self._diagnose_engine = None
        self._auth.clear()
        self._transports.clear()

    async def bulk(
        self,
        target: SnmpTarget,
        nonrep: Sequence[bytes],
        reps: Sequence[bytes],
        max_rep: int,
    ) -> Pdu | str:
        """One GetBulk through pysnmp; the Response as a ``Pdu``, or why there is none."""
        if self._engine is None:
            raise CollectorError("SNMP engine is not started")
        auth = self._auth.get(target.auth)
        if auth is None:
            auth = self._auth[target.auth] = auth_data(target.auth)
        transport = await self._transport(target)
        if isinstance(transport, str):
            return transport
        oids = [ObjectType(ObjectIdentity(decode_oid(oid))) for oid in (*nonrep, *reps)]
        try:
            indication, status, index, varbinds = await bulk_cmd(
                self._engine,
                auth,
                transport,
                ContextData(),
                len(nonrep),
                max_rep,
                *oids,
                lookupMib=False,
            )
        except PySnmpError as exc:  # raised synchronously for local USM/config problems
            return f"snmp error: {exc}"
        if indication:
            return await self._failure(target, transport, indication)
        converted = [to_varbind(name, value) for name, value in varbinds]
        return Pdu(RESPONSE, 0, int(status), int(index), converted)

    async def _failure(self, target: SnmpTarget, transport: Any, indication: object) -> str:
        """The reason for a failed request; a v3 timeout is checked for a wrong priv key."""
        reason = reason_for(indication)
        if reason != "timeout":
            return reason
        if target.auth.version is SnmpVersion.V2C:
            return TIMEOUT_REASON
        if target.auth.priv_protocol and await self._answers_without_priv(target, transport):
            return "decryption error (priv key)"
        return reason

    async def _answers_without_priv(self, target: SnmpTarget, transport: Any) -> bool:
        """True when the agent answers the same user at authNoPriv (auth key verified).

        net-snmp drops an authPriv request it cannot decrypt without a Report, so a wrong
        priv key looks like a timeout; an authenticated answer (even authorizationError
        from VACM) proves the agent is alive and the auth key right: the priv key is wrong.
        pysnmp keys users by name, so the probe runs on a second engine, made on first need,
        to leave the real user's authPriv entry untouched.
        """
        auth = target.auth
        probe = UsmUserData(
            auth.user, authKey=auth.auth_key, authProtocol=AUTH_PROTOCOLS[auth.auth_protocol]
        )
        if self._diagnose_engine is None:
            self._diagnose_engine = SnmpEngine()
        try:
            indication, _status, _index, _varbinds = await get_cmd(
                self._diagnose_engine,
                probe,
                transport,
                ContextData(),
                ObjectType(ObjectIdentity(SYS_UPTIME)),
                lookupMib=False,
            )
        except PySnmpError:
            return False
        return not indication

    async def _transport(self, target: SnmpTarget) -> Any:
        """The pysnmp UDP target for a device (address resolved once)."""
        key = (target.address, target.port, target.timeout, target.retries)
        transport = self._transports.get(key)
        if transport is None:
            try:
                transport = await UdpTransportTarget.create(
                    (target.address, target.port), timeout=target.timeout, retries=target.retries
                )
            except (OSError, PySnmpError) as exc:  # pysnmp wraps resolver errors
                return f"cannot resolve {target.address!r}: {exc}"
            self._transports[key] = transport
        return transport
