"""SNMP collector: system group and IF-MIB status/counters per device, v2c and v3.

Hot path (issue 4): per poll, GetBulk requests with the uptime scalars as non-repeaters and
only the nine needed columns as repeaters, continued until every column leaves its subtree;
max-repetitions follows what the agent is seen to allow (net-snmp: 100 varbinds). Interface
names (ifName/ifAlias/ifDescr) and sysName/sysDescr/sysObjectID come from a second walk only
when the cache is stale: first poll, an unknown ifIndex, a new ifNumber or ifTableLastChange,
or sysUpTime going backwards.

v2c runs on the fast path (``collectors._snmp.ber`` + ``collectors._snmp.transport``): about
1/50th of pysnmp's CPU per poll. v3 with SHA/SHA-256 and AES-128/AES-256 (or authNoPriv)
runs on the same socket through ``collectors._snmp.usm``; anything else, and every v3 device when
``v3_fast=False``, goes through the general path: one pysnmp SnmpEngine
(``collectors._snmp.engine``), plugged in by the caller as ``general`` so that pysnmp (~0.15 s
and ~13 MiB to import) is loaded only by a process that needs it. A device that does not
answer, or answers nonsense, gives a failed ``SnmpPoll`` with a reason, never an exception.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Self

from collectors._snmp import health
from collectors._snmp.ber import (
    GET_BULK_REQUEST,
    Value,
    encode_message,
    encode_oid_content,
    encode_pdu,
    encode_varbind_list,
    parse_oid,
)
from collectors._snmp.rows import (
    Names,
    as_int,
    interface_rows,
    names_of,
    names_stale,
    system_info,
)
from collectors._snmp.transport import UdpClient, open_udp_socket
from collectors._snmp.usm import UsmSession, fast_user
from collectors._snmp.walk import (
    C32_COLUMNS,
    HOT_SCALARS,
    INFO_SCALARS,
    NAME_COLUMNS,
    BulkFn,
    columns,
    walk,
    walk_table,
)
from collectors.model import (
    HealthPoll,
    ProbeStatus,
    SnmpPoll,
    SnmpTarget,
    SnmpVersion,
    utc_now,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime
    from types import TracebackType

    from collectors._snmp.ber import Pdu
    from collectors.base import GeneralPath
    from collectors.model import InterfaceRow, SystemInfo

logger = logging.getLogger(__name__)

SnmpValue = Value  # what a walked column holds: int, bytes, OID arcs, or None
TableColumns = dict[str, dict[tuple[int, ...], SnmpValue]]  # column OID -> index arcs -> value
RCVBUF_DEFAULT: Final = 4 << 20


@dataclass(slots=True)
class _Device:
    """What the collector remembers about one device between polls."""

    budget: int  # varbinds per response the agent allows
    hc: bool | None = None  # ifHC*Octets present; None until the first walk says
    names: Names | None = None
    sys_uptime: int | None = None
    failing: bool = False
    address: tuple[str, int] | None = field(default=None)


class SnmpCollector:
    """Polls devices over SNMP: one UDP socket (v2c fast path) and one pysnmp engine (v3)."""

    def __init__(
        self,
        *,
        now: Callable[[], datetime] = utc_now,
        max_in_flight: int = 64,
        rcvbuf: int = RCVBUF_DEFAULT,
        socket_factory: Callable[[int], socket.socket] = open_udp_socket,
        v3_fast: bool = True,
        general: Callable[[], GeneralPath] | None = None,
    ) -> None:
        """Configure; nothing is opened until ``start``.

        Args:
            now: clock for ``SnmpPoll.at`` (tz-aware UTC).
            max_in_flight: v2c requests awaiting a response at once, across all devices.
            rcvbuf: bytes of UDP receive buffer (responses of all requests in flight).
            socket_factory: opens the fast-path socket (tests inject their own).
            v3_fast: poll v3 devices on the fast path when it speaks their protocols.
            general: opens the general path on first need (``agent.wiring`` passes pysnmp's);
                without it a device that needs it gets a failed poll saying so.
        """
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1 (got {max_in_flight})")
        self._now = now
        self._udp = UdpClient(
            max_in_flight=max_in_flight, rcvbuf=rcvbuf, socket_factory=socket_factory
        )
        self._general = general
        self._engine: GeneralPath | None = None  # created on first need
        self._engine_slots = asyncio.Semaphore(max_in_flight)
        self._devices: dict[str, _Device] = {}
        self._v3_fast = v3_fast
        self._usm: dict[tuple[tuple[str, int], SnmpTarget], UsmSession] = {}

    async def start(self) -> None:
        """Open the fast-path socket (in the caller's network namespace)."""
        await self._udp.start()

    async def close(self) -> None:
        """Close the socket and the pysnmp engine if one was made; polls still waiting fail."""
        await self._udp.close()
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def _general_path(self) -> GeneralPath | None:
        """The general path, opened on first need; None when the collector has none.

        Only the fallback paths (v3 protocols the fast path does not speak, ``v3_fast=False``,
        IPv6) use it.
        """
        if self._engine is None and self._general is not None:
            self._engine = self._general()
        return self._engine

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

    async def poll(self, target: SnmpTarget) -> SnmpPoll:
        """Poll one device's system group and interface table; failures come back as data."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        device = self._device(target)
        bulk = await self._bulk_fn(target, device)
        outcome = bulk if isinstance(bulk, str) else await self._poll(device, bulk)
        duration = loop.time() - started
        if isinstance(outcome, str):
            self._log_transition(target, device, outcome)
            status = ProbeStatus.TIMEOUT if "timeout" in outcome else ProbeStatus.ERROR
            return SnmpPoll(target.name, self._now(), status, outcome, duration=duration)
        self._log_transition(target, device, "")
        system, rows = outcome
        return SnmpPoll(
            target.name,
            self._now(),
            ProbeStatus.OK,
            system=system,
            interfaces=rows,
            duration=duration,
        )

    async def walk_columns(self, target: SnmpTarget, oids: Sequence[str]) -> TableColumns | str:
        """Walk table columns (dotted OIDs; any index shape) of one device, same transports.

        Returns column OID -> index arcs -> value, or why the walk failed (data, as ``poll``).
        """
        device = self._device(target)
        bulk = await self._bulk_fn(target, device)
        if isinstance(bulk, str):
            return bulk
        result = await walk_table(
            bulk, [encode_oid_content(parse_oid(o)) for o in oids], device.budget
        )
        if isinstance(result, str):
            return result
        values, device.budget = result
        return dict(zip(oids, values, strict=True))

    async def poll_health(self, target: SnmpTarget) -> HealthPoll:
        """Poll CPU, memory, sensors and radio links (columns chosen by sysObjectID's vendor)."""
        started = asyncio.get_running_loop().time()
        device = self._device(target)
        if device.names is None:  # the vendor and interface names come from the names walk
            first = await self.poll(target)
            if not first.ok:
                return self._health_failed(target, first.reason, started)
        assert device.names is not None  # noqa: S101 - set by the poll above
        wanted = health.columns_for(health.enterprise_of(device.names.info[2]))
        walked = await self.walk_columns(target, wanted)
        if isinstance(walked, str):
            return self._health_failed(target, walked, started)
        found = health.parse(walked, {i: row[0] or row[2] for i, row in device.names.rows.items()})
        return HealthPoll(
            target.name,
            self._now(),
            ProbeStatus.OK,
            cpu_pct=found.cpu_pct,
            memory_pct=found.memory_pct,
            sensors=tuple(found.sensors),
            radios=tuple(found.radios),
            notes=tuple(found.notes),
            duration=asyncio.get_running_loop().time() - started,
        )

    def _health_failed(self, target: SnmpTarget, reason: str, started: float) -> HealthPoll:
        status = ProbeStatus.TIMEOUT if "timeout" in reason else ProbeStatus.ERROR
        elapsed = asyncio.get_running_loop().time() - started
        return HealthPoll(target.name, self._now(), status, reason, duration=elapsed)

    def _device(self, target: SnmpTarget) -> _Device:
        """What the collector remembers of ``target``, new on its first poll or walk."""
        device = self._devices.get(target.name)
        if device is None:
            budget = len(HOT_SCALARS) + target.max_repetitions * len(columns(hc=True))
            device = self._devices[target.name] = _Device(budget=budget)
        return device

    async def _bulk_fn(self, target: SnmpTarget, device: _Device) -> BulkFn | str:
        """The GetBulk function for this device: fast v2c or v3, or pysnmp's engine."""
        if target.auth.version is not SnmpVersion.V2C:
            session = await self._usm_session(target, device)
            if session is not None:
                return session.bulk
            engine, slots = self._general_path(), self._engine_slots
            if engine is None:
                return f"{target.address}: SNMPv3 needs the general path (pysnmp), not set up"

            async def engine_bulk(
                nonrep: list[bytes], reps: list[bytes], max_rep: int
            ) -> Pdu | str:
                async with slots:
                    return await engine.bulk(target, nonrep, reps, max_rep)

            return engine_bulk
        address = device.address or await self._resolve(target)
        if isinstance(address, str):
            return address
        device.address = address
        community = target.auth.community.encode()
        udp = self._udp

        async def fast_bulk(nonrep: list[bytes], reps: list[bytes], max_rep: int) -> Pdu | str:
            body = encode_varbind_list([*nonrep, *reps])
            head = len(nonrep)

            def build(request_id: int) -> bytes:
                pdu = encode_pdu(GET_BULK_REQUEST, request_id, head, max_rep, body)
                return encode_message(community, pdu)

            return await udp.request(
                address, community, build, wait=target.timeout, retries=target.retries
            )

        return fast_bulk

    async def _usm_session(self, target: SnmpTarget, device: _Device) -> UsmSession | None:
        """The v3 fast-path session for a device; None to fall back to pysnmp."""
        user = fast_user(target.auth) if self._v3_fast else None
        if user is None:
            return None
        address = device.address or await self._resolve(target)
        if isinstance(address, str):
            return None  # IPv6 or unresolvable: pysnmp gives its own reason
        device.address = address
        key = (address, target)
        session = self._usm.get(key)
        if session is None:
            session = self._usm[key] = UsmSession(
                self._udp, address, user, wait=target.timeout, retries=target.retries
            )
        return session

    @staticmethod
    async def _resolve(target: SnmpTarget) -> tuple[str, int] | str:
        """Return the IPv4 (address, port) to send to, or why there is none."""
        try:
            ip = ipaddress.ip_address(target.address)
        except ValueError:
            pass
        else:
            if isinstance(ip, ipaddress.IPv4Address):
                return str(ip), target.port
            return f"{target.address}: IPv6 is not supported on the v2c fast path yet"
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                target.address, target.port, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
        except OSError as exc:
            return f"cannot resolve {target.address!r}: {exc}"
        return str(infos[0][4][0]), target.port

    async def _poll(
        self, device: _Device, bulk: BulkFn
    ) -> tuple[SystemInfo, tuple[InterfaceRow, ...]] | str:
        """Walk the hot columns, then the names if stale; return the data or a reason."""
        hot = await walk(bulk, HOT_SCALARS, columns(device.hc is not False), device.budget)
        if isinstance(hot, str):
            return hot
        device.budget = hot.budget
        if device.hc is None and hot.table["admin_status"]:
            device.hc = bool(hot.table["in_octets"])
            if not device.hc:  # no ifXTable counters: fall back to 32-bit ifIn/OutOctets
                c32 = await walk(bulk, (), C32_COLUMNS, device.budget)
                if isinstance(c32, str):
                    return c32
                hot.table.update(c32.table)
        if names_stale(device.names, hot, device.sys_uptime):
            names = await walk(bulk, INFO_SCALARS, NAME_COLUMNS, device.budget)
            if isinstance(names, str):
                return names
            device.names = names_of(names, hot)
        device.sys_uptime = as_int(hot.scalars.get("sys_uptime"))
        assert device.names is not None  # noqa: S101 - set just above when missing
        bits = 64 if device.hc else 32
        return system_info(hot, device.names), interface_rows(hot, device.names, bits=bits)

    @staticmethod
    def _log_transition(target: SnmpTarget, device: _Device, reason: str) -> None:
        """Log a device going bad once, and its recovery once (STYLE point 9)."""
        if reason and not device.failing:
            logger.warning("snmp: %s (%s) failing: %s", target.name, target.address, reason)
        elif not reason and device.failing:
            logger.info("snmp: %s (%s) answers again", target.name, target.address)
        device.failing = bool(reason)
