"""The fast path's UDP side: one socket, a loop reader, requests matched by request-id.

Every v2c request waits for a Response with its request-id from the address it was sent to,
echoing its version and community. A v3 request (``collectors._snmp.usm``) uses its id as msgID
and brings an ``unwrap`` that verifies, decrypts and decodes an answer with that msgID.
Anything else (garbage, truncations, strangers, wrong ids or communities) is dropped; the
last such problem seen for a request becomes its failure reason if no good answer comes
before the timeout, so a hostile responder turns into "malformed response" instead of a
bare timeout, and never into a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from collectors._snmp.ber import RESPONSE, BerDecodeError, Pdu, decode_message, peek_request_id
from collectors._snmp.usm_message import peek_msg_id
from collectors.errors import CollectorError

logger = logging.getLogger(__name__)

RECV_SIZE: Final = 65536  # the largest UDP payload; bigger datagrams cannot arrive
READ_BATCH: Final = 1024  # datagrams per reader callback before yielding to the loop
REQUEST_ID_SPACE: Final = 2**31
SO_RCVBUFFORCE: Final = 33
TIMEOUT_REASON: Final = "no response (timeout or wrong community)"
MALFORMED: Final = "malformed response"
_LOCAL_UNREACHABLE: Final = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EACCES, errno.EPERM, errno.EADDRNOTAVAIL}
)

Address = tuple[str, int]
Unwrap = Callable[[bytes], Pdu]  # v3: verify/decrypt/decode; raises CollectorError


@dataclass(slots=True)
class _Request:
    """One request in flight: who must answer, with what, and what went wrong so far."""

    address: Address
    version: int
    community: bytes
    future: asyncio.Future[Pdu]
    problem: str = ""
    unwrap: Unwrap | None = None


class RequestTable:
    """Pending requests keyed by request-id, and the rules that let a datagram answer one.

    Pure (no socket): the reader feeds it datagrams; tests feed it forged ones.
    """

    def __init__(self) -> None:
        """Start empty, with a random first request-id."""
        self._pending: dict[int, _Request] = {}
        self._next_id = int.from_bytes(os.urandom(4)) % REQUEST_ID_SPACE

    def __len__(self) -> int:
        """Number of requests in flight."""
        return len(self._pending)

    def open(
        self,
        address: Address,
        version: int,
        community: bytes,
        loop: asyncio.AbstractEventLoop,
        unwrap: Unwrap | None = None,
    ) -> tuple[int, _Request]:
        """Register a request and return its fresh request-id (v3: its msgID)."""
        for _ in range(len(self._pending) + 1):
            self._next_id = (self._next_id + 1) % REQUEST_ID_SPACE
            if self._next_id not in self._pending:
                break
        request = _Request(address, version, community, loop.create_future(), unwrap=unwrap)
        self._pending[self._next_id] = request
        return self._next_id, request

    def close(self, request_id: int) -> None:
        """Forget a request (answered, timed out or cancelled)."""
        request = self._pending.pop(request_id, None)
        if request is not None and not request.future.done():
            request.future.cancel()

    def fail_all(self, exc: Exception) -> None:
        """Fail every waiting request (the collector is closing)."""
        for request in self._pending.values():
            if not request.future.done():
                request.future.set_exception(exc)
        self._pending.clear()

    def problem(self, request_id: int) -> str:
        """The last problem seen for a request, or empty."""
        request = self._pending.get(request_id)
        return request.problem if request is not None else ""

    def feed(self, data: bytes, source: Address) -> None:
        """Resolve the request ``data`` answers, or note why it could not (never raises)."""
        msg_id = peek_msg_id(data)
        if msg_id is not None:
            self._feed_v3(msg_id, data, source)
            return
        try:
            message = decode_message(data)
        except BerDecodeError as exc:
            request_id = peek_request_id(data)
            request = self._pending.get(request_id) if request_id is not None else None
            if request is None:  # unreadable id: blame every request waiting on that peer
                for waiting in self._pending.values():
                    if waiting.address == source:
                        waiting.problem = f"{MALFORMED}: {exc}"
            elif request.address == source:
                request.problem = f"{MALFORMED}: {exc}"
            return
        request = self._pending.get(message.pdu.request_id)
        if request is None or request.future.done() or request.address != source:
            return  # late, duplicate, or not ours: forged ids from strangers are ignored
        if message.version != request.version or message.community != request.community:
            request.problem = f"{MALFORMED}: version/community not echoed"
        elif message.pdu.tag != RESPONSE:
            request.problem = f"{MALFORMED}: PDU type 0x{message.pdu.tag:02x} is not a Response"
        else:
            request.future.set_result(message.pdu)

    def _feed_v3(self, msg_id: int, data: bytes, source: Address) -> None:
        """Resolve the v3 request with ``msg_id`` through its ``unwrap``."""
        request = self._pending.get(msg_id)
        if request is None or request.future.done() or request.address != source:
            return
        if request.unwrap is None:
            request.problem = f"{MALFORMED}: version/community not echoed"
            return
        try:
            pdu = request.unwrap(data)
        except BerDecodeError as exc:
            request.problem = f"{MALFORMED}: {exc}"
        except CollectorError as exc:  # well-formed but untrusted: its text is the reason
            request.problem = str(exc)
        else:
            request.future.set_result(pdu)


def open_udp_socket(rcvbuf: int) -> socket.socket:
    """Open a non-blocking IPv4 UDP socket with about ``rcvbuf`` bytes of receive buffer."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
    except PermissionError:  # needs CAP_NET_ADMIN; fall back to the rmem_max cap
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2  # the kernel doubles it
    if got < rcvbuf:
        logger.warning(
            "SNMP receive buffer is %d bytes, wanted %d: many polls in flight may lose "
            "responses (raise net.core.rmem_max or lower max_in_flight)",
            got,
            rcvbuf,
        )
    sock.bind(("0.0.0.0", 0))  # noqa: S104 - a client socket: any local address may answer
    return sock


class UdpClient:
    """One shared UDP socket for all v2c requests, with a bound on requests in flight."""

    def __init__(
        self,
        *,
        max_in_flight: int,
        rcvbuf: int,
        socket_factory: Callable[[int], socket.socket] = open_udp_socket,
    ) -> None:
        """Configure; nothing is opened until ``start``."""
        self._slots = asyncio.Semaphore(max_in_flight)
        self._rcvbuf = rcvbuf
        self._socket_factory = socket_factory
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.table = RequestTable()

    async def start(self) -> None:
        """Open the socket in the caller's network namespace and register the reader."""
        if self._sock is not None:
            return
        sock = self._socket_factory(self._rcvbuf)
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._on_readable)
        self._sock = sock

    async def close(self) -> None:
        """Stop reading, fail waiting requests, close the socket."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(sock.fileno())
        self.table.fail_all(CollectorError("SNMP client closed mid-request"))
        sock.close()

    async def request(
        self,
        address: Address,
        community: bytes,
        build: Callable[[int], bytes],
        *,
        wait: float,
        retries: int,
        version: int = 1,
        unwrap: Unwrap | None = None,
    ) -> Pdu | str:
        """Send ``build(request_id)`` and return the Response PDU, or why there is none.

        Each try waits ``wait`` seconds. The same request-id is reused on retries, so a late
        answer to an earlier try counts.
        """
        sock, loop = self._sock, self._loop
        if sock is None or loop is None:
            raise CollectorError("SNMP client is not started")
        async with self._slots:
            request_id, request = self.table.open(address, version, community, loop, unwrap)
            try:
                packet = build(request_id)
                for _ in range(retries + 1):
                    failure = self._send(sock, packet, address)
                    if failure:
                        return failure
                    try:
                        async with asyncio.timeout(wait):
                            return await asyncio.shield(request.future)
                    except TimeoutError:
                        continue
                return request.problem or TIMEOUT_REASON
            finally:
                self.table.close(request_id)

    @staticmethod
    def _send(sock: socket.socket, packet: bytes, address: Address) -> str:
        """Send one datagram; return a local failure as text, empty on success."""
        try:
            sock.sendto(packet, address)
        except BlockingIOError:
            return ""  # send buffer full: the datagram is lost like on the wire; retry covers it
        except OSError as exc:
            if exc.errno in _LOCAL_UNREACHABLE or exc.errno == errno.EMSGSIZE:
                return f"unreachable: {exc.strerror}"
            raise CollectorError(f"sending to {address[0]}:{address[1]} failed: {exc}") from exc
        return ""

    def _on_readable(self) -> None:
        """Read every queued datagram and hand it to the request table (loop callback)."""
        sock = self._sock
        if sock is None:
            return
        feed = self.table.feed
        for _ in range(READ_BATCH):
            try:
                data, source = sock.recvfrom(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. a queued ICMP error; the request will time out
                logger.debug("SNMP socket error: %s", exc)
                continue
            feed(data, (source[0], source[1]))
