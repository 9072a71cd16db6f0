"""Trap codec (collectors._snmp.trap) against net-snmp's snmptrap/snmpinform and pysnmp.

Real senders on 127.0.0.1: ``snmptrap`` v1, v2c and v3 authPriv, ``snmpinform`` (which exits
0 only when our Response is right). pysnmp decodes the same bytes as the oracle.
"""

from __future__ import annotations

import socket
import subprocess

import pytest

from agent.events.traps import describe
from collectors._snmp.ber import BerDecodeError
from collectors._snmp.trap import (
    V3Receiver,
    decode_community,
    inform_response,
    oid_text,
)
from collectors._snmp.usm import UsmError, fast_user
from collectors.model import SnmpAuth, SnmpVersion

pytestmark = pytest.mark.unit

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
PAYLOAD = [
    "1.3.6.1.2.1.2.2.1.1.2", "i", "2",
    "1.3.6.1.2.1.2.2.1.2.2", "s", "ether2",
    "1.3.6.1.2.1.2.2.1.8.2", "i", "2",
]  # fmt: skip
ENGINE = "0x80001f8880aabbccddeeff0011"
USER = SnmpAuth(
    SnmpVersion.V3,
    user="sigap-noc",
    auth_protocol="sha",
    auth_key="kunci-auth-123",
    priv_protocol="aes128",
    priv_key="kunci-priv-456",
)


def capture(*argv: str, answer: bool = False) -> tuple[bytes, int]:
    """Run a net-snmp sender at a socket of ours; return (datagram, sender exit code)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        target = f"127.0.0.1:{sock.getsockname()[1]}"
        args = [a.replace("TARGET", target) for a in argv]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        data, peer = sock.recvfrom(65535)
        if answer:
            sock.sendto(inform_response(data), peer)
        code = proc.wait(timeout=15)
    return data, code


def v3_trap(auth_key: str = "kunci-auth-123") -> bytes:
    data, code = capture(
        "snmptrap", "-v", "3", "-e", ENGINE, "-u", "sigap-noc", "-l", "authPriv",
        "-a", "SHA", "-A", auth_key, "-x", "AES", "-X", "kunci-priv-456",
        "TARGET", "", LINK_DOWN, *PAYLOAD,
    )  # fmt: skip
    assert code == 0
    return data


def test_v2c_link_down_from_snmptrap() -> None:
    data, code = capture("snmptrap", "-v", "2c", "-c", "rahasia", "TARGET", "", LINK_DOWN, *PAYLOAD)
    assert code == 0
    note = decode_community(data)
    assert (note.version, note.inform, note.principal) == (1, False, b"rahasia")
    assert oid_text(note.trap_oid) == LINK_DOWN
    assert [oid_text(o) for o, _t, _v in note.varbinds] == PAYLOAD[0::3]
    assert [v for _o, _t, v in note.varbinds] == [2, b"ether2", 2]
    action, text, groups = describe(note)
    assert action == "repoll"
    assert text.startswith("linkDown ifIndex.2=2 ifDescr.2=ether2")
    assert groups == {"interface": "ether2"}


def test_v2c_matches_pysnmp() -> None:
    from pysnmp.proto import api

    data, _code = capture(
        "snmptrap", "-v", "2c", "-c", "rahasia", "TARGET", "", LINK_DOWN, *PAYLOAD
    )
    proto = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    from pyasn1.codec.ber import decoder

    message, _rest = decoder.decode(data, asn1Spec=proto.Message())
    pdu = proto.apiMessage.get_pdu(message)
    theirs = [(str(o), v.prettyPrint()) for o, v in proto.apiTrapPDU.get_varbinds(pdu)]
    note = decode_community(data)
    assert theirs[1] == ("1.3.6.1.6.3.1.1.4.1.0", LINK_DOWN)
    assert [o for o, _v in theirs[2:]] == [oid_text(o) for o, _t, _v in note.varbinds]
    assert int(theirs[0][1]) == note.uptime


def test_v1_trap_translated_per_rfc3584() -> None:
    data, code = capture(
        "snmptrap", "-v", "1", "-c", "rahasia", "TARGET", "1.3.6.1.4.1.14988", "10.52.1.1",
        "2", "0", "", *PAYLOAD[:3],
    )  # fmt: skip
    assert code == 0
    note = decode_community(data)
    assert note.version == 0
    assert oid_text(note.trap_oid) == LINK_DOWN  # generic 2 = linkDown
    assert note.agent_address == "10.52.1.1"
    data, _ = capture(
        "snmptrap", "-v", "1", "-c", "x", "TARGET", "1.3.6.1.4.1.14988", "10.52.1.1", "6", "17", ""
    )
    assert oid_text(decode_community(data).trap_oid) == "1.3.6.1.4.1.14988.0.17"


def test_inform_answered_so_snmpinform_succeeds() -> None:
    data, code = capture(
        "snmpinform", "-v", "2c", "-c", "rahasia", "-r", "0", "-t", "5", "TARGET", "",
        LINK_DOWN, *PAYLOAD, answer=True,
    )  # fmt: skip
    assert decode_community(data).inform
    assert code == 0  # snmpinform exits 1 when no (valid) Response came back


def test_inform_without_answer_fails_the_sender() -> None:
    """The oracle can fail: without our Response, snmpinform reports a timeout."""
    _data, code = capture(
        "snmpinform", "-v", "2c", "-c", "rahasia", "-r", "0", "-t", "1", "TARGET", "", LINK_DOWN
    )
    assert code != 0


def test_v3_auth_priv_trap_decrypted_with_the_device_user() -> None:
    note = V3Receiver().decode(v3_trap(), fast_user(USER))
    assert (note.version, note.principal) == (3, b"sigap-noc")
    assert oid_text(note.trap_oid) == LINK_DOWN
    assert [v for _o, _t, v in note.varbinds] == [2, b"ether2", 2]


def test_v3_wrong_key_refused_with_the_reason() -> None:
    with pytest.raises(UsmError, match="wrong digest"):
        V3Receiver().decode(v3_trap(auth_key="kunci-salah-999"), fast_user(USER))


def test_v3_wrong_user_and_replay_refused() -> None:
    data = v3_trap()
    other = fast_user(SnmpAuth(SnmpVersion.V3, user="lain", auth_protocol="sha", auth_key="k" * 9))
    with pytest.raises(UsmError, match="unknown user"):
        V3Receiver().decode(data, other)
    receiver = V3Receiver()
    receiver.decode(data, fast_user(USER))
    engine = next(iter(receiver.engines.values()))
    engine.boots += 1  # the engine rebooted since: an old message is a replay
    with pytest.raises(UsmError, match="not in time window"):
        receiver.decode(data, fast_user(USER))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x30",
        b"\x30\x84\xff\xff\xff\xff",
        b"\x30\x03\x02\x01\x01",
        bytes.fromhex("300c020101040170a7040201000200"),  # PDU cut short
        bytes.fromhex("3011020101040170a20a020100020100020100"),  # a Response, not a trap
        bytes.fromhex("3013020105040170a70c020101020100020100300000"),  # trailing byte
    ],
)
def test_garbage_is_a_decode_error(data: bytes) -> None:
    with pytest.raises(BerDecodeError):
        decode_community(data)


def test_every_truncation_of_a_real_trap_is_refused_cleanly() -> None:
    data, _ = capture("snmptrap", "-v", "2c", "-c", "rahasia", "TARGET", "", LINK_DOWN, *PAYLOAD)
    for cut in range(len(data)):
        with pytest.raises(BerDecodeError):
            decode_community(data[:cut])
    v3 = v3_trap()
    receiver = V3Receiver()
    for cut in range(0, len(v3), 7):
        with pytest.raises((BerDecodeError, UsmError)):
            receiver.decode(v3[:cut], fast_user(USER))


def test_flipped_bits_never_crash() -> None:
    data, _ = capture("snmptrap", "-v", "2c", "-c", "rahasia", "TARGET", "", LINK_DOWN, *PAYLOAD)
    outcomes = {"ok": 0, "refused": 0}
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            mutated = bytearray(data)
            mutated[i] ^= bit
            try:
                decode_community(bytes(mutated))
            except BerDecodeError:
                outcomes["refused"] += 1
            else:
                outcomes["ok"] += 1
    assert outcomes["refused"] > 0
