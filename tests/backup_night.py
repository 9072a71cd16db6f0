"""Run one night of configuration backups with an injected clock (inside a lab's NOC netns).

``python -m tests.backup_night INVENTORY DB_URL NOW_ISO`` plans the first night after NOW
(the inventory's ``backup:`` block), sleeps on a fake clock (no wall time passes), backs up
every device and prints the results as JSON lines. With ``--with-remediation DEVICE`` it also
holds DEVICE as a remediation would, with a real SSH session to it, while the night runs, and
prints the order in which the two sessions started and ended.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from agent.backup.service import backed_up
from agent.config.load import load_inventory
from agent.diagnose.readonly import collect
from agent.wiring import backup_service, open_store


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        await asyncio.sleep(0)


async def main(argv: list[str]) -> None:
    inventory = load_inventory(Path(argv[0]))
    clock = Clock(datetime.fromisoformat(argv[2]))
    hold = argv[argv.index("--with-remediation") + 1] if "--with-remediation" in argv else None
    with open_store(inventory, argv[1], migrate=True) as store:
        service = backup_service(inventory, store, now=clock)
        plan = service.night_plan(backed_up(inventory), clock(), inventory.tz)
        order: list[str] = []
        read = service.read

        async def logged(device):  # the backup's own SSH read, seen from outside
            order.append(f"backup start {device.name}")
            try:
                return await read(device)
            finally:
                order.append(f"backup end {device.name}")

        service._fetch = logged

        async def remediation(name: str) -> None:
            async with service.guard.hold(name, "remediation"):
                order.append("remediation start")
                await collect(inventory.devices[name], inventory.remediation)  # a real session
                await asyncio.sleep(0.5)
                order.append("remediation end")

        async def watched_night() -> list:
            if hold is not None:
                await asyncio.sleep(0.05)  # the remediation holds the device first
            results = await service.run_night(plan, sleep=clock.sleep)
            order.append("night end")
            return results

        jobs = [watched_night()]
        if hold is not None:
            jobs.append(remediation(hold))
        results = (await asyncio.gather(*jobs))[0]
    for r in results:
        print(json.dumps(asdict(r)))
    print(json.dumps({"order": order, "end": clock().isoformat()}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
