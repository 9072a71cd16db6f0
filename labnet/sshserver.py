"""The SSH server process of a lab's simulated devices (asyncssh, ``python -m labnet.sshserver``).

One process serves every simulated device of a lab: for each device it creates a listening
socket inside the device's netns (``labnet.netns.entered``) on ``address:22`` and serves it
with asyncssh, one session running one command parser of labnet.sshsim. The port changes a
command asks for are applied to the REAL interfaces (``ip -n NETNS link set PORT up|down``).
Device state (the log) lives per device in the server, not per session. Faults: a flag file
``hang`` makes sessions stop answering after login (and running sessions at their next
line); SIGHUP reloads host keys (``rotate_host_key``).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from labnet.netns import entered
from labnet.sshsim import DeviceLog, IosCli, Port, RouterOSCli, login_name, parse_ip_addr_json

logger = logging.getLogger(__name__)

SSH_PORT = 22
IP_BIN = "/usr/sbin/ip" if Path("/usr/sbin/ip").exists() else "/sbin/ip"


@dataclass(frozen=True, slots=True)
class SimDevice:
    """One simulated device served by the process (from the JSON config)."""

    name: str
    netns: str
    address: str
    platform: str  # mikrotik_routeros | cisco_ios
    host_key: str
    hang_flag: str
    user: str
    password: str = field(repr=False)
    secret: str = field(repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SimDevice:
        """Build from one config entry."""
        return cls(**{k: str(data[k]) for k in cls.__slots__})


async def read_ports(netns: str) -> list[Port]:
    """Return the interfaces of ``netns`` (``ip -j -n NETNS addr show``)."""
    proc = await asyncio.create_subprocess_exec(
        IP_BIN, "-j", "-n", netns, "addr", "show",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return parse_ip_addr_json(out.decode())


async def apply_changes(netns: str, changes: list[tuple[str, bool]]) -> None:
    """Set ports of ``netns`` admin up/down for real."""
    for port, up in changes:
        proc = await asyncio.create_subprocess_exec(
            IP_BIN, "-n", netns, "link", "set", port, "up" if up else "down",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await proc.wait()


def _flagged(path: str) -> bool:
    """Return True if the fault flag file exists (one stat: cheap enough for the loop)."""
    return Path(path).exists()


class SimServer:
    """Serves every device of a config; device state (log) per device."""

    def __init__(self, devices: list[SimDevice]) -> None:
        """Create (nothing listens until ``start``)."""
        self.devices = devices
        self.logs = {d.name: DeviceLog() for d in devices}
        self.acceptors: dict[str, Any] = {}
        self.forever = asyncio.Event()  # never set: a hung session waits on it

    async def start(self) -> None:
        """Bind one socket per device inside its netns and listen."""
        for dev in self.devices:
            with entered(dev.netns):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((dev.address, SSH_PORT))
            sock.listen(128)
            sock.setblocking(False)
            self.acceptors[dev.name] = await asyncssh.listen(
                sock=sock,
                server_host_keys=[asyncssh.read_private_key(dev.host_key)],
                server_factory=lambda d=dev: _Auth(d),
                process_factory=lambda proc, d=dev: self.session(d, proc),
                encoding="utf-8",
                line_editor=True,
                keepalive_interval=0,
            )
            self.logs[dev.name].add("system,info", "router rebooted")

    def reload_keys(self) -> None:
        """Re-read every host key (after ``rotate_host_key``)."""
        for dev in self.devices:
            key = asyncssh.read_private_key(dev.host_key)
            self.acceptors[dev.name].update(server_host_keys=[key])
        logger.info("host keys reloaded")

    async def hang_if_flagged(self, dev: SimDevice) -> None:
        """Stop answering for good while the hang fault is on."""
        if _flagged(dev.hang_flag):
            await self.forever.wait()

    async def session(self, dev: SimDevice, process: Any) -> None:
        """Run one interactive session."""
        user = login_name(dev.platform, process.get_extra_info("username") or "")
        log = self.logs[dev.name]
        cli: RouterOSCli | IosCli = (
            RouterOSCli(dev.name, user, log)
            if dev.platform == "mikrotik_routeros"
            else IosCli(dev.name, dev.secret, log, user)
        )
        log.add("system,info,account", f"user {user} logged in via ssh")
        try:
            await self.hang_if_flagged(dev)
            process.stdout.write(cli.prompt)
            while True:
                line = await process.stdin.readline()
                if not line:
                    break
                await self.hang_if_flagged(dev)
                reply = cli.handle(line.rstrip("\r\n"), await read_ports(dev.netns))
                if reply.changes:
                    await apply_changes(dev.netns, reply.changes)
                if reply.output:
                    process.stdout.write(reply.output)
                if reply.close:
                    break
                process.channel.set_echo(not isinstance(cli, IosCli) or not cli.awaiting_secret)
                process.stdout.write(cli.prompt)
        except Exception:
            logger.debug("session on %s ended", dev.name, exc_info=True)
        finally:
            log.add("system,info,account", f"user {user} logged out via ssh")
            process.exit(0)


class _Auth(asyncssh.SSHServer):
    """asyncssh server callbacks: password auth only, with the lab credentials."""

    def __init__(self, dev: SimDevice) -> None:
        self.dev = dev

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        name_ok = login_name(self.dev.platform, username) == self.dev.user
        pw_ok = hmac.compare_digest(password.encode(), self.dev.password.encode())
        return name_ok and pw_ok


async def _serve(devices: list[SimDevice], pid_file: Path) -> None:
    server = SimServer(devices)
    await server.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    reload_ack = pid_file.with_name("reloaded")

    def on_hup() -> None:
        server.reload_keys()
        reload_ack.write_text(str(time.time_ns()))

    loop.add_signal_handler(signal.SIGHUP, on_hup)
    tmp = pid_file.with_suffix(".tmp")
    tmp.write_text(f"{os.getpid()}\n")
    tmp.replace(pid_file)
    await stop.wait()
    for acceptor in server.acceptors.values():
        acceptor.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m labnet.sshserver CONFIG.json PIDFILE``."""
    parser = argparse.ArgumentParser(prog="labnet.sshserver")
    parser.add_argument("config", type=Path)
    parser.add_argument("pid_file", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    devices = [SimDevice.from_json(d) for d in json.loads(args.config.read_text())["devices"]]
    asyncio.run(_serve(devices, args.pid_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
