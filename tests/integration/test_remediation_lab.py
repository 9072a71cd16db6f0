"""Remediation end to end (issue 6): real SSH endpoints in the lab (RouterOS and IOS
simulators, a real OpenSSH sshd for linux), real snmpd, the daemon in the NOC namespace,
tickets in SQLite and PostgreSQL: the technician's CLI runs on both, the daemon's repair on
every platform on PostgreSQL and its refusals and failures on SQLite (the SSH and SNMP paths
are the point there, not the store)."""

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
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_lab_capabilities, unavailable, wait_for
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import RunStatus
from ticketing.remediation import RemediationLog
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.labagent import Agent
    from ticketing.store import TicketStore
    from ticketing.views import TicketView

pytestmark = pytest.mark.integration

LAB = Lab(f"r{os.getpid() % 100000}")
EVIL = "e5;reboot"  # a legal Linux interface name, hostile as a CLI argument
INVENTORY = """
office: {{name: Diskominfo Uji}}
lab: {{prefixes: [10.63.0.0/16], noc_address: 10.63.255.254}}
people:
  - {{name: Kadis Uji, role: kadis}}
  - {{name: Kasi Uji, role: kasi}}
  - {{name: Teknisi Uji, role: teknisi}}
sop:
  standing_disposition: {{signer: Kadis Uji, reference: 800/1/2026, technician: Teknisi Uji}}
  agent_all_hours: true
remediation:
  known_hosts: {known_hosts}
  connect_timeout: 4s
  read_timeout: 4s
  session_timeout: 12s
  verify_timeout: 15s
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Dinas Uji
  snmp: {{version: "2c", community_file: community, interval: 2s, timeout: 1s, retries: 0}}
  ssh: {{user: sigap, password_file: ssh-password, secret_file: ssh-secret}}
  remediation: {{enabled: true, playbooks: [aktifkan-port]}}
  interfaces:
    ether2: {{required_up: true}}
    Gi0-1: {{required_up: true}}
    eth1: {{required_up: true}}
    "{evil}": {{required_up: true}}
hosts:
  core: {{address: 10.63.0.1, remediation: {{enabled: false}}}}
  ros:
    address: 10.63.1.1
    parent: core
    remediation: {{playbooks: [aktifkan-port, pulihkan-wan]}}
    interfaces: {{ether3: {{uplink: true, description: WAN ISP}}}}
  ios: {{address: 10.63.1.2, parent: core, platform: cisco_ios, role: switch}}
  lin: {{address: 10.63.1.3, parent: core, platform: linux, role: server}}
  ros-bad: {{address: 10.63.1.4, parent: core{bad}}}
  ros-hang: {{address: 10.63.1.5, parent: core}}
  ros-key: {{address: 10.63.1.6, parent: core}}
  ros-evil: {{address: 10.63.1.7, parent: core}}
"""
WRONG = ", ssh: {password_file: wrong-password}"
SECRETS = {
    "community": "lab-community-7",
    "ssh-password": "lab-ssh-pass-63",
    "ssh-secret": "lab-enable-63",
    "wrong-password": "not-the-password",
}
PORTS = {"ros": "ether2", "ios": "Gi0-1", "lin": "eth1"}


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    """The lab is built from a correct inventory; the agent's has a wrong password on ros-bad."""
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists() or not Path("/usr/sbin/sshd").exists():
        unavailable("snmpd and sshd are needed (apt-get install snmpd openssh-server)")
    folder = tmp_path_factory.mktemp("reminv")
    for name, value in SECRETS.items():
        (folder / name).write_text(value + "\n")
    known = LAB.known_hosts_path()
    (folder / "lab.yaml").write_text(INVENTORY.format(known_hosts=known, evil=EVIL, bad=""))
    agent_inv = folder / "inventory.yaml"
    agent_inv.write_text(INVENTORY.format(known_hosts=known, evil=EVIL, bad=WRONG))
    try:
        labctl.up(load_inventory(folder / "lab.yaml"), LAB)
        yield LAB, agent_inv
    finally:
        LAB.down()


@pytest.fixture
def agent(agent: Agent) -> Agent:
    agent.start()
    agent.wait_snmp_answered()
    return agent


def find(store: TicketStore, key: str, status: TicketState | None = None) -> TicketView | None:
    return next(
        (
            t
            for t in store.list(limit=100)
            if t.fault_key == key and (status is None or t.status is status)
        ),
        None,
    )


def admin_up(lab: Lab, device: str, port: str) -> bool:
    out = subprocess.run(
        ["ip", "-j", "-n", lab.device_netns(device), "link", "show", port],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "UP" in json.loads(out)[0]["flags"]


def finished_run(store: TicketStore, number: str) -> RunStatus | None:
    runs = RemediationLog(store).runs(number)
    done = [r for r in runs if r.status is not RunStatus.RUNNING]
    return done[-1].status if done else None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_disabled_ports_are_repaired_verified_and_resolved_on_every_platform(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    started = time.monotonic()
    for device, port in PORTS.items():
        lab.if_down(device, port)
    for device, port in PORTS.items():
        key = f"{device}/interface_disabled/{port}"
        ticket = wait_for(f"{key} resolved", partial(find, store, key, TicketState.RESOLVED), 60)
        assert admin_up(lab, device, port)
        assert ticket.remediation == "succeeded"
        assert ticket.complexity == "sederhana"
        [run] = RemediationLog(store).runs(ticket.number)
        assert (run.status, run.actor, run.playbook) == (
            RunStatus.SUCCEEDED,
            "sistem",
            "aktifkan-port",
        )
        sent = [e["command"] for e in run.transcript if e["step"] in ("command", "config")]
        assert sent, run.transcript
        assert port in sent[0]
        notes = " ".join(e["output"] for e in run.transcript if e["step"] == "catatan")
        assert "verifikasi SNMP: ifAdminStatus" in notes
        text = json.dumps(run.transcript)
        for secret in SECRETS.values():
            assert secret not in text
        steps = agent_steps(lab, agent, ticket.number)
        assert all(s["completed_at"] for s in steps), steps
        assert steps[-1]["completed_by"] == "sistem"
        document = steps[-1]["document"]
        assert isinstance(document, dict)
        assert document["perbaikan_otomatis"] is True
    elapsed = time.monotonic() - started
    print(f"three platforms repaired and resolved in {elapsed:.1f} s")
    assert agent.stop() == 0


def agent_steps(lab: Lab, agent: Agent, number: str) -> list[dict[str, object]]:
    """`sigap tiket show --json` as a technician would run it (the CLI, not the store)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent",
            "tiket",
            "show",
            number,
            "--json",
            "--inventory",
            str(agent.inventory),
            "--db",
            agent.db_url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    data = json.loads(out)
    assert data["remediation_runs"], data
    steps: list[dict[str, object]] = data["steps"]
    return steps


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_failures_go_to_the_technician_and_others_are_still_repaired(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    lab.ssh_hang("ros-hang")
    lab.if_down("ros-hang", "ether2")
    lab.if_down("ros-bad", "ether2")  # the agent's inventory has the wrong password
    time.sleep(1)
    lab.if_down("ios", "Gi0-1")  # while ros-hang's session hangs
    reasons = {}
    for device, expect in (("ros-bad", "ditolak"), ("ros-hang", "tidak menjawab")):
        key = f"{device}/interface_disabled/ether2"
        ticket = wait_for(f"{key} failed", partial(_failed, store, key), 45)
        runs = RemediationLog(store).runs(ticket.number)
        # one run per opening (a reopened ticket is tried again, once)
        assert len(runs) == ticket.reopen_count + 1, "\n".join(
            [repr((r.status, r.reason, r.actor, r.started_at)) for r in runs]
            + [repr((e.at, e.kind, e.detail)) for e in store.events(ticket.number)]
        )
        reasons[device] = runs[-1].reason
        assert expect in reasons[device], (reasons, store.events(ticket.number))
        assert ticket.status is TicketState.OPEN
        assert ticket.assignee == "Teknisi Uji"
        assert ticket.sop_step == 4  # the technician's decision step
        assert not admin_up(lab, device, "ether2")
    wait_for(
        "ios repaired meanwhile",
        lambda: find(store, "ios/interface_disabled/Gi0-1", TicketState.RESOLVED),
        45,
    )
    time.sleep(6)  # three more SNMP polls: still one run each, no retry loop
    for device in ("ros-bad", "ros-hang"):
        again = find(store, f"{device}/interface_disabled/ether2")
        assert again is not None
        assert len(RemediationLog(store).runs(again.number)) == again.reopen_count + 1
    assert agent.stop() == 0
    print(reasons)


def _failed(store: TicketStore, key: str) -> TicketView | None:
    ticket = find(store, key, TicketState.OPEN)
    return ticket if ticket is not None and ticket.remediation == "failed" else None


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_changed_host_key_and_hostile_interface_name_are_refused(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    ns = lab.device_netns("ros-evil")
    subprocess.run(["ip", "-n", ns, "link", "set", "ether5", "down"], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "ether5", "name", EVIL], check=True)
    lab.snmp_restart("ros-evil")  # net-snmp caches ifName until it restarts
    try:
        lab.rotate_host_key("ros-key")
        lab.if_down("ros-key", "ether2")
        key = "ros-key/interface_disabled/ether2"
        ticket = wait_for("host key refused", lambda: _failed(store, key), 30)
        runs = RemediationLog(store).runs(ticket.number)
        assert len(runs) == ticket.reopen_count + 1  # one run per opening
        run = runs[-1]
        assert "BERUBAH" in run.reason
        assert not admin_up(lab, "ros-key", "ether2")
        evil = wait_for(
            "hostile name ticket",
            lambda: find(store, f"ros-evil/interface_disabled/{EVIL}", TicketState.OPEN),
            20,
        )
        run = wait_for(
            "refusal", lambda: next(iter(RemediationLog(store).runs(evil.number)), None), 10
        )
        assert run.status is RunStatus.REFUSED
        assert "ditolak" in run.reason
        assert not run.transcript
        assert agent.stop() == 0
    finally:
        subprocess.run(["ip", "-n", ns, "link", "set", EVIL, "name", "ether5"], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "ether5", "up"], check=True)
        lab.snmp_restart("ros-evil")


def test_technician_cli_dry_run_then_maintenance_refusal(
    lab: Lab, lab_env: tuple[Lab, Path], db_url: str, store: TicketStore, tmp_path: Path
) -> None:
    lab.if_down("ros", "ether2")
    migrate(store)
    opened = store.open_fault(
        Fault("ros", FaultKind.INTERFACE_DISABLED, "ether2 dimatikan", subject="ether2"),
        at=datetime.now(UTC),
    )
    number = opened.ticket.number
    inv = lab_env[1]

    def cli(inventory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        argv = [
            sys.executable,
            "-m",
            "agent",
            "remediasi",
            "jalankan",
            number,
            "--oleh",
            "Teknisi Uji",
            "--inventory",
            str(inventory),
            "--db",
            db_url,
            *extra,
        ]
        return subprocess.run(
            lab.noc_argv(argv), capture_output=True, text=True, timeout=90, check=False
        )

    dry = cli(inv, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry_run" in dry.stdout
    assert "/interface enable ether2" in dry.stdout
    assert not admin_up(lab, "ros", "ether2")
    maint = tmp_path / "maint.yaml"
    text = inv.read_text().replace(
        "    parent: core\n    remediation:",
        "    parent: core\n    maintenance: [{name: ganti-switch, weekly: {days: [mon, tue, wed, "
        'thu, fri, sat, sun], start: "00:00", end: "23:59"}}]\n    remediation:',
    )
    assert text != inv.read_text()
    maint.write_text(text)
    for name in SECRETS:
        (tmp_path / name).write_text((inv.parent / name).read_text())
    refused = cli(maint)
    assert refused.returncode == 1
    assert "pemeliharaan" in refused.stdout
    assert not admin_up(lab, "ros", "ether2")
    real = cli(inv)
    assert real.returncode == 0, real.stdout + real.stderr
    assert admin_up(lab, "ros", "ether2")
    runs = RemediationLog(store).runs(number)
    assert [r.status for r in runs] == [RunStatus.DRY_RUN, RunStatus.REFUSED, RunStatus.SUCCEEDED]
    assert {r.actor for r in runs} == {"Teknisi Uji"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_wan_bounce_that_cannot_fix_a_pulled_cable_goes_to_the_technician(
    lab: Lab, agent: Agent, store: TicketStore
) -> None:
    lab.unplug("ros", "ether3")  # the WAN port (marked uplink): oper down, admin up
    key = "ros/interface_down/ether3"
    ticket = wait_for("bounce failed", partial(_failed, store, key), 60)
    [run] = RemediationLog(store).runs(ticket.number)
    assert run.playbook == "pulihkan-wan"
    sent = [e["command"] for e in run.transcript if e["step"] == "command"]
    assert sent == ["/interface disable ether3", "/interface enable ether3"]
    assert "belum menunjukkan perbaikan" in run.reason
    assert ticket.assignee == "Teknisi Uji"
    assert admin_up(lab, "ros", "ether3")  # the bounce left the port enabled
    assert agent.stop() == 0
