"""Runs a diagnosis: every probe of every device concurrently, with progress callbacks.

Per device, at once: N echoes (loss, RTT, jitter); each ancestor up the inventory chain (one
probe per ancestor even when an OPD's devices share it); DF echoes of decreasing size when
the MTU check is asked for; two SNMP polls ``sample`` seconds apart (rates); the read-only SSH
commands when asked; the recent tickets when a database is configured. A healthy device takes
about max(N x spacing, sample) plus one round trip; a dead one is bounded by its ping timeout
and its SNMP timeout x (retries + 1).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

from agent.config.model import Device, PingSettings
from agent.diagnose import hardware, verdict
from agent.diagnose.report import (
    DeviceReport,
    Diagnosis,
    Finding,
    Hop,
    MtuProbe,
    MtuReport,
    PingStats,
    Severity,
    SnmpReport,
    SshReport,
    TicketsReport,
)
from collectors.model import utc_now

if TYPE_CHECKING:
    from collections.abc import Coroutine, Sequence

    from agent.config.model import Inventory, RemediationSettings
    from collectors.model import HealthPoll, PingTarget, SnmpPoll, SnmpTarget
    from collectors.ping import RoundResult

# IP packet sizes tried with DF set, largest first (Ethernet, PPPoE, PPPoE+VLAN, IPsec-ish,
# the IPv6 minimum, the IPv4 minimum every host must accept)
MTU_SIZES: Final = (1500, 1492, 1480, 1460, 1400, 1280, 576)
IP_ICMP_HEADERS: Final = 28
MTU_ECHOES: Final = 2

T = TypeVar("T")
Progress = Callable[[str, str, bool], None]  # (device, step, done)
SshCollect = Callable[[Device, "RemediationSettings"], Awaitable[SshReport]]


class Pinger(Protocol):
    """What the runner needs of :class:`collectors.ping.PingCollector`."""

    async def measure(self, target: PingTarget, *, size: int | None = None) -> RoundResult:
        """One round, every RTT."""
        ...


class Poller(Protocol):
    """What the runner needs of :class:`collectors.snmp.SnmpCollector`."""

    async def poll(self, target: SnmpTarget) -> SnmpPoll:
        """One poll."""
        ...


class HealthPoller(Protocol):
    """What the runner needs for the health and radio section (the same collector)."""

    async def poll_health(self, target: SnmpTarget) -> HealthPoll:
        """One health poll."""
        ...


@dataclass(frozen=True, slots=True)
class Options:
    """What to run and how hard (seconds)."""

    count: int = 5
    sample: float = 1.0
    mtu: bool = False
    ssh: bool = False


def _quiet(_device: str, _step: str, _done: bool) -> None:
    return None


def stats(result: RoundResult) -> PingStats:
    """The report's view of a ping round."""
    return PingStats(result.sent, result.received, tuple(result.rtts), tuple(result.errors))


def address_device(address: str) -> Device:
    """A stand-in for an address the inventory does not list (ping only, no path)."""
    return Device(address, address, "", "", "", "", None, PingSettings())


class Runner:
    """Diagnoses devices of one inventory with started collectors (one per process)."""

    def __init__(
        self,
        inventory: Inventory,
        pinger: Pinger,
        poller: Poller | None,
        *,
        df_pinger: Pinger | None = None,
        history: Callable[[str], TicketsReport] | None = None,
        health: HealthPoller | None = None,
        ssh: SshCollect | None = None,
        options: Options = Options(),
        progress: Progress = _quiet,
    ) -> None:
        """Probe with ``pinger`` and ``poller``; the other parts are optional.

        ``df_pinger`` sends DF echoes (MTU); ``history`` reads tickets (blocking); ``ssh`` runs
        the read-only commands (``agent.diagnose.readonly.collect``: netmiko, only for --ssh).
        """
        self.inventory = inventory
        self.pinger = pinger
        self.poller = poller
        self.df_pinger = df_pinger
        self.history = history
        self.health = health
        self.ssh = ssh
        self.options = options
        self.progress = progress
        self._hops: dict[str, asyncio.Task[PingStats]] = {}

    async def run(self, target: str, kind: str, devices: Sequence[Device]) -> Diagnosis:
        """Diagnose ``devices`` (resolved from ``target``) concurrently."""
        started = time.monotonic()
        at = utc_now()
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self.device(d), name=f"diagnose:{d.name}") for d in devices]
        reports = tuple(t.result() for t in tasks)
        return Diagnosis(target, kind, at, time.monotonic() - started, reports)

    async def device(self, device: Device) -> DeviceReport:
        """Every section for one device, then its verdict."""
        known = device.name in self.inventory.devices
        ancestors = list(self.inventory.ancestors(device.name)) if known else []
        path = [self._hop(a) for a in ancestors]  # shared with the OPD's other devices
        async with asyncio.TaskGroup() as group:
            ping = group.create_task(self._step(device, "ping", self._ping(device)))
            snmp = group.create_task(self._step(device, "snmp", self._snmp(device)))
            mtu = group.create_task(self._step(device, "mtu", self._mtu(device)))
            ssh = group.create_task(self._step(device, "ssh", self._ssh(device)))
            tickets = group.create_task(self._step(device, "tiket", self._tickets(device)))
            hw = group.create_task(self._step(device, "kesehatan", self._hardware(device)))
        answers = await asyncio.gather(*path)
        hops = tuple(Hop(a.name, a.address, p) for a, p in zip(ancestors, answers, strict=True))
        extra = self._extra(device, known, mtu.result(), ssh.result(), tickets.result())
        figures = hw.result()
        if figures is not None:
            extra += hardware.findings(figures, self.inventory.health)
        health, text, findings = verdict.judge(device, ping.result(), hops, snmp.result(), extra)
        broken = verdict.broken_hop(hops) if not ping.result().answered else None
        return DeviceReport(
            name=device.name,
            address=device.address,
            opd=device.opd,
            platform=device.platform,
            role=device.role,
            in_inventory=known,
            health=health,
            verdict=text,
            ping=ping.result(),
            path=hops,
            broken_at=broken.name if broken else None,
            findings=findings,
            mtu=mtu.result(),
            snmp=snmp.result(),
            ssh=ssh.result(),
            tickets=tickets.result(),
            hardware=figures,
        )

    async def _step(self, device: Device, step: str, work: Coroutine[None, None, T]) -> T:
        self.progress(device.name, step, False)
        try:
            return await work
        finally:
            self.progress(device.name, step, True)

    async def _ping(self, device: Device) -> PingStats:
        target = replace(device.ping_target(), count=self.options.count)
        return stats(await self.pinger.measure(target))

    def _hop(self, ancestor: Device) -> asyncio.Task[PingStats]:
        task = self._hops.get(ancestor.name)
        if task is None:
            work = self._step(ancestor, "ping", self._ping_hop(ancestor))
            task = self._hops[ancestor.name] = asyncio.ensure_future(work)
        return task

    async def _ping_hop(self, ancestor: Device) -> PingStats:
        return stats(await self.pinger.measure(ancestor.ping_target()))

    async def _snmp(self, device: Device) -> SnmpReport | None:
        target = device.snmp_target()
        if target is None or self.poller is None:
            return None
        first = await self.poller.poll(target)
        second = None
        if first.ok:
            await asyncio.sleep(self.options.sample)
            second = await self.poller.poll(target)
        return verdict.snmp_report(device, first, second, self.inventory.detection)

    async def _hardware(self, device: Device) -> HealthPoll | None:
        target = device.snmp_target()
        if target is None or self.health is None:
            return None
        return await self.health.poll_health(target)

    async def _mtu(self, device: Device) -> MtuReport | None:
        if not self.options.mtu or self.df_pinger is None:
            return None
        base = replace(device.ping_target(), count=MTU_ECHOES)
        df = self.df_pinger
        async with asyncio.TaskGroup() as group:
            rounds = [
                group.create_task(df.measure(base, size=size - IP_ICMP_HEADERS))
                for size in MTU_SIZES
            ]
        probes = []
        for size, task in zip(MTU_SIZES, rounds, strict=True):
            result = task.result()
            detail = result.errors[-1] if result.errors else ""
            probes.append(MtuProbe(size, result.received > 0, detail))
        return MtuReport(tuple(probes))

    async def _ssh(self, device: Device) -> SshReport | None:
        if not self.options.ssh or self.ssh is None:
            return None
        return await self.ssh(device, self.inventory.remediation)

    async def _tickets(self, device: Device) -> TicketsReport | None:
        if self.history is None:
            return None
        return await asyncio.to_thread(self.history, device.name)

    @staticmethod
    def _extra(
        device: Device,
        known: bool,
        mtu: MtuReport | None,
        ssh: SshReport | None,
        tickets: TicketsReport | None,
    ) -> list[Finding]:
        out: list[Finding] = []
        if not known:
            text = f"{device.address} tidak ada di inventaris: jalur dan SNMP tidak diperiksa"
            out.append(Finding(Severity.NOTE, "path", text))
        if mtu is not None and mtu.path_mtu is not None and mtu.path_mtu < MTU_SIZES[0]:
            text = f"MTU jalur {mtu.path_mtu} byte (kurang dari {MTU_SIZES[0]})"
            out.append(Finding(Severity.NOTE, "mtu", text))
        if ssh is not None and not ssh.ok:
            out.append(Finding(Severity.NOTE, "ssh", f"SSH: {ssh.reason}"))
        if tickets is not None and tickets.ok:
            for t in tickets.items:
                if t.status != "resolved":
                    text = f"tiket {t.number} masih {t.status}: {t.summary}"
                    out.append(Finding(Severity.NOTE, "tickets", text))
        return out
