"""The agent as a separate process inside a lab's NOC namespace, for integration tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from tests.conftest import wait_for

if TYPE_CHECKING:
    from pathlib import Path

    from labnet.lab import Lab

HOLD_DOWN = 3.0
READ_METRICS = (  # the agent's default listen, inside the NOC namespace
    "import urllib.request as u;"
    "print(u.urlopen('http://127.0.0.1:9464/metrics', timeout=5).read().decode())"
)
SNMP_ANSWERED = re.compile(r'^sigap_snmp_poll_success\{device="([^"]+)"\} 1\.0$', re.MULTILINE)


class Agent:
    """`sigap run` as a separate process inside the lab's NOC namespace."""

    def __init__(
        self,
        lab: Lab,
        inventory: Path,
        db_url: str,
        workdir: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.lab, self.inventory, self.db_url, self.workdir = lab, inventory, db_url, workdir
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "agent.log"
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        ready = self.workdir / f"ready{self.starts}"
        argv = [
            sys.executable,
            "-m",
            "agent",
            "run",
            "--inventory",
            str(self.inventory),
            "--db",
            self.db_url,
            "--ready-file",
            str(ready),
            "--hold-down",
            str(HOLD_DOWN),
        ]
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            self.proc = subprocess.Popen(
                self.lab.noc_argv(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            )
        wait_for("the agent's first round", lambda: self._ready(ready), timeout=30)

    def _ready(self, ready: Path) -> bool | None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"agent exited with {self.proc.returncode}:\n{self.log.read_text()}")
        return True if ready.exists() else None

    def wait_snmp_answered(self) -> None:
        """Wait until every device with SNMP answered a poll (a fault is seen against that)."""
        devices = load_inventory(self.inventory).devices.values()
        polled = {d.name for d in devices if d.snmp is not None}
        wait_for(
            f"an SNMP answer from each of {sorted(polled)}",
            lambda: True if polled <= self._snmp_answered() else None,
            timeout=30,
        )

    def _snmp_answered(self) -> set[str]:
        out = subprocess.run(
            self.lab.noc_argv([sys.executable, "-c", READ_METRICS]),
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return set(SNMP_ANSWERED.findall(out.stdout))

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
