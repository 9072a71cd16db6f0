"""The metrics endpoint: ``/metrics`` (Prometheus text or OpenMetrics) and ``/healthz`` (JSON).

A deliberately small HTTP/1.1 server on asyncio streams (one request per connection, GET and
HEAD only, bounded request size and read time), so the daemon needs no web framework. It
listens on 127.0.0.1:9464 by default; a wildcard address must be written out
(``0.0.0.0:9464``, ``[::]:9464``) and is logged as a warning. The exposition is rendered on
a thread of its own from the in-memory registry (prometheus_client's metrics are thread-safe,
as its own threaded server relies on): rendering 1,000 devices' series takes ~0.12 s of CPU,
which inline on the loop made every timer ~0.1 s late per scrape (~0.01 s from the thread);
one thread, so concurrent scrapes render one after the other and never wait behind the
default executor's other work (Apprise sends, reloads); scrapes that arrive while a render of
the same format runs share its result, so a burst of scrapes costs one render. Connections are
capped (``MAX_CONNECTIONS``: more get ``503`` at once and are closed) and a client that stops
reading its answer is cut off after ``WRITE_TIMEOUT``, so slow or many clients cannot pile up
buffers or hold the endpoint.

Why not prometheus_client's ``start_http_server`` or its ASGI app under uvicorn (measured by
``tests/bench/test_metrics_http_bench.py``, RESULTS.md "Metrics endpoint", 1,000 devices):
the CPU per scrape is the same for all three within the noise (~0.12 s: the library's
renderer in every case); at start this server adds ~0.2 MiB and one module (wsgiref 0.6 MiB;
uvicorn 2.8 MiB, 67 modules, 45-80 ms to import and start); the ASGI app renders on the loop
(timers ~0.1 s late per scrape). And this server keeps what the library servers lack: HEAD
(wsgiref answers 405), 405 for other methods (uvicorn serves POST), ``/healthz`` and 404 (both
serve metrics on any path), a bounded request head (wsgiref waits on a 20 kB head) and read
time (a half-sent request holds a wsgiref thread or a uvicorn connection open; here it is
closed after ``READ_TIMEOUT``), and no signal handlers of its own (``uvicorn.Server.serve``
installs SIGINT/SIGTERM handlers over the daemon's).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Final, Self

from prometheus_client.exposition import choose_encoder

from agent.config.listen import DEFAULT_LISTEN, ListenAddress, parse_listen

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from prometheus_client import CollectorRegistry

    from agent.runtime.metrics import Metrics

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES: Final = 8192
READ_TIMEOUT: Final = 5.0
WRITE_TIMEOUT: Final = 10.0  # a scrape of 1,000 devices is ~2 MB: seconds even on a slow link
MAX_CONNECTIONS: Final = 32  # Prometheus, a second one, and people with curl: never near it


@dataclass(frozen=True, slots=True)
class HealthChecks:
    """What ``/healthz`` reports; each callable reads in-memory state and must not block."""

    database: Callable[[], bool | None]  # None: not checked yet
    scheduler_lag: Callable[[], float]
    outbox_depth: Callable[[], int]
    max_lag: float = 5.0  # seconds of scheduler lag still called healthy
    cluster: Callable[[], dict[str, object]] | None = None  # active/standby: role, leader, lease
    zones: Callable[[], dict[str, object]] | None = None  # zone pollers (issue 23), leader view

    @classmethod
    def from_metrics(cls, metrics: Metrics, *, max_lag: float = 5.0) -> Self:
        """Read the state the daemon already reports to :class:`agent.runtime.metrics.Metrics`."""
        return cls(
            database=lambda: metrics.database_up,
            scheduler_lag=lambda: metrics.scheduler_lag,
            outbox_depth=lambda: metrics.outbox_total,
            max_lag=max_lag,
        )

    def report(self) -> tuple[bool, dict[str, object]]:
        """Return (healthy, JSON document); unhealthy: database down or the loop lagging."""
        database, lag, depth = self.database(), self.scheduler_lag(), self.outbox_depth()
        healthy = database is not False and lag <= self.max_lag
        report: dict[str, object] = {
            "status": "ok" if healthy else "fail",
            "database": {"reachable": database},
            "scheduler_lag_seconds": round(lag, 6),
            "outbox_depth": depth,
        }
        if self.cluster is not None:
            report["ha"] = self.cluster()
        if self.zones is not None:
            report["zones"] = self.zones()
        return healthy, report


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    accept: str


@dataclass(frozen=True, slots=True)
class _Response:
    status: HTTPStatus
    content_type: str
    body: bytes
    allow: str = ""


class MetricsServer:
    """Serves ``registry`` and ``health`` on ``address`` until closed (an async context)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        health: HealthChecks,
        address: ListenAddress | str = DEFAULT_LISTEN,
        *,
        max_connections: int = MAX_CONNECTIONS,
        write_timeout: float = WRITE_TIMEOUT,
    ) -> None:
        """Bind nothing yet; :meth:`start` opens the socket."""
        self.registry = registry
        self.health = health
        self.address = parse_listen(address) if isinstance(address, str) else address
        self.max_connections = max_connections
        self.write_timeout = write_timeout
        self.connections = 0  # open right now
        self.renders = 0  # expositions rendered since start (burst scrapes share one)
        self.cut_off = 0  # clients dropped since start for not reading their answer
        self._server: asyncio.Server | None = None
        self._render: ThreadPoolExecutor | None = None  # one thread: one render at a time
        self._rendering: dict[str, asyncio.Future[bytes]] = {}  # content type -> render

    @property
    def port(self) -> int:
        """The bound port (useful with port 0 in tests)."""
        if self._server is None or not self._server.sockets:
            return self.address.port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Open the listening socket; an OSError (port in use, no such address) propagates."""
        if self.address.wildcard:
            logger.warning("metrics endpoint listens on every interface (%s)", self.address)
        self._render = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigap-metrics")
        self._server = await asyncio.start_server(
            self._serve,
            self.address.host,
            self.address.port,
            reuse_address=True,
            limit=MAX_REQUEST_BYTES,  # a longer request head ends in LimitOverrunError
        )
        logger.info("metrics on http://%s/metrics", ListenAddress(self.address.host, self.port))

    async def close(self) -> None:
        """Stop listening and wait for open connections to end."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._render is not None:
            self._render.shutdown(wait=False, cancel_futures=True)
            self._render = None

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            if self.connections > self.max_connections:
                _write(writer, _plain(HTTPStatus.SERVICE_UNAVAILABLE), head=False)
            else:
                request = await self._read(reader)
                response = (
                    await self._respond(request) if request else _plain(HTTPStatus.BAD_REQUEST)
                )
                _write(writer, response, head=request is not None and request.method == "HEAD")
            async with asyncio.timeout(self.write_timeout):
                await writer.drain()
        except TimeoutError:
            self.cut_off += 1
            writer.transport.abort()  # a client that does not read: drop its buffer now
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a client that went away or sent garbage: nothing to answer
        except Exception:
            logger.exception("metrics endpoint: request failed")
        finally:
            self.connections -= 1
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(self.write_timeout):
                    await writer.wait_closed()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> _Request | None:
        async with asyncio.timeout(READ_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):  # noqa: PLR2004
            return None
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        path = parts[1].split("?", 1)[0]
        return _Request(parts[0], path, headers.get("accept", ""))

    async def _respond(self, request: _Request) -> _Response:
        if request.path not in ("/metrics", "/healthz", "/"):
            return _plain(HTTPStatus.NOT_FOUND)
        if request.method not in ("GET", "HEAD"):
            return _Response(HTTPStatus.METHOD_NOT_ALLOWED, "text/plain", b"", allow="GET, HEAD")
        if request.path == "/metrics":
            encoder, content_type = choose_encoder(request.accept)
            return _Response(
                HTTPStatus.OK, content_type, await self._exposition(encoder, content_type)
            )
        if request.path == "/healthz":
            healthy, document = self.health.report()
            status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
            body = json.dumps(document, sort_keys=True).encode() + b"\n"
            return _Response(status, "application/json", body)
        index = b"sigap: /metrics (Prometheus), /healthz (JSON)\n"
        return _Response(HTTPStatus.OK, "text/plain; charset=utf-8", index)

    async def _exposition(self, encoder: Callable[[CollectorRegistry], bytes], kind: str) -> bytes:
        """Render on the metrics thread; a scrape during a render of ``kind`` shares it."""
        running = self._rendering.get(kind)
        if running is None:
            loop = asyncio.get_running_loop()
            running = asyncio.ensure_future(
                loop.run_in_executor(self._render, encoder, self.registry)
            )
            self._rendering[kind] = running
            running.add_done_callback(lambda _done: self._rendering.pop(kind, None))
            self.renders += 1
        return await asyncio.shield(running)  # one scraper leaving must not cancel the others'


def _plain(status: HTTPStatus) -> _Response:
    return _Response(status, "text/plain; charset=utf-8", f"{status.phrase}\n".encode())


def _write(writer: asyncio.StreamWriter, response: _Response, *, head: bool) -> None:
    lines = [
        f"HTTP/1.1 {response.status.value} {response.status.phrase}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: close",
        "Cache-Control: no-store",
    ]
    if response.allow:
        lines.append(f"Allow: {response.allow}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if not head:
        writer.write(response.body)
