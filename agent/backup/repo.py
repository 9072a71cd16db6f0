"""The configuration history: a git repository under the state directory (git CLI, blocking).

Why the git CLI and not a library: see docs/decisions.md ("Configuration history"). Every
method here blocks (subprocess with a timeout) and is called from one worker thread of the
backup service or from the CLI; writes hold an exclusive ``flock`` on ``.lock`` so the daemon
and a ``sigap konfigurasi ambil`` in another process never interleave a commit.

Layout: one file per device (``<device>.cfg``), one commit per change, whose message names
the device, the time and the trigger (``Pemicu: jadwal`` / ``remediasi GJ/2026/0001`` /
``pengguna NAME``). Nothing from outside reaches a git command line except as a file path
after ``--`` or a revision checked against :data:`REV`.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from agent.errors import AgentError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

GIT: Final = "git"
GIT_TIMEOUT_S: Final = 30.0
PUSH_TIMEOUT_S: Final = 60.0
REV: Final = re.compile(r"\A[0-9a-f]{4,40}\Z")
SAFE_NAME: Final = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
_FIELD, _RECORD = "\x1f", "\x1e"


class RepoError(AgentError):
    """The configuration repository could not be read or written (the git error included)."""


@dataclass(frozen=True, slots=True)
class Version:
    """One saved configuration of a device: commit, time, trigger."""

    rev: str
    at: datetime
    trigger: str
    subject: str


def file_name(device: str) -> str:
    """``<device>.cfg``; a name that is not a plain file name is refused."""
    if not SAFE_NAME.fullmatch(device) or device in (".", ".."):
        raise RepoError(f"nama perangkat {device!r} tidak dapat dipakai sebagai nama berkas")
    return f"{device}.cfg"


class ConfigRepo:
    """A git working tree holding one configuration file per device."""

    def __init__(self, root: Path) -> None:
        """``root``: the directory (created and initialised on first write)."""
        self.root = root

    # -- writing ------------------------------------------------------------------------

    def save_blocking(self, device: str, text: str, *, at: datetime, trigger: str) -> str | None:
        """Write ``text`` (already redacted) as the device's file; commit if it changed.

        Returns the new commit id, or None when the configuration is the same as saved.
        """
        name = file_name(device)
        with self._locked():
            self._init()
            (self.root / name).write_text(text, encoding="utf-8")
            self._git("add", "--", name)
            changed = self._git("diff", "--cached", "--quiet", "--", name, check=False)
            if changed.returncode == 0:
                return None
            stamp = at.isoformat(timespec="seconds")
            message = (
                f"{device}: konfigurasi ({trigger})\n\n"
                f"Perangkat: {device}\nWaktu: {stamp}\nPemicu: {trigger}\n"
            )
            env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
            self._git("commit", "-q", "-m", message, "--", name, env=env)
            return self._git("rev-parse", "HEAD").stdout.strip()

    def push_blocking(self, remote: str) -> None:
        """Push the history to ``remote`` (a URL the office controls); raises RepoError."""
        with self._locked():
            self._git("push", "-q", remote, "HEAD:refs/heads/main", timeout=PUSH_TIMEOUT_S)

    # -- reading ------------------------------------------------------------------------

    def history_blocking(self, device: str) -> list[Version]:
        """The device's saved versions, newest first (empty when never saved)."""
        name = file_name(device)
        if not (self.root / ".git").is_dir():
            return []
        fmt = f"%H{_FIELD}%aI{_FIELD}%s{_FIELD}%b{_RECORD}"
        out = self._git("log", f"--format={fmt}", "--", name).stdout
        versions = []
        for record in out.split(_RECORD):
            fields = record.strip("\n").split(_FIELD)
            if len(fields) != 4:  # noqa: PLR2004 - the four fields of fmt
                continue
            rev, at, subject, body = fields
            trigger = next(
                (
                    ln.removeprefix("Pemicu: ")
                    for ln in body.splitlines()
                    if ln.startswith("Pemicu: ")
                ),
                "",
            )
            versions.append(Version(rev, datetime.fromisoformat(at), trigger, subject))
        return versions

    def show_blocking(self, device: str, rev: str) -> str:
        """The device's configuration as saved at ``rev``."""
        name = file_name(device)
        full = self.resolve_blocking(device, rev)
        return self._git("show", f"{full}:{name}").stdout

    def diff_blocking(self, device: str, old: str | None = None, new: str | None = None) -> str:
        """Unified diff of the device's file from ``old`` to ``new``.

        Defaults: ``new`` the newest version, ``old`` the one before ``new`` (so the last
        change). ``new`` may be ``"kerja"``: nothing else, the file as last written.
        Empty text when there is nothing to compare.
        """
        name = file_name(device)
        versions = self.history_blocking(device)
        if not versions:
            return ""
        to = self.resolve_blocking(device, new) if new else versions[0].rev
        if old:
            since = self.resolve_blocking(device, old)
        else:
            revs = [v.rev for v in versions]
            index = revs.index(to) if to in revs else 0
            if index + 1 >= len(revs):
                return self._git("show", "--format=", "-U3", to, "--", name).stdout
            since = revs[index + 1]
        return self._git("diff", "-U3", since, to, "--", name).stdout

    def resolve_blocking(self, device: str, rev: str) -> str:
        """The full commit id of ``rev`` (a hex prefix of one of the device's versions)."""
        wanted = rev.strip().lower()
        if not REV.fullmatch(wanted):
            raise RepoError(f"revisi {rev!r} tidak sah (pakai awalan hex dari `riwayat`)")
        hits = [v.rev for v in self.history_blocking(device) if v.rev.startswith(wanted)]
        if len(hits) != 1:
            what = "tidak ada" if not hits else "lebih dari satu versi cocok"
            raise RepoError(f"revisi {rev!r} untuk {device}: {what}")
        return hits[0]

    # -- git ------------------------------------------------------------------------------

    def _init(self) -> None:
        if (self.root / ".git").is_dir():
            return
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._git("init", "-q", "-b", "main")
        for key, value in (
            ("user.name", "sigap"),
            ("user.email", "sigap@localhost"),
            ("commit.gpgsign", "false"),
            ("core.autocrlf", "false"),
        ):
            self._git("config", key, value)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (self.root.parent / f".{self.root.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _git(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = GIT_TIMEOUT_S,
    ) -> subprocess.CompletedProcess[str]:
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }
        try:
            done = subprocess.run(
                [GIT, *args],
                cwd=self.root,
                env={**base, **(env or {})},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RepoError(f"git {args[0]} gagal: {exc}") from exc
        if check and done.returncode != 0:
            raise RepoError(f"git {args[0]} gagal: {done.stderr.strip()[:500]}")
        return done
