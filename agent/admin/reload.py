"""Ask the running daemon to reload its inventory: SIGHUP to the pid in its pid file.

``sigap run --pid-file PATH`` writes the file (:func:`write_pid_file`); ``sigap web
--daemon-pid-file PATH`` signals it after every edit. The pid is believed only when that
process is a ``sigap`` process (``/proc/PID/cmdline``): a stale file whose pid was reused by
another program gets no signal (``sigap ...`` or ``python -m agent ...``).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)


class PidFileReloader:
    """SIGHUP to the daemon named by a pid file."""

    def __init__(self, pid_file: Path | None, proc: Path = Path("/proc")) -> None:
        """Signal the pid in ``pid_file`` (None: no daemon to tell)."""
        self.pid_file = pid_file
        self.proc = proc

    def request(self) -> str:
        """Send SIGHUP; say what happened (Indonesian, shown after the edit)."""
        if self.pid_file is None:
            return "daemon tidak dihubungi (tanpa --daemon-pid-file): muat ulang dengan SIGHUP"
        pid = self._pid()
        if pid is None:
            return f"daemon tidak berjalan ({self.pid_file} tidak ada atau usang)"
        try:
            os.kill(pid, signal.SIGHUP)
        except OSError as exc:
            logger.warning("reload request to pid %d failed: %s", pid, exc)
            return f"daemon (pid {pid}) tidak dapat diberi sinyal: {exc.strerror}"
        return f"daemon (pid {pid}) diminta memuat ulang inventaris"

    def _pid(self) -> int | None:
        try:
            text = self.pid_file.read_text(encoding="ascii").strip() if self.pid_file else ""
            cmdline = (self.proc / text / "cmdline").read_bytes() if text.isdigit() else b""
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if is_sigap(cmdline.split(b"\0")) else None


def is_sigap(argv: list[bytes]) -> bool:
    """Whether a process's argv is sigap's: ``.../sigap run`` or ``python -m agent run``."""
    names = [a.rsplit(b"/", 1)[-1] for a in argv]
    return b"sigap" in names or any(
        a == b"-m" and b == b"agent" for a, b in itertools.pairwise(names)
    )


@contextlib.contextmanager
def pid_file(path: Path | None) -> Iterator[None]:
    """Write this process's pid to ``path`` while the block runs (nothing when None)."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_text(f"{os.getpid()}\n", encoding="ascii")
    tmp.replace(path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if path.read_text(encoding="ascii").strip() == str(os.getpid()):
                path.unlink()
