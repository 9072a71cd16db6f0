"""Column walks against a fake GETBULK agent, and request-id matching without a network."""

from __future__ import annotations

import asyncio
from bisect import bisect_right

import pytest

from collectors._snmp import ber as _ber
from collectors._snmp.ber import Pdu, encode_oid_content, parse_oid
from collectors._snmp.transport import RequestTable
from collectors._snmp.walk import HOT_SCALARS, NAME_COLUMNS, columns, walk

pytestmark = pytest.mark.unit

IF = "1.3.6.1.2.1.2.2.1."
IFX = "1.3.6.1.2.1.31.1.1.1."


class FakeAgent:
    """GETBULK over a sorted MIB (RFC 3416 4.2.3), capped like net-snmp's maxGetbulkResponses."""

    def __init__(self, mib: dict[str, tuple[int, object]], cap: int = 100) -> None:
        items = sorted((parse_oid(k), v) for k, v in mib.items())
        self.keys = [k for k, _v in items]
        self.values = [v for _k, v in items]
        self.cap = cap
        self.requests: list[tuple[int, int, int]] = []

    def next(self, oid: tuple[int, ...]) -> tuple[bytes, int, object]:
        pos = bisect_right(self.keys, oid)
        if pos == len(self.keys):
            return encode_oid_content(oid), _ber.END_OF_MIB_VIEW, None
        tag, value = self.values[pos]
        return encode_oid_content(self.keys[pos]), tag, value

    async def bulk(self, nonrep: list[bytes], reps: list[bytes], max_rep: int) -> Pdu | str:
        self.requests.append((len(nonrep), len(reps), max_rep))
        out = [self.next(_ber.decode_oid(o)) for o in nonrep]
        if reps:
            max_rep = min(max_rep, (self.cap - len(nonrep)) // len(reps))
        cursor = [_ber.decode_oid(o) for o in reps]
        for _ in range(max_rep):
            row = [self.next(o) for o in cursor]
            out.extend(row)
            cursor = [_ber.decode_oid(o) for o, _t, _v in row]
            if all(t == _ber.END_OF_MIB_VIEW for _o, t, _v in row):
                break
        return Pdu(_ber.RESPONSE, 1, 0, 0, out)


def interface_mib(count: int, *, hc: bool = True) -> dict[str, tuple[int, object]]:
    mib: dict[str, tuple[int, object]] = {
        "1.3.6.1.2.1.1.3.0": (_ber.TIMETICKS, 4242),
        "1.3.6.1.2.1.1.5.0": (_ber.OCTET_STRING, b"sw1"),
        "1.3.6.1.2.1.2.1.0": (_ber.INTEGER, count),
        "1.3.6.1.2.1.25.1.1.0": (_ber.TIMETICKS, 999_999),
        "1.3.6.1.2.1.31.1.5.0": (_ber.TIMETICKS, 7),
    }
    for i in range(1, count + 1):
        mib[f"{IF}2.{i}"] = (_ber.OCTET_STRING, f"port{i}".encode())
        mib[f"{IF}7.{i}"] = (_ber.INTEGER, 2 if i == 3 else 1)
        mib[f"{IF}8.{i}"] = (_ber.INTEGER, 1)
        mib[f"{IF}10.{i}"] = (_ber.COUNTER32, i * 10)
        mib[f"{IF}16.{i}"] = (_ber.COUNTER32, i * 11)
        for col in (13, 14, 19, 20):
            mib[f"{IF}{col}.{i}"] = (_ber.COUNTER32, col)
        mib[f"{IFX}1.{i}"] = (_ber.OCTET_STRING, f"Gi0/{i}".encode())
        mib[f"{IFX}15.{i}"] = (_ber.GAUGE32, 1000)
        mib[f"{IFX}18.{i}"] = (_ber.OCTET_STRING, b"")
        if hc:
            mib[f"{IFX}6.{i}"] = (_ber.COUNTER64, 2**40 + i)
            mib[f"{IFX}10.{i}"] = (_ber.COUNTER64, 2**41 + i)
    return mib


async def test_walk_collects_every_row_of_every_column_and_learns_the_cap():
    agent = FakeAgent(interface_mib(49))
    result = await walk(agent.bulk, HOT_SCALARS, columns(hc=True), budget=6 + 25 * 9)
    assert not isinstance(result, str)
    assert result.scalars["sys_uptime"] == 4242
    assert result.scalars["hr_uptime"] == 999_999
    assert result.scalars["if_number"] == 49
    assert "engine_time" not in result.scalars  # GETNEXT landed elsewhere: not ours
    for name in ("admin_status", "oper_status", "in_octets", "out_discards"):
        assert sorted(result.table[name]) == list(range(1, 50))
    assert result.table["admin_status"][3] == 2
    assert result.table["in_octets"][7] == 2**40 + 7
    assert result.budget == 96  # (100 - 6) // 9 rows of 9 + 6 scalars
    again = await walk(agent.bulk, HOT_SCALARS, columns(hc=True), result.budget)
    assert not isinstance(again, str)
    assert again.requests == result.requests


async def test_missing_hc_columns_walk_empty():
    agent = FakeAgent(interface_mib(5, hc=False))
    result = await walk(agent.bulk, HOT_SCALARS, columns(hc=True), budget=100)
    assert not isinstance(result, str)
    assert result.table["in_octets"] == {}
    c32 = await walk(agent.bulk, (), columns(hc=False), budget=100)
    assert not isinstance(c32, str)
    assert c32.table["in_octets"] == {i: i * 10 for i in range(1, 6)}


async def test_names_walk():
    agent = FakeAgent(interface_mib(3))
    result = await walk(agent.bulk, (), NAME_COLUMNS, budget=100)
    assert not isinstance(result, str)
    assert result.table["name"] == {1: b"Gi0/1", 2: b"Gi0/2", 3: b"Gi0/3"}


async def test_error_status_and_oversized_responses_are_reasons():
    async def error_bulk(nonrep, reps, max_rep):
        return Pdu(_ber.RESPONSE, 1, 5, 2, [])

    assert await walk(error_bulk, HOT_SCALARS, columns(True), 100) == "error-status genErr at 2"

    async def huge_bulk(nonrep, reps, max_rep):
        vb = (encode_oid_content((1, 3, 6)), _ber.NULL, None)
        return Pdu(_ber.RESPONSE, 1, 0, 0, [vb] * 1000)

    got = await walk(huge_bulk, HOT_SCALARS, columns(True), 100)
    assert isinstance(got, str)
    assert got.startswith("malformed response")


async def test_a_looping_agent_cannot_hold_the_walk():
    looped = encode_oid_content(parse_oid(IF + "7.5"))

    async def loop_bulk(nonrep, reps, max_rep):
        return Pdu(_ber.RESPONSE, 1, 0, 0, [(looped, _ber.INTEGER, 1)] * (len(nonrep) + len(reps)))

    got = await walk(loop_bulk, (), columns(True), 100)
    assert not isinstance(got, str)  # columns end at the first non-increasing index
    assert got.requests <= 2


def message(request_id: int, community: bytes = b"public", version: int = 1) -> bytes:
    body = _ber.encode_varbind_list([])
    return _ber.encode_message(
        community, _ber.encode_pdu(_ber.RESPONSE, request_id, 0, 0, body), version
    )


async def test_request_table_matches_id_peer_version_and_community():
    loop = asyncio.get_running_loop()
    table = RequestTable()
    peer = ("10.0.0.1", 161)
    rid, request = table.open(peer, 1, b"public", loop)
    table.feed(message(rid + 1), peer)  # wrong id: ignored
    table.feed(message(rid), ("10.0.0.2", 161))  # stranger: ignored
    assert not request.future.done()
    table.feed(message(rid, community=b"other"), peer)
    table.feed(b"\x30\x03\x02\x01", peer)  # truncated
    assert not request.future.done()
    assert request.problem.startswith("malformed response")
    table.feed(message(rid), peer)
    assert request.future.result().request_id == rid
    table.close(rid)
    assert len(table) == 0
    table.feed(message(rid), peer)  # late duplicate: nothing to resolve, no error
