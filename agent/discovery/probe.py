"""The I/O of a scan: a rate-limited ping sweep, then SNMP with each credential in turn.

Runs in the caller's network namespace (the lab's NOC for the lab; the CLI refuses the lab
inventory anywhere else). Bounded: addresses are pinged in batches of ``rate`` per second,
SNMP asks at most ``snmp_in_flight`` devices at once, each credential once, no retries.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Protocol

from agent.discovery.model import Answer
from agent.topology import mibs
from collectors import platform
from collectors.model import PingTarget, SnmpTarget

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Sequence

    from agent.discovery.model import Credential
    from agent.topology.scan import Walker
    from collectors.model import Observation
    from collectors.snmp import TableColumns

SYS_NAME: Final = "1.3.6.1.2.1.1.5"
SYS_LOCATION: Final = "1.3.6.1.2.1.1.6"
SYS_SERVICES: Final = "1.3.6.1.2.1.1.7"
IDENTIFY: Final = (platform.SYS_OBJECT_ID, SYS_NAME)  # cheap first question per credential
COLUMNS: Final = (*mibs.COLUMNS, *platform.COLUMNS, SYS_NAME, SYS_LOCATION, SYS_SERVICES)


class Pinger(Protocol):
    """What a scan needs from the ping collector."""

    async def sweep(self, targets: Sequence[PingTarget]) -> list[Observation]:
        """Probe all targets; Observations in the same order."""
        ...


@dataclass(frozen=True, slots=True)
class Limits:
    """How hard a scan may push: addresses pinged per second, SNMP devices at once."""

    rate: int = 256
    snmp_in_flight: int = 16
    ping_count: int = 2
    ping_timeout: float = 1.0
    snmp_timeout: float = 1.0


DEFAULT_LIMITS: Final = Limits()


async def sweep(
    pinger: Pinger,
    addresses: Iterable[str],
    limits: Limits = DEFAULT_LIMITS,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[int], None] | None = None,
) -> dict[str, float | None]:
    """Ping ``addresses``, ``limits.rate`` new ones a second; those that answered -> RTT.

    ``progress`` is told how many addresses have been sent to so far, once a batch.

    Batches overlap: a batch starts every second while the previous ones still wait for
    their timeouts (the collector bounds the echoes in flight), so a /16 at 256 a second
    takes about 256 s, not 256 timeouts more.
    """
    pending = iter(addresses)

    def take() -> list[PingTarget]:
        batch = [a for _, a in zip(range(limits.rate), pending, strict=False)]
        return [PingTarget(a, a, limits.ping_count, 0.2, limits.ping_timeout) for a in batch]

    tasks: list[asyncio.Task[list[Observation]]] = []
    sent = 0
    async with asyncio.TaskGroup() as group:
        batch = take()
        while batch:  # bounded by the addresses, which targets.parse_ranges bounds
            started = clock()
            tasks.append(group.create_task(pinger.sweep(batch), name=f"sweep:{len(tasks)}"))
            sent += len(batch)
            if progress is not None:
                progress(sent)
            batch = take()
            spare = 1.0 - (clock() - started)
            if batch and spare > 0:
                await sleep(spare)
    return {o.device: o.value for t in tasks for o in t.result() if o.ok}


def target(address: str, credential: Credential, wait: float) -> SnmpTarget:
    """The SNMP target for one address with one credential (no retries: a scan moves on)."""
    s = credential.settings
    return SnmpTarget(address, address, s.auth, s.port, min(s.timeout, wait), 0, 25)


async def identify(
    walker: Walker, address: str, credentials: Sequence[Credential], wait: float
) -> tuple[Credential, TableColumns] | None:
    """Try each credential in order; the first that answers with sysObjectID, and the walk."""
    for credential in credentials:
        one = target(address, credential, wait)
        first = await walker.walk_columns(one, IDENTIFY)
        if isinstance(first, str) or not first.get(platform.SYS_OBJECT_ID):
            continue
        columns = await walker.walk_columns(one, COLUMNS)
        return credential, (first if isinstance(columns, str) else columns)
    return None


def _scalar(columns: TableColumns, oid: str) -> str:
    value = next(iter(columns.get(oid, {}).values()), None)
    if isinstance(value, bytes):
        return value.split(b"\0", 1)[0].decode("utf-8", errors="replace")
    return ""


def answer(address: str, credential: Credential, columns: TableColumns) -> Answer:
    """What the device said, decoded (neighbours, names, platform, system group)."""
    services = next(iter(columns.get(SYS_SERVICES, {}).values()), None)
    return Answer(
        address,
        snmp=True,
        credential=credential.label,
        groups=credential.groups,
        sys_name=_scalar(columns, SYS_NAME),
        sys_location=_scalar(columns, SYS_LOCATION),
        sys_services=services if isinstance(services, int) else None,
        platform=platform.detect(columns),
        neighbours=tuple(mibs.neighbours(columns)),
        if_names=mibs.if_names(columns),
        if_descrs=mibs.if_descrs(columns),
    )


async def ask_all(
    walker: Walker,
    alive: dict[str, float | None],
    credentials: Sequence[Credential],
    limits: Limits = DEFAULT_LIMITS,
) -> list[Answer]:
    """SNMP for every address that answered ping (bounded); ping-only ones stay as such."""
    slots = asyncio.Semaphore(limits.snmp_in_flight)

    async def one(address: str) -> Answer:
        async with slots:
            found = await identify(walker, address, credentials, limits.snmp_timeout)
        if found is None:
            return Answer(address, rtt=alive[address])
        return replace(answer(address, *found), rtt=alive[address])

    return list(await asyncio.gather(*(one(a) for a in sorted(alive, key=_ip_key))))


def _ip_key(address: str) -> tuple[int, ...]:
    return tuple(int(x) for x in address.split("."))
