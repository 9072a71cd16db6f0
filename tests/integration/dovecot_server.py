"""A private dovecot IMAP server on 127.0.0.1 (self-contained config in a temp dir)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import unavailable

DOVECOT = "/usr/sbin/dovecot"
LDA = "/usr/lib/dovecot/dovecot-lda"
USER = "pengaduan"
PASSWORD = "lab-only-imap"  # noqa: S105 - a throwaway test mailbox on 127.0.0.1


@dataclass
class Dovecot:
    """A running dovecot; ``deliver`` drops a message into the mailbox through dovecot-lda."""

    root: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    def deliver(self, raw: bytes, sender: str = "sender@example.test") -> None:
        subprocess.run(
            [LDA, "-c", str(self.conf), "-d", USER, "-f", sender],
            input=raw,
            check=True,
            capture_output=True,
            timeout=10,
        )

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start() -> Dovecot:
    """Write the config, start dovecot in the foreground, wait until it answers.

    The directory is a fresh one under /tmp (pytest's tmp_path is 0700 for root, and dovecot's
    auth and mail processes run as nobody); :meth:`Dovecot.stop` removes it.
    """
    if shutil.which(DOVECOT) is None or not Path(LDA).exists():
        unavailable("dovecot-imapd is not installed (deploy/bootstrap.sh installs it)")
    if os.geteuid() != 0:
        unavailable("dovecot needs root to start (it drops to the mail uid)")
    nobody = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="sigap-dovecot-"))
    root.chmod(0o755)
    home = root / "home"
    (home / "Maildir").mkdir(parents=True, exist_ok=True)
    for path in (home, home / "Maildir"):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = free_port()
    (root / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_uid = nobody
mail_gid = {nobody.pw_gid}
first_valid_uid = 0
default_login_user = nobody
default_internal_user = nobody
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid={nobody.pw_gid} home={home}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Dovecot(root, port, proc)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"dovecot did not answer on {port}: {server.log()}")
