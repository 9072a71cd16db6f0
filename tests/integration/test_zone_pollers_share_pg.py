"""Two pollers of one zone on the real PostgreSQL (issue 23): they split its devices, and the
survivor takes over the other's when it dies (``kill -9``: its leases run out).

Real ``sigap run --zona`` processes; the zone's devices are loopback addresses (127.0.0.0/8
answers ping on this machine), so nothing leaves it. What each poller holds is read from
``device_leases``, the table the keepers share.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import wait_for
from ticketing.migrate import migrate
from ticketing.store import TicketStore

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HANG = 120.0
DEVICES = [f"k{i}" for i in range(1, 7)]


def owners(url: str, cluster: str) -> Counter[str]:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT owner FROM device_leases WHERE cluster = %s AND owner <> '' "
            "AND expires_at > now()",
            (cluster,),
        ).fetchall()
    return Counter(str(r[0]) for r in rows)


def poller(inventory: Path, url: str, node: str, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "agent", "run", "--inventory", str(inventory), "--db", url]
    argv += ["--zona", "kec", "--node", node, "--metrics-listen", ""]
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


def test_two_pollers_split_a_zone_and_the_survivor_takes_over(pg_url: str, tmp_path: Path) -> None:
    cluster = f"zs-{uuid.uuid4().hex[:8]}"
    hosts = "".join(
        f"  {name}: {{address: 127.0.0.{i + 2}, zone: kec}}\n" for i, name in enumerate(DEVICES)
    )
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        "office: {name: Uji Zona}\n"
        f"daemon: {{ha: {{cluster: {cluster}, lease: 3s}}}}\n"
        "defaults: {platform: mikrotik_routeros, role: switch, ping: {interval: 5s}}\n"
        f"hosts:\n  pusat1: {{address: 127.0.0.1, role: router}}\n{hosts}"
    )
    store = TicketStore(pg_url)
    migrate(store)
    store.close()
    first = poller(inventory, pg_url, "kec-a", tmp_path / "a.log")
    second = poller(inventory, pg_url, "kec-b", tmp_path / "b.log")
    try:
        wait_for(
            "an even split",
            lambda: owners(pg_url, cluster) == Counter({"kec-a": 3, "kec-b": 3}) or None,
            HANG,
        )
        first.send_signal(signal.SIGKILL)  # no release: its leases must run out
        first.wait(timeout=HANG)
        wait_for(
            "the survivor holding the whole zone",
            lambda: owners(pg_url, cluster) == Counter({"kec-b": 6}) or None,
            HANG,
        )
        log = (tmp_path / "b.log").read_text()
        assert "leases: kec-b polls 6 devices" in log, log[-3000:]
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
