"""Integration tests of labnet: real network namespaces, veths and nftables (needs root).

Every probe runs inside the lab's NOC namespace; nothing is sent from the root namespace.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from labnet import Lab, LabDevice, LabSpec, tree_spec
from labnet.errors import LabNotUpError, UnknownDeviceError
from labnet.netns import entered
from tests.conftest import unavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

LAB_NAME = f"t{os.getpid()}"
NOC = "10.52.255.254"
SPEC = LabSpec(
    devices=(
        LabDevice("core", "10.52.0.1", None),
        LabDevice("dist1", "10.52.1.1", "core"),
        LabDevice("dist2", "10.52.2.1", "core"),
        LabDevice("opd11", "10.52.1.11", "dist1"),
        LabDevice("opd12", "10.52.1.12", "dist1"),
        LabDevice("opd21", "10.52.2.21", "dist2"),
        LabDevice("opd22", "10.52.2.22", "dist2"),
    ),
    noc_address=NOC,
    prefixes=("10.52.0.0/16",),
)
ADDR = {d.name: d.address for d in SPEC.devices}
ALL = set(ADDR)


def _require_lab_support() -> None:
    if os.geteuid() != 0:
        unavailable("needs root (network namespaces, veth, nftables)")
    for tool in ("ip", "nft", "fping"):
        if shutil.which(tool) is None:
            unavailable(f"{tool!r} not found on PATH")
    probe = f"{LAB_NAME}probe"
    proc = subprocess.run(
        ["ip", "netns", "add", probe], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        unavailable(f"cannot create a network namespace: {proc.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)


def _leftovers(name: str, state_dir: Path) -> list[str]:
    netns = sorted(p.name for p in Path("/run/netns").glob(f"{name}-*"))
    guard = subprocess.run(
        ["nft", "list", "table", "inet", f"{name}_guard"], capture_output=True, check=False
    )
    out = [f"netns {n}" for n in netns]
    if guard.returncode == 0:
        out.append("guard table")
    if state_dir.exists():
        out.append(f"state dir {state_dir}")
    return out


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    _require_lab_support()
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
    """Give a test the module lab and restore every device it broke, always."""
    try:
        yield lab
    finally:
        for device in lab.status().faults:
            lab.restore(device)


def alive(lab: Lab, names: set[str] = ALL) -> set[str]:
    """Return which devices answer one ping (with one retry) from the NOC."""
    by_addr = {ADDR[n]: n for n in names}
    proc = subprocess.run(
        lab.noc_argv(["fping", "-a", "-r1", "-t300", *sorted(by_addr)]),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return {by_addr[a] for a in proc.stdout.split()}


def loss_pct(lab: Lab, device: str, count: int) -> int:
    proc = subprocess.run(
        lab.noc_argv(["fping", "-q", "-c", str(count), "-p", "20", "-t", "300", ADDR[device]]),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    match = re.search(r"xmt/rcv/%loss = \d+/\d+/(\d+)%", proc.stderr)
    assert match, proc.stderr
    return int(match.group(1))


def test_everything_reachable_from_noc(clean: Lab) -> None:
    assert alive(clean) == ALL
    status = clean.status()
    assert status.is_up
    assert status.devices == tuple(d.name for d in SPEC.devices)
    assert status.faults == {}


def test_root_namespace_has_no_route_into_the_lab_and_a_guard(clean: Lab) -> None:
    routes = json.loads(
        subprocess.run(
            ["ip", "-j", "-4", "route", "show", "table", "all"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert not [r for r in routes if str(r.get("dst", "")).startswith("10.52.")]
    guard = subprocess.run(
        ["nft", "list", "table", "inet", f"{LAB_NAME}_guard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "10.52.0.0/16" in guard
    assert 'oifname != "lo"' in guard
    assert "drop" in guard
    # no lab interface ever lands in the root namespace
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True)
    assert not re.search(r"^(c\d+|up0)[@ ]", links.stdout, re.MULTILINE)


def test_noc_routes_only_the_lab(clean: Lab) -> None:
    routes = json.loads(
        subprocess.run(
            clean.noc_argv(["ip", "-j", "-4", "route", "show", "table", "all"]),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    dsts = [r["dst"] for r in routes if r.get("type", "unicast") == "unicast"]
    assert "default" not in dsts
    assert dsts
    assert all(d.startswith("10.52.") for d in dsts), dsts


def test_fail_hides_children_but_not_siblings(clean: Lab) -> None:
    clean.fail("dist1")
    clean.fail("dist1")  # idempotent
    assert alive(clean) == ALL - {"dist1", "opd11", "opd12"}
    assert clean.status().faults["dist1"].failed
    clean.restore("dist1")
    clean.restore("dist1")  # idempotent
    assert alive(clean) == ALL
    assert clean.status().faults == {}


def test_link_down_and_restore(clean: Lab) -> None:
    clean.link_down("dist2")
    clean.link_down("dist2")
    assert alive(clean) == ALL - {"dist2", "opd21", "opd22"}
    faults = clean.status().faults["dist2"]
    assert faults.link_down
    assert not faults.failed
    clean.restore("dist2")
    assert alive(clean) == ALL


def test_link_down_of_root_then_restore(clean: Lab) -> None:
    clean.link_down("core")
    assert alive(clean) == set()
    clean.restore("core")
    assert alive(clean) == ALL


def test_loss_is_partial_and_removable(clean: Lab) -> None:
    clean.loss("opd21", 50)
    assert clean.status().faults["opd21"].loss_pct == 50
    assert 15 <= loss_pct(clean, "opd21", 40) <= 85
    assert loss_pct(clean, "opd22", 10) == 0  # sibling unaffected
    clean.loss("opd21", 0)
    assert clean.status().faults == {}
    assert loss_pct(clean, "opd21", 20) == 0


def test_faults_combine_and_restore_clears_all(clean: Lab) -> None:
    clean.loss("dist1", 30)
    clean.fail("dist1")
    clean.link_down("dist1")
    faults = clean.status().faults["dist1"]
    assert (faults.failed, faults.link_down, faults.loss_pct) == (True, True, 30)
    clean.restore("dist1")
    assert clean.status().faults == {}
    assert alive(clean) == ALL


def test_unknown_device_is_named(clean: Lab) -> None:
    with pytest.raises(UnknownDeviceError, match=r"'nope'.*core, dist1"):
        clean.fail("nope")
    with pytest.raises(UnknownDeviceError):
        clean.device_netns("nope")
    assert clean.device_netns("opd11") == f"{LAB_NAME}-opd11"


def test_up_twice_is_idempotent(clean: Lab) -> None:
    before = {p.name: p.stat().st_ino for p in Path("/run/netns").glob(f"{LAB_NAME}-*")}
    status = clean.up(SPEC)
    assert status.is_up
    after = {p.name: p.stat().st_ino for p in Path("/run/netns").glob(f"{LAB_NAME}-*")}
    assert after == before
    assert alive(clean) == ALL


def test_entered_switches_only_the_calling_thread(clean: Lab) -> None:
    own = Path("/proc/thread-self/ns/net").stat().st_ino
    seen: dict[str, object] = {}

    def worker() -> None:
        with entered(clean.noc_netns):
            seen["noc_forward"] = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
            seen["noc_links"] = {name for _, name in socket.if_nameindex()}
            seen["main_thread"] = Path(f"/proc/{os.getpid()}/ns/net").stat().st_ino
        with entered(clean.device_netns("dist1")):
            seen["dist_forward"] = Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()
        seen["after"] = Path("/proc/thread-self/ns/net").stat().st_ino

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert seen["noc_forward"] == "0"
    assert seen["dist_forward"] == "1"
    assert seen["noc_links"] == {"lo", "c1"}
    assert seen["main_thread"] == own  # the main thread never moved
    assert seen["after"] == own
    assert Path("/proc/thread-self/ns/net").stat().st_ino == own


def test_foreign_namespace_sharing_the_prefix_is_left_alone(tmp_path: Path) -> None:
    """Someone else's `<lab>-x` namespace neither breaks the lab's health nor gets deleted."""
    name = f"{LAB_NAME}f"
    foreign = f"{name}-somebody-else"
    small = LabSpec(SPEC.devices[:2], SPEC.noc_address, SPEC.prefixes)
    handle = Lab(name, state_dir=tmp_path / "state")
    subprocess.run(["ip", "netns", "add", foreign], check=True)
    try:
        handle.up(small)
        status = handle.status()
        assert status.is_up, status.problems
        handle.down()
        assert (
            foreign
            in subprocess.run(
                ["ip", "netns", "list"], capture_output=True, text=True, check=True
            ).stdout
        )
    finally:
        handle.down()
        subprocess.run(["ip", "netns", "del", foreign], check=False)


def test_down_after_crash_cleans_everything(tmp_path: Path) -> None:
    _require_lab_support()
    name = f"{LAB_NAME}c"
    crashed = Lab(name, state_dir=tmp_path / "state")
    small = LabSpec(devices=SPEC.devices[:3], noc_address=NOC, prefixes=SPEC.prefixes)
    sleeper: subprocess.Popen[bytes] | None = None
    try:
        crashed.up(small)
        sleeper = subprocess.Popen(["ip", "netns", "exec", f"{name}-dist1", "sleep", "60"])
        (tmp_path / "state" / "state.json").unlink()  # the crash lost the state
        assert not crashed.status().is_up
        with pytest.raises(LabNotUpError):
            crashed.fail("core")
        Lab(name, state_dir=tmp_path / "state").down()
        assert sleeper.wait(timeout=10) is not None
        assert _leftovers(name, tmp_path / "state") == []
    finally:
        if sleeper is not None and sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait(timeout=10)
        crashed.down()
    assert _leftovers(name, tmp_path / "state") == []


def test_up_over_half_built_lab_rebuilds(tmp_path: Path) -> None:
    _require_lab_support()
    name = f"{LAB_NAME}h"
    half = Lab(name, state_dir=tmp_path / "state")
    small = LabSpec(devices=SPEC.devices[:3], noc_address=NOC, prefixes=SPEC.prefixes)
    try:
        # a half-built lab: a stray namespace of ours (a lab veth in it), no state, no guard
        stray = f"{name}-stray"
        subprocess.run(["ip", "netns", "add", stray], check=True)
        subprocess.run(
            [
                "ip",
                "-n",
                stray,
                "link",
                "add",
                "up0",
                "address",
                "02:5a:01:ff:ff:01",
                "type",
                "veth",
                "peer",
                "name",
                "x0",
            ],
            check=True,
        )
        assert half.status().problems
        status = half.up(small)
        assert status.is_up, status.problems
        assert not Path(f"/run/netns/{name}-stray").exists()
        assert alive(half, {"core", "dist1", "dist2"}) == {"core", "dist1", "dist2"}
        # a different spec rebuilds
        status = half.up(LabSpec(devices=SPEC.devices[:2], noc_address=NOC, prefixes=SPEC.prefixes))
        assert status.devices == ("core", "dist1")
        assert not Path(f"/run/netns/{name}-dist2").exists()
        # a namespace vanished: unhealthy, up rebuilds it
        subprocess.run(["ip", "netns", "del", f"{name}-dist1"], check=True)
        assert not half.status().is_up
        assert half.up(
            LabSpec(devices=SPEC.devices[:2], noc_address=NOC, prefixes=SPEC.prefixes)
        ).is_up
        assert alive(half, {"core", "dist1"}) == {"core", "dist1"}
    finally:
        half.down()
    assert _leftovers(name, tmp_path / "state") == []


@pytest.mark.slow
def test_scale_1051_devices(tmp_path: Path) -> None:
    """core -> 50 dist -> 20 each: built, all reachable, clean teardown (times printed)."""
    _require_lab_support()
    name = f"{LAB_NAME}s"
    big = Lab(name, state_dir=tmp_path / "state")
    spec = tree_spec((50, 20))
    try:
        started = time.monotonic()
        assert big.up(spec).is_up
        print(f"1,051 devices built in {time.monotonic() - started:.1f} s")
        addrs = [d.address for d in spec.devices]
        proc = subprocess.run(
            big.noc_argv(["fping", "-a", "-r1", "-t500", "-i1", *addrs]),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert len(proc.stdout.split()) == len(addrs)
    finally:
        started = time.monotonic()
        big.down()
        print(f"torn down in {time.monotonic() - started:.1f} s")
    assert _leftovers(name, tmp_path / "state") == []
