"""A zone poller (``sigap run --zona``) as a process in a lab device's namespace (issue 23)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from typing import TYPE_CHECKING

from labnet.netns import entered

if TYPE_CHECKING:
    from pathlib import Path

    from labnet.lab import Lab


class ZonePoller:
    """``sigap run --zona ZONE`` in ``device``'s namespace (it reaches the zone from there)."""

    def __init__(
        self, lab: Lab, inventory: Path, url: str, log: Path, *,
        zone: str = "kec", node: str = "kec-1", device: str = "kr",
    ) -> None:  # fmt: skip
        self.log = log
        argv = [sys.executable, "-m", "agent", "run", "--inventory", str(inventory)]
        argv += ["--zona", zone, "--node", node, "--metrics-listen", "", "--db", url]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", lab.device_netns(device), *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def noc_get(lab: Lab, port: int, path: str) -> str:
    """GET ``http://127.0.0.1:port/path`` inside the lab's NOC namespace ('' when it fails)."""
    with entered(lab.noc_netns):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
                return str(r.read().decode())
        except OSError:
            return ""
