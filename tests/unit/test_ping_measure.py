"""PingCollector.measure (every RTT, payload size) and don't-fragment echoes (MTU checks)."""

from __future__ import annotations

import errno
import socket

import pytest
from test_ping_collector import _install, target

from collectors import ping
from collectors._icmp import codec as _icmp
from collectors._icmp import sockets as _icmp_socket
from collectors.ping import PingCollector, payload_of

pytestmark = pytest.mark.unit


@pytest.fixture
def fake(monkeypatch):
    return _install(monkeypatch, raw=True)


@pytest.fixture
def df_calls(monkeypatch) -> list[object]:
    """Sockets the collector asked to set DF on (the fake socket has no setsockopt)."""
    seen: list[object] = []
    monkeypatch.setattr(ping, "set_dont_fragment", seen.append)
    return seen


async def test_measure_returns_every_rtt_with_the_requested_payload(fake):
    fake.alive.add("10.0.0.5")
    async with PingCollector() as collector:
        result = await collector.measure(target("10.0.0.5", count=4), size=1200)
        default = await collector.measure(target("10.0.0.5", count=1))
    assert (result.sent, result.received, result.loss) == (4, 4, 0.0)
    assert len(result.rtts) == 4
    sizes = [len(packet) for packet, _ in fake.sent]
    assert sizes == [_icmp.ICMP_HEADER + 1200] * 4 + [_icmp.ICMP_HEADER + 56]
    assert fake.sent[0][0][_icmp.ICMP_HEADER :] == payload_of(1200)
    assert _icmp.checksum(fake.sent[0][0]) == 0  # the checksum covers the bigger payload
    assert default.received == 1


def test_payload_pattern_repeats_the_default():
    assert payload_of(0) == b""
    assert payload_of(56) == _icmp.DEFAULT_PAYLOAD
    assert payload_of(130)[:56] == payload_of(130)[56:112] == _icmp.DEFAULT_PAYLOAD


async def test_measure_rejects_impossible_sizes(fake):
    async with PingCollector() as collector:
        with pytest.raises(ValueError, match="payload size"):
            await collector.measure(target("10.0.0.5"), size=70000)


async def test_dont_fragment_is_set_on_the_socket_only_when_asked(monkeypatch, df_calls):
    plain = _install(monkeypatch, raw=True)
    async with PingCollector():
        pass
    assert df_calls == []
    plain.close()
    df = _install(monkeypatch, raw=True)
    async with PingCollector(dont_fragment=True):
        pass
    assert df_calls == [df]


async def test_too_big_for_the_local_mtu_is_data_not_an_exception(fake, df_calls):
    fake.fail_send = OSError(errno.EMSGSIZE, "Message too long")
    async with PingCollector(dont_fragment=True) as collector:
        result = await collector.measure(target("10.0.0.5", count=2), size=1600)
    assert (result.sent, result.received) == (2, 0)
    assert result.errors == ["sending to 10.0.0.5: Message too long"] * 2


def test_set_dont_fragment_sets_pmtudisc_do_on_a_real_socket():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        _icmp_socket.set_dont_fragment(sock)
        value = sock.getsockopt(socket.IPPROTO_IP, _icmp_socket.IP_MTU_DISCOVER)
    assert value == _icmp_socket.IP_PMTUDISC_DO
