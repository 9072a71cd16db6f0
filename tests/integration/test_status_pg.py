"""``sigap status`` on the real PostgreSQL (issue 23): the leader, its lease age, the standby.

Two :class:`Leadership` objects of one cluster stand for two daemons (the lock is all the
command reads): one leads, the other waits. The command names the leader and the standby,
and exits 1 once nobody holds the lock.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from agent.runtime.leader import Leadership

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HANG = 120.0


def status(inventory: Path, url: str) -> tuple[int, dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "agent", "status", "-i", str(inventory), "--db", url, "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=HANG, check=False,
    )  # fmt: skip
    assert out.stdout, out.stderr
    return out.returncode, json.loads(out.stdout)


def test_status_names_the_leader_and_the_standby(pg_url: str, tmp_path: Path) -> None:
    cluster = f"st-{uuid.uuid4().hex[:8]}"
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "office: {name: Uji Status}\n"
        f"daemon: {{metrics_listen: '', ha: {{node: a, cluster: {cluster}, lease: 6s}}}}\n"
        "hosts:\n  r1: {address: 127.0.0.2, role: router, platform: mikrotik_routeros}\n"
    )

    async def scenario() -> None:
        stop = asyncio.Event()
        lead = Leadership(pg_url, "node-a", psycopg.connect, 6.0, cluster=cluster)
        wait = Leadership(pg_url, "node-b", psycopg.connect, 6.0, cluster=cluster)
        try:
            assert await lead.acquire(stop)
            standby = asyncio.create_task(wait.acquire(stop))
            await asyncio.sleep(0.2)  # the standby has tried once: its session is open
            code, seen = await asyncio.to_thread(status, inventory, pg_url)
            database = seen["database"]
            assert isinstance(database, dict)
            assert code == 0
            assert database["leader"] == "node-a"
            assert "node-b" in database["standby"]
            assert 0 <= database["since_renewal_seconds"] < HANG
            assert seen["daemon"] == {"asked": False, "why": "daemon.metrics_listen kosong"}
            stop.set()
            await standby
            await lead.close()
            await wait.close()
            code, seen = await asyncio.to_thread(status, inventory, pg_url)
            assert code == 1  # nobody leads: the office is blind
            assert seen["database"]["leader"] is None  # type: ignore[index]
        finally:
            stop.set()
            await lead.close()
            await wait.close()

    asyncio.run(asyncio.wait_for(scenario(), HANG))
