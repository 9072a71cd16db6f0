"""Configuration backup end to end (issue 22): the RouterOS and IOS simulators and a real
OpenSSH sshd (linux) in the lab, the backup run from the lab's NOC namespace with an injected
clock; the history is a real git repository, tickets in SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from agent.backup.repo import ConfigRepo
from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from labnet.simconfig import LAB_COMMUNITY
from tests.conftest import require_lab_capabilities, unavailable, wait_for
from ticketing.config_changes import CHANGED
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.states import EventKind
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.labagent import Agent

pytestmark = pytest.mark.integration

LAB = Lab(f"b{os.getpid() % 100000}")
INVENTORY = """
office: {{name: Diskominfo Uji}}
lab: {{prefixes: [10.67.0.0/16], noc_address: 10.67.255.254}}
people:
  - {{name: Kasi Uji, role: kasi}}
remediation:
  known_hosts: {known_hosts}
  connect_timeout: 4s
  read_timeout: 6s
  session_timeout: 20s
backup: {{directory: {backups}, max_concurrent: 2, night_hours: 2}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  snmp: {{version: "2c", community_file: community, interval: 2s, timeout: 1s, retries: 0}}
  ssh: {{user: sigap, password_file: ssh-password, secret_file: ssh-secret}}
hosts:
  core: {{address: 10.67.0.1}}
  ros: {{address: 10.67.1.1, parent: core}}
  ios:
    address: 10.67.1.2
    parent: core
    platform: cisco_ios
    role: switch
    interfaces: {{Gi0-1: {{required_up: true}}}}
  lin: {{address: 10.67.1.3, parent: core, platform: linux, role: server}}
"""
SECRETS = {"community": "lab-community-67", "ssh-password": "lab-ssh-pass-67",
           "ssh-secret": "lab-enable-67"}  # fmt: skip
NIGHT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # 16:00 WITA: the night starts 01:00 WITA


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists() or not Path("/usr/sbin/sshd").exists():
        unavailable("snmpd and sshd are needed (apt-get install snmpd openssh-server)")
    folder = tmp_path_factory.mktemp("bkinv")
    for name, value in SECRETS.items():
        (folder / name).write_text(value + "\n")
    inventory = folder / "inventory.yaml"
    inventory.write_text(
        INVENTORY.format(known_hosts=LAB.known_hosts_path(), backups=folder / "konfigurasi")
    )
    try:
        labctl.up(load_inventory(inventory), LAB)
        yield LAB, inventory
    finally:
        LAB.down()


@pytest.fixture(scope="module")
def db(lab_env: tuple[Lab, Path]) -> str:
    url = TicketStore.sqlite_url(lab_env[1].parent / "sigap.db")
    with TicketStore(url) as store:
        migrate(store)
    return url


def night(lab: Lab, inventory: Path, db: str, at: datetime, *extra: str) -> list[dict[str, Any]]:
    argv = [sys.executable, "-m", "tests.backup_night", str(inventory), db, at.isoformat(), *extra]
    done = subprocess.run(lab.noc_argv(argv), capture_output=True, text=True, timeout=180,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def sigap(lab: Lab, inventory: Path, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "agent", "konfigurasi", *args, "-i", str(inventory)]
    return subprocess.run(lab.noc_argv([*argv, *(["--db", db] if args[0] == "ambil" else [])]),
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "200"})  # fmt: skip


def history(inventory: Path, device: str) -> list[str]:
    repo = ConfigRepo(inventory.parent / "konfigurasi" / "repo")
    return [v.trigger for v in repo.history_blocking(device)]


def test_nights_changes_and_the_ticket(lab_env: tuple[Lab, Path], db: str) -> None:
    lab, inventory = lab_env
    first = night(lab, inventory, db, NIGHT)
    results = {r["device"]: r for r in first[:-1]}
    assert sorted(results) == ["core", "ios", "lin", "ros"]
    assert all(r["kind"] == "" and r["rev"] for r in results.values()), results
    assert first[-1]["end"] == "2026-12-03T18:30:00+00:00"  # 01:00 WITA + 3 slots of 30 min
    for device in ("core", "ios", "lin", "ros"):
        assert history(inventory, device) == ["jadwal"]
    repo = inventory.parent / "konfigurasi" / "repo"
    log = subprocess.run(["git", "-C", str(repo), "log", "-p", "--all"], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    for secret in (*SECRETS.values(), LAB_COMMUNITY):
        assert secret not in log
    assert "/interface bridge port add bridge=bridge-lan interface=ether2" in log
    assert "hostname ios" in log
    assert "inet 10.67.1.3/" in log

    second = night(lab, inventory, db, NIGHT + timedelta(days=1))
    assert [r["rev"] for r in second[:-1]] == [None] * 4  # nothing changed: no commit
    assert history(inventory, "ros") == ["jadwal"]

    with TicketStore(db) as store:  # the daemon's SNMP poll would open this one
        ticket = store.open_fault(
            Fault("ros", FaultKind.INTERFACE_DISABLED, "ether2 mati", subject="ether2"), at=NIGHT
        ).ticket
    lab.if_down("ros", "ether2")
    lab.if_down("ios", "Gi0-1")
    third = night(lab, inventory, db, NIGHT + timedelta(days=2))
    changed = {r["device"]: r for r in third[:-1] if r["rev"]}
    assert sorted(changed) == ["ios", "ros"]
    assert (
        "+/interface ethernet set [ find default-name=ether2 ] disabled=yes"
        in (changed["ros"]["diff"])
    )
    assert "+ shutdown" in changed["ios"]["diff"]
    assert "interface GigabitEthernet0/1" in changed["ios"]["diff"]
    with TicketStore(db) as store:
        notes = [
            e
            for e in store.events(ticket.number)
            if e.kind is EventKind.NOTE and (e.data or {}).get("jenis") == CHANGED
        ]
        ios_ticket = next(t for t in store.active() if t.device == "ios")
    [note] = notes
    assert "+/interface ethernet set [ find default-name=ether2 ] disabled=yes" in note.data["diff"]
    assert ios_ticket.kind == FaultKind.CONFIG_CHANGED.value  # no ticket open: a low one

    shown = sigap(lab, inventory, db, "diff", "ros")
    print("$ sigap konfigurasi diff ros\n" + shown.stdout)
    assert shown.returncode == 0, shown.stderr
    assert "+/interface ethernet set [ find default-name=ether2 ] disabled=yes" in shown.stdout
    listed = sigap(lab, inventory, db, "riwayat", "ros")
    assert listed.stdout.count("jadwal") == 2
    lab.if_up("ros", "ether2")
    lab.if_up("ios", "Gi0-1")
    on_demand = sigap(lab, inventory, db, "ambil", "ros", "--oleh", "Kasi Uji")
    print("$ sigap konfigurasi ambil ros --oleh 'Kasi Uji'\n" + on_demand.stdout)
    assert on_demand.returncode == 0, on_demand.stdout + on_demand.stderr
    assert "ros: BERUBAH" in on_demand.stdout
    assert history(inventory, "ros") == ["pengguna Kasi Uji", "jadwal", "jadwal"]
    oldest = sigap(lab, inventory, db, "riwayat", "ros").stdout  # restore = diff to any version
    print("$ sigap konfigurasi riwayat ros\n" + oldest)
    assert "pengguna Kasi Uji" in oldest


def test_backup_waits_for_a_remediation_session_on_the_device(
    lab_env: tuple[Lab, Path], db: str
) -> None:
    lab, inventory = lab_env
    out = night(lab, inventory, db, NIGHT + timedelta(days=5), "--with-remediation", "ros")
    order = [o for o in out[-1]["order"] if "ros" in o or "remediation" in o]
    assert order == ["remediation start", "remediation end", "backup start ros", "backup end ros"]


def test_a_changed_host_key_is_refused_and_reported(lab_env: tuple[Lab, Path], db: str) -> None:
    lab, inventory = lab_env
    known = lab.known_hosts_path().read_bytes()
    lab.rotate_host_key("ros")
    done = sigap(lab, inventory, db, "ambil", "ros")
    print("$ sigap konfigurasi ambil ros\n" + done.stdout)
    assert done.returncode == 1
    assert "ros: GAGAL (host_key)" in done.stdout
    assert "BERUBAH" in done.stdout
    assert lab.known_hosts_path().read_bytes() == known  # never replaced
    status = sigap(lab, inventory, db, "status")
    print("$ sigap konfigurasi status\n" + status.stdout)
    assert "GAGAL (host_key)" in status.stdout


def change_notes(store: TicketStore, number: str) -> list[Any]:
    return [
        e
        for e in store.events(number)
        if e.kind is EventKind.NOTE and (e.data or {}).get("jenis") == CHANGED
    ]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_daemon_puts_a_port_shut_by_hand_on_its_ticket(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    """Done when of issue 22: `sigap run` sees the port admin-down over SNMP, opens the
    ticket, backs the device up at once and notes the exact changed line on that ticket."""
    agent.start()
    lab.if_down("ios", "Gi0-1")
    key = "ios/interface_disabled/Gi0-1"

    def noted() -> Any:
        ticket = next((t for t in store.active() if t.fault_key == key), None)
        return (change_notes(store, ticket.number) or None) if ticket is not None else None

    [note] = wait_for("the configuration change on the ticket", noted, 60)
    print(f"{key}: {note.detail}\n{note.data['diff']}")
    assert note.detail.startswith("konfigurasi berubah ditemukan saat pencadangan (tiket ")
    assert "interface GigabitEthernet0/1" in note.data["diff"]
    assert "+ shutdown" in note.data["diff"].splitlines()
    lab.if_up("ios", "Gi0-1")
    assert agent.stop() == 0
