"""PingCollector against real hosts inside a private network namespace (root only).

The netns holds 10.99.7.1-3/32 on its loopback: .1 answers, .2 is dropped by nft (dead),
.3 is rejected with host-unreachable. Probes run with this test's thread switched into
the netns, so no packet can reach any other network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING

import pytest

from collectors.errors import IcmpPermissionError
from collectors.model import PingTarget, ProbeStatus
from collectors.ping import PingCollector
from labnet.netns import entered
from tests.conftest import unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

ALIVE, DEAD, REJECTED = "10.99.7.1", "10.99.7.2", "10.99.7.3"
NFT_RULES = f"""
table inet sgptest {{
  chain in {{
    type filter hook input priority 0; policy accept;
    ip daddr {DEAD} icmp type echo-request drop
    ip daddr {REJECTED} icmp type echo-request reject with icmp type host-unreachable
  }}
}}
"""


def _run(*argv: str, stdin: str | None = None) -> None:
    subprocess.run(argv, input=stdin, text=True, check=True, capture_output=True, timeout=10)


@pytest.fixture
def netns(request) -> Iterator[str]:
    """A throwaway netns with an alive, a dead and a rejecting address."""
    if os.geteuid() != 0:
        unavailable("root (network namespaces, raw sockets)")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            unavailable(f"the `{tool}` binary")
    name = f"sgp{os.getpid()}-{request.node.name[:20]}".replace("[", "-").replace("]", "")
    _run("ip", "netns", "add", name)
    try:
        _run("ip", "-n", name, "link", "set", "lo", "up")
        for address in (ALIVE, DEAD, REJECTED):
            _run("ip", "-n", name, "addr", "add", f"{address}/32", "dev", "lo")
        _run("ip", "netns", "exec", name, "nft", "-f", "-", stdin=NFT_RULES)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=10)


def targets(**kw) -> list[PingTarget]:
    kw.setdefault("timeout", 0.3)
    kw.setdefault("interval", 0.02)
    return [
        PingTarget(n, a, **kw)
        for n, a in (("alive", ALIVE), ("dead", DEAD), ("rejected", REJECTED))
    ]


def _check(result) -> None:
    alive, dead, rejected = result
    assert alive.status is ProbeStatus.OK, alive
    assert alive.loss == 0.0
    assert alive.value is not None
    assert 0 < alive.value < 0.3
    assert (dead.status, dead.loss, dead.value) == (ProbeStatus.TIMEOUT, 1.0, None)
    assert rejected.status is ProbeStatus.UNREACHABLE, rejected
    assert "host unreachable" in rejected.detail


async def test_raw_socket_verdicts(netns):
    with entered(netns):
        async with PingCollector(privileged=True) as collector:
            assert collector.privileged is True
            result = await collector.sweep(targets(count=3))
            loop = await collector.probe(PingTarget("lo", "127.0.0.1", count=2, interval=0.01))
    _check(result)
    assert loop.status is ProbeStatus.OK


async def test_datagram_socket_verdicts(netns):
    _run("ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
    with entered(netns):
        async with PingCollector(privileged=False) as collector:
            assert collector.privileged is False
            result = await collector.sweep(targets(count=2))
    _check(result)


async def test_datagram_refused_without_ping_group_range(netns):
    _run("ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ping_group_range=1 0")
    with entered(netns):
        collector = PingCollector(privileged=False)
        with pytest.raises(IcmpPermissionError, match="ping_group_range"):
            await collector.start()


async def test_auto_prefers_raw_as_root(netns):
    with entered(netns):
        async with PingCollector() as collector:
            assert collector.privileged is True
            obs = await collector.probe(PingTarget("alive", ALIVE, count=1))
    assert obs.ok
