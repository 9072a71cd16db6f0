"""Active/standby on the real PostgreSQL (issue 23): one leader, takeover, and the fence.

Each node is a process of its own (``tests/leader_node.py``) writing a row every 50 ms
through the ticket store's write path. ``kill -9`` of the leader: the standby leads. A leader
frozen with SIGSTOP past its lease: the standby leads, and the old one, resumed, writes
nothing more (every row of it is older than the new leader's first) and exits 75.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HANG = 120.0  # generous: only catches a hang


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Node:
    """A leader_node process; its output lines are read as they come."""

    def __init__(self, url: str, name: str, cluster: str, lease: float) -> None:
        argv = [sys.executable, "-m", "tests.leader_node", url, name, cluster, str(lease)]
        self.name = name
        self.proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.append(line.strip())

    def said(self, word: str) -> bool | None:
        return True if word in self.lines else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=HANG)
        self.reader.join(timeout=HANG)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def ha(pg_url: str) -> tuple[str, str]:
    with psycopg.connect(_conninfo(pg_url), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE ha_writes (node text NOT NULL, at timestamptz NOT NULL "
            "DEFAULT clock_timestamp())"
        )
    return pg_url, f"test-{uuid.uuid4().hex[:8]}"


def _rows(url: str) -> list[tuple[str, object]]:
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        return conn.execute("SELECT node, at FROM ha_writes ORDER BY at").fetchall()


def _wrote(url: str, node: str) -> bool | None:
    return True if any(n == node for n, _ in _rows(url)) else None


def test_killed_leader_is_replaced_by_the_standby(ha: tuple[str, str]) -> None:
    url, cluster = ha
    a = Node(url, "noc-a", cluster, 6.0)
    b = None
    try:
        wait_for("noc-a to lead", lambda: a.said("LEADER"), HANG)
        wait_for("noc-a to write", lambda: _wrote(url, "noc-a"), HANG)
        b = Node(url, "noc-b", cluster, 6.0)
        wait_for("noc-b to start and wait", lambda: True if _rows(url) else None, HANG)
        assert b.said("LEADER") is None, "two leaders at once"
        a.proc.send_signal(signal.SIGKILL)
        wait_for("noc-b to lead after kill -9", lambda: b.said("LEADER"), HANG)
        wait_for("noc-b to write", lambda: _wrote(url, "noc-b"), HANG)
    finally:
        a.stop()
        if b is not None:
            b.stop()


def test_a_frozen_leader_never_writes_after_the_new_one_started(ha: tuple[str, str]) -> None:
    url, cluster = ha
    a = Node(url, "noc-a", cluster, 3.0)
    b = Node(url, "noc-b", cluster, 3.0)
    try:
        wait_for("a leader", lambda: True if a.said("LEADER") or b.said("LEADER") else None, HANG)
        old, new = (a, b) if a.said("LEADER") else (b, a)
        wait_for(f"{old.name} to write", lambda: _wrote(url, old.name), HANG)
        old.proc.send_signal(signal.SIGSTOP)
        wait_for(f"{new.name} to lead", lambda: new.said("LEADER"), HANG)
        wait_for(f"{new.name} to write", lambda: _wrote(url, new.name), HANG)
        old.proc.send_signal(signal.SIGCONT)
        code = old.proc.wait(timeout=HANG)
        assert code == 75, f"{old.name} exited {code}: {old.proc.stderr.read()[-3000:]}"  # type: ignore[union-attr]
        wait_for(f"{new.name} to go on writing", lambda: _wrote(url, new.name), HANG)
        rows = _rows(url)
        first_new = min(at for n, at in rows if n == new.name)
        late = [at for n, at in rows if n == old.name and at >= first_new]  # type: ignore[operator]
        assert not late, f"{old.name} wrote after {new.name} led: {late}"
        assert new.proc.poll() is None, "the new leader must go on"
    finally:
        for node in (a, b):
            if node.proc.poll() is None:
                node.proc.send_signal(signal.SIGCONT)
            node.stop()
