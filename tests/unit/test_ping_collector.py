"""PingCollector against a fake ICMP socket: matching, timeouts, bookkeeping, cancellation."""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
from datetime import UTC, datetime

import pytest
from test_ping_codec import echo, icmp_error, ip_header

from collectors import COLLECTORS, ping
from collectors._icmp import codec as _icmp
from collectors._icmp.sockets import open_icmp_socket
from collectors.errors import CollectorError, IcmpPermissionError
from collectors.model import PingTarget, ProbeStatus
from collectors.ping import PingCollector, RoundResult, summarise

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeIcmpSocket:
    """Looks like a non-blocking ICMP socket; an AF_UNIX pair gives the loop a real fd.

    ``alive`` addresses answer each echo, ``unreachable`` ones get an ICMP error,
    everything else stays silent. ``raw`` decides whether replies carry an IP header and
    keep our id (raw) or come without it with a kernel-chosen id (datagram).
    """

    def __init__(self, *, raw: bool) -> None:
        self.raw = raw
        self._rx, self._tx = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._rx.setblocking(False)
        self.alive: set[str] = set()
        self.unreachable: set[str] = set()
        self.sent: list[tuple[bytes, str]] = []
        self.kernel_id = 0x4242
        self.fail_send: OSError | None = None

    def fileno(self) -> int:
        return self._rx.fileno()

    def sendto(self, packet: bytes, addr: tuple[str, int]) -> int:
        if self.fail_send is not None:
            raise self.fail_send
        self.sent.append((packet, addr[0]))
        ident, seq = struct.unpack_from("!HH", packet, 4)
        if not self.raw:
            ident = self.kernel_id
        if addr[0] in self.alive:
            self.deliver(echo(_icmp.ECHO_REPLY, ident, seq), addr[0])
        elif addr[0] in self.unreachable and self.raw:
            self.deliver(icmp_error(3, 1, addr[0], ident, seq), "10.0.0.254")
        return len(packet)

    def deliver(self, icmp: bytes, source: str) -> None:
        """Queue an ICMP message as coming from ``source``."""
        if self.raw:
            icmp = ip_header(source, "10.0.0.1", len(icmp)) + icmp
        self._tx.send(socket.inet_aton(source) + icmp)

    def recvfrom(self, size: int) -> tuple[bytes, tuple[str, int]]:
        data = self._rx.recv(size)
        return data[4:], (socket.inet_ntoa(data[:4]), 0)

    def recvmsg(self, size: int, anc: int, flags: int) -> tuple[bytes, list, int, tuple]:
        raise BlockingIOError

    def close(self) -> None:
        self._rx.close()
        self._tx.close()


@pytest.fixture
def fake_raw(monkeypatch):
    return _install(monkeypatch, raw=True)


@pytest.fixture
def fake_dgram(monkeypatch):
    return _install(monkeypatch, raw=False)


def _install(monkeypatch, *, raw: bool) -> FakeIcmpSocket:
    fake = FakeIcmpSocket(raw=raw)
    monkeypatch.setattr(ping, "open_icmp_socket", lambda privileged: (fake, raw))
    monkeypatch.setattr(ping, "size_buffers", lambda sock, nbytes: None)
    return fake


def target(address: str, **kw) -> PingTarget:
    kw.setdefault("timeout", 0.05)
    kw.setdefault("interval", 0.001)
    return PingTarget(name=f"dev-{address}", address=address, **kw)


# ------------------------------------------------------------------ pure summary
def test_summarise_ok_with_partial_loss():
    obs = summarise("r1", RoundResult(sent=4, rtts=[0.001, 0.003]), T0)
    assert obs.status is ProbeStatus.OK
    assert obs.value == pytest.approx(0.002)
    assert obs.loss == pytest.approx(0.5)
    assert (obs.device, obs.probe, obs.at, obs.detail) == ("r1", "ping", T0, "2/4 replies")


def test_summarise_timeout_and_unreachable():
    timeout = summarise("r1", RoundResult(sent=3), T0)
    assert (timeout.status, timeout.value, timeout.loss) == (ProbeStatus.TIMEOUT, None, 1.0)
    unreach = summarise("r1", RoundResult(sent=3, errors=["host unreachable (x)"]), T0)
    assert unreach.status is ProbeStatus.UNREACHABLE
    assert unreach.detail == "0/3 replies; host unreachable (x)"


def test_registry_lists_ping():
    assert COLLECTORS["ping"] is PingCollector


# ------------------------------------------------------------------ collector
async def test_probe_alive_raw(fake_raw):
    fake_raw.alive.add("10.0.0.5")
    async with PingCollector(now=lambda: T0) as collector:
        obs = await collector.probe(target("10.0.0.5", count=3))
        assert collector.privileged is True
        assert collector._pending == {}
    assert obs.status is ProbeStatus.OK
    assert (obs.loss, obs.at, obs.detail) == (0.0, T0, "3/3 replies")
    assert obs.value is not None
    assert 0 <= obs.value < 0.05
    seqs = [struct.unpack_from("!H", p, 6)[0] for p, _ in fake_raw.sent]
    assert len(set(seqs)) == 3


async def test_probe_dead_times_out_and_forgets(fake_raw):
    async with PingCollector(now=lambda: T0) as collector:
        obs = await collector.probe(target("10.0.0.6", count=2))
        assert collector._pending == {}
        assert collector._slots._value == collector._max_in_flight
    assert (obs.status, obs.loss, obs.value) == (ProbeStatus.TIMEOUT, 1.0, None)


async def test_reply_with_foreign_ident_is_ignored(fake_raw):
    async with PingCollector() as collector:
        task = asyncio.create_task(collector.probe(target("10.0.0.7", count=1, timeout=0.1)))
        await asyncio.sleep(0.01)
        ((packet, _),) = fake_raw.sent
        ident, seq = struct.unpack_from("!HH", packet, 4)
        fake_raw.deliver(echo(_icmp.ECHO_REPLY, ident ^ 1, seq), "10.0.0.7")
        obs = await task
    assert obs.status is ProbeStatus.TIMEOUT


async def test_icmp_error_maps_to_unreachable(fake_raw):
    fake_raw.unreachable.add("10.0.0.8")
    async with PingCollector() as collector:
        obs = await collector.probe(target("10.0.0.8", count=2))
    assert obs.status is ProbeStatus.UNREACHABLE
    assert "host unreachable" in obs.detail
    assert "10.0.0.254" in obs.detail
    assert obs.loss == 1.0


async def test_local_send_error_is_unreachable_not_exception(fake_raw):
    fake_raw.fail_send = OSError(errno.ENETUNREACH, "Network is unreachable")
    async with PingCollector() as collector:
        obs = await collector.probe(target("10.0.0.9", count=2))
        assert collector._slots._value == collector._max_in_flight
    assert obs.status is ProbeStatus.UNREACHABLE
    assert "Network is unreachable" in obs.detail


async def test_unexpected_send_error_raises(fake_raw):
    fake_raw.fail_send = OSError(errno.EINVAL, "Invalid argument")
    async with PingCollector() as collector:
        with pytest.raises(CollectorError, match="Invalid argument"):
            await collector.probe(target("10.0.0.9"))
        assert collector._pending == {}


async def test_datagram_matches_on_source_and_sequence(fake_dgram):
    fake_dgram.alive.add("10.0.0.10")
    async with PingCollector(privileged=False) as collector:
        assert collector.privileged is False
        good = await collector.probe(target("10.0.0.10", count=2))
        # a reply whose source is another host must not complete our echo
        task = asyncio.create_task(collector.probe(target("10.0.0.11", count=1, timeout=0.1)))
        await asyncio.sleep(0.01)
        seq = struct.unpack_from("!H", fake_dgram.sent[-1][0], 6)[0]
        fake_dgram.deliver(echo(_icmp.ECHO_REPLY, fake_dgram.kernel_id, seq), "10.0.0.12")
        bad = await task
    assert (good.status, good.loss) == (ProbeStatus.OK, 0.0)
    assert bad.status is ProbeStatus.TIMEOUT


async def test_sweep_keeps_order_and_verdicts(fake_raw):
    addresses = [f"10.0.1.{i}" for i in range(1, 41)]
    fake_raw.alive.update(a for i, a in enumerate(addresses) if i % 4)
    async with PingCollector() as collector:
        # 1 s: a loaded CI machine once took longer than 50 ms to hand the fake replies over
        result = await collector.sweep([target(a, count=1, timeout=1.0) for a in addresses])
    assert [o.device for o in result] == [f"dev-{a}" for a in addresses]
    assert [o.ok for o in result] == [bool(i % 4) for i in range(40)]


async def test_sequences_unique_across_concurrent_rounds_and_wrap(fake_raw):
    async with PingCollector() as collector:
        collector._seq = 0xFFFF - 5
        await collector.sweep([target(f"10.0.2.{i}", count=3) for i in range(1, 21)])
    seqs = [struct.unpack_from("!H", p, 6)[0] for p, _ in fake_raw.sent]
    assert len(seqs) == 60
    assert len(set(seqs)) == 60
    assert 0 in seqs  # wrapped past 65535


async def test_next_seq_skips_sequences_in_flight(fake_raw):
    async with PingCollector() as collector:
        collector._seq = 9
        collector._pending[(collector._ident, 10)] = object()  # type: ignore[assignment]
        assert collector._next_seq("10.0.0.1") == 11
        collector._pending.clear()


async def test_in_flight_bounded_by_semaphore(fake_raw):
    fake_raw.alive.update(f"10.0.3.{i}" for i in range(0, 200, 2))
    peak = 0
    real_sendto = fake_raw.sendto

    def counting_sendto(packet, addr):
        nonlocal peak
        peak = max(peak, len(collector._pending))
        return real_sendto(packet, addr)

    fake_raw.sendto = counting_sendto
    collector = PingCollector(max_in_flight=20)
    async with collector:
        result = await collector.sweep([target(f"10.0.3.{i}", count=1) for i in range(200)])
    assert peak == 20
    assert sum(o.ok for o in result) == 100


async def test_cancelled_round_leaves_nothing_behind(fake_raw):
    async with PingCollector() as collector:
        task = asyncio.create_task(
            collector.sweep([target(f"10.0.4.{i}", count=3, timeout=5) for i in range(10)])
        )
        await asyncio.sleep(0.02)
        assert collector._pending
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert collector._pending == {}
        assert collector._slots._value == collector._max_in_flight


async def test_close_fails_waiting_rounds(fake_raw):
    collector = PingCollector()
    await collector.start()
    probe = target("10.0.0.20", timeout=5)
    task = asyncio.create_task(collector.probe(probe))
    async with asyncio.timeout(20):  # every echo sent, the round waits (a 10 ms sleep raced)
        while len(collector._pending) < probe.count:  # noqa: ASYNC110 - polls the collector, no event to wait on
            await asyncio.sleep(0.001)
    await collector.close()
    with pytest.raises(CollectorError, match="closed"):
        await task


async def test_probe_before_start_raises():
    with pytest.raises(CollectorError, match="not started"):
        await PingCollector().probe(target("10.0.0.1"))


async def test_ipv6_and_bad_names_are_observations(fake_raw):
    async with PingCollector() as collector:
        v6 = await collector.probe(target("::1"))
        bad = await collector.probe(target("no-such-host.invalid"))
    assert v6.status is ProbeStatus.UNREACHABLE
    assert "IPv6" in v6.detail
    assert bad.status is ProbeStatus.UNREACHABLE
    assert "cannot resolve" in bad.detail


def test_max_in_flight_validated():
    with pytest.raises(ValueError, match="max_in_flight"):
        PingCollector(max_in_flight=0)


# ------------------------------------------------------------------ permissions
def test_auto_falls_back_to_datagram(monkeypatch):
    real = socket.socket
    kinds = []

    def fake_socket(family, kind, proto):
        kinds.append(kind)
        if kind == socket.SOCK_RAW:
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return real(socket.AF_UNIX, socket.SOCK_DGRAM)

    monkeypatch.setattr(socket, "socket", fake_socket)
    monkeypatch.setattr("collectors._icmp.sockets._tune", lambda sock, raw: None)
    sock, raw = open_icmp_socket(None)
    sock.close()
    assert raw is False
    assert kinds == [socket.SOCK_RAW, socket.SOCK_DGRAM]


def test_no_permission_gives_one_actionable_error(monkeypatch):
    def denied(family, kind, proto):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(socket, "socket", denied)
    with pytest.raises(IcmpPermissionError) as info:
        open_icmp_socket(None)
    text = str(info.value)
    for hint in (
        "raw and datagram denied",
        "CAP_NET_RAW",
        "setcap cap_net_raw+ep",
        "AmbientCapabilities=CAP_NET_RAW",
        "ping_group_range",
    ):
        assert hint in text
    assert isinstance(info.value.__cause__, PermissionError)
