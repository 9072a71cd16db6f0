"""Integration tests of the lab's real net-snmp agents, LAN ports and SNMP faults (root).

Every SNMP request and ping runs inside the lab's NOC namespace (``ip netns exec``).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from labnet import Lab, LabDevice, LabSnmp, LabSpec, tree_spec
from tests.conftest import unavailable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.integration

LAB_NAME = f"n{os.getpid()}"
NOC = "10.54.255.254"
PREFIX = "10.54.0.0/16"
SPEC = LabSpec(
    devices=(
        LabDevice("core", "10.54.0.1", None, "mikrotik_routeros", "router", snmp=True),
        LabDevice("sw1", "10.54.1.1", "core", "cisco_ios", "switch", snmp=True),
        LabDevice("opd1", "10.54.1.11", "sw1", "mikrotik_routeros", "router", snmp=True),
        LabDevice("srv1", "10.54.1.12", "sw1", "linux", "server", snmp=True),
        LabDevice("plain", "10.54.1.13", "sw1"),
    ),
    noc_address=NOC,
    prefixes=(PREFIX,),
)
ADDR = {d.name: d.address for d in SPEC.devices}
CREDS = LabSnmp()

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
HR_SYSTEM_UPTIME = "1.3.6.1.2.1.25.1.1.0"
ENGINE_BOOTS = "1.3.6.1.6.3.10.2.1.2.0"
IF_ADMIN = "1.3.6.1.2.1.2.2.1.7"
IF_OPER = "1.3.6.1.2.1.2.2.1.8"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"


def _require_snmp_lab_support() -> None:
    if os.geteuid() != 0:
        unavailable("needs root (network namespaces, veth, nftables)")
    for tool in ("ip", "nft", "fping", "setsid", "snmpget", "snmpbulkwalk"):
        if shutil.which(tool) is None:
            unavailable(f"{tool!r} not found on PATH")
    if not Path("/usr/sbin/snmpd").exists():
        unavailable("/usr/sbin/snmpd not installed (apt package snmpd)")
    probe = f"{LAB_NAME}probe"
    proc = subprocess.run(
        ["ip", "netns", "add", probe], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        unavailable(f"cannot create a network namespace: {proc.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)


def _snmpd_pids(state_dir: Path) -> list[int]:
    """Return pids of snmpd processes whose command line names ``state_dir``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "snmpd":
                continue
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if str(state_dir).encode() in env:
            pids.append(int(entry.name))
    return pids


def _leftovers(name: str, state_dir: Path) -> list[str]:
    netns = sorted(p.name for p in Path("/run/netns").glob(f"{name}-*"))
    out = [f"netns {n}" for n in netns]
    out += [f"snmpd pid {p}" for p in _snmpd_pids(state_dir)]
    if state_dir.exists():
        out.append(f"state dir {state_dir}")
    return out


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A persistent dir for the net-snmp client tools (nothing lands in /var/lib/snmp)."""
    return tmp_path_factory.mktemp("snmpclient")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    _require_snmp_lab_support()
    the_lab = Lab(LAB_NAME)
    try:
        status = the_lab.up(SPEC)
        assert status.is_up, status.problems
        yield the_lab
    finally:
        the_lab.down()
    assert _leftovers(LAB_NAME, the_lab.state_dir) == []


@pytest.fixture
def clean(lab: Lab) -> Iterator[Lab]:
    try:
        yield lab
    finally:
        for device in lab.status().faults:
            lab.restore(device)


def snmp(
    lab: Lab,
    client_dir: Path,
    tool: str,
    device: str,
    *oids: str,
    auth: list[str] | None = None,
    timeout: float = 1.0,
) -> subprocess.CompletedProcess[str]:
    """Run a net-snmp client tool inside the NOC netns (v2c with the lab community by default)."""
    argv = [tool, *(auth or ["-v2c", "-c", CREDS.community])]
    argv += ["-On", "-t", str(timeout), "-r", "1", ADDR[device], *oids]
    env = {"PATH": os.environ["PATH"], "SNMP_PERSISTENT_DIR": str(client_dir), "MIBS": ""}
    env["SNMPCONFPATH"] = str(client_dir)  # never the system's snmp.conf
    return subprocess.run(
        lab.noc_argv(argv), capture_output=True, text=True, check=False, timeout=60, env=env
    )


def values(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """Parse ``-On`` output lines ``.OID = TYPE: value`` into OID (no dot) -> value."""
    assert proc.returncode == 0, proc.stderr
    out: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        oid, _, rest = line.partition(" = ")
        value = rest.split(": ", 1)[1] if ": " in rest else rest
        out[oid.lstrip(".")] = value.strip().strip('"')
    return out


def column(lab: Lab, client_dir: Path, device: str, col: str) -> dict[int, str]:
    """Walk one IF-MIB column: ifIndex -> value."""
    got = values(snmp(lab, client_dir, "snmpbulkwalk", device, col))
    return {int(oid.rsplit(".", 1)[1]): v for oid, v in got.items()}


def ticks(value: str) -> int:
    """Return the hundredths in a ``(12345) 0:02:03.45`` Timeticks value."""
    return int(value.split(")", maxsplit=1)[0].lstrip("("))


def v3_args(name: str, *, wrong_auth: bool = False) -> list[str]:
    user = CREDS.user(name)
    key = "definitely-wrong" if wrong_auth else user.auth_key
    args = ["-v3", "-u", user.name, "-a", user.auth, "-A", key]
    if user.priv is None:
        return [*args, "-l", "authNoPriv"]
    assert user.priv_key is not None
    return [*args, "-l", "authPriv", "-x", user.priv, "-X", user.priv_key]


def alive(lab: Lab, names: set[str]) -> set[str]:
    by_addr = {ADDR[n]: n for n in names}
    proc = subprocess.run(
        lab.noc_argv(["fping", "-a", "-r1", "-t300", *sorted(by_addr)]),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return {by_addr[a] for a in proc.stdout.split()}


def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``check`` until true or the deadline (net-snmp caches ifTable ~1 s)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return check()


def test_v2c_system_group_mimics_the_platform(clean: Lab, client_dir: Path) -> None:
    for device, descr, oid in [
        ("core", "RouterOS", "1.3.6.1.4.1.14988.1"),
        ("sw1", "Cisco IOS Software, C2960X", "1.3.6.1.4.1.9.1.1208"),
        ("srv1", "Linux srv1", "1.3.6.1.4.1.8072.3.2.10"),
    ]:
        got = values(snmp(clean, client_dir, "snmpget", device, SYS_NAME, SYS_DESCR, SYS_OBJECT_ID))
        assert got[SYS_NAME] == device
        assert got[SYS_DESCR].startswith(descr)
        assert got[SYS_OBJECT_ID] == "." + oid


@pytest.mark.parametrize("user", [u.name for u in CREDS.users])
def test_each_v3_user_answers(clean: Lab, client_dir: Path, user: str) -> None:
    got = values(snmp(clean, client_dir, "snmpget", "opd1", SYS_NAME, auth=v3_args(user)))
    assert got[SYS_NAME] == "opd1"


def test_wrong_credentials_fail_clearly(clean: Lab, client_dir: Path) -> None:
    wrong_community = snmp(
        clean, client_dir, "snmpget", "opd1", SYS_NAME, auth=["-v2c", "-c", "public"], timeout=0.5
    )
    assert wrong_community.returncode != 0
    assert "Timeout" in wrong_community.stderr
    for user in CREDS.users:
        wrong_key = snmp(
            clean, client_dir, "snmpget", "opd1", SYS_NAME, auth=v3_args(user.name, wrong_auth=True)
        )
        assert wrong_key.returncode != 0
        assert "Authentication failure" in wrong_key.stderr, wrong_key.stderr
    unknown = snmp(
        clean,
        client_dir,
        "snmpget",
        "opd1",
        SYS_NAME,
        auth=["-v3", "-u", "nobody", "-l", "noAuthNoPriv"],
    )
    assert unknown.returncode != 0
    assert "Unknown user name" in unknown.stderr, unknown.stderr


def test_interfaces_are_the_platform_ports_with_aliases(clean: Lab, client_dir: Path) -> None:
    names = column(clean, client_dir, "core", IF_NAME)
    assert sorted(names.values()) == sorted(["lo", "ether1", "c2", *clean.ports("core")])
    assert clean.ports("core") == ["ether2", "ether3", "ether4", "ether5"]
    assert clean.uplink("core") == "ether1"
    aliases = {names[i]: a for i, a in column(clean, client_dir, "core", IF_ALIAS).items()}
    assert aliases["ether1"] == "uplink ke NOC"
    assert aliases["c2"] == "downlink ke sw1"
    assert aliases["ether2"] == "LAN OPD"
    speeds = {names[i]: s for i, s in column(clean, client_dir, "core", IF_HIGH_SPEED).items()}
    assert speeds["ether1"] == "100"
    assert speeds["ether2"] == "1000"
    assert clean.ports("sw1") == [f"Gi0-{n}" for n in range(1, 9)]  # a switch: 8 ports
    assert clean.uplink("sw1") == "Gi0-0"
    assert clean.ports("srv1") == ["eth1", "eth2", "eth3", "eth4"]
    assert clean.ports("plain") == []  # snmp off: no ports, no agent
    plain = snmp(clean, client_dir, "snmpget", "plain", SYS_NAME, timeout=0.5)
    assert plain.returncode != 0
    # the hidden peer ends never show up in a device
    assert not any(n.startswith("w") for n in column(clean, client_dir, "sw1", IF_NAME).values())


def test_if_down_and_unplug_show_in_if_mib(clean: Lab, client_dir: Path) -> None:
    names = {n: i for i, n in column(clean, client_dir, "opd1", IF_NAME).items()}
    down, unplugged = names["ether3"], names["ether4"]

    def status(index: int) -> tuple[str, str]:
        got = values(
            snmp(clean, client_dir, "snmpget", "opd1", f"{IF_ADMIN}.{index}", f"{IF_OPER}.{index}")
        )
        return got[f"{IF_ADMIN}.{index}"], got[f"{IF_OPER}.{index}"]

    assert status(down) == ("1", "1")
    clean.if_down("opd1", "ether3")
    clean.if_down("opd1", "ether3")  # idempotent
    clean.unplug("opd1", "ether4")
    clean.unplug("opd1", "ether4")
    faults = clean.status().faults["opd1"]
    assert faults.ports_down == ("ether3",)
    assert faults.unplugged == ("ether4",)
    assert eventually(lambda: status(down) == ("2", "2"))
    assert eventually(lambda: status(unplugged) == ("1", "2"))  # admin up, oper down
    clean.if_up("opd1", "ether3")
    clean.plug("opd1", "ether4")
    assert clean.status().faults == {}
    assert eventually(lambda: status(down) == ("1", "1") and status(unplugged) == ("1", "1"))
    clean.if_down("opd1", "ether3")
    clean.unplug("opd1", "ether4")
    clean.restore("opd1")
    assert eventually(lambda: status(down) == ("1", "1") and status(unplugged) == ("1", "1"))
    with pytest.raises(Exception, match="no LAN port 'ether1'"):
        clean.if_down("opd1", "ether1")


def test_snmp_stop_silences_snmp_but_not_ping(clean: Lab, client_dir: Path) -> None:
    clean.snmp_stop("opd1")
    clean.snmp_stop("opd1")  # idempotent
    assert clean.status().faults["opd1"].snmp_stopped
    assert clean.status().is_up  # a stopped agent is a fault, not a broken lab
    silent = snmp(clean, client_dir, "snmpget", "opd1", SYS_NAME, timeout=0.5)
    assert "Timeout" in silent.stderr
    assert alive(clean, {"opd1"}) == {"opd1"}
    clean.snmp_start("opd1")
    assert clean.status().faults == {}
    assert values(snmp(clean, client_dir, "snmpget", "opd1", SYS_NAME))[SYS_NAME] == "opd1"
    clean.snmp_stop("opd1")
    clean.restore("opd1")
    assert values(snmp(clean, client_dir, "snmpget", "opd1", SYS_NAME))[SYS_NAME] == "opd1"


def test_snmp_restart_resets_sys_uptime_not_host_uptime(clean: Lab, client_dir: Path) -> None:
    def uptimes() -> dict[str, str]:
        return values(
            snmp(clean, client_dir, "snmpget", "srv1", SYS_UPTIME, HR_SYSTEM_UPTIME, ENGINE_BOOTS)
        )

    # readiness takes ~3.5 s (net-snmp applies interface speeds at its first reload)
    assert eventually(lambda: ticks(uptimes()[SYS_UPTIME]) >= 800, timeout_s=30)
    before = uptimes()
    clean.snmp_restart("srv1")
    after = uptimes()
    assert ticks(after[SYS_UPTIME]) < ticks(before[SYS_UPTIME])
    assert ticks(after[SYS_UPTIME]) < 800
    assert ticks(after[HR_SYSTEM_UPTIME]) >= ticks(before[HR_SYSTEM_UPTIME])
    assert int(after[ENGINE_BOOTS]) == int(before[ENGINE_BOOTS]) + 1
    assert clean.status().faults == {}
    # v3 still works after the restart (the client re-synchronises engine boots/time)
    got = values(
        snmp(clean, client_dir, "snmpget", "srv1", SYS_NAME, auth=v3_args("sigap-sha-aes"))
    )
    assert got[SYS_NAME] == "srv1"


def test_fail_hides_snmp_too(clean: Lab, client_dir: Path) -> None:
    clean.fail("sw1")
    for device in ("sw1", "opd1"):  # the device and its subtree
        silent = snmp(clean, client_dir, "snmpget", device, SYS_NAME, timeout=0.5)
        assert "Timeout" in silent.stderr
    clean.restore("sw1")
    assert values(snmp(clean, client_dir, "snmpget", "opd1", SYS_NAME))[SYS_NAME] == "opd1"


def test_snmp_start_on_a_failed_device_does_not_wait_for_answers(clean: Lab) -> None:
    clean.snmp_stop("srv1")
    clean.fail("srv1")
    # cannot answer the NOC: waiting for an answer would end in LabError("snmpd not ready")
    clean.snmp_start("srv1")
    assert clean.status().faults["srv1"].failed


def test_counters_move_with_traffic(clean: Lab, client_dir: Path) -> None:
    names = {n: i for i, n in column(clean, client_dir, "core", IF_NAME).items()}
    uplink = names["ether1"]
    before = int(
        values(snmp(clean, client_dir, "snmpget", "core", f"{IF_HC_IN}.{uplink}"))[
            f"{IF_HC_IN}.{uplink}"
        ]
    )
    subprocess.run(
        clean.noc_argv(["fping", "-q", "-c", "20", "-p", "20", "-b", "1000", ADDR["core"]]),
        capture_output=True,
        check=False,
        timeout=60,
    )

    def grew() -> bool:
        got = values(snmp(clean, client_dir, "snmpget", "core", f"{IF_HC_IN}.{uplink}"))
        return int(got[f"{IF_HC_IN}.{uplink}"]) >= before + 20 * 1000

    assert eventually(grew)


def _kib(pid: int, path: str, key: str) -> int:
    for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


@pytest.mark.slow
@pytest.mark.parametrize("fanout", [(8, 9), (10, 19)], ids=["82-devices", "201-devices"])
def test_scale_with_snmp(tmp_path: Path, fanout: tuple[int, int], client_dir: Path) -> None:
    """Build time with snmpd on every device, all answering; RSS per snmpd; clean teardown."""
    _require_snmp_lab_support()
    name = f"{LAB_NAME}s{fanout[0]}"
    big = Lab(name, state_dir=tmp_path / "state")
    spec = tree_spec(fanout, prefix="10.55.0.0/16", noc_address="10.55.255.254", snmp=True)
    spec = LabSpec(
        devices=tuple(
            LabDevice(d.name, d.address, d.parent, "mikrotik_routeros", snmp=True)
            for d in spec.devices
        ),
        noc_address=spec.noc_address,
        prefixes=spec.prefixes,
    )
    try:
        started = time.monotonic()
        assert big.up(spec).is_up
        build_s = time.monotonic() - started
        pids = _snmpd_pids(big.state_dir)
        assert len(pids) == len(spec.devices)
        rss = sorted(_kib(p, "status", "VmRSS:") for p in pids)
        pss = sorted(_kib(p, "smaps_rollup", "Pss:") for p in pids)
        print(
            f"\n{len(spec.devices)} devices with snmpd: up in {build_s:.1f} s, "
            f"snmpd RSS median {rss[len(rss) // 2] / 1024:.1f} MiB, max {rss[-1] / 1024:.1f} MiB, "
            f"total {sum(rss) / 1024:.0f} MiB; PSS median {pss[len(pss) // 2] / 1024:.1f} MiB, "
            f"total {sum(pss) / 1024:.0f} MiB; "
            f"self maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
        )
    finally:
        started = time.monotonic()
        big.down()
        print(f"down in {time.monotonic() - started:.1f} s")
    assert _leftovers(name, tmp_path / "state") == []
