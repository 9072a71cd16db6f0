"""sigap SNMP poll cycles as a whole process, for the benchmark (run it in the NOC netns).

Usage: python tests/bench/snmp_poll.py TARGETS AUTH_JSON [CYCLES] [AGENT_PIDS] [health]

TARGETS has one ``name address`` per line; AUTH_JSON holds the ``SnmpAuth`` fields
(``version`` "2c" or "3", community or user/keys). Every cycle polls all targets at once
(``asyncio.gather`` of ``SnmpCollector.poll``) on one collector, as the daemon does each
interval: cycle 1 is cold (v3 engine discovery, interface names walked), later cycles are
the steady state (names cached). Per cycle, stderr gets ``cycle=K wall_s= cpu_s=
agents_cpu_s=`` (CPU: this process, ``time.process_time``; agents: the snmpd pids listed in
AGENT_PIDS, from /proc). stdout gets, for the last cycle, one ``dev NAME ROWS VARBINDS
IFNUMBER`` line per device that answered, ``fail NAME REASON`` per device that did not,
and ``devices_ok=N rows=R varbinds=V`` (varbinds: values present in the nine columns).
With ``health`` every cycle also polls each device's health columns
(``SnmpCollector.poll_health``, issue 18) after its interfaces, inside the timed cycle, and
stdout gets ``health NAME CPU MEMORY SENSORS`` per device and ``health_ok=N`` (devices whose
memory use came back: the lab's net-snmp serves no hrProcessorTable).
Imports only ``collectors.snmp`` and ``collectors.model`` (plus the standard library).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from agent.wiring import snmp_collector
from collectors.model import (
    HealthPoll,
    InterfaceRow,
    SnmpAuth,
    SnmpPoll,
    SnmpTarget,
    SnmpVersion,
)

TICK = os.sysconf("SC_CLK_TCK")


def nine(row: InterfaceRow) -> int:
    """Return how many of the nine benchmark columns the row has a value for."""
    values = (
        row.admin_up,
        row.oper_status,
        row.high_speed_mbps,
        row.in_octets,
        row.out_octets,
        row.in_errors,
        row.out_errors,
        row.in_discards,
        row.out_discards,
    )
    return sum(v is not None for v in values)


def agents_cpu(pids: list[int]) -> float:
    """Return utime+stime (seconds) summed over the processes still alive in ``pids``."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:  # noqa: PTH123 - keep imports minimal
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


async def cycles(
    targets: list[SnmpTarget], count: int, pids: list[int], *, health: bool = False
) -> tuple[list[SnmpPoll], list[HealthPoll]]:
    polls: list[SnmpPoll] = []
    healths: list[HealthPoll] = []
    async with snmp_collector() as collector:
        for k in range(1, count + 1):
            a0, c0, t0 = agents_cpu(pids), time.process_time(), time.perf_counter()
            polls = await asyncio.gather(*(collector.poll(t) for t in targets))
            if health:
                healths = await asyncio.gather(*(collector.poll_health(t) for t in targets))
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(
                f"cycle={k} wall_s={wall:.4f} cpu_s={cpu:.4f} "
                f"agents_cpu_s={agents_cpu(pids) - a0:.2f}",
                file=sys.stderr,
                flush=True,
            )
    return polls, healths


def main() -> None:
    with open(sys.argv[1]) as f:  # noqa: PTH123
        pairs = [line.split() for line in f if line.strip()]
    with open(sys.argv[2]) as f:  # noqa: PTH123
        raw = json.load(f)
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    pids: list[int] = []
    if len(sys.argv) > 4:
        with open(sys.argv[4]) as f:  # noqa: PTH123
            pids = [int(x) for x in f.read().split()]
    auth = SnmpAuth(**{**raw, "version": SnmpVersion(raw["version"])})
    # the same per-device settings as the other contenders: 5 s timeout, 3 retries, 25 rows
    targets = [
        SnmpTarget(name, address, auth, timeout=5.0, retries=3, max_repetitions=25)
        for name, address in pairs
    ]
    health = len(sys.argv) > 5 and sys.argv[5] == "health"
    polls, healths = asyncio.run(cycles(targets, count, pids, health=health))
    ok = rows = varbinds = 0
    lines = []
    for p in polls:
        if not p.ok:
            lines.append(f"fail {p.device} {p.reason}")
            continue
        n = sum(nine(r) for r in p.interfaces)
        if_number = p.system.if_number if p.system is not None else None
        lines.append(f"dev {p.device} {len(p.interfaces)} {n} {if_number}")
        ok, rows, varbinds = ok + 1, rows + len(p.interfaces), varbinds + n
    lines += [
        f"health {h.device} {h.cpu_pct} {h.memory_pct} {len(h.sensors)} {h.reason}" for h in healths
    ]
    print("\n".join(lines))
    print(f"devices_ok={ok} rows={rows} varbinds={varbinds}")
    if health:
        good = sum(1 for h in healths if h.memory_pct is not None)
        print(f"health_ok={good}")


if __name__ == "__main__":
    main()
