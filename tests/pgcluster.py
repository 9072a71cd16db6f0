"""A throwaway PostgreSQL cluster of one test: stopping it disturbs no other test.

Tests that stop PostgreSQL under a daemon (the HA step-down, issue 23) must not stop the
machine's server: other tests run on it at the same time. :func:`private_cluster` makes a
cluster of its own in a temporary folder (``initdb``, run as ``postgres`` when the tests run
as root), reachable only over a unix socket in that folder (no TCP port, so nothing to clash
with; the socket is a file, so a daemon in a lab's network namespace reaches it too), and
removes it afterwards, whatever happened (^C too).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

PORT = 5432  # names the socket file only (listen_addresses is empty)
TIMEOUT = 120.0  # generous: only catches a hang


def _bindir() -> Path:
    """The newest installed server's programs (Debian keeps them out of PATH)."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    if found:
        return max(found, key=lambda bindir: _version(bindir.parent.name))
    initdb = shutil.which("initdb")
    if initdb is None:
        unavailable("initdb is needed for a private PostgreSQL cluster")
    return Path(str(initdb)).parent


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


class Cluster:
    """One private cluster: its folder doubles as the socket directory."""

    def __init__(self, folder: Path) -> None:
        """Own ``folder`` (created empty); nothing runs until :meth:`init`."""
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.bindir = _bindir()
        self.user = "postgres" if os.geteuid() == 0 else None  # initdb refuses root

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` over the cluster's socket."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.folder}&port={PORT}"

    def _run(self, *argv: str) -> None:
        subprocess.run(
            [str(self.bindir / argv[0]), *argv[1:]],
            check=True,
            timeout=TIMEOUT,
            capture_output=True,
            user=self.user,
        )

    def init(self) -> None:
        """Create the cluster (trust auth, no fsync: it is thrown away)."""
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {PORT} -k {self.folder} -c listen_addresses='' -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: sessions are ended, as a shutdown of the machine does)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def processes(self) -> list[int]:
        """The server's processes: the postmaster and its children (sessions, workers)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        return [postmaster, *map(int, children)]

    def freeze(self) -> None:
        """Make the server stop answering without closing a session (a hung host, a disk hang).

        Connections stay open and new ones are accepted by the kernel, but nothing answers.
        """
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server go on (idempotent)."""
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)

    def running(self) -> bool:
        """Whether the server's pid file is there (it is removed when it has stopped)."""
        return (self.data / "postmaster.pid").exists()


@contextlib.contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A started private cluster; stopped and removed on leaving."""
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            unavailable("no postgres user to run a private PostgreSQL cluster as")
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="sigap-pg-")))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            with contextlib.suppress(OSError):
                cluster.thaw()
            with contextlib.suppress(subprocess.SubprocessError):
                cluster.stop("immediate")
        shutil.rmtree(cluster.folder, ignore_errors=True)
