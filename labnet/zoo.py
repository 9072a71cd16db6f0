"""The device zoo: recordings of real devices (``.snmprec``) served by snmpsim in a lab.

One lab device namespace (:data:`ZOO_DEVICE`) holds one /32 per recording
(``LabDevice.aliases``); one ``snmpsim-command-responder`` listens on all of them. snmpsim
picks the data file by the v2c community, so the address is the device's identity for
sigap and the community its recording. The recordings are copied into a data directory
of the caller (a temporary one) under safe community names: letters and digits only, and
never into the project. SNMPv3 (one USM user, empty context) is answered from
``self.snmprec``, a copy of one recording: snmpsim's last context-name candidate for its own
engine is ``self``. snmpsim (PyPI ``snmpsim`` + ``pysmi``) is a dev/test dependency, found
beside the running interpreter; it runs as root inside the namespace.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from labnet import snmpd
from labnet.errors import LabError
from labnet.topology import LabDevice, LabSpec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from labnet.lab import Lab

ZOO_DEVICE: Final = "zoo"
V3_FILE: Final = "self"  # snmpsim's data file for v3 requests with an empty context name
SYS_OBJECT_ID: Final = (1, 3, 6, 1, 2, 1, 1, 2, 0)
READY_TIMEOUT_S: Final = 180.0  # snmpsim indexes every file before it answers (400 kB ones)
_UNSAFE: Final = re.compile(r"[^a-z0-9]")


@dataclass(frozen=True, slots=True)
class ZooDevice:
    """One recording as a lab device: where it answers and with which community."""

    recording: str  # file name without .snmprec
    address: str
    community: str


@dataclass(frozen=True, slots=True)
class ZooV3:
    """The one SNMPv3 user of the zoo (SHA-1 / AES-128), answering with ``recording``."""

    recording: str
    user: str = "zoo"
    auth_key: str = "zoo-auth-key-18"
    priv_key: str = "zoo-priv-key-18"


def community(recording: str) -> str:
    """A community for ``recording``: lower-case letters and digits (``+ . _ -`` dropped)."""
    safe = _UNSAFE.sub("", recording.lower())
    if not safe or safe == V3_FILE:
        raise LabError(f"recording {recording!r} gives no usable community")
    return safe


def plan(recordings: Sequence[str], prefix: str, noc: str) -> tuple[LabSpec, list[ZooDevice]]:
    """The lab spec (one zoo device, one alias per recording) and the devices it serves."""
    net = ipaddress.IPv4Network(prefix)
    hosts = net.hosts()
    zoo_address = str(next(hosts))
    devices = []
    for name in recordings:
        address = str(next(hosts, None) or "")
        if not address:
            raise LabError(f"prefix {prefix} is too small for {len(recordings)} recordings")
        devices.append(ZooDevice(name, address, community(name)))
    seen: dict[str, str] = {}
    for device in devices:
        if device.community in seen:
            raise LabError(
                f"recordings {seen[device.community]!r} and {device.recording!r} "
                f"both give community {device.community!r}"
            )
        seen[device.community] = device.recording
    aliases = tuple(d.address for d in devices)
    zoo = LabDevice(ZOO_DEVICE, zoo_address, None, "linux", "server", aliases=aliases)
    return LabSpec(devices=(zoo,), noc_address=noc, prefixes=(prefix,)), devices


def prepare(source: Path, devices: Sequence[ZooDevice], data: Path, v3: ZooV3 | None) -> None:
    """Copy each device's recording to ``data/<community>.snmprec`` (and v3's to self)."""
    data.mkdir(parents=True, exist_ok=True)
    for device in devices:
        target = data / f"{device.community}.snmprec"
        shutil.copyfile(source / f"{device.recording}.snmprec", target)
    if v3 is not None:
        shutil.copyfile(source / f"{v3.recording}.snmprec", data / f"{V3_FILE}.snmprec")


def argv(
    devices: Sequence[ZooDevice], data: Path, cache: Path, log: Path, v3: ZooV3 | None
) -> list[str]:
    """The snmpsim command line: every device address on port 161, one data dir."""
    responder = Path(sys.executable).with_name("snmpsim-command-responder")
    out = [str(responder), f"--data-dir={data}", f"--cache-dir={cache}"]
    out += ["--process-user=root", "--process-group=root", f"--logging-method=file:{log}"]
    if v3 is not None:
        out += [f"--v3-user={v3.user}", "--v3-auth-proto=SHA", f"--v3-auth-key={v3.auth_key}"]
        out += ["--v3-priv-proto=AES", f"--v3-priv-key={v3.priv_key}"]
    out += [f"--agent-udpv4-endpoint={d.address}:{snmpd.SNMP_PORT}" for d in devices]
    return out


def serve(
    lab: Lab, devices: Sequence[ZooDevice], source: Path, work: Path, v3: ZooV3 | None = None
) -> Path:
    """Start snmpsim in the zoo namespace of ``lab`` (up); return its log once all answer.

    The process lives in the lab's namespace: ``Lab.down`` ends it with the lab.
    """
    if not devices:
        raise LabError("the zoo needs at least one recording")
    data, cache, log = work / "data", work / "cache", work / "snmpsim.log"
    prepare(source, devices, data, v3)
    cache.mkdir(parents=True, exist_ok=True)
    command = ["setsid", "-f", "ip", "netns", "exec", lab.device_netns(ZOO_DEVICE)]
    command += argv(devices, data, cache, log, v3)
    with (work / "snmpsim.stderr").open("w") as err:
        proc = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=err, stderr=err, check=False, timeout=30
        )
    if proc.returncode != 0:
        raise LabError(f"cannot start snmpsim in {ZOO_DEVICE}: setsid exited {proc.returncode}")
    probes = {d.recording: snmpd.Probe(d.address, SYS_OBJECT_ID) for d in devices}
    silent = snmpd.wait_answering(lab.noc_netns, probes, devices[0].community, READY_TIMEOUT_S)
    if silent:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        raise LabError(f"snmpsim silent on {', '.join(silent[:5])} after start; log:\n{tail}")
    return log
