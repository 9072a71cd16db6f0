"""SSH endpoints of lab devices: host keys, known_hosts, the simulator process, linux sshd.

- ``mikrotik_routeros`` / ``cisco_ios``: ONE ``labnet.sshserver`` process for the whole lab,
  started detached inside the NOC netns; it binds each device's listening socket inside the
  device netns (``address:22``). ``down()`` kills it with the NOC netns.
- ``linux``: a real OpenSSH ``sshd`` per device, detached inside the device netns, with its
  own config, host key and pid file under the lab's state dir (never the system's sshd or
  its config). The login user exists only in the device's private ``/etc/passwd`` and
  ``/etc/shadow``: ``ip netns exec`` bind-mounts ``/etc/netns/<netns>/*`` over ``/etc``
  for what it starts, so the system's user database is never changed. The user has uid 0
  in the lab (no sudo on this machine: netmiko's ``linux`` enable/config mode is then a
  no-op at the ``#`` prompt) but a restricted shell (``rbash``, ``PATH`` = a directory with
  ``ip``, ``hostname``, ``uname``, ``uptime`` only).
- Readiness: the SSH banner is read from every address, from the NOC netns.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from labnet.commands import run
from labnet.errors import LabCommandError, LabError
from labnet.netns import entered

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from labnet.topology import LabDevice, LabSsh

SSHD = "/usr/sbin/sshd"
SSH_PORT = 22
READY_TIMEOUT_S = 30.0
TOOL_TIMEOUT_S = 60.0  # ssh-keygen, openssl passwd
STOP_GRACE_S = 3.0
SIM_PLATFORMS = ("mikrotik_routeros", "cisco_ios")
ETC_NETNS = Path("/etc/netns")
MARKER = ".labnet-ssh"  # marks an /etc/netns/<netns> directory as written by us
LINUX_TOOLS = ("ip", "hostname", "uname", "uptime")
REPO_ROOT = Path(__file__).resolve().parent.parent


# -- host keys ---------------------------------------------------------------------------


def host_key(device_dir: Path) -> Path:
    """Return the private host key path of a device (ed25519, OpenSSH format)."""
    return device_dir / "host_key"


def generate_host_key(device_dir: Path, comment: str, *, replace: bool = False) -> Path:
    """Generate the device's host key once (again with ``replace``); return its path."""
    key = host_key(device_dir)
    if key.exists() and not replace:
        return key
    device_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = device_dir / "host_key.new"
    for p in (tmp, tmp.with_suffix(".new.pub")):
        p.unlink(missing_ok=True)
    run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(tmp)],
        timeout_s=TOOL_TIMEOUT_S,
    )
    tmp.with_suffix(".new.pub").replace(key.with_suffix(".pub"))
    tmp.replace(key)
    return key


def public_key(device_dir: Path) -> str:
    """Return ``TYPE BASE64`` of the device's host key."""
    parts = host_key(device_dir).with_suffix(".pub").read_text().split()
    return f"{parts[0]} {parts[1]}"


def known_hosts_lines(entries: Mapping[str, str]) -> str:
    """Return known_hosts text for address -> ``TYPE BASE64`` (port 22, plain host names)."""
    return "".join(f"{addr} {key}\n" for addr, key in sorted(entries.items()))


# -- process helpers ---------------------------------------------------------------------


def read_pid(pid_file: Path, comm: str) -> int | None:
    """Return the pid in ``pid_file`` if that process runs and is called ``comm``."""
    try:
        pid = int(pid_file.read_text().split()[0])
        name = Path(f"/proc/{pid}/comm").read_text().strip()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return None
    return pid if name.startswith(comm) and state != "Z" else None


def stop_pid(pid_file: Path, comm: str) -> None:
    """TERM (then KILL after a grace) the process of ``pid_file``; idempotent."""
    pid = read_pid(pid_file, comm)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and read_pid(pid_file, comm) == pid:
            time.sleep(0.02)
        if read_pid(pid_file, comm) == pid:
            os.kill(pid, signal.SIGKILL)
            while read_pid(pid_file, comm) == pid:  # bounded: SIGKILL cannot be ignored
                time.sleep(0.01)
    pid_file.unlink(missing_ok=True)


def _detach(argv: list[str], log: Path, env: Mapping[str, str] | None = None) -> None:
    """Start ``argv`` detached (``setsid -f``); output goes to ``log``, never a pipe."""
    with log.open("a") as out:
        try:
            proc = subprocess.run(
                ["setsid", "-f", *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=dict(env) if env is not None else None,
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LabCommandError(f"cannot start {argv[-1]}: {exc}") from exc
    if proc.returncode != 0:
        raise LabCommandError(f"cannot start {' '.join(argv[:6])}: setsid exited {proc.returncode}")


# -- the simulator process ---------------------------------------------------------------

SIM_COMM = "python"


def sim_config(
    devices: Sequence[tuple[LabDevice, str, Path]], creds: LabSsh
) -> dict[str, list[dict[str, str]]]:
    """Return the simulator's JSON config for (device, netns, device dir) triples."""
    return {
        "devices": [
            {
                "name": dev.name,
                "netns": netns,
                "address": dev.address,
                "platform": dev.platform,
                "host_key": str(host_key(ddir)),
                "hang_flag": str(hang_flag(ddir)),
                "user": creds.user,
                "password": creds.password,
                "secret": creds.enable_secret,
            }
            for dev, netns, ddir in devices
        ]
    }


def start_sim(noc_netns: str, sim_dir: Path, config: Mapping[str, object]) -> None:
    """Write the config (0600) and start the simulator detached inside the NOC netns."""
    sim_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = sim_dir / "sim.json"
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(config, fh)
    (sim_dir / "sim.pid").unlink(missing_ok=True)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(REPO_ROOT)}
    argv = ["ip", "netns", "exec", noc_netns, sys.executable, "-m", "labnet.sshserver"]
    _detach([*argv, str(conf), str(sim_dir / "sim.pid")], sim_dir / "sim.log", env)


def sim_pid(sim_dir: Path) -> int | None:
    """Return the simulator's pid if it runs."""
    return read_pid(sim_dir / "sim.pid", SIM_COMM)


def wait_sim_pid(sim_dir: Path, timeout_s: float = READY_TIMEOUT_S) -> int:
    """Wait until the simulator has bound its sockets (it writes its pid file then)."""
    deadline = time.monotonic() + timeout_s
    while (pid := sim_pid(sim_dir)) is None:
        if time.monotonic() > deadline:
            log = sim_dir / "sim.log"
            tail = log.read_text()[-800:] if log.exists() else "(no log)"
            raise LabError(f"ssh simulator did not start: {tail.strip()}")
        time.sleep(0.02)
    return pid


def reload_sim_keys(sim_dir: Path, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Make the simulator re-read its host keys (SIGHUP) and wait for its acknowledgement."""
    pid = sim_pid(sim_dir)
    if pid is None:
        raise LabError("ssh simulator not running")
    ack = sim_dir / "reloaded"
    before = ack.read_text() if ack.exists() else ""
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + timeout_s
    while (ack.read_text() if ack.exists() else "") == before:
        if time.monotonic() > deadline:
            raise LabError("ssh simulator did not reload its host keys")
        time.sleep(0.02)


def hang_flag(device_dir: Path) -> Path:
    """Return the flag file that makes the device's SSH sessions hang."""
    return device_dir / "hang"


# -- linux sshd --------------------------------------------------------------------------


def sshd_config(dev: LabDevice, device_dir: Path, user: str) -> str:
    """Return the sshd_config of a linux device (password auth for ``user`` only)."""
    return "\n".join(
        [
            f"ListenAddress {dev.address}:{SSH_PORT}",
            f"HostKey {host_key(device_dir)}",
            f"PidFile {device_dir / 'sshd.pid'}",
            "UsePAM no",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication no",
            "AuthorizedKeysFile none",
            "PermitRootLogin yes",  # the lab user has uid 0 inside the lab (see module doc)
            f"AllowUsers {user}",
            "PermitEmptyPasswords no",
            "PermitUserEnvironment no",
            "AllowTcpForwarding no",
            "AllowAgentForwarding no",
            "AllowStreamLocalForwarding no",
            "X11Forwarding no",
            "PermitTunnel no",
            "PrintMotd no",
            "PrintLastLog no",
            "StrictModes no",
            "MaxStartups 100",
            "LogLevel INFO",
            "",
        ]
    )


def bash_profile(device: str, device_dir: Path) -> str:
    """Return the lab user's .bash_profile: hang fault, restricted PATH, root-style prompt."""
    return (
        f"[ -e {hang_flag(device_dir)} ] && exec /bin/sleep 2147483647\n"
        f"PATH={device_dir / 'bin'}\nexport PATH\nreadonly PATH SHELL ENV BASH_ENV\n"
        f"PS1='[{device}:~]# '\n"
    )


def passwd_lines(system_passwd: str, user: str, home: Path) -> str:
    """Return the device's private /etc/passwd: the system's entries plus ``user`` (uid 0)."""
    kept = [ln for ln in system_passwd.splitlines() if ln and not ln.startswith(f"{user}:")]
    return "\n".join([*kept, f"{user}:x:0:0:sigap lab:{home}:/bin/rbash"]) + "\n"


def shadow_lines(passwd: str, user: str, crypted: str) -> str:
    """Return the device's private /etc/shadow: every account locked except ``user``."""
    names = [ln.split(":", 1)[0] for ln in passwd.splitlines() if ln]
    return "".join(f"{n}:{crypted if n == user else '!*'}:20000:0:99999:7:::\n" for n in names)


def setup_linux(dev: LabDevice, netns: str, device_dir: Path, creds: LabSsh) -> None:
    """Write the sshd config, the user's home and the netns' private passwd/shadow."""
    device_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (device_dir / "sshd_config").write_text(sshd_config(dev, device_dir, creds.user))
    home = device_dir / "home"
    home.mkdir(exist_ok=True, mode=0o700)
    (home / ".bash_profile").write_text(bash_profile(dev.name, device_dir))
    bindir = device_dir / "bin"
    bindir.mkdir(exist_ok=True)
    for tool in LINUX_TOOLS:
        found = shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")
        link = bindir / tool
        if found and not link.exists():
            link.symlink_to(found)
    crypted = run(
        ["openssl", "passwd", "-6", "-stdin"], creds.password + "\n", timeout_s=TOOL_TIMEOUT_S
    ).strip()
    etc = ETC_NETNS / netns
    etc.mkdir(parents=True, exist_ok=True, mode=0o755)
    (etc / MARKER).write_text("written by labnet.ssh; removed by Lab.down\n")
    passwd = passwd_lines(Path("/etc/passwd").read_text(), creds.user, home)
    (etc / "passwd").write_text(passwd)
    fd = os.open(etc / "shadow", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(shadow_lines(passwd, creds.user, crypted))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir


def start_sshd(netns: str, device_dir: Path) -> None:
    """Start the device's sshd detached inside its netns."""
    (device_dir / "sshd.pid").unlink(missing_ok=True)
    argv = ["ip", "netns", "exec", netns, SSHD, "-D", "-f", str(device_dir / "sshd_config")]
    argv += ["-E", str(device_dir / "sshd.log")]
    _detach(argv, device_dir / "sshd.stderr")


def sshd_pid(device_dir: Path) -> int | None:
    """Return the pid of the device's sshd listener if it runs."""
    return read_pid(device_dir / "sshd.pid", "sshd")


def remove_etc(netns_names: Sequence[str]) -> None:
    """Remove the /etc/netns/<netns> directories written by ``setup_linux``."""
    for name in netns_names:
        etc = ETC_NETNS / name
        if (etc / MARKER).exists():
            shutil.rmtree(etc, ignore_errors=True)


def our_etc_dirs(prefix: str) -> list[str]:
    """Return netns names under /etc/netns starting with ``prefix`` that we wrote."""
    try:
        entries = list(ETC_NETNS.iterdir())
    except FileNotFoundError:
        return []
    return sorted(e.name for e in entries if e.name.startswith(prefix) and (e / MARKER).exists())


# -- readiness ---------------------------------------------------------------------------


def wait_banners(
    noc_netns: str, addresses: Sequence[str], timeout_s: float = READY_TIMEOUT_S
) -> list[str]:
    """Connect from the NOC to each ``address:22`` until it sends an ``SSH-2.0`` banner.

    Returns the addresses still silent at the deadline (empty when all answered).
    """
    waiting = set(addresses)
    deadline = time.monotonic() + timeout_s
    while waiting and time.monotonic() < deadline:
        socks: dict[socket.socket, str] = {}
        with entered(noc_netns):
            for addr in waiting:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex((addr, SSH_PORT))
                socks[s] = addr
        try:
            until = min(deadline, time.monotonic() + 1.0)
            pending = dict(socks)
            while pending and (left := until - time.monotonic()) > 0:
                ready, _, _ = select.select(list(pending), [], [], left)
                for s in ready:
                    addr = pending.pop(s)
                    try:
                        if s.recv(256).startswith(b"SSH-2.0"):
                            waiting.discard(addr)
                    except OSError:
                        continue
        finally:
            for s in socks:
                s.close()
        if waiting:
            time.sleep(0.05)
    return sorted(waiting)
