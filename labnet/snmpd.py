"""Real net-snmp ``snmpd`` agents for lab devices: config, start/stop and readiness.

One concept: a lab device's snmpd (its config, traps included; its life cycle; the minimal
GET that says it answers).

Each agent runs inside its device netns, bound to the device address only
(``agentAddress udp:<address>:161``), with its own config file (``-C -c``: the system
config is never read) and its own persistent directory (``SNMP_PERSISTENT_DIR``: engine
boots and localised users stay per device, nothing lands in ``/var/lib/snmp``). IF-MIB
(ifTable, ifXTable) is served by net-snmp from the netns' own kernel interfaces; speeds
come from ``interface NAME TYPE SPEED`` lines. ``hrSystemUptime`` is the host's uptime,
``sysUpTime`` the agent's: restarting an agent resets only the latter. ifDescr is the
kernel name unless the device's platform names the port otherwise (``plan.if_descrs``: IOS
``GigabitEthernet0/1`` for ``Gi0-1``), set by ``override`` lines in ``snmpd.local.conf``
once the kernel ifindexes are known.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labnet import lldp, mtxr, plan
from labnet.errors import LabCommandError
from labnet.netns import entered

if TYPE_CHECKING:
    from collections.abc import Mapping

    from labnet.topology import LabSpec

SNMPD = "/usr/sbin/snmpd"
SNMP_PORT = 161
READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 3.0
PROBE_INTERVAL_S = 0.25
IF_TYPE_ETHERNET = 6
IF_DESCR = ".1.3.6.1.2.1.2.2.1.2"

# sysObjectID / sysDescr by platform and role (mimicking the real devices)
_IDENTITY: dict[tuple[str, str], tuple[str, str]] = {
    ("mikrotik_routeros", ""): (".1.3.6.1.4.1.14988.1", "RouterOS RB4011iGS+"),
    ("mikrotik_routeros", "switch"): (".1.3.6.1.4.1.14988.1", "RouterOS CRS328-24P-4S+"),
    ("cisco_ios", ""): (
        ".1.3.6.1.4.1.9.1.1041",
        "Cisco IOS Software, C2900 Software (C2900-UNIVERSALK9-M), Version 15.7(3)M8, "
        "RELEASE SOFTWARE (fc2)",
    ),
    ("cisco_ios", "switch"): (
        ".1.3.6.1.4.1.9.1.1208",
        "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E8, "
        "RELEASE SOFTWARE (fc3)",
    ),
}
_LINUX_OID = ".1.3.6.1.4.1.8072.3.2.10"


def identity(platform: str, role: str, name: str) -> tuple[str, str]:
    """Return (sysObjectID, sysDescr) mimicking ``platform`` (Linux when unknown)."""
    family = "cisco_ios" if platform.startswith("cisco") else platform
    found = _IDENTITY.get((family, "switch" if role == "switch" else ""))
    if found is not None:
        return found
    return _LINUX_OID, f"Linux {name} 6.1.0-lab-amd64 #1 SMP Debian 6.1.0 x86_64"


def engine_id(lab: str, index: int) -> str:
    """Return the text engine ID of device ``index`` (unique per lab, at most 27 chars)."""
    return f"{lab}.{index}"


def conf(lab: str, spec: LabSpec, device: str) -> str:
    """Return the snmpd.conf of ``device``: address, v2c + v3 access, system, speeds.

    The agent is the AgentX master of the device's lldpd (labnet.lldp). Access is not
    restricted to a view: the whole tree is served, LLDP-MIB (1.0.8802.1.1.2) included
    (Debian's packaged config hides it; this config never reads that one).
    """
    dev = spec.device(device)
    index = plan.index_map(spec)
    oid, descr = identity(dev.platform, dev.role, dev.name)
    services = 2 if dev.role == "switch" else 72 if dev.platform == "linux" else 6
    lines = [
        f"engineID {engine_id(lab, index[device])}",
        f"agentAddress udp:{dev.address}:{SNMP_PORT}",
        *lldp.snmpd_lines(lldp.agentx_socket(lab, index[device])),
        f"rocommunity {spec.snmp.community} default",
    ]
    for user in spec.snmp.users:
        priv = "" if user.priv is None else f" {user.priv} {user.priv_key}"
        lines.append(f"createUser {user.name} {user.auth} {user.auth_key}{priv}")
        level = "authpriv" if user.priv is not None else "authnopriv"
        lines.append(f"rouser {user.name} {level}")
    lines += [
        f"sysName {dev.name}",
        f"sysDescr {descr}",
        f"sysObjectID {oid}",
        "sysContact noc@lab.invalid",
        f"sysLocation lab {lab}",
        f"sysServices {services}",
        "dontLogTCPWrappersConnects yes",
        f"interface {plan.uplink_name(dev.platform)} {IF_TYPE_ETHERNET} {plan.UPLINK_SPEED_BPS}",
    ]
    lines += [
        f"interface {plan.child_link(index[kid])} {IF_TYPE_ETHERNET} {plan.LINK_SPEED_BPS}"
        for kid in plan.children_map(spec).get(device, [])
    ]
    lines += [
        f"interface {port} {IF_TYPE_ETHERNET} {plan.LINK_SPEED_BPS}" for port in plan.lan_ports(dev)
    ]
    lines += trap_lines(spec, dev.address)
    return "\n".join(lines) + "\n"


LINK_UP, LINK_DOWN = ".1.3.6.1.6.3.1.1.5.4", ".1.3.6.1.6.3.1.1.5.3"
IF_COLUMNS = ".1.3.6.1.2.1.2.2.1.1 .1.3.6.1.2.1.2.2.1.2 .1.3.6.1.2.1.2.2.1.7 .1.3.6.1.2.1.2.2.1.8"
IF_OPER = ".1.3.6.1.2.1.2.2.1.8"
TRAP_CHECK_S = 1  # DisMan monitor interval: net-snmp's default is 60 s
INTERNAL_USER = "sigapInternal"  # the DisMan monitor's own queries


def trap_lines(spec: LabSpec, address: str) -> list[str]:
    """linkUp/linkDown traps to ``spec.snmp.trap_sink`` (v2c), checked every second.

    ``linkUpDownNotifications yes`` with the monitor interval of :data:`TRAP_CHECK_S` instead
    of 60 s (spelled out, numeric OIDs: no MIB files needed); the internal queries run as the
    internal user (no keys: the queries never leave the agent); traps leave from the device's
    own address.
    """
    sink = spec.snmp.trap_sink
    if not sink:
        return []
    return [
        f"[snmp] clientaddr {address}",
        f"trap2sink {sink} {spec.snmp.community}",
        f"createUser {INTERNAL_USER}",
        f"rouser {INTERNAL_USER} noauth",
        f"iquerySecName {INTERNAL_USER}",
        f"notificationEvent linkUpTrap {LINK_UP} {IF_COLUMNS}",
        f"notificationEvent linkDownTrap {LINK_DOWN} {IF_COLUMNS}",
        f'monitor -r {TRAP_CHECK_S} -S -e linkUpTrap "linkUp" {IF_OPER} != 2',
        f'monitor -r {TRAP_CHECK_S} -S -e linkDownTrap "linkDown" {IF_OPER} == 2',
    ]


def health_file(agent_dir: Path) -> Path:
    """Return the values file of the agent's MIKROTIK-MIB helper (``labnet.mtxr``)."""
    return agent_dir / "health.json"


def mtxr_lines(platform: str, agent_dir: Path) -> list[str]:
    """Return the ``pass_persist`` line serving MIKROTIK-MIB health/radio on RouterOS devices."""
    if not platform.startswith("mikrotik"):
        return []
    program = f"{sys.executable} -I {mtxr.__file__} {health_file(agent_dir)}"  # stdlib only
    return [f"pass_persist .{'.'.join(map(str, mtxr.BASE))} {program}"]


def pid_file(agent_dir: Path) -> Path:
    """Return the pid file snmpd writes in ``agent_dir``."""
    return agent_dir / "snmpd.pid"


def write_conf(agent_dir: Path, text: str) -> Path:
    """Write ``snmpd.conf`` (mode 0600: it holds the lab secrets) and the persistent dir."""
    (agent_dir / "persist").mkdir(parents=True, exist_ok=True, mode=0o700)
    path = agent_dir / "snmpd.conf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return path


def alias_lines(links: list[dict[str, object]]) -> list[str]:
    """Return persistent ``ifXTable`` lines giving net-snmp each kernel ifalias.

    net-snmp 5.9 does not read the kernel's ifalias: it keeps ifAlias in its persistent
    store, keyed by ifIndex (the kernel ifindex), in this format.
    """
    return [
        f'ifXTable .{link["ifindex"]} 14:0 18:"{link["ifalias"]}" $'
        for link in links
        if link.get("ifalias") and '"' not in str(link["ifalias"])
    ]


def descr_lines(descrs: Mapping[str, str], ifindex: Mapping[str, int]) -> list[str]:
    """Return ``override`` lines serving ``descrs`` (kernel name -> ifDescr) at their ifIndex."""
    return [
        f'override {IF_DESCR}.{ifindex[name]} octet_str "{descr}"'
        for name, descr in sorted(descrs.items())
        if name in ifindex and '"' not in descr
    ]


def sync_aliases(netns: str, agent_dir: Path) -> dict[str, int]:
    """Copy the kernel ifaliases of ``netns`` into the agent's persistent store.

    Returns interface name -> ifindex.
    """
    try:
        out = subprocess.run(
            ["ip", "-j", "-n", netns, "link", "show"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise LabCommandError(f"cannot list links of {netns}: {exc}") from exc
    store = agent_dir / "persist" / "snmpd.conf"
    try:
        kept = [ln for ln in store.read_text().splitlines() if not ln.startswith("ifXTable ")]
    except FileNotFoundError:
        kept = []
    links = json.loads(out or "[]")
    store.write_text("\n".join([*kept, *alias_lines(links)]) + "\n")
    return {str(link["ifname"]): int(link["ifindex"]) for link in links}


def start(netns: str, agent_dir: Path, descrs: Mapping[str, str] | None = None) -> dict[str, int]:
    """Start snmpd in ``netns`` detached (``setsid -f``); it writes its own pid file.

    ``descrs``: kernel name -> ifDescr where it differs (``plan.if_descrs``). Returns the
    netns' interface name -> ifindex (= IF-MIB ifIndex).
    """
    pid_file(agent_dir).unlink(missing_ok=True)
    ifindex = sync_aliases(netns, agent_dir)
    local = descr_lines(descrs or {}, ifindex)
    (agent_dir / "snmpd.local.conf").write_text("".join(f"{line}\n" for line in local))
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "SNMP_PERSISTENT_DIR": str(agent_dir / "persist"),
        # config read from here only (never /etc/snmp): our snmpd.conf, then the
        # persistent store (engineBoots, users, ifAlias); -C would skip the store
        "SNMPCONFPATH": f"{agent_dir}:{agent_dir / 'persist'}",
        "MIBS": "",
    }
    argv = [
        "setsid", "-f", "ip", "netns", "exec", netns,
        SNMPD, "-f", "-Lf", str(agent_dir / "snmpd.log"), "-p", str(pid_file(agent_dir)),
    ]  # fmt: skip
    # the detached child keeps stdout/stderr: a file, never a pipe we would wait on
    with (agent_dir / "snmpd.stderr").open("w") as err:
        try:
            proc = subprocess.run(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LabCommandError(f"cannot start snmpd in {netns}: {exc}") from exc
    if proc.returncode != 0:
        raise LabCommandError(f"cannot start snmpd in {netns}: setsid exited {proc.returncode}")
    return ifindex


def read_pid(agent_dir: Path) -> int | None:
    """Return the pid of the running snmpd of ``agent_dir``, or None."""
    try:
        pid = int(pid_file(agent_dir).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
    return pid if comm == "snmpd" and state != "Z" else None


def helper_pids(agent_dir: Path) -> set[int]:
    """Return the pids of the running snmpd's children (its ``pass_persist`` helper)."""
    pid = read_pid(agent_dir)
    if pid is None:
        return set()
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(x) for x in text.split() if x.isdigit()}


def stop(agent_dir: Path) -> None:
    """Stop the snmpd of ``agent_dir`` (TERM, then KILL after a grace); idempotent."""
    pid = read_pid(agent_dir)
    if pid is not None:
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and read_pid(agent_dir) == pid:
            time.sleep(0.02)
        if read_pid(agent_dir) == pid:
            _signal(pid, signal.SIGKILL)
            while read_pid(agent_dir) == pid:  # bounded: SIGKILL cannot be ignored
                time.sleep(0.01)
    pid_file(agent_dir).unlink(missing_ok=True)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return


def _ber_len(n: int) -> bytes:
    if n < 0x80:  # noqa: PLR2004
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _ber_len(len(body)) + body


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes((value.bit_length() + 8) // 8, "big"))


IF_HIGH_SPEED = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 15)
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)
GAUGE32 = 0x42


def _subid(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def encode_oid(oid: tuple[int, ...]) -> bytes:
    """Return the BER contents of an OBJECT IDENTIFIER (first two arcs combined)."""
    return bytes([40 * oid[0] + oid[1]]) + b"".join(_subid(n) for n in oid[2:])


def get_request(community: str, request_id: int, oid: tuple[int, ...] = SYS_NAME) -> bytes:
    """Return a v2c GetRequest for one ``oid`` (readiness probe; no MIBs, no pysnmp)."""
    varbind = _tlv(0x30, _tlv(0x06, encode_oid(oid)) + b"\x05\x00")
    pdu = _tlv(0xA0, _int(request_id) + _int(0) + _int(0) + _tlv(0x30, varbind))
    return _tlv(0x30, _int(1) + _tlv(0x04, community.encode()) + pdu)


def gauge(value: int) -> bytes:
    """Return the BER encoding of a Gauge32 ``value``."""
    return _tlv(GAUGE32, value.to_bytes((value.bit_length() + 8) // 8, "big"))


def answered(response: bytes, request_id: int, value: bytes | None = None) -> bool:
    """Return True if ``response`` looks like the GetResponse to ``request_id``.

    With ``value`` (an encoded varbind value), the response must end with it.
    """
    if b"\xa2" not in response or _int(request_id) not in response:
        return False
    return value is None or response.endswith(value)


@dataclass(frozen=True, slots=True)
class Probe:
    """One readiness probe: GET ``oid`` from ``address``, optionally expecting ``value``."""

    address: str
    oid: tuple[int, ...] = SYS_NAME
    value: bytes | None = None


def wait_answering(
    noc_netns: str,
    targets: Mapping[str, Probe],
    community: str,
    timeout_s: float = READY_TIMEOUT_S,
) -> list[str]:
    """Probe ``targets`` (name -> probe) from the NOC until each answers its v2c GET.

    One UDP socket created inside the NOC netns; requests are re-sent every
    PROBE_INTERVAL_S to those that have not answered yet. Returns the names still silent
    at the deadline (empty when all answered).
    """
    with entered(noc_netns):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ids = {name: n for n, name in enumerate(sorted(targets), start=1)}
    by_addr = {targets[name].address: name for name in targets}
    waiting = set(targets)
    deadline = time.monotonic() + timeout_s
    with sock:
        sock.setblocking(False)
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                try:
                    request = get_request(community, ids[name], targets[name].oid)
                    sock.sendto(request, (targets[name].address, SNMP_PORT))
                except OSError:
                    continue  # e.g. unreachable while a fault is active: retried
            until = min(deadline, time.monotonic() + PROBE_INTERVAL_S)
            while waiting and (left := until - time.monotonic()) > 0:
                ready, _, _ = select.select([sock], [], [], left)
                if not ready:
                    break
                try:
                    data, (addr, _) = sock.recvfrom(65535)
                except OSError:
                    continue
                who = by_addr.get(addr)
                if who is not None and answered(data, ids[who], targets[who].value):
                    waiting.discard(who)
    return sorted(waiting)
