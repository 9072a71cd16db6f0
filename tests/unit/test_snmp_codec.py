"""The fast BER codec equals pysnmp: property round trips both ways, and hostile input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder as pysnmp_decoder
from pyasn1.codec.ber import encoder as pysnmp_encoder
from pysnmp.proto import api, rfc1902, rfc1905

from collectors._snmp import ber as _ber
from collectors._snmp.engine import to_varbind

pytestmark = pytest.mark.unit

P2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
U32 = 2**32 - 1

arcs = st.integers(min_value=0, max_value=U32)
oids = st.one_of(
    st.tuples(st.integers(0, 1), st.integers(0, 39)),
    st.tuples(st.just(2), st.integers(0, 10_000)),
).flatmap(lambda head: st.lists(arcs, max_size=20).map(lambda tail: (*head, *tail)))

# (pysnmp constructor, fast tag, strategy of python values)
VALUE_KINDS = [
    (rfc1902.Integer32, _ber.INTEGER, st.integers(-(2**31), 2**31 - 1)),
    (rfc1902.OctetString, _ber.OCTET_STRING, st.binary(max_size=300)),
    (rfc1902.IpAddress, _ber.IP_ADDRESS, st.binary(min_size=4, max_size=4)),
    (rfc1902.Counter32, _ber.COUNTER32, st.integers(0, U32)),
    (rfc1902.Gauge32, _ber.GAUGE32, st.integers(0, U32)),
    (rfc1902.TimeTicks, _ber.TIMETICKS, st.integers(0, U32)),
    (rfc1902.Opaque, _ber.OPAQUE, st.binary(max_size=40)),
    (rfc1902.Counter64, _ber.COUNTER64, st.integers(0, 2**64 - 1)),
    (rfc1902.ObjectIdentifier, _ber.OBJECT_IDENTIFIER, oids),
]
EXCEPTION_KINDS = [
    (rfc1905.noSuchObject, _ber.NO_SUCH_OBJECT),
    (rfc1905.noSuchInstance, _ber.NO_SUCH_INSTANCE),
    (rfc1905.endOfMibView, _ber.END_OF_MIB_VIEW),
    (rfc1902.Null(""), _ber.NULL),
]


@st.composite
def varbinds(draw: st.DrawFn) -> tuple[tuple[int, ...], object, int, object]:
    """One varbind: (oid, pysnmp value, expected tag, expected python value)."""
    oid = draw(oids)
    if draw(st.integers(0, 9)) == 0:
        value, tag = draw(st.sampled_from(EXCEPTION_KINDS))
        return oid, value, tag, None
    make, tag, values = draw(st.sampled_from(VALUE_KINDS))
    python = draw(values)
    return oid, make(python), tag, python


def pysnmp_response(
    community: bytes, request_id: int, status: int, index: int, vbs: list[tuple[object, object]]
) -> bytes:
    pdu = P2C.GetResponsePDU()
    P2C.apiPDU.set_defaults(pdu)
    P2C.apiPDU.set_request_id(pdu, request_id)
    P2C.apiPDU.set_error_status(pdu, status)
    P2C.apiPDU.set_error_index(pdu, index)
    P2C.apiPDU.set_varbinds(pdu, vbs)
    msg = P2C.Message()
    P2C.apiMessage.set_defaults(msg)
    P2C.apiMessage.set_community(msg, community)
    P2C.apiMessage.set_pdu(msg, pdu)
    return bytes(pysnmp_encoder.encode(msg))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    community=st.binary(max_size=40),
    request_id=st.integers(-(2**31), 2**31 - 1),
    status=st.integers(0, 18),
    index=st.integers(0, 100),
    items=st.lists(varbinds(), max_size=40),
)
def test_pysnmp_encoded_responses_decode_to_the_same_values(
    community, request_id, status, index, items
):
    data = pysnmp_response(community, request_id, status, index, [(o, v) for o, v, _t, _p in items])
    message = _ber.decode_message(data)
    assert (message.version, message.community) == (1, community)
    pdu = message.pdu
    assert (pdu.tag, pdu.request_id, pdu.error_status, pdu.error_index) == (
        _ber.RESPONSE,
        request_id,
        status,
        index,
    )
    got = [(_ber.decode_oid(oid), tag, value) for oid, tag, value in pdu.varbinds]
    assert got == [(oid, tag, python) for oid, _v, tag, python in items]
    # and pysnmp's own view of the same message, converted, agrees
    decoded, _rest = pysnmp_decoder.decode(data, asn1Spec=P2C.Message())
    theirs = [to_varbind(o, v) for o, v in P2C.apiPDU.get_varbinds(P2C.apiMessage.get_pdu(decoded))]
    assert theirs == pdu.varbinds


@given(
    community=st.binary(max_size=40),
    request_id=st.integers(0, 2**31 - 1),
    non_repeaters=st.integers(0, 10),
    max_repetitions=st.integers(0, 1000),
    request_oids=st.lists(oids, min_size=1, max_size=30),
)
def test_fast_getbulk_requests_decode_with_pysnmp_to_the_same_pdu(
    community, request_id, non_repeaters, max_repetitions, request_oids
):
    body = _ber.encode_varbind_list([_ber.encode_oid_content(o) for o in request_oids])
    pdu = _ber.encode_pdu(_ber.GET_BULK_REQUEST, request_id, non_repeaters, max_repetitions, body)
    data = _ber.encode_message(community, pdu)
    decoded, rest = pysnmp_decoder.decode(data, asn1Spec=P2C.Message())
    assert rest == b""
    assert bytes(P2C.apiMessage.get_community(decoded)) == community
    theirs = P2C.apiMessage.get_pdu(decoded)
    assert theirs.isSameTypeWith(P2C.GetBulkRequestPDU())
    assert int(P2C.apiBulkPDU.get_request_id(theirs)) == request_id
    assert int(P2C.apiBulkPDU.get_non_repeaters(theirs)) == non_repeaters
    assert int(P2C.apiBulkPDU.get_max_repetitions(theirs)) == max_repetitions
    assert [tuple(o) for o, _v in P2C.apiBulkPDU.get_varbinds(theirs)] == request_oids
    assert bytes(pysnmp_encoder.encode(decoded)) == data  # byte-identical to pysnmp's BER


@given(oid=oids)
def test_oid_content_round_trips(oid):
    assert _ber.decode_oid(_ber.encode_oid_content(oid)) == oid


def test_long_form_lengths_and_negative_integers():
    data = pysnmp_response(
        b"public",
        -7,
        0,
        0,
        [((1, 3, 6, 1, 2, 1, 1, 1, 0), rfc1902.OctetString(b"x" * 40_000))],
    )
    assert data[1] == 0x82  # two length octets
    message = _ber.decode_message(data)
    assert message.pdu.request_id == -7
    assert message.pdu.varbinds[0][2] == b"x" * 40_000


SAMPLE = pysnmp_response(
    b"public",
    4242,
    0,
    0,
    [
        ((1, 3, 6, 1, 2, 1, 1, 3, 0), rfc1902.TimeTicks(123456)),
        ((1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6, 3), rfc1902.Counter64(2**63 + 5)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 3), rfc1902.Integer32(2)),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 2, 3), rfc1902.OctetString(b"eth0")),
        ((1, 3, 6, 1, 2, 1, 2, 2, 1, 9, 9), rfc1905.endOfMibView),
    ],
)


def test_every_truncation_is_a_decode_error():
    for cut in range(len(SAMPLE)):
        with pytest.raises(_ber.BerDecodeError):
            _ber.decode_message(SAMPLE[:cut])


def test_trailing_bytes_are_a_decode_error():
    with pytest.raises(_ber.BerDecodeError):
        _ber.decode_message(SAMPLE + b"\x00")


@settings(max_examples=2000)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_decode_errors(data):
    with contextlib.suppress(_ber.BerDecodeError):
        _ber.decode_message(data)


@settings(max_examples=2000)
@given(position=st.integers(0, len(SAMPLE) - 1), byte=st.integers(0, 255))
def test_corrupted_bytes_raise_only_decode_errors(position, byte):
    data = bytearray(SAMPLE)
    data[position] = byte
    with contextlib.suppress(_ber.BerDecodeError):
        _ber.decode_message(bytes(data))
    request_id = _ber.peek_request_id(bytes(data))
    assert request_id is None or isinstance(request_id, int)


@pytest.mark.parametrize(
    ("tag", "content"),
    [
        (_ber.COUNTER32, b"\x01\x00\x00\x00\x00"),  # above 2**32-1
        (_ber.COUNTER64, b"\xff"),  # negative
        (_ber.INTEGER, b"\x01\x00\x00\x00\x00"),  # above Integer32
        (_ber.IP_ADDRESS, b"\x01\x02\x03"),
        (_ber.NULL, b"\x00"),
        (0x47, b"\x00"),  # unknown application tag
        (_ber.TIMETICKS, b""),
    ],
)
def test_out_of_range_values_are_decode_errors(tag, content):
    vb = _ber.tlv(
        _ber.SEQUENCE,
        _ber.tlv(_ber.OBJECT_IDENTIFIER, b"\x2b\x06") + _ber.tlv(tag, content),
    )
    pdu = _ber.tlv(_ber.RESPONSE, b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + _ber.tlv(0x30, vb))
    with pytest.raises(_ber.BerDecodeError):
        _ber.decode_message(_ber.encode_message(b"public", pdu))
