"""ICMP echo collector: one shared socket, an event-loop reader, futures keyed per echo.

One round sends ``count`` echoes ``interval`` apart and waits for each up to ``timeout``
after its own send, so a sweep of 1,000 hosts takes about one timeout, not one per host.
Raw sockets (root / CAP_NET_RAW) see every ICMP packet: replies are ours when the
identifier is ours, and are matched by ``(identifier, sequence)``. Datagram sockets get
only their own replies with an identifier the kernel chose: matched by
``(source, sequence)``.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import os
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Self

from collectors._icmp.codec import (
    DEFAULT_PAYLOAD,
    MSG_ERRQUEUE,
    EchoEncoder,
    IcmpMessage,
    describe_error,
    parse_icmp,
    parse_ip_packet,
    parse_queued_error,
)
from collectors._icmp.sockets import open_icmp_socket, set_dont_fragment, size_buffers
from collectors.errors import CollectorError
from collectors.model import Observation, PingTarget, ProbeStatus, utc_now

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime
    from types import TracebackType

logger = logging.getLogger(__name__)

PROBE: Final = "ping"
RECV_SIZE: Final = 2048
READ_BATCH: Final = 4096  # packets per reader callback before yielding to the loop
RCVBUF_PER_ECHO: Final = 4096  # bytes of socket buffer per in-flight echo (skb truesize)
SEQ_SPACE: Final = 0x10000
# Refused locally (no route, or a firewall on this host dropped the packet: EPERM/EACCES,
# or a don't-fragment echo larger than the route's MTU: EMSGSIZE): the device is
# unreachable from here at that size, which is data for that device, not a daemon crash.
_LOCAL_UNREACHABLE: Final = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EACCES, errno.EPERM, errno.EMSGSIZE}
)

MAX_PAYLOAD: Final = 65507  # 65535 - IPv4 header - ICMP header

Key = tuple[int | str, int]


def payload_of(size: int) -> bytes:
    """Return ``size`` bytes of the default payload pattern, repeated."""
    return (DEFAULT_PAYLOAD * (size // len(DEFAULT_PAYLOAD) + 1))[:size]


@dataclass(slots=True)
class _Echo:
    """One echo request in flight: what resolves it, and when it was sent."""

    key: Key
    future: asyncio.Future[float | str]  # RTT seconds, or why the echo failed
    sent: float
    settled: bool = False


@dataclass(slots=True)
class RoundResult:
    """What one round saw: echoes sent, RTTs of the replies, ICMP or local errors."""

    sent: int = 0
    rtts: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def received(self) -> int:
        """Number of echo replies."""
        return len(self.rtts)

    @property
    def loss(self) -> float:
        """Ratio of echoes without a reply, 0.0 to 1.0 (1.0 when nothing was sent)."""
        return 1.0 - self.received / self.sent if self.sent else 1.0

    @property
    def avg_rtt(self) -> float | None:
        """Mean RTT in seconds, None without replies."""
        return sum(self.rtts) / len(self.rtts) if self.rtts else None


def summarise(device: str, result: RoundResult, at: datetime) -> Observation:
    """Turn a round into an Observation: OK on any reply, else UNREACHABLE or TIMEOUT."""
    counts = f"{result.received}/{result.sent} replies"
    if result.rtts:
        status, detail = ProbeStatus.OK, counts
    elif result.errors:
        status, detail = ProbeStatus.UNREACHABLE, f"{counts}; {result.errors[-1]}"
    else:
        status, detail = ProbeStatus.TIMEOUT, counts
    return Observation(
        device=device,
        probe=PROBE,
        status=status,
        at=at,
        value=result.avg_rtt,
        loss=result.loss,
        detail=detail,
    )


class PingCollector:
    """Pings targets over one shared ICMPv4 socket; a dead host is an Observation."""

    def __init__(
        self,
        *,
        privileged: bool | None = None,
        now: Callable[[], datetime] = utc_now,
        max_in_flight: int = 2000,
        dont_fragment: bool = False,
    ) -> None:
        """Configure; nothing is opened until ``start``.

        Args:
            privileged: True for a raw socket, False for a datagram socket, None to try
                raw then datagram.
            now: clock for ``Observation.at`` (tz-aware UTC).
            max_in_flight: echoes awaiting a reply at once, across all rounds.
            dont_fragment: set DF on every echo (path MTU checks); a router that cannot
                forward one answers "fragmentation needed".
        """
        if not 1 <= max_in_flight < SEQ_SPACE:
            raise ValueError(f"max_in_flight must be 1..{SEQ_SPACE - 1} (got {max_in_flight})")
        self._want_privileged = privileged
        self._now = now
        self._max_in_flight = max_in_flight
        self._slots = asyncio.Semaphore(max_in_flight)
        self._sock: socket.socket | None = None
        self._raw = False
        self._loop: asyncio.AbstractEventLoop | None = None
        # random, not the pid: two collectors in one process must not share an identifier
        self._ident = int.from_bytes(os.urandom(2))
        self._seq = int.from_bytes(os.urandom(2))
        self._pending: dict[Key, _Echo] = {}
        self._literals: dict[str, str] = {}  # address text -> canonical IPv4 (literals only)
        self._encoders: dict[int | None, EchoEncoder] = {None: EchoEncoder()}
        self._dont_fragment = dont_fragment

    @property
    def privileged(self) -> bool:
        """True when the open socket is raw, False when it is a datagram socket."""
        if self._sock is None:
            raise CollectorError("PingCollector is not started")
        return self._raw

    async def start(self) -> None:
        """Open the socket (in the caller's network namespace) and register the reader.

        Raises:
            IcmpPermissionError: neither a raw nor a datagram ICMP socket is allowed.
        """
        if self._sock is not None:
            return
        sock, self._raw = open_icmp_socket(self._want_privileged)
        size_buffers(sock, self._max_in_flight * RCVBUF_PER_ECHO)
        if self._dont_fragment:
            set_dont_fragment(sock)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._on_readable)
        self._sock = sock
        logger.info("ping: %s ICMP socket open", "raw" if self._raw else "datagram")

    async def close(self) -> None:
        """Stop the reader, fail rounds still waiting, close the socket."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
        for echo in self._pending.values():
            if not echo.future.done():
                echo.future.set_exception(CollectorError("PingCollector closed mid-round"))
        self._pending.clear()
        sock.close()

    async def __aenter__(self) -> Self:
        """Start and return the collector."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the collector."""
        await self.close()

    async def probe(self, target: PingTarget) -> Observation:
        """Run one round against ``target`` and return its Observation."""
        address = await self._resolve(target.address)
        if isinstance(address, RoundResult):
            result = address
        else:
            result = await self._round(address, target)
        return summarise(target.name, result, self._now())

    async def measure(self, target: PingTarget, *, size: int | None = None) -> RoundResult:
        """Run one round and return every RTT (diagnostics: jitter, MTU checks).

        ``size`` is the ICMP payload in bytes (``ping -s``; the IP packet is 28 more), None
        for the default 56.
        """
        if size is not None and not 0 <= size <= MAX_PAYLOAD:
            raise ValueError(f"payload size must be 0..{MAX_PAYLOAD} (got {size})")
        address = await self._resolve(target.address)
        if isinstance(address, RoundResult):
            return address
        return await self._round(address, target, size)

    async def sweep(self, targets: Sequence[PingTarget]) -> list[Observation]:
        """Probe all targets concurrently; Observations come back in the same order."""
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self.probe(t), name=f"ping:{t.name}") for t in targets]
        return [task.result() for task in tasks]

    async def _resolve(self, address: str) -> str | RoundResult:
        """Return the IPv4 address to ping, or a failed round if there is none."""
        literal = self._literals.get(address)
        if literal is not None:  # parsed once: the sweep's send loop is the hot path
            return literal
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            pass
        else:
            if isinstance(ip, ipaddress.IPv4Address):
                self._literals[address] = str(ip)
                return str(ip)
            return RoundResult(errors=[f"{address}: IPv6 is not supported yet"])
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                address, None, family=socket.AF_INET, type=socket.SOCK_RAW
            )
        except OSError as exc:
            return RoundResult(errors=[f"cannot resolve {address!r}: {exc}"])
        return str(infos[0][4][0])

    async def _round(
        self, address: str, target: PingTarget, size: int | None = None
    ) -> RoundResult:
        """Send ``count`` echoes ``interval`` apart; wait for each up to ``timeout``."""
        result = RoundResult()
        echoes: list[_Echo] = []
        try:
            for i in range(target.count):
                if i:
                    await asyncio.sleep(target.interval)
                echo = await self._send(address, size)
                result.sent += 1
                if isinstance(echo, str):
                    result.errors.append(echo)
                else:
                    echoes.append(echo)
            for echo in echoes:
                outcome = await self._wait(echo, echo.sent + target.timeout)
                if isinstance(outcome, float):
                    result.rtts.append(outcome)
                elif outcome is not None:
                    result.errors.append(outcome)
        finally:
            for echo in echoes:
                self._settle(echo)
        return result

    async def _send(self, address: str, size: int | None = None) -> _Echo | str:
        """Send one echo and register it; a local send error is returned as text."""
        sock, loop = self._sock, self._loop
        if sock is None or loop is None:
            raise CollectorError("PingCollector is not started")
        await self._slots.acquire()
        seq = self._next_seq(address)
        key: Key = (self._ident, seq) if self._raw else (address, seq)
        encoder = self._encoders.get(size)
        if encoder is None:
            encoder = self._encoders[size] = EchoEncoder(payload_of(size or 0))
        packet = encoder.encode(self._ident, seq)
        echo = _Echo(key, loop.create_future(), loop.time())
        self._pending[key] = echo
        sent = False
        try:
            try:
                sock.sendto(packet, (address, 0))
            except BlockingIOError:  # send buffer full: wait for room instead of dropping
                await loop.sock_sendto(sock, packet, (address, 0))
            sent = True
        except OSError as exc:
            if exc.errno in _LOCAL_UNREACHABLE:
                return f"sending to {address}: {exc.strerror}"
            raise CollectorError(f"sending an echo to {address} failed: {exc}") from exc
        finally:
            if not sent:
                self._settle(echo)
        return echo

    def _next_seq(self, address: str) -> int:
        """Return a sequence number no echo in flight uses (wraps at 65536)."""
        for _ in range(SEQ_SPACE):
            self._seq = (self._seq + 1) % SEQ_SPACE
            key: Key = (self._ident, self._seq) if self._raw else (address, self._seq)
            if key not in self._pending:
                return self._seq
        raise CollectorError("no free ICMP sequence number")  # max_in_flight prevents this

    async def _wait(self, echo: _Echo, deadline: float) -> float | str | None:
        """Return the echo's RTT, its error text, or None on timeout (``deadline``: loop time)."""
        try:
            async with asyncio.timeout_at(deadline):
                return await echo.future
        except TimeoutError:
            return None
        finally:
            self._settle(echo)

    def _settle(self, echo: _Echo) -> None:
        """Forget an echo and free its slot, exactly once; cancel its future if open."""
        if echo.settled:
            return
        echo.settled = True
        if self._pending.get(echo.key) is echo:
            del self._pending[echo.key]
        if not echo.future.done():
            echo.future.cancel()
        self._slots.release()

    def _on_readable(self) -> None:
        """Read every queued packet and resolve the echoes they answer (loop callback)."""
        sock, loop = self._sock, self._loop
        if sock is None or loop is None:
            return
        loop_time = loop.time
        if not self._raw:
            self._drain_errors(sock, loop_time())
        for _ in range(READ_BATCH):
            try:
                packet, (source, _port) = sock.recvfrom(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # a datagram socket's pending ICMP error, already queued
                logger.debug("ICMP socket error: %s", exc)
                continue
            now = loop_time()
            message = parse_ip_packet(packet, source) if self._raw else parse_icmp(packet, source)
            if message is not None:
                self._resolve_echo(message, now)

    def _drain_errors(self, sock: socket.socket, now: float) -> None:
        """Read the ICMP errors a datagram socket queues (IP_RECVERR)."""
        for _ in range(READ_BATCH):
            try:
                data, ancdata, _flags, addr = sock.recvmsg(RECV_SIZE, 512, MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                return
            message = parse_queued_error(data, ancdata, addr[0])
            if message is not None:
                self._resolve_echo(message, now)

    def _resolve_echo(self, message: IcmpMessage, now: float) -> None:
        """Complete the echo this reply or error answers, if it is still waiting."""
        if self._raw:
            if message.ident != self._ident:
                return  # another process's ping
            key: Key = (message.ident, message.seq)
        else:
            key = (message.peer, message.seq)
        echo = self._pending.get(key)
        if echo is None or echo.future.done():
            return  # late (timed out) or duplicate
        if message.is_reply:
            echo.future.set_result(now - echo.sent)
        else:
            reason = describe_error(message.icmp_type, message.code, message.reporter)
            echo.future.set_result(reason)
