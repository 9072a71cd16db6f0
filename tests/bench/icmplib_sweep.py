"""Bare icmplib baseline (copy of anchors/baselines/icmplib_sweep.py): prints ``alive=N dead=M``.

Usage: python tests/bench/icmplib_sweep.py HOSTFILE [CONCURRENT_TASKS] [TIMEOUT_S]
"""

import asyncio
import sys

from icmplib import async_multiping


def main():
    with open(sys.argv[1]) as f:  # noqa: PTH123
        hosts = [h.strip() for h in f if h.strip()]
    conc = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    res = asyncio.run(
        async_multiping(
            hosts, count=1, interval=0, timeout=timeout, concurrent_tasks=conc, privileged=True
        )
    )
    alive = sum(1 for h in res if h.is_alive)
    print(f"alive={alive} dead={len(res) - alive}")


main()
