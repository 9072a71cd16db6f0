"""``sigap discover --scan`` in the lab (issue 21): from the NOC namespace, a scan of the lab
prefixes with a trimmed inventory proposes every removed device with the right platform,
parent and address (v2c with the inventory's old community first, then SNMPv3), a device that
answers only ping is proposed and marked, ``--apply`` then ``sigap check`` is clean, and a
second scan proposes nothing. Outside the NOC the lab inventory is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from agent.admin.edits import BACKUPS
from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_binaries, require_lab_capabilities, wait_for
from tests.discover_lab import RANGES, write_files
from tests.webboard import set_passwords
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

LAB = Lab(f"v{os.getpid() % 100000}")
SIGAP = [sys.executable, "-m", "agent"]


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The lab has every device; the inventory of the scan lacks three and its community."""
    require_lab_capabilities()
    require_binaries("/usr/sbin/snmpd", "/usr/sbin/lldpd")
    folder = write_files(tmp_path_factory.mktemp("scaninv"))
    try:
        labctl.up(load_inventory(folder / "lab.yaml"), LAB)
        yield folder / "inventory.yaml"
    finally:
        LAB.down()


def sigap(*argv: str, noc: bool = True) -> subprocess.CompletedProcess[str]:
    command = [*SIGAP, *argv]
    return subprocess.run(
        LAB.noc_argv(command) if noc else command,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def proposal(inventory: Path) -> dict[str, Any]:
    """Scan until LLDP has converged (both new SNMP devices have their parent)."""

    def probe() -> dict[str, Any] | None:
        out = sigap("discover", "-i", str(inventory), "--scan", RANGES, "--json")
        assert out.returncode == 0, out.stderr
        data: dict[str, Any] = json.loads(out.stdout)
        hosts = {h["name"]: h for h in data["hosts"]}
        ready = all(hosts.get(n, {}).get("parent") for n in ("rtr-dinkes", "sw-dinkes"))
        return data if ready else None

    return wait_for("LLDP neighbours of the new devices", probe, timeout=60, interval=2)


def test_scan_proposes_every_removed_device(lab_env: Path) -> None:
    data = proposal(lab_env)
    hosts = {h["name"]: h for h in data["hosts"]}
    assert set(hosts) == {"rtr-dinkes", "sw-dinkes", "perangkat-10-73-12-9"}
    router, switch = hosts["rtr-dinkes"], hosts["sw-dinkes"]
    assert (router["address"], router["platform"], router["role"], router["parent"]) == (
        "10.73.11.1", "mikrotik_routeros", "router", "dist",
    )  # fmt: skip
    assert (switch["address"], switch["platform"], switch["role"], switch["parent"]) == (
        "10.73.11.2", "cisco_ios", "switch", "rtr-dinkes",
    )  # fmt: skip
    assert router["groups"] == ["snmpv3"] == switch["groups"]  # the old community failed
    assert switch["opd"] is None or switch["opd"]["confidence"] in ("rendah", "sedang", "tinggi")
    printer = hosts["perangkat-10-73-12-9"]
    assert (printer["address"], printer["snmp"]) == ("10.73.12.9", False)
    assert any("hanya menjawab ping" in m for m in printer["markers"])
    assert printer["opd"]["opd"] == "Dinas PUPR"  # every known device of its /24
    assert "10.73.12.1" not in {h["address"] for h in data["hosts"]}  # known: not proposed
    assert sorted(data["known_seen"]) == ["dist", "rtr-pupr"]


def test_apply_then_check_is_clean_and_a_second_scan_finds_nothing(
    lab_env: Path, tmp_path: Path
) -> None:
    proposal(lab_env)
    for name in ("community-lama", "auth", "priv"):
        (tmp_path / name).write_text((lab_env.parent / name).read_text())
    inventory = tmp_path / "inventory.yaml"
    before = lab_env.read_text()
    inventory.write_text(before)
    db = f"sqlite:///{tmp_path / 'sigap.db'}"
    out = sigap("discover", "-i", str(inventory), "--scan", RANGES, "--apply", "--yes", "--db", db)
    assert out.returncode == 0, out.stderr
    assert "+  rtr-dinkes:" in out.stdout  # the reviewed diff is shown
    after = inventory.read_text()
    assert after.startswith(before)  # every existing line kept, comments included
    (backup,) = (tmp_path / BACKUPS).iterdir()
    assert backup.read_text() == before
    check = sigap("check", str(inventory), noc=False)
    assert check.returncode == 0, check.stdout + check.stderr
    loaded = load_inventory(inventory)
    assert loaded.devices["sw-dinkes"].parent == "rtr-dinkes"
    assert loaded.devices["rtr-dinkes"].snmp is not None
    assert loaded.devices["perangkat-10-73-12-9"].snmp is None
    again = sigap("discover", "-i", str(inventory), "--scan", RANGES)
    assert again.returncode == 0, again.stderr
    assert "Tidak ada perangkat baru" in again.stdout


def test_the_lab_inventory_is_refused_outside_the_noc(lab_env: Path) -> None:
    out = sigap("discover", "-i", str(lab_env), "--scan", "10.73.11.0/24", noc=False)
    assert out.returncode == 1
    assert "not inside a lab NOC namespace" in out.stderr + out.stdout


def test_a_15_is_refused_without_paksa(lab_env: Path) -> None:
    out = sigap("discover", "-i", str(lab_env), "--scan", "10.72.0.0/15")
    assert out.returncode == 1
    assert "pakai --paksa" in out.stderr + out.stdout


def test_the_board_scan_accepts_two_of_three_line_by_line(lab_env: Path, tmp_path: Path) -> None:
    """``/admin/temukan`` in the NOC: one scan, two rows ticked, one click; check is clean."""
    proposal(lab_env)  # LLDP has converged
    for name in ("community-lama", "auth", "priv"):
        (tmp_path / name).write_text((lab_env.parent / name).read_text())
    inventory = tmp_path / "inventory.yaml"
    person = "people:\n  - {name: Baiq Kasi, role: kasi, opd: Dinas Komunikasi dan Informatika}\n"
    inventory.write_text(lab_env.read_text() + person)
    url = TicketStore.sqlite_url(tmp_path / "board.db")
    set_passwords(url)
    command = [sys.executable, "-m", "tests.discover_board_lab", str(inventory), url, RANGES]
    out = subprocess.run(
        LAB.noc_argv([*command, "rtr-dinkes,perangkat-10-73-12-9"]),
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.splitlines()[-1])
    assert seen["accept"] == 303, seen
    assert set(seen["offered"]) == {"rtr-dinkes", "sw-dinkes", "perangkat-10-73-12-9"}
    check = sigap("check", str(inventory), noc=False)
    assert check.returncode == 0, check.stdout + check.stderr
    loaded = load_inventory(inventory)
    assert "sw-dinkes" not in loaded.devices
    assert loaded.devices["rtr-dinkes"].parent == "dist"
    assert loaded.devices["perangkat-10-73-12-9"].snmp is None
    assert list((tmp_path / ".sigap-backups").iterdir())
