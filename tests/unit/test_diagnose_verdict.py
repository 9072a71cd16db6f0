"""diagnose's pure parts: interface rules, path verdicts, exit codes, read-only commands, schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.config.model import DetectionSettings, Device, PingSettings, PortMark
from agent.diagnose import verdict
from agent.diagnose.readonly import COMMANDS, read_only
from agent.diagnose.report import DeviceReport, Diagnosis, Health, Hop, PingStats, Severity
from agent.diagnose.schema import SCHEMA
from collectors.model import InterfaceRow, ProbeStatus, SnmpPoll, SystemInfo

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 26, tzinfo=UTC)
DEV = Device(
    "rtr",
    "10.0.2.1",
    "Dinas Uji",
    "",
    "router",
    "mikrotik_routeros",
    "dist",
    PingSettings(),
    ports={"ether2": PortMark("ether2", required_up=True)},
)
UP = PingStats(5, 5, (0.001, 0.002, 0.001, 0.003, 0.001))
DEAD = PingStats(5, 0)


def row(name: str, *, admin: bool = True, oper: bool = True, octets: int = 0, errors: int = 0):
    return InterfaceRow(
        1 + int(name[-1]) if name[-1].isdigit() else 1,
        name,
        admin_up=admin,
        oper_up=oper,
        high_speed_mbps=100,
        in_octets=octets,
        out_octets=octets,
        in_errors=errors,
        out_errors=0,
        in_discards=0,
        out_discards=0,
    )


def test_required_port_admin_down_is_a_problem_unmarked_is_a_note():
    s = DetectionSettings()
    required = verdict.interface_report(DEV, row("ether2", admin=False, oper=False), None, 0, s)
    unmarked = verdict.interface_report(DEV, row("ether3", admin=False, oper=False), None, 0, s)
    unplugged = verdict.interface_report(DEV, row("ether4", oper=False), None, 0, s)
    assert required.worst is Severity.PROBLEM
    assert "padahal wajib aktif" in required.issues[0].text
    assert unmarked.worst is Severity.NOTE
    assert unplugged.worst is Severity.PROBLEM  # admin up, oper down: the daemon tickets this


def test_rates_saturation_and_errors_from_two_samples():
    s = DetectionSettings()
    prev = row("ether1", octets=0, errors=0)
    cur = row("ether1", octets=12_000_000, errors=50)  # 96 Mbit/s on 100 Mbit/s over 1 s
    report = verdict.interface_report(DEV, cur, prev, 1.0, s)
    assert report.in_bps == pytest.approx(96e6)
    assert report.utilisation == pytest.approx(0.96)
    assert report.errors_per_s == pytest.approx(50)
    texts = " ".join(f.text for f in report.issues)
    assert "link penuh 96%" in texts
    assert "error/discard 50.0 per detik" in texts


def test_dead_device_behind_dead_parent_names_the_first_dead_hop_from_the_core():
    path = (
        Hop("dist", "10.0.1.1", DEAD),
        Hop("agg", "10.0.0.2", DEAD),
        Hop("core", "10.0.0.1", UP),
    )
    health, text, _ = verdict.judge(DEV, DEAD, path, None)
    assert health is Health.UNREACHABLE
    assert "router induk agg" in text
    assert "putus di agg" in text
    assert verdict.broken_hop(path).name == "agg"


def test_dead_device_with_a_good_path_is_down_and_says_where_to_look():
    health, text, _ = verdict.judge(DEV, DEAD, (Hop("dist", "10.0.1.1", UP),), None)
    assert health is Health.DOWN
    assert "jalur sampai dist normal" in text


def test_snmp_silent_with_ping_fine_is_degraded_with_the_reason():
    poll = SnmpPoll("rtr", T0, ProbeStatus.TIMEOUT, "no response (timeout or wrong community)")
    snmp = verdict.snmp_report(DEV, poll, None, DetectionSettings())
    health, text, findings = verdict.judge(DEV, UP, (), snmp)
    assert health is Health.DEGRADED
    assert "SNMP tidak menjawab: no response (timeout or wrong community)" in text
    assert findings[0].section == "snmp"


def test_healthy_device_and_counter_reset_gives_no_rate():
    first = SnmpPoll(
        "rtr",
        T0,
        ProbeStatus.OK,
        system=SystemInfo(sys_uptime=900_000),
        interfaces=(row("ether1", octets=5_000),),
    )
    second = SnmpPoll(
        "rtr",
        T0 + timedelta(seconds=1),
        ProbeStatus.OK,
        system=SystemInfo(sys_uptime=50),
        interfaces=(row("ether1", octets=10),),
    )
    snmp = verdict.snmp_report(DEV, first, second, DetectionSettings())
    assert snmp.interfaces[0].in_bps is None  # restarted: no rate rather than a spike
    health, text, findings = verdict.judge(DEV, UP, (), snmp)
    assert health is Health.HEALTHY, findings
    assert text.startswith("Perangkat normal: ping 5/5 dijawab")
    assert [f.text for f in findings] == ["baru menyala ulang 0 menit lalu"]


def test_exit_codes_and_worst_device_wins():
    assert [h.exit_code for h in Health] == [0, 1, 2, 2]
    reports = [
        DeviceReport("a", "10.0.0.1", "X", "", "", True, h, "v", UP)
        for h in (Health.HEALTHY, Health.DEGRADED)
    ]
    result = Diagnosis("X", "opd", T0, 1.0, tuple(reports))
    assert result.health is Health.DEGRADED
    assert result.verdict == "X: 1 dari 2 perangkat bermasalah: a (terganggu)"


def test_every_ssh_command_is_read_only_and_config_commands_are_not():
    for platform, commands in COMMANDS.items():
        assert commands
        for command, _tail in commands:
            assert read_only(platform, command), (platform, command)
    assert not read_only("mikrotik_routeros", "/interface enable ether2")
    assert not read_only("mikrotik_routeros", "/system reboot")
    assert not read_only("cisco_ios", "configure terminal")
    assert not read_only("linux", "ip link set eth1 down")
    assert not read_only("unknown", "show version")


def test_json_matches_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    poll = SnmpPoll(
        "rtr",
        T0,
        ProbeStatus.OK,
        system=SystemInfo(sys_uptime=10**7, name="rtr"),
        interfaces=(row("ether2", admin=False, oper=False),),
    )
    snmp = verdict.snmp_report(DEV, poll, None, DetectionSettings())
    path = (Hop("dist", "10.0.1.1", UP),)
    health, text, findings = verdict.judge(DEV, UP, path, snmp)
    report = DeviceReport(
        "rtr",
        "10.0.2.1",
        "Dinas Uji",
        "mikrotik_routeros",
        "router",
        True,
        health,
        text,
        UP,
        path,
        None,
        findings,
        snmp=snmp,
    )
    data = Diagnosis("rtr", "device", T0, 0.5, (report,)).to_json()
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert data["exit_code"] == 1
    assert data["devices"][0]["snmp"]["interfaces"][0]["status"] == "masalah"
    data["devices"][0]["health"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
