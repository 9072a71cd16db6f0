"""`sigap diagnose` and `sigap poll-once` in a lab of their own (issue 9): real snmpd, the
RouterOS simulator over SSH, faults injected with nftables and `ip link`; the CLI runs inside
the lab's NOC namespace, its terminal output and JSON are checked."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

import pytest

from agent.diagnose.readonly import COMMANDS, read_only
from agent.diagnose.schema import SCHEMA
from labnet.lab import Lab
from tests.conftest import wait_for
from tests.diagnose_lab import SECRETS, diagnose_lab, sigap
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

LAB = Lab(f"d{os.getpid() % 100000}")


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    with diagnose_lab(LAB, tmp_path_factory.mktemp("diaginv")) as inventory:
        yield LAB, inventory


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
    done = sigap(lab, inventory, "diagnose", "rtr")  # its time: tests/bench/test_diagnose_bench.py
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith("rtr (10.64.2.1, Kantor Camat Uji, mikrotik_routeros)")
    assert "NORMAL  Perangkat normal: ping 5/5 dijawab" in out
    assert "Jalur dist (10.64.1.1) OK -> core (10.64.0.1) OK" in out
    ports = [lab.uplink("rtr"), *lab.ports("rtr")]
    for port in ports:
        line = next(x for x in out.splitlines() if x.strip().startswith(port + " "))
        assert line.split()[1:3] == ["up", "up"] or " up " in line, line

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
