"""The sockets: syslog over UDP and TCP, traps over UDP, in the daemon's one event loop.

Each listener binds one configured ``host:port`` (never a wildcard unless written so) and
hands every message with its sender's address to the :class:`~agent.events.hub.EventHub`.
TCP syslog frames with :class:`~agent.events.syslog.Framer` (RFC 6587), bounds the number of
connections and closes a connection that sends nothing for ``IDLE_SECONDS`` or breaks the
framing. A datagram's receive buffer is sized up so a burst waits in the kernel, not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import TYPE_CHECKING, Final

from agent.config.listen import parse_listen
from agent.events.syslog import Framer, FramingError

if TYPE_CHECKING:
    from agent.events.hub import EventHub

logger = logging.getLogger(__name__)

RCVBUF: Final = 4 * 1024 * 1024
MAX_CONNECTIONS: Final = 256
IDLE_SECONDS: Final = 300.0
READ_CHUNK: Final = 65536


def _host(peer: object) -> str:
    """The address text of a socket peer tuple."""
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return ""


class _Udp(asyncio.DatagramProtocol):
    """A datagram receiver whose socket is known closed (``closed``) once the loop closed it."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self.closed = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class _SyslogUdp(_Udp):
    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            self.hub.syslog(data, _host(addr))
        except Exception:  # one bad message must not stop the receiver
            logger.exception("syslog datagram from %s not handled", _host(addr))


class _TrapUdp(_Udp):
    def __init__(self, hub: EventHub) -> None:
        super().__init__(hub)
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.DatagramTransport):
            self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            answer = self.hub.trap(data, _host(addr))
        except Exception:  # one bad message must not stop the receiver
            logger.exception("trap datagram from %s not handled", _host(addr))
            return
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)


def _udp_socket(listen: str) -> socket.socket:
    address = parse_listen(listen)
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    try:
        sock.bind((address.host, address.port))
    except OSError:
        sock.close()  # a port in use: no socket left behind
        raise
    sock.setblocking(False)
    return sock


class Listeners:
    """Every configured socket, open while the daemon runs (an async context manager)."""

    def __init__(self, hub: EventHub) -> None:
        """Listen for ``hub`` on ``hub.settings``' addresses (opened by :meth:`start`)."""
        self.hub = hub
        self._transports: list[asyncio.BaseTransport] = []
        self._protocols: list[_Udp] = []
        self._servers: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Bind every address; a port in use or not permitted stops start-up with its name."""
        loop = asyncio.get_running_loop()
        settings = self.hub.settings
        try:
            for listen in settings.syslog_listen:
                transport, protocol = await loop.create_datagram_endpoint(
                    lambda: _SyslogUdp(self.hub), sock=_udp_socket(listen)
                )
                self._transports.append(transport)
                self._protocols.append(protocol)
                if settings.syslog_tcp:
                    address = parse_listen(listen)
                    server = await asyncio.start_server(
                        self._serve, address.host, address.port, limit=READ_CHUNK
                    )
                    self._servers.append(server)
            for listen in settings.trap_listen:
                transport, trap = await loop.create_datagram_endpoint(
                    lambda: _TrapUdp(self.hub), sock=_udp_socket(listen)
                )
                self._transports.append(transport)
                self._protocols.append(trap)
        except OSError as exc:
            await self.close()
            raise OSError(exc.errno, f"event receiver cannot listen: {exc.strerror}") from exc
        logger.info(
            "event receivers: syslog %s%s, traps %s",
            ", ".join(settings.syslog_listen) or "-",
            " (udp+tcp)" if settings.syslog_tcp else " (udp)",
            ", ".join(settings.trap_listen) or "-",
        )

    def addresses(self) -> dict[str, list[tuple[str, int]]]:
        """Where each socket is bound (tests bind port 0 and ask)."""
        out: dict[str, list[tuple[str, int]]] = {"udp": [], "tcp": []}
        for transport in self._transports:
            name = transport.get_extra_info("sockname")
            out["udp"].append((str(name[0]), int(name[1])))
        for server in self._servers:
            for sock in server.sockets:
                name = sock.getsockname()
                out["tcp"].append((str(name[0]), int(name[1])))
        return out

    async def close(self) -> None:
        """Close every socket and connection."""
        for transport in self._transports:
            transport.close()
        for server in self._servers:
            server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        # a datagram transport closes its socket on a later loop turn: wait for it, so the
        # same ports can be bound again at once (a reload that reopens them)
        await asyncio.gather(*(p.closed for p in self._protocols))
        self._transports.clear()
        self._servers.clear()
        self._protocols.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        peer = _host(writer.get_extra_info("peername"))
        if task is None or len(self._connections) >= MAX_CONNECTIONS or not self.hub.known(peer):
            reason = "connections" if self.hub.known(peer) else "unknown_source"
            self.hub.metrics.drop("syslog", reason)
            writer.close()
            return
        self._connections.add(task)
        try:
            await self._read(reader, peer)
        except (ConnectionError, TimeoutError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _read(self, reader: asyncio.StreamReader, peer: str) -> None:
        framer = Framer(self.hub.settings.max_line)
        while True:
            async with asyncio.timeout(IDLE_SECONDS):
                data = await reader.read(READ_CHUNK)
            if not data:
                return
            try:
                frames = framer.feed(data)
            except FramingError as exc:
                self.hub.metrics.drop("syslog", "framing")
                logger.warning("syslog TCP from %s closed: %s", peer, exc)
                return
            for frame in frames:
                self.hub.syslog(frame, peer)
            await asyncio.sleep(0)  # a fast sender must not starve the loop
