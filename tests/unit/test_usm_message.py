"""The v3 fast path equals pysnmp: its requests open with pysnmp's ASN.1 specs and USM
services, pysnmp-built answers open on the fast path to the same PDU, any tampered byte
fails, and discovery, resync and reports work against a pysnmp-powered fake agent."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.hlapi.v3arch import asyncio as _hlapi  # noqa: F401 - pysnmp's import order
from pysnmp.proto import api, rfc1902
from pysnmp.proto.mpmod.rfc3412 import ScopedPDU, SNMPv3Message
from pysnmp.proto.secmod.eso.priv.aes256 import AesBlumenthal256
from pysnmp.proto.secmod.rfc3414.auth.hmacsha import HmacSha
from pysnmp.proto.secmod.rfc3414.service import UsmSecurityParameters
from pysnmp.proto.secmod.rfc3826.priv.aes import Aes
from pysnmp.proto.secmod.rfc7860.auth.hmacsha2 import HmacSha2

from collectors._snmp import ber as _ber
from collectors._snmp import usm_crypto as crypto
from collectors._snmp.engine import to_varbind
from collectors._snmp.transport import TIMEOUT_REASON, RequestTable
from collectors._snmp.usm import UsmSession, UsmUser, _Engine
from collectors.errors import CollectorError
from tests.unit.test_snmp_codec import varbinds

pytestmark = pytest.mark.unit

P2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
ENGINE = bytes.fromhex("80001f88806c6f6f706261636b")
USERS = {  # (auth, priv) combinations the fast path speaks
    "shaaes": ("sha", "aes128"),
    "sha256aes256": ("sha256", "aes256"),
    "shaaes256": ("sha", "aes256"),  # Blumenthal key extension matters here
    "authonly": ("sha", ""),
}
ADDRESS = ("127.0.0.1", 161)


def user(name: str, akey: bytes = b"authpass12345", pkey: bytes = b"privpass12345") -> UsmUser:
    auth, priv = USERS[name]
    return UsmUser(
        name.encode(), crypto.AUTH[auth], akey, crypto.PRIV[priv] if priv else None, pkey
    )


def auth_service(u: UsmUser):  # type: ignore[no-untyped-def]
    return HmacSha() if u.auth.name == "sha" else HmacSha2(HmacSha2.SHA256_SERVICE_ID)


def priv_service(u: UsmUser):  # type: ignore[no-untyped-def]
    assert u.priv is not None
    return Aes() if u.priv.name == "aes128" else AesBlumenthal256()


def keys(u: UsmUser, engine_id: bytes = ENGINE) -> tuple[bytes, bytes]:
    ak = crypto.auth_key(u.auth_password, engine_id, u.auth)
    pk = crypto.priv_key(u.priv_password, engine_id, u.auth, u.priv) if u.priv else b""
    return ak, pk


def session(u: UsmUser, udp: object = None, now: float = 0.0) -> tuple[UsmSession, _Engine]:
    s = UsmSession(udp, ADDRESS, u, wait=1.0, retries=0, clock=lambda: now)  # type: ignore[arg-type]
    ak, pk = keys(u)
    engine = _Engine(ENGINE, 7, 1000, 1000, 0.0, ak, pk)
    s._engine = engine
    return s, engine


def pysnmp_pdu(kind, request_id: int, vbs):  # type: ignore[no-untyped-def]
    pdu = kind()
    P2C.apiPDU.set_defaults(pdu)
    P2C.apiPDU.set_request_id(pdu, request_id)
    P2C.apiPDU.set_varbinds(pdu, vbs)
    return pdu


def pysnmp_v3(  # type: ignore[no-untyped-def]
    u: UsmUser, pdu, *, msg_id: int, flags: int, boots: int = 7, time: int = 1000,
    engine_id: bytes = ENGINE, user_name: bytes | None = None,
) -> bytes:  # fmt: skip
    """An SNMPv3 message built and protected by pysnmp's own ASN.1 and USM services."""
    ak, pk = keys(u, engine_id)
    scoped = ScopedPDU()
    scoped.setComponentByPosition(0, engine_id)
    scoped.setComponentByPosition(1, b"")
    scoped.setComponentByPosition(2)
    scoped.getComponentByPosition(2).setComponentByType(
        pdu.tagSet, pdu, verifyConstraints=False, matchTags=False, matchConstraints=False
    )
    salt = b""
    msg = SNMPv3Message()
    msg.setComponentByPosition(0, 3)
    header = msg.setComponentByPosition(1).getComponentByPosition(1)
    for pos, value in enumerate((msg_id, 65507, bytes((flags,)), 3)):
        header.setComponentByPosition(pos, value)
    if flags & 2:
        cipher, salt = priv_service(u).encrypt_data(
            univ.OctetString(pk), (boots, time, None), encoder.encode(scoped)
        )
        msg.setComponentByPosition(3).getComponentByPosition(3).setComponentByPosition(1, cipher)
    else:
        msg.setComponentByPosition(3).getComponentByPosition(3).setComponentByPosition(0, scoped)
    params = UsmSecurityParameters()
    size = u.auth.digest_size if flags & 1 else 0
    for pos, value in enumerate(
        (engine_id, boots, time, u.name if user_name is None else user_name, bytes(size), salt)
    ):
        params.setComponentByPosition(pos, value)
    msg.setComponentByPosition(2, encoder.encode(params))
    whole = encoder.encode(msg)
    if flags & 1:
        whole = auth_service(u).authenticate_outgoing_message(univ.OctetString(ak), whole)
    return bytes(whole)


def pysnmp_open(u: UsmUser, data: bytes):  # type: ignore[no-untyped-def]
    """Verify and decrypt a fast-path request with pysnmp; return (header, params, PDU)."""
    ak, pk = keys(u)
    msg, rest = decoder.decode(data, asn1Spec=SNMPv3Message())
    assert rest == b""
    params, _ = decoder.decode(bytes(msg[2]), asn1Spec=UsmSecurityParameters())
    flags = bytes(msg[1][2])[0]
    if flags & 1:  # raises StatusInformation on a wrong digest
        auth_service(u).authenticate_incoming_message(univ.OctetString(ak), params[4], data)
    if flags & 2:
        plain = priv_service(u).decrypt_data(
            univ.OctetString(pk), (params[1], params[2], params[5]), msg[3][1]
        )
        scoped, _ = decoder.decode(bytes(plain), asn1Spec=ScopedPDU())
    else:
        scoped = msg[3][0]
    return msg[1], params, scoped[2].getComponent()


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    name=st.sampled_from(sorted(USERS)),
    msg_id=st.integers(0, 2**31 - 1),
    non_repeaters=st.integers(0, 10),
    max_repetitions=st.integers(0, 200),
    oids=st.lists(varbinds().map(lambda v: v[0]), min_size=1, max_size=20),
    elapsed=st.floats(0, 10_000),
)
def test_fast_requests_verify_and_decrypt_with_pysnmp(  # noqa: PLR0917 - hypothesis
    name, msg_id, non_repeaters, max_repetitions, oids, elapsed
):
    u = user(name)
    s, engine = session(u, now=elapsed)
    body = _ber.encode_varbind_list([_ber.encode_oid_content(o) for o in oids])
    pdu = _ber.encode_pdu(_ber.GET_BULK_REQUEST, msg_id, non_repeaters, max_repetitions, body)
    level = 1 | (2 if u.priv else 0)
    data = s._build(engine, level, pdu, msg_id)
    header, params, theirs = pysnmp_open(u, data)
    assert (int(header[0]), bytes(header[2])[0], int(header[3])) == (msg_id, level | 4, 3)
    assert (bytes(params[0]), bytes(params[3])) == (ENGINE, u.name)
    assert (int(params[1]), int(params[2])) == (7, 1000 + int(elapsed))
    assert int(P2C.apiBulkPDU.get_request_id(theirs)) == msg_id
    assert int(P2C.apiBulkPDU.get_non_repeaters(theirs)) == non_repeaters
    assert int(P2C.apiBulkPDU.get_max_repetitions(theirs)) == max_repetitions
    assert [tuple(o) for o, _v in P2C.apiBulkPDU.get_varbinds(theirs)] == oids


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    name=st.sampled_from(sorted(USERS)),
    msg_id=st.integers(0, 2**31 - 1),
    items=st.lists(varbinds(), max_size=30),
    boots=st.integers(7, 2**31 - 2),
    time=st.integers(1000, 2**31 - 1),
)
def test_pysnmp_protected_responses_open_to_the_same_pdu(name, msg_id, items, boots, time):
    u = user(name)
    s, engine = session(u)
    vbs = [(o, v) for o, v, _t, _p in items]
    level = 1 | (2 if u.priv else 0)
    pdu = pysnmp_pdu(P2C.GetResponsePDU, msg_id, vbs)
    data = pysnmp_v3(u, pdu, msg_id=msg_id, flags=level, boots=boots, time=time)
    ours = s._unwrap(engine, level, data)
    assert (ours.tag, ours.request_id) == (_ber.RESPONSE, msg_id)
    assert ours.varbinds == [to_varbind(o, v) for o, v in P2C.apiPDU.get_varbinds(pdu)]
    assert (engine.boots, engine.latest) == (boots, time)  # RFC 3414 3.2.7.a update


SAMPLE_USER = user("shaaes")
SAMPLE = pysnmp_v3(
    SAMPLE_USER,
    pysnmp_pdu(P2C.GetResponsePDU, 42, [((1, 3, 6, 1, 2, 1, 1, 3, 0), rfc1902.TimeTicks(5))]),
    msg_id=42,
    flags=3,
)


def test_every_tampered_byte_fails_and_every_truncation_too():
    s, engine = session(SAMPLE_USER)
    assert s._unwrap(engine, 3, SAMPLE).request_id == 42
    for pos in range(len(SAMPLE)):
        for flip in (0x01, 0x80, 0xFF):
            data = bytearray(SAMPLE)
            data[pos] ^= flip
            with pytest.raises(CollectorError):
                s._unwrap(engine, 3, bytes(data))
    for cut in range(len(SAMPLE)):
        with pytest.raises(CollectorError):
            s._unwrap(engine, 3, SAMPLE[:cut])


@settings(max_examples=1000)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_collector_errors(data):
    s, engine = session(SAMPLE_USER)
    with contextlib.suppress(CollectorError):
        s._unwrap(engine, 3, data)


def test_wrong_key_lower_level_and_old_time_are_refused():
    s, engine = session(SAMPLE_USER)
    other = user("shaaes", akey=b"otherauth999")
    pdu = pysnmp_pdu(P2C.GetResponsePDU, 1, [])
    with pytest.raises(CollectorError, match="authentication"):
        s._unwrap(engine, 3, pysnmp_v3(other, pdu, msg_id=1, flags=3))
    with pytest.raises(CollectorError, match="not echoed"):  # a noAuth Response is a forgery
        s._unwrap(engine, 3, pysnmp_v3(SAMPLE_USER, pdu, msg_id=1, flags=0))
    with pytest.raises(CollectorError, match="time window"):
        s._unwrap(engine, 3, pysnmp_v3(SAMPLE_USER, pdu, msg_id=1, flags=3, time=1000 - 151))
    with pytest.raises(CollectorError, match="time window"):
        s._unwrap(engine, 3, pysnmp_v3(SAMPLE_USER, pdu, msg_id=1, flags=3, boots=6))


USM_STATS = (1, 3, 6, 1, 6, 3, 15, 1, 1)


@dataclass
class FakeAgent:
    """An authoritative engine made of pysnmp's USM services (RFC 3414 3.2, 4)."""

    users: dict[bytes, UsmUser]
    boots: int = 3
    time: int = 5000
    drop_priv: bool = False  # net-snmp drops what it cannot decrypt
    seen: list[str] = field(default_factory=list)

    def report(self, u: UsmUser, msg_id: int, stat: int, flags: int = 0) -> bytes:
        pdu = pysnmp_pdu(P2C.ReportPDU, msg_id, [((*USM_STATS, stat, 0), rfc1902.Counter32(1))])
        return pysnmp_v3(u, pdu, msg_id=msg_id, flags=flags, boots=self.boots, time=self.time)

    def answer(self, data: bytes) -> bytes | None:  # noqa: PLR0911 - one return per RFC step
        msg, _ = decoder.decode(data, asn1Spec=SNMPv3Message())
        params, _ = decoder.decode(bytes(msg[2]), asn1Spec=UsmSecurityParameters())
        msg_id, flags = int(msg[1][0]), bytes(msg[1][2])[0] & 3
        anyone = next(iter(self.users.values()))
        if bytes(params[0]) != ENGINE:
            self.seen.append("discovery")
            return self.report(anyone, msg_id, 4)
        u = self.users.get(bytes(params[3]))
        if u is None:
            return self.report(anyone, msg_id, 3)
        if flags != (1 | (2 if u.priv else 0)) and flags != 1:
            return self.report(u, msg_id, 1)
        try:
            auth_service(u).authenticate_incoming_message(
                univ.OctetString(keys(u)[0]), params[4], data
            )
        except Exception:  # noqa: BLE001 - pysnmp's StatusInformation on a wrong digest
            return self.report(u, msg_id, 5)
        try:
            pysnmp_open(u, data)
        except Exception:  # noqa: BLE001 - garbage after decryption with a wrong priv key
            return None if self.drop_priv else self.report(u, msg_id, 6)
        if (int(params[1]), int(params[2])) != (self.boots, self.time):
            self.seen.append("resync")
            return self.report(u, msg_id, 2, flags=1)
        self.seen.append("answer")
        _h, _p, request = pysnmp_open(u, data)
        rid = int(P2C.apiPDU.get_request_id(request))
        pdu = pysnmp_pdu(
            P2C.GetResponsePDU, rid, [((1, 3, 6, 1, 2, 1, 1, 3, 0), rfc1902.TimeTicks(9))]
        )
        return pysnmp_v3(u, pdu, msg_id=msg_id, flags=flags, boots=self.boots, time=self.time)


class FakeUdp:
    """The transport's request table fed by a ``FakeAgent`` instead of a socket."""

    def __init__(self, agent: FakeAgent) -> None:
        self.agent = agent
        self.table = RequestTable()

    async def request(self, address, community, build, *, wait, retries, version, unwrap):  # type: ignore[no-untyped-def]
        rid, request = self.table.open(
            address, version, community, asyncio.get_running_loop(), unwrap
        )
        try:
            reply = self.agent.answer(build(rid))
            if reply is not None:
                self.table.feed(reply, address)
            if request.future.done():
                return request.future.result()
            return request.problem or TIMEOUT_REASON
        finally:
            self.table.close(rid)


async def poll(agent: FakeAgent, u: UsmUser) -> _ber.Pdu | str:
    s = UsmSession(FakeUdp(agent), ADDRESS, u, wait=1.0, retries=0, clock=lambda: 0.0)  # type: ignore[arg-type]
    return await s.bulk([_ber.encode_oid_content((1, 3, 6, 1, 2, 1, 1, 3))], [], 0)


@pytest.mark.parametrize("name", sorted(USERS))
async def test_discovery_then_resync_then_answer(name):
    agent = FakeAgent({n.encode(): user(n) for n in USERS})
    got = await poll(agent, user(name))
    assert isinstance(got, _ber.Pdu), got
    assert got.varbinds[0][2] == 9
    assert agent.seen == ["discovery", "answer"]  # the discovery report carried boots/time
    agent.time += 400  # the agent's clock jumped: one resync, then the answer
    s = UsmSession(FakeUdp(agent), ADDRESS, user(name), wait=1.0, retries=0, clock=lambda: 0.0)  # type: ignore[arg-type]
    assert isinstance(await s.bulk([], [b"\x2b"], 1), _ber.Pdu)
    agent.time += 400
    assert isinstance(await s.bulk([], [b"\x2b"], 1), _ber.Pdu)
    assert agent.seen[-3:] == ["answer", "resync", "answer"]


@pytest.mark.parametrize(
    ("agent_user", "polling", "reason"),
    [
        (user("shaaes"), user("authonly"), "unknown user"),
        (user("shaaes"), user("shaaes", akey=b"wrongauth999"), "wrong digest (auth key)"),
        (user("authonly"), UsmUser(b"authonly", crypto.AUTH["sha"], b"authpass12345",
                                   crypto.PRIV["aes128"], b"privpass12345"),
         "unsupported security level"),
        (user("shaaes"), user("shaaes", pkey=b"wrongpriv999"), "decryption error (priv key)"),
    ],
)  # fmt: skip
async def test_reports_give_the_pysnmp_path_reasons(agent_user, polling, reason):
    agent = FakeAgent({agent_user.name: agent_user}, drop_priv=True)
    assert await poll(agent, polling) == reason


async def test_silence_is_timeout():
    agent = FakeAgent({b"x": user("shaaes")})
    agent.answer = lambda data: None  # type: ignore[method-assign]
    assert await poll(agent, user("shaaes")) == "timeout"
