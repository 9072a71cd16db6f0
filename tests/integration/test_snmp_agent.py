"""SnmpCollector against a real net-snmp snmpd and a hostile responder, in a private netns.

The namespace has its own veth pairs (one admin-down), so the agent's IF-MIB is ours.
Everything is on 127.0.0.1 inside that namespace; nothing leaves it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pyasn1.codec.ber import decoder as pysnmp_decoder
from pysnmp.proto import api

from agent.wiring import snmp_collector
from collectors._snmp import ber as _ber
from collectors._snmp.engine import to_varbind
from collectors.model import ProbeStatus, SnmpAuth, SnmpTarget, SnmpVersion
from labnet.netns import entered
from tests.conftest import unavailable, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

AUTH, PRIV = "authpass12345", "privpass12345"
CONF = f"""agentAddress udp:127.0.0.1:161
rocommunity public 127.0.0.1
createUser shaaes SHA {AUTH} AES {PRIV}
createUser sha256aes256 SHA-256 {AUTH} AES-256 {PRIV}
createUser shaaes256 SHA {AUTH} AES-256 {PRIV}
createUser authonly SHA {AUTH}
rouser shaaes priv
rouser sha256aes256 priv
rouser shaaes256 priv
rouser authonly auth
sysName sigap-test
"""
V3 = SnmpVersion.V3


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def agent_ns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh netns with 3 veth pairs (ta2 admin-down) and snmpd on 127.0.0.1:161."""
    if os.geteuid() != 0:
        unavailable("needs root for network namespaces")
    for tool in ("ip", "snmpd", "snmpget"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            unavailable(f"`{tool}` is not installed (apt-get install snmpd snmp)")
    ns = f"sigap-snmp-{os.getpid()}-{secrets.token_hex(3)}"
    tmp = tmp_path_factory.mktemp("snmpd")
    (tmp / "snmpd.conf").write_text(CONF)
    ip("netns", "add", ns)
    proc = None
    try:
        ip("-n", ns, "link", "set", "lo", "up")
        for i in (1, 2, 3):
            ip("-n", ns, "link", "add", f"ta{i}", "type", "veth", "peer", "name", f"tb{i}")
            ip("-n", ns, "link", "set", f"tb{i}", "up")
            if i != 2:
                ip("-n", ns, "link", "set", f"ta{i}", "up")
        env = {**os.environ, "SNMP_PERSISTENT_DIR": str(tmp), "MIBS": ""}
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "/usr/sbin/snmpd", "-f", "-C",
             "-c", str(tmp / "snmpd.conf"),
             "-Lf", str(tmp / "snmpd.log")],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

        def answers() -> bool | None:
            got = subprocess.run(
                ["ip", "netns", "exec", ns, "snmpget", "-v2c", "-c", "public", "-t", "0.3",
                 "-r", "0", "127.0.0.1", "1.3.6.1.2.1.1.3.0"],
                capture_output=True, check=False,
            )  # fmt: skip
            return True if got.returncode == 0 else None

        wait_for("snmpd to answer", answers, timeout=20)
        yield ns
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", ns], check=False)


def v2c(name: str = "good", community: str = "public", **kw: object) -> SnmpTarget:
    auth = SnmpAuth(SnmpVersion.V2C, community=community)
    return SnmpTarget(name, "127.0.0.1", auth, **kw)  # type: ignore[arg-type]


def v3(
    user: str, auth: str = "sha", akey: str = AUTH, priv: str = "aes128", pkey: str = PRIV
) -> SnmpTarget:
    creds = SnmpAuth(V3, user=user, auth_protocol=auth, auth_key=akey, priv_protocol=priv,
                     priv_key=pkey)  # fmt: skip
    return SnmpTarget(f"v3-{user}-{akey}-{pkey}", "127.0.0.1", creds, timeout=0.5, retries=0)


def run_in(ns: str, coro_fn):  # type: ignore[no-untyped-def]
    with entered(ns):
        return asyncio.run(coro_fn())


def check_interfaces(poll) -> None:  # type: ignore[no-untyped-def]
    assert poll.ok, poll.reason
    assert poll.system.name == "sigap-test"
    assert poll.system.sys_uptime > 0
    assert poll.system.hr_uptime > 0
    by_name = {row.name: row for row in poll.interfaces}
    assert {"lo", "ta1", "ta2", "ta3", "tb1", "tb2", "tb3"} <= by_name.keys()
    assert by_name["ta2"].admin_up is False
    assert by_name["tb2"].admin_up is True
    assert by_name["tb2"].oper_up is False  # its peer is down
    assert by_name["ta1"].admin_up is True
    assert by_name["ta1"].oper_up is True
    assert by_name["ta1"].counter_bits == 64
    assert by_name["ta1"].in_octets is not None
    assert by_name["ta1"].high_speed_mbps == 10_000


def test_v2c_and_v3_polls_see_the_namespace_interfaces(agent_ns: str) -> None:
    async def main():  # type: ignore[no-untyped-def]
        async with snmp_collector() as collector:
            return [
                await collector.poll(v2c()),
                await collector.poll(v2c()),  # names from the cache this time
                await collector.poll(v3("shaaes")),
                await collector.poll(v3("sha256aes256", auth="sha256", priv="aes256")),
                await collector.poll(v3("authonly", priv="", pkey="")),
            ]

    for poll in run_in(agent_ns, main):
        check_interfaces(poll)


V3_USERS = [
    ("shaaes", "sha", "aes128"),
    ("sha256aes256", "sha256", "aes256"),
    ("shaaes256", "sha", "aes256"),  # AES-256 key extension (Blumenthal) against net-snmp
    ("authonly", "sha", ""),
]


def comparable(poll):  # type: ignore[no-untyped-def]
    """A poll without the values that move between two polls (uptimes, counters)."""
    moving = {"in_octets", "out_octets", "in_errors", "out_errors", "in_discards",
              "out_discards"}  # fmt: skip
    rows = [
        {k: (v is None if k in moving else v) for k, v in vars_of(row).items()}
        for row in poll.interfaces
    ]
    system = {k: v for k, v in vars_of(poll.system).items() if not k.endswith(("uptime", "time"))}
    return poll.status, poll.reason, system, rows


def vars_of(obj) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {name: getattr(obj, name) for name in obj.__slots__}


def monotone(poll) -> list[int | None]:  # type: ignore[no-untyped-def]
    values = [poll.system.sys_uptime, poll.system.hr_uptime, poll.system.engine_time]
    for row in poll.interfaces:
        values += [row.in_octets, row.out_octets]
    return values


@pytest.mark.parametrize(("user", "auth", "priv"), V3_USERS)
def test_v3_fast_path_and_pysnmp_path_give_the_same_polls(
    agent_ns: str, user: str, auth: str, priv: str
) -> None:
    target = v3(user, auth=auth, priv=priv, pkey=PRIV if priv else "")

    async def main():  # type: ignore[no-untyped-def]
        async with snmp_collector() as fast, snmp_collector(v3_fast=False) as slow:
            polls = [await fast.poll(target), await slow.poll(target), await fast.poll(target)]
            assert len(fast._usm) == 1  # the fast path really ran
            assert not slow._usm
            return polls

    before, theirs, after = run_in(agent_ns, main)
    for poll in (before, theirs, after):
        check_interfaces(poll)
    assert comparable(before) == comparable(theirs) == comparable(after)
    for low, mid, high in zip(monotone(before), monotone(theirs), monotone(after), strict=True):
        assert low <= mid <= high  # pysnmp's values, read in between, lie in between


@pytest.mark.parametrize("v3_fast", [True, False])
def test_wrong_credentials_give_distinct_reasons(agent_ns: str, v3_fast: bool) -> None:
    async def main():  # type: ignore[no-untyped-def]
        async with snmp_collector(v3_fast=v3_fast) as collector:
            return [
                await collector.poll(v2c("bad", community="nope", timeout=0.3, retries=0)),
                await collector.poll(v3("ghost")),
                await collector.poll(v3("shaaes", akey="wrongauth999")),
                await collector.poll(v3("shaaes", pkey="wrongpriv999")),
                await collector.poll(v3("authonly")),  # asks authPriv of an auth-only user
                await collector.poll(v2c()),
            ]

    polls = run_in(agent_ns, main)
    assert [(p.status, p.reason) for p in polls[:5]] == [
        (ProbeStatus.TIMEOUT, "no response (timeout or wrong community)"),
        (ProbeStatus.ERROR, "unknown user"),
        (ProbeStatus.ERROR, "wrong digest (auth key)"),
        (ProbeStatus.ERROR, "decryption error (priv key)"),
        (ProbeStatus.ERROR, "unsupported security level"),
    ]
    check_interfaces(polls[5])


def test_real_agent_responses_decode_the_same_both_ways(agent_ns: str) -> None:
    p2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
    oids = [_ber.encode_oid_content(_ber.parse_oid(o)) for o in
            ("1.3.6.1.2.1.1", "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1",
             "1.3.6.1.2.1.25.1")]  # fmt: skip
    with entered(agent_ns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with sock:
        sock.settimeout(2)
        for request_id, max_rep in ((1, 5), (2, 40), (3, 200)):
            pdu = _ber.encode_pdu(_ber.GET_BULK_REQUEST, request_id, 1, max_rep,
                                  _ber.encode_varbind_list(oids))  # fmt: skip
            sock.sendto(_ber.encode_message(b"public", pdu), ("127.0.0.1", 161))
            data = sock.recv(65536)
            ours = _ber.decode_message(data)
            theirs, _rest = pysnmp_decoder.decode(data, asn1Spec=p2c.Message())
            their_pdu = p2c.apiMessage.get_pdu(theirs)
            assert ours.pdu.request_id == int(p2c.apiPDU.get_request_id(their_pdu)) == request_id
            converted = [to_varbind(o, v) for o, v in p2c.apiPDU.get_varbinds(their_pdu)]
            assert ours.pdu.varbinds == converted
            assert len(converted) >= min(1 + 3 * max_rep, 100)  # net-snmp caps at 100


class Hostile(asyncio.DatagramProtocol):
    """Answers every request in one bad way."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[no-untyped-def]
        assert self.transport is not None
        request = _ber.decode_message(data)
        rid = request.pdu.request_id
        vbs = _ber.encode_varbind_list([])
        good = _ber.encode_message(b"public", _ber.encode_pdu(_ber.RESPONSE, rid, 0, 0, vbs))
        replies = {
            "garbage": [secrets.token_bytes(64)],
            "truncated": [good[:-3]],
            "wrong-id": [_ber.encode_message(
                b"public", _ber.encode_pdu(_ber.RESPONSE, rid + 1, 0, 0, vbs))],
            "huge": [b"\x30\x84" + secrets.token_bytes(60_000)],
            "too-many": [_ber.encode_message(b"public", _ber.encode_pdu(
                _ber.RESPONSE, rid, 0, 0, _ber.encode_varbind_list([b"\x2b\x06"] * 3000)))],
            "silent": [],
        }  # fmt: skip
        for reply in replies[self.mode]:
            self.transport.sendto(reply, addr)


def test_hostile_responders_fail_polls_with_reasons_and_the_collector_goes_on(
    agent_ns: str,
) -> None:
    modes = ("garbage", "truncated", "wrong-id", "huge", "too-many", "silent")

    async def main():  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        servers = []
        for port, mode in enumerate(modes, start=16100):
            transport, _p = await loop.create_datagram_endpoint(
                lambda mode=mode: Hostile(mode), local_addr=("127.0.0.1", port)
            )
            servers.append(transport)
        try:
            async with snmp_collector() as collector:
                results = []
                for port, mode in enumerate(modes, start=16100):
                    target = v2c(mode, port=port, timeout=0.3, retries=1)
                    started = loop.time()
                    async with asyncio.timeout(2):
                        poll = await collector.poll(target)
                    results.append((mode, poll, loop.time() - started))
                    good = await collector.poll(v2c())
                    check_interfaces(good)
                return results
        finally:
            for transport in servers:
                transport.close()

    for mode, poll, took in run_in(agent_ns, main):
        assert not poll.ok, mode
        assert took < 1.0, mode
        if mode in ("silent", "wrong-id"):
            assert poll.reason == "no response (timeout or wrong community)", mode
        else:
            assert poll.reason.startswith("malformed response"), (mode, poll.reason)
