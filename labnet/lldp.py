"""Real ``lldpd`` per lab device, as an AgentX subagent of the device's own snmpd.

Facts (``shared/notes/lldp-and-intake-facts.md``): snmpd is the AgentX master on a
per-device unix socket; lldpd joins it with ``-x -X unix:<socket>`` and must start after
the socket exists (AgentX otherwise retries only every ~15 s). Namespaces share the UTS
hostname, so each lldpd gets ``configure system hostname <device>``. lldpd's port ID is the
interface name (``portidsubtype ifname``), its management address the device's address.

lldpd is entered into the device netns with ``nsenter --net`` rather than ``ip netns
exec``: the latter bind-mounts ``/etc/netns/<netns>`` over ``/etc`` (the private passwd of
linux SSH devices, see labnet.ssh), where lldpd's privilege-separation user ``_lldpd`` does
not exist. It runs in the foreground (``-d``) in its own session; its pid is recorded.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from labnet import plan
from labnet.errors import LabCommandError
from labnet.netns import NETNS_RUN_DIR
from labnet.ssh import read_pid, stop_pid

if TYPE_CHECKING:
    from labnet.topology import LabSpec

LLDPD = "/usr/sbin/lldpd"
LLDP_MIB = "1.0.8802.1.1.2"
TX_INTERVAL_S = 5  # TTL = 4 x 5 s: a pulled cable leaves the neighbour table after 20 s
COMM = "lldpd"


def agentx_dir(lab: str) -> Path:
    """Return the directory of the lab's AgentX sockets (short: unix paths are <= 107 bytes)."""
    return Path("/run") / f"{lab}-agentx"


def agentx_socket(lab: str, index: int) -> Path:
    """Return the AgentX socket of the snmpd of the device with index ``index``."""
    return agentx_dir(lab) / f"{index}.sock"


def snmpd_lines(socket: Path) -> list[str]:
    """Return the snmpd.conf lines making it the AgentX master on ``socket``."""
    return ["master agentx", f"agentXSocket unix:{socket}", "agentXPerms 0600 0700"]


def interfaces(spec: LabSpec, device: str) -> list[str]:
    """Return the interfaces lldpd runs on: the uplink and the downlinks to children."""
    dev = spec.device(device)
    index = plan.index_map(spec)
    kids = plan.children_map(spec).get(device, [])
    return [plan.uplink_name(dev.platform), *(plan.child_link(index[k]) for k in kids)]


def conf(device: str) -> str:
    """Return the lldpcli configuration lldpd applies at start (``-O``)."""
    return (
        f"configure system hostname {device}\n"
        f"configure lldp tx-interval {TX_INTERVAL_S}\n"
        "configure lldp portidsubtype ifname\n"
    )


def pid_file(device_dir: Path) -> Path:
    """Return the pid file of the device's lldpd (written by ``start``)."""
    return device_dir / "lldpd.pid"


def start(lab: str, spec: LabSpec, device: str, device_dir: Path, descr: str) -> None:
    """Start lldpd for ``device`` (its snmpd must be running) in its netns; record its pid."""
    device_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    index = plan.index_map(spec)[device]
    config = device_dir / "lldpd.conf"
    config.write_text(conf(device))
    argv = [
        "nsenter", f"--net={NETNS_RUN_DIR / plan.device_netns(lab, device)}",
        LLDPD, "-d", "-x", "-X", f"unix:{agentx_socket(lab, index)}",
        "-u", str(device_dir / "lldpd.ctl"), "-O", str(config),
        "-I", ",".join(interfaces(spec, device)), "-m", spec.device(device).address,
        "-S", descr,
    ]  # fmt: skip
    # the shell records its own pid, then becomes nsenter, which (network namespace only)
    # execs lldpd in place: the pid file names lldpd's monitor; `setsid -f` detaches it
    # from us like the other lab daemons (no child object of ours outlives this call)
    shell = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(pid_file(device_dir))]
    pid_file(device_dir).unlink(missing_ok=True)
    with (device_dir / "lldpd.log").open("w") as log:
        try:
            proc = subprocess.run(
                ["setsid", "-f", *shell, *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LabCommandError(f"cannot start lldpd for {device}: {exc}") from exc
    if proc.returncode != 0:
        raise LabCommandError(f"cannot start lldpd for {device}: setsid exited {proc.returncode}")


def pid(device_dir: Path) -> int | None:
    """Return the pid of the running lldpd (its monitor) of ``device_dir``, or None."""
    return read_pid(pid_file(device_dir), COMM)


def stop(device_dir: Path) -> None:
    """Stop the device's lldpd (TERM, then KILL); idempotent."""
    stop_pid(pid_file(device_dir), COMM)


def pids(device_dir: Path) -> set[int]:
    """Return the pids of the device's lldpd: the monitor and its privilege-separated worker."""
    monitor = pid(device_dir)
    if monitor is None:
        return set()
    try:
        kids = Path(f"/proc/{monitor}/task/{monitor}/children").read_text().split()
    except OSError:
        kids = []
    return {monitor, *(int(k) for k in kids)}
