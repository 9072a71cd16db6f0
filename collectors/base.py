"""The collectors' contract: what a ping or SNMP collector offers its user (STYLE point 14).

The daemon, the remediation runner and tests type their collectors by these Protocols, so a
fake that replays scripted answers satisfies the same contract as the real collector.
Failures of the network come back as data (an Observation or SnmpPoll with a reason); only
setup errors raise (a ``collectors.errors.CollectorError`` subclass). ``GeneralPath`` is what
the SNMP collector needs of the general (pysnmp) path, which its builder plugs in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collectors._snmp.ber import Pdu
    from collectors.model import HealthPoll, Observation, PingTarget, SnmpPoll, SnmpTarget


class Prober(Protocol):
    """A ping collector (the real one or a fake)."""

    async def start(self) -> None:
        """Open sockets; raise a CollectorError subclass if impossible."""

    async def close(self) -> None:
        """Release sockets."""

    async def probe(self, target: PingTarget) -> Observation:
        """Run one probe round."""
        ...


class SnmpPoller(Protocol):
    """An SNMP collector (the real one or a fake)."""

    async def start(self) -> None:
        """Open sockets and the SNMP engine."""

    async def close(self) -> None:
        """Release them."""

    async def poll(self, target: SnmpTarget) -> SnmpPoll:
        """Poll one device; failures come back as a SnmpPoll with a reason."""
        ...


class HealthPoller(Protocol):
    """Polls device health and radio links (the SNMP collector, or a fake)."""

    async def poll_health(self, target: SnmpTarget) -> HealthPoll:
        """Poll CPU, memory, sensors and radios; failures come back as a HealthPoll."""
        ...


class GeneralPath(Protocol):
    """The SNMP collector's general path (pysnmp's engine): v3 the fast path does not speak."""

    def close(self) -> None:
        """Release the engine."""

    async def bulk(
        self, target: SnmpTarget, nonrep: Sequence[bytes], reps: Sequence[bytes], max_rep: int
    ) -> Pdu | str:
        """One GetBulk; the Response, or why there is none."""
        ...
