"""Remediation without a network: playbook validation and rendering, interface-name checks,
the playbooks' expectations against the lab simulators' real output, redaction and caps,
and every guard of the runner against a real SQLite ticket store (nothing reaches SSH)."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from rich.console import Console

from agent.cli.remediasi import runs_section
from agent.config.load import load_inventory
from agent.redaction import MASK, redact
from agent.remediation.playbooks import (
    READ_ONLY,
    PlaybookError,
    RefusedError,
    check_interface,
    load_playbook,
    load_playbooks,
)
from agent.remediation.routeros import items
from agent.remediation.runner import Remediator
from agent.remediation.transcript import Transcript
from agent.wiring import ticket_service
from collectors.model import InterfaceRow
from labnet.sshsim import DeviceLog, IosCli, Port, RouterOSCli
from ticketing.faults import Fault, FaultKind
from ticketing.migrate import migrate
from ticketing.models import RunStatus
from ticketing.remediation import RemediationLog
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from agent.config.model import Device, Inventory

pytestmark = pytest.mark.unit

BOOK = load_playbooks()
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 WITA


# ------------------------------------------------------------------ playbooks


def test_bundled_playbooks_render_for_every_platform() -> None:
    plan = BOOK.get("aktifkan-port")
    assert plan is not None
    ros = plan.render("mikrotik_routeros", "ether2")
    assert ros.commands == ("/interface enable ether2",)
    ios = plan.render("cisco_ios", "Gi0/1")
    assert ios.config == ("interface Gi0/1", "no shutdown")
    lin = plan.render("linux", "eth1")
    assert lin.commands == ("ip link set eth1 up",)
    assert lin.lines() == [
        "ip -br link show dev eth1",
        "ip link set eth1 up",
        "ip -br link show dev eth1",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "ether2; /system reset",
        "e5;reboot",
        "eth0 up",
        "$(reboot)",
        "a\nb",
        "",
        "-x",
        "`id`",
        "a|b",
        "x" * 65,
    ],
)
def test_hostile_interface_names_are_refused(name: str) -> None:
    with pytest.raises(RefusedError, match="ditolak"):
        check_interface(name, {name})


def test_unknown_or_unreadable_interfaces_are_refused() -> None:
    with pytest.raises(RefusedError, match="tidak dikenal"):
        check_interface("ether9", {"ether1", "ether2"})
    with pytest.raises(RefusedError, match="tidak terbaca"):
        check_interface("ether2", None)
    assert check_interface("Gi0/1", {"Gi0/1"}) == "Gi0/1"


def test_pulihkan_wan_repairs_interface_down_and_pppoe_down() -> None:
    plan = BOOK.get("pulihkan-wan")
    assert plan is not None
    assert plan.handles("interface_down")
    assert plan.handles("pppoe_down")  # PPPoE clients have their own kind (issue 18)
    assert not plan.handles("link_saturated")
    aktifkan = BOOK.get("aktifkan-port")
    assert aktifkan is not None
    assert not aktifkan.handles("pppoe_down")


@pytest.mark.parametrize(
    "kinds", ["[]", "[interface_down, nonsense]", "{a: 1}", "[[interface_down]]"]
)
def test_a_playbook_fault_list_is_checked(tmp_path: Path, kinds: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: buruk\ntitle: contoh\n"
        f"fault: {kinds}\n"
        "probe: admin_up\nplatforms:\n  linux:\n    commands: ['ip link set {interface} up']\n"
        "    verify: {command: 'ip -br link show dev {interface}', expect: 'UP'}\n"
    )
    with pytest.raises(PlaybookError) as info:
        load_playbook(bad)
    assert any(p.path.startswith("fault") for p in info.value.problems), info.value.problems


def test_a_bad_playbook_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        textwrap.dedent(
            """\
            name: buruk
            title: contoh
            fault: interface_disabled
            probe: admin_up
            platforms:
              mikrotik_routeros:
                commands: ["/interface enable {interface} {extra}"]
                verify: {command: "/interface enable {interface}", expect: "(["}
            """
        )
    )
    with pytest.raises(PlaybookError) as info:
        load_playbook(bad)
    found = {(p.path, p.line) for p in info.value.problems}
    assert ("platforms.mikrotik_routeros.commands.0", 7) in found
    assert ("platforms.mikrotik_routeros.verify.command", 8) in found
    assert ("platforms.mikrotik_routeros.verify.expect", 8) in found
    text = str(info.value)
    assert "read-only" in text
    assert "placeholder" in text


def test_flag_checks_are_validated(tmp_path: Path) -> None:
    bad = tmp_path / "flags.yaml"
    bad.write_text(
        textwrap.dedent(
            """\
            name: bendera
            title: contoh
            fault: interface_disabled
            probe: admin_up
            platforms:
              mikrotik_routeros:
                commands: ["/interface enable {interface}"]
                precheck: {command: "/interface print terse", flags: {has: X, lacks: XR}}
                verify: {command: "/interface print terse", flags: {}, expect: "x"}
              cisco_ios:
                commands: ["show version"]
                verify: {command: "show version", flags: {has: R}}
              linux:
                commands: ["ip link show"]
                verify: {command: "ip link show dev {interface}"}
            """
        )
    )
    with pytest.raises(PlaybookError) as info:
        load_playbook(bad)
    found = {(p.path, p.message) for p in info.value.problems}
    assert (
        "platforms.mikrotik_routeros.precheck.flags",
        "flags both required and excluded: X",
    ) in found
    assert ("platforms.mikrotik_routeros.verify", "needs either expect or flags") in found
    assert ("platforms.mikrotik_routeros.verify.flags", "needs has or lacks") in found
    assert (
        "platforms.cisco_ios.verify.flags",
        "flags are RouterOS item flags, not for cisco_ios",
    ) in found
    assert ("platforms.linux.verify", "needs either expect or flags") in found


def test_unknown_keys_and_duplicate_names_are_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        (BOOK.get("aktifkan-port").path).read_text()  # type: ignore[union-attr]
    )
    with pytest.raises(PlaybookError, match="already in"):
        load_playbooks(tmp_path)
    (tmp_path / "a.yaml").write_text(
        "name: x\ntitle: t\nfault: interface_down\nprobe: oper_up\nplatforms: {}\nbonus: 1\n"
    )
    with pytest.raises(PlaybookError, match="bonus"):
        load_playbooks(tmp_path)


def _ros_output(cmd: str, port: Port) -> str:
    cli = RouterOSCli("r1", "sigap", DeviceLog())
    return cli.handle(cmd, [Port("ether1", True, True), port]).output


def _ios_output(cmd: str, port: Port) -> str:
    cli = IosCli("sw1", "s", DeviceLog(), "sigap")
    cli.mode = "enable"
    return cli.handle(cmd, [Port("Gi0-0", True, True), port]).output


@pytest.mark.parametrize("admin_up", [False, True])
def test_playbook_expectations_match_what_the_simulators_print(admin_up: bool) -> None:
    book = BOOK.get("aktifkan-port")
    assert book is not None
    ros = book.render("mikrotik_routeros", "ether2")
    for oper_up in (False, admin_up):  # a bridge port: RS when running, S or XS otherwise
        out = _ros_output(ros.verify.command, Port("ether2", admin_up, oper_up))
        assert ros.verify.matches(out) is admin_up
        assert ros.precheck is not None
        assert ros.precheck.matches(out) is not admin_up
    # the lab's snmpd gives ifName Gi0-1 and ifDescr GigabitEthernet0/1, as real IOS does
    ios = book.render("cisco_ios", "Gi0-1", ("GigabitEthernet0/1",))
    assert ios.precheck is not None
    run = _ios_output(ios.precheck.command, Port("Gi0-1", admin_up, admin_up))
    assert ios.precheck.matches(run) is not admin_up
    brief = _ios_output(ios.verify.command, Port("Gi0-1", admin_up, False))
    assert ios.verify.matches(brief) is admin_up


def test_routeros_7_table_with_comments_above_the_rows() -> None:
    # the layout of RouterOS 7 tables (cf. the real `ip address print` in shared/devices/cli):
    # legend and columns lines, left-aligned numbers, a comment on its own line above a row
    out = (
        "Flags: X - DISABLED, R - RUNNING; S - SLAVE\n"
        "Columns: NAME, TYPE, ACTUAL-MTU, L2MTU\n"
        "#    NAME    TYPE   ACTUAL-MTU  L2MTU\n"
        ";;; uplink ke NOC\n"
        "0 R  ether1  ether        1500   1598\n"
        ";;; LAN OPD\n"
        "1 RS ether2  ether        1500   1598\n"
        "2 XS ether3  ether        1500   1598\n"
        "3    WAN     ether        1500   1598\n"
    )
    found = [(i.number, "".join(sorted(i.flags)), i.name) for i in items(out)]
    assert found == [(0, "R", "ether1"), (1, "RS", "ether2"), (2, "SX", "ether3"), (3, "", "WAN")]
    book = BOOK.get("aktifkan-port")
    assert book is not None
    assert book.render("mikrotik_routeros", "ether2").verify.matches(out)
    assert not book.render("mikrotik_routeros", "ether3").verify.matches(out)
    assert not book.render("mikrotik_routeros", "ether9").verify.matches(out)


def test_linux_expectations_read_ip_brief_flags() -> None:
    book = BOOK.get("aktifkan-port")
    assert book is not None
    lin = book.render("linux", "eth1")
    assert lin.precheck is not None
    down = "eth1             DOWN           02:5a:00:00:00:01 <BROADCAST,MULTICAST> \n"
    no_carrier = "eth1@if7  LOWERLAYERDOWN 02:5a:00:00:00:01 <NO-CARRIER,BROADCAST,MULTICAST,UP> \n"
    assert lin.precheck.matches(down)
    assert not lin.verify.matches(down)
    assert lin.verify.matches(no_carrier)
    assert not lin.precheck.matches(no_carrier)


# ------------------------------------------------------------------ transcripts


def test_redaction_masks_known_secrets_and_secret_looking_values() -> None:
    text = (
        "snmp-server community rahasia-snmp RO\n"
        "username admin password 0 sandi123\n"
        "enable secret 5 $1$abc$xyz\n"
        "set auth-key=kunci-auth\n"
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
        "login as pw-lab-77 ok\n"
    )
    out = redact(text, ["pw-lab-77"])
    for secret in ("rahasia-snmp", "sandi123", "$1$abc$xyz", "kunci-auth", "AAAA", "pw-lab-77"):
        assert secret not in out
    assert out.count(MASK) >= 6
    assert "interface brief" in redact("show ip interface brief")


def test_transcript_is_capped_and_says_so() -> None:
    t = Transcript(("s3cret",), max_bytes=1024)
    t.add("command", "/log print", "s3cret " + "x" * 5000)
    t.add("verify", "/interface print", "y" * 100)
    entries = t.entries()
    total = sum(len(e["output"]) + len(e["command"]) for e in entries)
    assert t.truncated
    assert "dipotong" in entries[0]["output"]
    assert "s3cret" not in entries[0]["output"]
    assert total < 1024 + 200


# ------------------------------------------------------------------ guards (real SQLite)

INVENTORY = """
office: {name: Uji}
people:
  - {name: Kadis, role: kadis}
  - {name: Teknisi, role: teknisi}
sop:
  standing_disposition: {signer: Kadis, reference: 1/2026, technician: Teknisi}
remediation: {max_runs_per_fault_per_day: 2}
defaults:
  platform: mikrotik_routeros
  role: router
  snmp: {version: "2c", community_env: C}
  ssh: {user: sigap, password_env: P}
  remediation: {enabled: true, playbooks: [aktifkan-port]}
  interfaces: {ether2: {required_up: true}, "ether2;/system/reset": {required_up: true}}
hosts:
  r1: {address: 10.9.0.1}
  r2: {address: 10.9.0.2, remediation: {dry_run: true}}
  r3:
    address: 10.9.0.3
    maintenance: [{name: ganti-kabel, weekly: {days: [thu], start: "08:00", end: "12:00"}}]
  r4: {address: 10.9.0.4, remediation: {playbooks: [pulihkan-wan]}}
  r5: {address: 10.9.0.5, ssh: {user: ""}}
"""


class Reader:
    def __init__(self, names: Mapping[str, list[str]]) -> None:
        self.names = names

    async def interfaces(self, device: Device) -> Mapping[str, InterfaceRow] | None:
        names = self.names.get(device.name)
        return (
            None
            if names is None
            else {n: InterfaceRow(i, n, admin_up=False) for i, n in enumerate(names)}
        )


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    return load_inventory(path, env={"C": "komunitas", "P": "sandi"})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TicketStore]:
    with TicketStore(TicketStore.sqlite_url(tmp_path / "t.db")) as s:
        migrate(s)
        yield s


def _ticket_and_runner(
    inventory: Inventory, store: TicketStore, device: str, interface: str, names: list[str] | None
) -> tuple[str, Remediator]:
    fault = Fault(device, FaultKind.INTERFACE_DISABLED, f"{interface} mati", subject=interface)
    number = store.open_fault(fault, at=NOW).ticket.number
    service = ticket_service(inventory, store, lambda: NOW)
    service.start(number)
    reader = Reader({device: names} if names is not None else {})
    return number, Remediator(
        inventory, BOOK, RemediationLog(store), service, reader, now=lambda: NOW
    )


def _consider(store: TicketStore, number: str, runner: Remediator, **kw: object):  # type: ignore[no-untyped-def]
    try:
        return asyncio.run(runner.consider(store.get(number), **kw))  # type: ignore[arg-type]
    finally:
        runner.close()


def test_rate_limit_counts_runs_from_the_database(inventory: Inventory, store: TicketStore) -> None:
    number, runner = _ticket_and_runner(inventory, store, "r1", "ether2", ["ether1", "ether2"])
    log = RemediationLog(store)
    for _ in range(2):
        log.begin(
            number,
            playbook="aktifkan-port",
            interface="ether2",
            actor="sistem",
            at=NOW - timedelta(hours=3),
            status=RunStatus.FAILED,
        )
    out = _consider(store, number, runner)
    assert out.status is RunStatus.REFUSED
    assert "batas 2 perbaikan" in out.reason
    assert store.get(number).remediation == "refused"


def test_old_runs_do_not_count(inventory: Inventory, store: TicketStore) -> None:
    number, runner = _ticket_and_runner(inventory, store, "r2", "ether2", ["ether2"])
    log = RemediationLog(store)
    for _ in range(2):
        log.begin(
            number,
            playbook="aktifkan-port",
            interface="ether2",
            actor="sistem",
            at=NOW - timedelta(hours=25),
            status=RunStatus.FAILED,
        )
    out = _consider(store, number, runner)
    assert out.status is RunStatus.DRY_RUN  # r2 is dry_run in the inventory
    assert out.lines == (
        "/interface print terse where name=ether2",
        "/interface enable ether2",
        "/interface print terse where name=ether2",
    )


def test_maintenance_window_refuses(inventory: Inventory, store: TicketStore) -> None:
    number, runner = _ticket_and_runner(inventory, store, "r3", "ether2", ["ether2"])
    out = _consider(store, number, runner)
    assert (out.status, out.reason) == (
        RunStatus.REFUSED,
        "dalam jendela pemeliharaan 'ganti-kabel'",
    )


def test_hostile_name_reported_by_the_device_is_refused(
    inventory: Inventory, store: TicketStore
) -> None:
    evil = "ether2;/system/reset"
    number, runner = _ticket_and_runner(inventory, store, "r1", evil, [evil, "ether2"])
    out = _consider(store, number, runner)
    assert out.status is RunStatus.REFUSED
    assert "ditolak" in out.reason
    [run] = RemediationLog(store).runs(number)
    assert not run.transcript


def test_not_on_the_allow_list_or_no_credentials(inventory: Inventory, store: TicketStore) -> None:
    number, runner = _ticket_and_runner(inventory, store, "r4", "ether2", ["ether2"])
    out = _consider(store, number, runner)
    assert out.status is None
    assert "daftar izin" in out.reason
    assert RemediationLog(store).runs(number) == []
    number, runner = _ticket_and_runner(inventory, store, "r5", "ether2", ["ether2"])
    out = _consider(store, number, runner)
    assert (out.status, out.reason) == (
        RunStatus.REFUSED,
        "kredensial SSH perangkat tidak dikonfigurasi di inventaris",
    )


def test_one_running_session_per_device_across_processes(
    inventory: Inventory, store: TicketStore
) -> None:
    number, runner = _ticket_and_runner(inventory, store, "r1", "ether2", ["ether2"])
    log = RemediationLog(store)
    log.begin(number, playbook="aktifkan-port", interface="ether2", actor="Teknisi", at=NOW)
    out = _consider(store, number, runner)
    assert out.status is RunStatus.REFUSED
    assert "sesi perbaikan lain" in out.reason or "sesi lain" in out.reason
    assert log.abort_stale(NOW) == 1


def test_success_completes_the_handling_steps_as_sistem(
    inventory: Inventory, store: TicketStore
) -> None:
    number, _runner = _ticket_and_runner(inventory, store, "r1", "ether2", ["ether2"])
    _runner.close()
    service = ticket_service(inventory, store, lambda: NOW)
    run = RemediationLog(store).begin(
        number, playbook="aktifkan-port", interface="ether2", actor="sistem", at=NOW
    )
    view = service.finish_remediation(
        run.id,
        status=RunStatus.SUCCEEDED,
        transcript=[{"step": "command", "command": "/interface enable ether2", "output": ""}],
        summary="ok",
    )
    assert view.remediation == "succeeded"
    assert view.complexity == "sederhana"
    steps = service.steps(number)
    assert all(s.completed_at for s in steps)
    assert steps[-1].completed_by == "sistem"


def test_failure_leaves_the_decision_to_the_technician(
    inventory: Inventory, store: TicketStore
) -> None:
    number, _runner = _ticket_and_runner(inventory, store, "r1", "ether2", ["ether2"])
    _runner.close()
    service = ticket_service(inventory, store, lambda: NOW)
    run = RemediationLog(store).begin(
        number, playbook="aktifkan-port", interface="ether2", actor="sistem", at=NOW
    )
    view = service.finish_remediation(run.id, status=RunStatus.FAILED, reason="login ditolak")
    assert (view.remediation, view.assignee, view.sop_step) == ("failed", "Teknisi", 4)
    events = [e.detail for e in store.events(number)]
    assert any("gagal (ether2): login ditolak" in d for d in events), events


@pytest.mark.parametrize(
    ("platform", "command", "read_only"),
    [
        ("mikrotik_routeros", "/ip address print", True),
        ("mikrotik_routeros", "/interface print where name=ether2", True),
        ("mikrotik_routeros", "/ip neighbor print detail", True),
        ("mikrotik_routeros", "/interface enable ether2", False),
        ("mikrotik_routeros", "/system reset-configuration print", False),
        ("mikrotik_routeros", "/interface set ether2 disabled=no print", False),
        ("cisco_ios", "show ip interface brief", True),
        ("cisco_ios", "configure terminal", False),
        ("linux", "ip -br link show dev eth1", True),
        ("linux", "ip link set eth1 up", False),
    ],
)
def test_read_only_shapes(platform: str, command: str, read_only: bool) -> None:
    assert bool(READ_ONLY[platform].match(command)) is read_only


def test_tiket_show_section_prints_transcripts_verbatim(
    inventory: Inventory, store: TicketStore
) -> None:
    number, runner = _ticket_and_runner(inventory, store, "r1", "ether2", ["ether2"])
    runner.close()
    entries = [{"step": "precheck", "command": "/interface print", "output": "[sigap@r1] >"}]
    RemediationLog(store).begin(
        number,
        playbook="aktifkan-port",
        interface="ether2",
        actor="sistem",
        at=NOW,
        status=RunStatus.DRY_RUN,
        transcript=entries,
    )
    console = Console(record=True, width=120)
    console.print(runs_section(RemediationLog(store).runs(number), inventory.tz))
    text = console.export_text()
    assert "[precheck] /interface print" in text
    assert "[sigap@r1] >" in text
    assert "uji kering" in text
