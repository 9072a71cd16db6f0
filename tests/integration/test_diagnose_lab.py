"""`sigap diagnose` and `sigap poll-once` in a lab of their own (issue 9): real snmpd, the
RouterOS simulator over SSH, faults injected with nftables and `ip link`; the CLI runs inside
the lab's NOC namespace, its terminal output and JSON are checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.diagnose.readonly import COMMANDS, read_only
from agent.diagnose.schema import SCHEMA
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_lab_capabilities, unavailable, wait_for
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

LAB = Lab(f"d{os.getpid() % 100000}")
INVENTORY = """
office: {{name: Diskominfo Uji}}
lab: {{prefixes: [10.64.0.0/16], noc_address: 10.64.255.254}}
remediation: {{known_hosts: {known_hosts}, connect_timeout: 4s, read_timeout: 4s}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  snmp: {{version: "2c", community_file: {community}, timeout: 1s, retries: 0}}
  interfaces:
    ether2: {{required_up: true, description: LAN OPD}}
hosts:
  core: {{address: 10.64.0.1}}
  dist: {{address: 10.64.1.1, parent: core}}
  rtr:
    address: 10.64.2.1
    parent: dist
    opd: Kantor Camat Uji
    ssh: {{user: sigap, password_file: ssh-password}}
  sw: {{address: 10.64.2.2, parent: rtr, role: switch, opd: Kantor Camat Uji}}
"""
SECRETS = {
    "community": "lab-community-64",
    "wrong": "not-the-community",
    "ssh-password": "lab-ssh-pass-64",
}


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists():
        unavailable("net-snmp snmpd is not installed (apt-get install snmpd)")
    folder = tmp_path_factory.mktemp("diaginv")
    for name, value in SECRETS.items():
        (folder / name).write_text(value + "\n")
    known = LAB.known_hosts_path()
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY.format(known_hosts=known, community="community"))
    (folder / "wrong.yaml").write_text(INVENTORY.format(known_hosts=known, community="wrong"))
    try:
        labctl.up(load_inventory(path), LAB)
        yield LAB, path
    finally:
        LAB.down()


def sigap(lab: Lab, inventory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI inside the lab's NOC namespace, as a technician would (`sigap lab exec`)."""
    argv = [sys.executable, "-m", "agent", *args, "-i", str(inventory)]
    return subprocess.run(
        lab.noc_argv(argv),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def diagnose_json(lab: Lab, inventory: Path, *args: str) -> tuple[int, dict]:
    done = sigap(lab, inventory, "diagnose", *args, "--json")
    assert done.returncode in (0, 1, 2), done.stderr
    data = json.loads(done.stdout)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert data["exit_code"] == done.returncode
    return done.returncode, data


def test_healthy_device_exit_0_interface_table_and_speed(lab: Lab, lab_env) -> None:
    inventory = lab_env[1]
    started = time.monotonic()
    done = sigap(lab, inventory, "diagnose", "rtr")
    wall = time.monotonic() - started
    print(done.stdout)
    print(f"healthy diagnose, wall clock incl. interpreter start: {wall:.2f} s")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith("rtr (10.64.2.1, Kantor Camat Uji, mikrotik_routeros)")
    assert "NORMAL  Perangkat normal: ping 5/5 dijawab" in out
    assert "Jalur dist (10.64.1.1) OK -> core (10.64.0.1) OK" in out
    ports = [lab.uplink("rtr"), *lab.ports("rtr")]
    for port in ports:
        line = next(x for x in out.splitlines() if x.strip().startswith(port + " "))
        assert line.split()[1:3] == ["up", "up"] or " up " in line, line
    assert wall < 3.0

    code, data = diagnose_json(lab, inventory, "rtr")
    assert code == 0
    [device] = data["devices"]
    rows = {i["name"]: i for i in device["snmp"]["interfaces"]}
    assert set(ports) <= set(rows)
    for port in ports:
        assert (rows[port]["admin"], rows[port]["oper"], rows[port]["status"]) == ("up", "up", "ok")
        assert rows[port]["in_bps"] is not None  # two samples: a rate
    assert device["snmp"]["sample_s"] == pytest.approx(1.0, abs=0.3)
    assert device["ping"]["loss"] == 0
    assert device["ping"]["jitter_ms"] is not None
    assert [h["name"] for h in device["path"]] == ["dist", "core"]
    assert data["duration_s"] < 3.0


def test_device_behind_a_dead_parent_names_the_parent(lab: Lab, lab_env) -> None:
    lab.fail("dist")
    done = sigap(lab, lab_env[1], "diagnose", "sw")
    print(done.stdout)
    assert done.returncode == 2, done.stdout + done.stderr
    first = done.stdout.splitlines()[1]
    assert first.startswith("TIDAK TERJANGKAU  Perangkat tidak merespons ping; router induk dist")
    assert "putus di dist" in first
    assert "rtr (10.64.2.1) MATI -> dist (10.64.1.1) MATI -> core (10.64.0.1) OK" in done.stdout
    code, data = diagnose_json(lab, lab_env[1], "sw")
    assert (code, data["health"], data["devices"][0]["broken_at"]) == (2, "unreachable", "dist")


def admin_down(lab: Lab, inventory: Path) -> bool | None:
    """True once the device's snmpd reports the ports down (net-snmp caches its ifTable)."""
    raw = json.loads(sigap(lab, inventory, "poll-once", "rtr", "--json").stdout)
    down = {r["name"] for r in raw["snmp"]["interfaces"] if r["admin_up"] is False}
    return True if {"ether2", "ether3"} <= down else None


def test_required_interface_admin_down_is_degraded_and_highlighted(lab: Lab, lab_env) -> None:
    lab.if_down("rtr", "ether2")
    lab.if_down("rtr", "ether3")  # not marked: shown as a choice, not counted
    wait_for("snmpd shows ether2 and ether3 admin down", partial(admin_down, lab, lab_env[1]), 30)
    done = sigap(lab, lab_env[1], "diagnose", "rtr")
    print(done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    verdict = done.stdout.splitlines()[1]
    assert verdict.startswith("TERGANGGU  Perangkat merespons ping, tetapi interface ether2")
    assert "dinonaktifkan (admin down), padahal wajib aktif" in verdict
    row = next(x for x in done.stdout.splitlines() if x.strip().startswith("! ether2"))
    assert "down" in row
    assert any(x.strip().startswith("- ether3") for x in done.stdout.splitlines())
    _, data = diagnose_json(lab, lab_env[1], "rtr")
    rows = {i["name"]: i for i in data["devices"][0]["snmp"]["interfaces"]}
    assert (rows["ether2"]["admin"], rows["ether2"]["status"]) == ("down", "masalah")
    assert rows["ether3"]["status"] == "catatan"


def test_wrong_snmp_community_snmp_says_so_icmp_still_reports(lab: Lab, lab_env) -> None:
    wrong = lab_env[1].parent / "wrong.yaml"
    done = sigap(lab, wrong, "diagnose", "rtr")
    print(done.stdout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SNMP  tidak menjawab: " in done.stdout
    assert "ICMP  5/5 dijawab, hilang 0%" in done.stdout
    _, data = diagnose_json(lab, wrong, "rtr")
    device = data["devices"][0]
    assert device["snmp"]["ok"] is False
    assert "timeout" in device["snmp"]["reason"] or "community" in device["snmp"]["reason"]
    assert device["ping"]["received"] == 5


def test_opd_target_mtu_and_recent_tickets(lab: Lab, lab_env, tmp_path: Path) -> None:
    url = TicketStore.sqlite_url(tmp_path / "sigap.db")
    with TicketStore(url) as store:
        migrate(store)
        fault = Fault(
            "sw", FaultKind.DEVICE_DOWN, "Switch sw mati", "Kantor Camat Uji", "10.64.2.2"
        )
        opened = store.open_fault(fault, at=datetime.now(UTC)).ticket
    code, data = diagnose_json(lab, lab_env[1], "kantor camat uji", "--mtu", "--db", url)
    assert code == 0, data["verdict"]
    assert data["kind"] == "opd"
    assert [d["name"] for d in data["devices"]] == ["rtr", "sw"]
    assert all(d["mtu"]["path_mtu"] == 1500 for d in data["devices"])
    sw = data["devices"][1]
    assert [t["number"] for t in sw["tickets"]["items"]] == [opened.number]
    assert data["devices"][0]["tickets"]["items"] == []
    done = sigap(lab, lab_env[1], "diagnose", "sw", "--db", url)
    assert opened.number in done.stdout
    assert "MTU" not in done.stdout  # only on request


def test_ssh_runs_only_the_read_only_commands(lab: Lab, lab_env) -> None:
    code, data = diagnose_json(lab, lab_env[1], "rtr", "--ssh")
    ssh = data["devices"][0]["ssh"]
    assert ssh["ok"], ssh
    sent = [c["command"] for c in ssh["commands"]]
    assert sent == [c for c, _ in COMMANDS["mikrotik_routeros"]]
    assert all(read_only("mikrotik_routeros", c) for c in sent)
    outputs = {c["command"]: c["output"] for c in ssh["commands"]}
    assert "ether2" in outputs["/interface print"]
    assert "10.64.2.1" in outputs["/ip address print"]
    assert SECRETS["ssh-password"] not in json.dumps(data)
    assert code == 0


def test_poll_once_prints_raw_observations(lab: Lab, lab_env) -> None:
    done = sigap(lab, lab_env[1], "poll-once", "rtr")
    print(done.stdout)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('ping: device="rtr" probe="ping" status="ok"')
    assert '\nsnmp: device="rtr" at=' in done.stdout
    assert "\n  if: index=" in done.stdout
    assert 'name="ether2"' in done.stdout
    raw = json.loads(sigap(lab, lab_env[1], "poll-once", "rtr", "--json").stdout)
    assert raw["ping"]["status"] == "ok"
    assert raw["snmp"]["status"] == "ok"
    assert any(r["name"] == "ether2" for r in raw["snmp"]["interfaces"])


def test_usage_errors_exit_3(lab: Lab, lab_env) -> None:
    done = sigap(lab, lab_env[1], "diagnose", "rtx")
    assert done.returncode == 3
    assert "mungkin: rtr" in done.stderr
    assert sigap(lab, lab_env[1], "diagnose", "rtr", "--count", "x").returncode == 3
    assert sigap(lab, lab_env[1], "poll-once", "nope").returncode == 3
