"""One sigap ping sweep as a whole process, for the benchmark: prints ``alive=N dead=M``.

Usage: python tests/bench/sigap_sweep.py HOSTFILE [TIMEOUT_S] [MODE]   (MODE: raw|dgram|auto)
Imports only ``collectors.ping``; stderr gets the in-process sweep time.
"""

from __future__ import annotations

import asyncio
import sys
import time

from collectors.ping import PingCollector, PingTarget


async def sweep(hosts: list[str], echo_timeout: float, privileged: bool | None) -> list[bool]:
    targets = [PingTarget(h, h, count=1, interval=0.0, timeout=echo_timeout) for h in hosts]
    async with PingCollector(privileged=privileged) as collector:
        t0 = time.perf_counter()
        result = await collector.sweep(targets)
        print(f"sweep_s={time.perf_counter() - t0:.4f}", file=sys.stderr)
    return [o.ok for o in result]


def main() -> None:
    with open(sys.argv[1]) as f:  # noqa: PTH123 - keep imports minimal
        hosts = [h.strip() for h in f if h.strip()]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    mode = sys.argv[3] if len(sys.argv) > 3 else "raw"
    privileged = {"raw": True, "dgram": False, "auto": None}[mode]
    alive = sum(asyncio.run(sweep(hosts, timeout, privileged)))
    print(f"alive={alive} dead={len(hosts) - alive}")


if __name__ == "__main__":
    main()
