"""One HA node for the leader tests: take the lock, then write a row every 50 ms until lost.

``python -m tests.leader_node URL NODE CLUSTER LEASE``: prints ``LEADER`` once it leads;
exits 75 on :class:`LeadershipLostError` (as ``sigap run`` does), 0 when stopped as a
standby. Each row is written through the ticket store's write path, so the database fence
of :func:`agent.runtime.leader.install_fence` applies to it exactly as to a ticket write.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from agent.runtime.leader import LOST_EXIT, Leadership, LeadershipLostError, install_fence
from ticketing.store import TicketStore


def _write(store: TicketStore, node: str) -> None:
    with store.transaction() as session:
        session.execute(text("INSERT INTO ha_writes (node) VALUES (:n)"), {"n": node})


async def _writes(store: TicketStore, node: str) -> None:
    """Write as the daemon's ticket writer does: a database error is retried, nothing else."""
    while True:
        with contextlib.suppress(DBAPIError):
            await asyncio.to_thread(_write, store, node)
        await asyncio.sleep(0.05)


async def main(url: str, node: str, cluster: str, lease: float) -> int:
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    leadership = Leadership(url, node, psycopg.connect, lease, cluster=cluster)
    store = TicketStore(url)
    install_fence(store.engine, leadership)
    code = 0
    try:
        if await leadership.acquire(stopping):
            print("LEADER", flush=True)
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(leadership.hold()),
                    group.create_task(_writes(store, node)),
                ]
                await stopping.wait()
                for task in tasks:
                    task.cancel()
    except* LeadershipLostError:
        print("LOST", flush=True)
        code = LOST_EXIT
    finally:
        await leadership.close()
        store.close()
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))))
