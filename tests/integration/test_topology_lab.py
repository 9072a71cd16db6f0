"""Topology discovery against real LLDP (issue 11): lldpd under every lab snmpd, `sigap
discover` in the lab's NOC namespace, `--apply` restoring a removed parent, an unknown
neighbour, and the map page (headless Chromium when installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_binaries, require_lab_capabilities, wait_for
from ticketing.admin_log import AdminLog
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

LAB = Lab(f"t{os.getpid() % 100000}")
SIGAP = [sys.executable, "-m", "agent"]
HOSTS = """\
hosts:
  core:
    address: 10.65.0.1
    groups: [core]
  dist:
    address: 10.65.10.1
    parent: core
  opd1:
    address: 10.65.11.1
    parent: dist
    opd: Dinas Satu
  sw1:
    address: 10.65.11.2
    parent: opd1
    role: switch
    platform: cisco_ios
  opd2:
    address: 10.65.12.1
    parent: dist   # radio link
    opd: Dinas Dua
"""
STRANGER = """\
  stranger:
    address: 10.65.11.9
    parent: opd1
"""
HEAD = """\
office: {name: Diskominfo Uji}
lab: {prefixes: [10.65.0.0/16], noc_address: 10.65.255.254}
groups:
  core: {tags: [core]}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Diskominfo
  snmp: {version: "2c", community_file: community, timeout: 1s, retries: 1}
"""
PARENTS = {"dist": "core", "opd1": "dist", "sw1": "opd1", "opd2": "dist"}


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The lab has `stranger`; the agent's inventory does not."""
    require_lab_capabilities()
    require_binaries("/usr/sbin/snmpd", "/usr/sbin/lldpd")
    folder = tmp_path_factory.mktemp("topoinv")
    (folder / "community").write_text("topo-lab-65\n")
    (folder / "lab.yaml").write_text(HEAD + HOSTS + STRANGER)
    (folder / "inventory.yaml").write_text(HEAD + HOSTS)
    try:
        labctl.up(load_inventory(folder / "lab.yaml"), LAB)
        yield folder / "inventory.yaml"
    finally:
        LAB.down()


def discover(inventory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    argv = LAB.noc_argv([*SIGAP, "discover", "-i", str(inventory), *extra])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def discovered(inventory: Path, links: int) -> dict[str, Any]:
    """Poll until LLDP has converged (every link seen from both ends)."""

    def probe() -> dict[str, Any] | None:
        out = discover(inventory, "--json")
        assert out.returncode == 0, out.stderr
        data: dict[str, Any] = json.loads(out.stdout)
        both = [x for x in data["links"] if "?" not in (x["a_port"], x["b_port"])]
        return data if len(both) == links and data["unknown_neighbours"] else None

    return wait_for("LLDP neighbours in every table", probe, timeout=40, interval=1)


def test_discovery_finds_every_link_and_the_inventory_parents(lab_env: Path) -> None:
    data = discovered(lab_env, links=4)
    ends = {(x["a"], x["b"]) for x in data["links"]}
    assert ends == {("core", "dist"), ("dist", "opd1"), ("opd1", "sw1"), ("dist", "opd2")}
    by = {(x["a"], x["b"]): x for x in data["links"]}
    assert by[("opd1", "sw1")]["b_port"] == "Gi0-0"  # the switch's uplink, by interface name
    assert by[("dist", "opd1")]["b_port"] == "ether1"
    proposed = {p["device"]: p["proposed"] for p in data["parents"] if p["status"] == "same"}
    assert proposed == PARENTS
    assert [p["device"] for p in data["parents"] if p["status"] == "root"] == ["core"]
    assert data["silent"] == {}


def test_a_device_not_in_the_inventory_is_an_unknown_neighbour(lab_env: Path) -> None:
    data = discovered(lab_env, links=4)
    (stranger,) = data["unknown_neighbours"]
    assert (stranger["name"], stranger["seen_by"], stranger["address"]) == (
        "stranger",
        "opd1",
        "10.65.11.9",
    )


def test_apply_restores_a_removed_parent(lab_env: Path, tmp_path: Path) -> None:
    discovered(lab_env, links=4)
    inventory = tmp_path / "inventory.yaml"
    shutil.copy(lab_env.with_name("community"), tmp_path / "community")
    original = lab_env.read_text()
    inventory.write_text(
        original.replace("    parent: opd1\n    role: switch\n", "    role: switch\n")
    )
    db = f"sqlite:///{tmp_path / 'sigap.db'}"
    out = discover(inventory, "--apply", "--yes", "--db", db)
    assert out.returncode == 0, out.stderr
    assert "+    parent: opd1" in out.stdout  # the reviewed diff is shown
    assert inventory.read_text() == original  # comments and order kept
    store = TicketStore(db)  # the one inventory writer audits the CLI's write too
    try:
        (edit,) = AdminLog(store).edits(10)
    finally:
        store.close()
    assert (edit.by, edit.summary) == ("cli:root", "sigap discover: 1 induk dan 0 platform")
    again = discover(inventory, "--apply", "--yes", "--db", db)
    assert "Tidak ada induk atau platform baru" in again.stdout


def test_discovery_refuses_the_lab_inventory_outside_the_lab(lab_env: Path) -> None:
    out = subprocess.run(
        [*SIGAP, "discover", "-i", str(lab_env)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 1
    assert "not inside a lab NOC namespace" in out.stderr + out.stdout


def test_map_shows_a_failed_device(lab_env: Path, tmp_path: Path) -> None:
    links = tmp_path / "links.json"
    links.write_text(json.dumps(discovered(lab_env, links=4)))
    LAB.fail("opd1")
    try:
        # the daemon's detection is tested elsewhere; here its tickets, as it writes them
        db = f"sqlite:///{tmp_path / 'sigap.db'}"
        with TicketStore(db) as store:
            migrate(store)
            at = datetime.now(UTC)
            opened = store.open_fault(Fault("opd1", FaultKind.DEVICE_DOWN, "opd1 mati"), at=at)
            store.attach(opened.ticket.fault_key or "", "sw1", at=at)
        page = tmp_path / "peta.html"
        out = subprocess.run(
            [*SIGAP, "peta", "--html", str(page), "-i", str(lab_env), "--db", db,
             "--links", str(links)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        html = page.read_text()
        assert 'data-device="opd1" data-state="down"' in html
        assert 'data-device="sw1" data-state="unreachable"' in html
        assert ">Gi0-0</text>" in html
        _check_in_chromium(page, tmp_path)
    finally:
        LAB.restore("opd1")


def _check_in_chromium(page: Path, out: Path) -> None:
    """Render in headless Chromium when it and playwright are installed; keep a screenshot."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        return  # the HTML/SVG content was checked above
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": 412, "height": 915})  # a phone
            tab.goto(page.as_uri())
            fill = tab.eval_on_selector(
                'g.node[data-device="opd1"] circle.dot', "e => getComputedStyle(e).fill"
            )
            grey = tab.eval_on_selector(
                'g.node[data-device="sw1"] circle.dot', "e => getComputedStyle(e).fill"
            )
            green = tab.eval_on_selector(
                'g.node[data-device="core"] circle.dot', "e => getComputedStyle(e).fill"
            )
            tab.click('.opd a[data-device="opd1"]')
            panel = tab.inner_text("#panel")
            tab.screenshot(path=str(out / "peta.png"), full_page=True)
        finally:
            browser.close()
    assert fill == "rgb(198, 40, 40)"
    assert grey == "rgb(141, 141, 141)"
    assert green == "rgb(46, 125, 50)"
    assert "GJ/" in panel
