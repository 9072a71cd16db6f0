"""``sigap discover --scan`` (issue 21): names, collisions, OPD guesses, ranges, roles, the
proposal from fake answers, the YAML written (hostile SNMP text included) and ``--apply``."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from ruamel.yaml import YAML

from agent.admin.edits import BACKUPS, EditConflictError
from agent.cli.options import write_inventory
from agent.config.load import load_inventory
from agent.discovery import names, opd, probe, roles, targets, yamlout
from agent.discovery.credentials import credentials
from agent.discovery.propose import context, propose
from agent.discovery.service import accepted, scan
from agent.errors import ConfigError
from agent.topology import mibs
from agent.topology.model import DeviceScan
from collectors import platform
from collectors.model import Observation, ProbeStatus, SnmpTarget, SnmpVersion
from collectors.platform import Platform
from tests.hostile_text import CORPUS
from tests.recordings import snmprec
from tests.zoo_expect import ZOO
from ticketing.admin_log import AdminLog
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from collectors.model import PingTarget
    from collectors.snmp import TableColumns
    from ticketing.admin_log import EditView

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
INVENTORY = """\
# the test network: comments and order must survive
office: {name: Diskominfo Uji}
defaults:
  role: router
  platform: mikrotik_routeros
  snmp: {version: "2c", community_file: community-lama}   # an old community
groups:
  snmpv3:
    snmp: {version: "3", user: noc, auth_protocol: sha256, auth_key_file: auth,
           priv_protocol: aes256, priv_key_file: priv}
  core: {groups: [snmpv3], tags: [core]}
hosts:
  core:   # the NOC
    groups: [core]
    address: 10.9.0.1
    opd: Dinas Komunikasi dan Informatika
  dist:
    groups: [snmpv3]
    address: 10.9.10.1
    parent: core
    opd: Dinas Komunikasi dan Informatika
  rtr-setda:
    groups: [snmpv3]
    address: 10.9.11.1
    parent: dist
    opd: Sekretariat Daerah
    site: Kantor Bupati, Praya
  ap-dinkes:
    address: 10.9.13.5
    role: ap
    parent: dist
    opd: Dinas Kesehatan
"""


@pytest.fixture
def inventory_file(tmp_path: Path) -> Path:
    (tmp_path / "community-lama").write_text("lama\n")
    (tmp_path / "auth").write_text("auth-key-12345678\n")
    (tmp_path / "priv").write_text("priv-key-12345678\n")
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY)
    return path


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("RTR-Setda.loteng.go.id", "rtr-setda"),
        ("Kantor Camat Praya (Lt. 2)", "kantor-camat-praya-lt-2"),
        ("Ruang_Rapat", "ruang-rapat"),
        ("Désa Bélo", "desa-belo"),
        ("--sw--01--", "sw-01"),
        ("", "perangkat-10-9-11-7"),
        ("!!!", "perangkat-10-9-11-7"),
        ("10.9.11.7", "10-9-11-7"),
        ("peca-sw02\x00\x00garbage\n00 00", "peca-sw02"),
        ("x" * 10_000, "x" * 48),
        ("a" * 47 + "-b", "a" * 47),
    ],
)
def test_names_follow_the_inventory_rules(said: str, expected: str) -> None:
    got = names.normalise(said, "10.9.11.7")
    assert got == expected
    assert names.NAME_RE.match(got)


@pytest.mark.parametrize("hostile", CORPUS)
def test_every_hostile_sysname_becomes_a_valid_name(hostile: object) -> None:
    text = hostile.text  # type: ignore[attr-defined]
    assert names.NAME_RE.match(names.normalise(text, "10.9.11.7"))


def test_collisions_get_a_number_that_fits() -> None:
    assert names.unique("sw", {"rtr"}) == "sw"
    assert names.unique("sw", {"sw", "sw-2"}) == "sw-3"
    long = "a" * 48
    got = names.unique(long, {long})
    assert got == "a" * 46 + "-2"
    assert names.NAME_RE.match(got)


def test_clean_leaves_one_printable_line() -> None:
    for hostile in CORPUS:
        shown = names.clean(hostile.text)
        assert shown.isprintable()
        assert len(shown) <= names.MAX_SHOWN


# --- OPD guesses -------------------------------------------------------------------------

KNOWN = {
    "rtr-setda": opd.KnownHost("rtr-setda", "10.9.11.1", "Sekretariat Daerah", "Kantor Bupati"),
    "sw-setda": opd.KnownHost("sw-setda", "10.9.11.2", "Sekretariat Daerah", "", "rtr-setda"),
    "rtr-dinkes": opd.KnownHost("rtr-dinkes", "10.9.12.1", "Dinas Kesehatan"),
    "rtr-pupr": opd.KnownHost("rtr-pupr", "10.9.12.9", "Dinas PUPR"),
}
OPDS = ("Sekretariat Daerah", "Dinas Kesehatan", "Dinas PUPR", "Dinas Sosial")


def test_syslocation_naming_an_opd_is_a_high_confidence_guess() -> None:
    got = opd.guess(
        name="ap-lt2", location="Dinas Sosial, Jl. Gajah Mada", address="10.9.99.5",
        parent=None, known=KNOWN, opds=OPDS,
    )  # fmt: skip
    assert got is not None
    assert (got.opd, got.confidence) == ("Dinas Sosial", "tinggi")


def test_a_name_like_known_devices_and_their_subnet_agree() -> None:
    got = opd.guess(
        name="ap-setda", location="", address="10.9.11.20", parent=None, known=KNOWN, opds=OPDS
    )
    assert got is not None
    assert got.opd == "Sekretariat Daerah"
    assert got.confidence == "tinggi"  # name (sedang) + subnet (sedang) agree
    assert "nama mirip" in got.reason
    assert "10.9.11.0/24" in got.reason


def test_a_mixed_subnet_alone_gives_no_or_a_low_guess() -> None:
    assert opd.from_subnet("10.9.12.5", list(KNOWN.values())) is None  # 1:1, no majority
    hosts = [*KNOWN.values(), opd.KnownHost("x", "10.9.12.7", "Dinas PUPR")]
    got = opd.from_subnet("10.9.12.5", hosts)
    assert got is not None
    assert (got.opd, got.confidence) == ("Dinas PUPR", "rendah")


def test_the_parent_counts_only_when_it_serves_one_opd() -> None:
    got = opd.from_parent("rtr-setda", KNOWN)
    assert got is not None
    assert got.opd == "Sekretariat Daerah"
    mixed = {**KNOWN, "y": opd.KnownHost("y", "10.9.11.3", "Dinas PUPR", "", "rtr-setda")}
    assert opd.from_parent("rtr-setda", mixed) is None


def test_nothing_to_go_on_is_no_guess() -> None:
    got = opd.guess(
        name="perangkat-10-9-99-5", location="\x1b[2J", address="10.9.99.5",
        parent=None, known=KNOWN, opds=OPDS,
    )  # fmt: skip
    assert got is None


# --- ranges ------------------------------------------------------------------------------


def test_a_15_is_refused_without_paksa_and_allowed_with_it() -> None:
    with pytest.raises(targets.ScanRangeError, match="lebih besar dari /16"):
        targets.parse_ranges("10.52.0.0/15")
    (net,) = targets.parse_ranges("10.52.0.0/15", force=True)
    assert net.num_addresses == 131072
    assert targets.parse_ranges("10.52.0.0/16")[0].prefixlen == 16


@pytest.mark.parametrize(
    "text",
    [
        "",
        ",",
        "10.52.0.1/24",  # host bits set
        "10.52.0.0/33",
        "fe80::/64",
        "224.0.0.0/24",
        "10.52.0.0/24\x00",
        "10.52.0.0/24;rm -rf /",
        "x" * 5000,
        ",".join(f"10.{i}.0.0/24" for i in range(100)),
    ],
)
def test_malformed_ranges_are_clear_errors(text: str) -> None:
    with pytest.raises(targets.ScanRangeError):
        targets.parse_ranges(text)


def test_even_forced_a_scan_is_bounded() -> None:
    with pytest.raises(targets.ScanRangeError, match="batasnya"):
        targets.parse_ranges("10.0.0.0/8", force=True)


def test_ranges_merge_and_known_addresses_are_skipped() -> None:
    nets = targets.parse_ranges("10.9.11.0/30, 10.9.11.0/31,10.9.11.4/32")
    assert [str(n) for n in nets] == ["10.9.11.0/30", "10.9.11.4/32"]
    assert list(targets.addresses(nets, {"10.9.11.1"})) == ["10.9.11.2", "10.9.11.4"]


def test_a_lab_inventory_scans_only_inside_the_lab() -> None:
    lab = ["10.52.0.0/16"]
    targets.inside_lab([ipaddress.IPv4Network("10.52.11.0/24")], lab)
    with pytest.raises(targets.ScanRangeError, match="di luar prefiks lab"):
        targets.inside_lab([ipaddress.IPv4Network("192.168.1.0/24")], lab)


# --- roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "services", "role"),
    [
        (Platform("MikroTik", "CRS328-24P-4S+", "RouterOS", "", "mikrotik_routeros"), 6, "switch"),
        (Platform("MikroTik", "RB4011iGS+", "RouterOS", "", "mikrotik_routeros"), 6, "router"),
        (Platform("Cisco", "", "IOS", "15.2", "cisco_ios"), 2, "switch"),
        (Platform("Ubiquiti", "U6-LR", "UniFi", "", "linux"), 72, "ap"),
        (Platform("Fortinet", "FG-60F", "FortiOS", "7.2", "fortinet"), None, "firewall"),
        (Platform("", "", "Linux", "6.1", "linux"), 72, "server"),
        (None, None, "router"),
        (None, 10**9, "router"),  # nonsense sysServices: ignored
    ],
)
def test_roles(found: Platform | None, services: int | None, role: str) -> None:
    assert roles.role_of(found, services)[0] == role


# --- the scan, with fake ping and SNMP --------------------------------------------------

ROUTEROS = (1, 3, 6, 1, 4, 1, 14988, 1)
CISCO_SW = (1, 3, 6, 1, 4, 1, 9, 1, 1208)


def system(oid: tuple[int, ...], descr: bytes, name: bytes, location: bytes, services: int):
    return {
        platform.SYS_OBJECT_ID: {(0,): oid},
        platform.SYS_DESCR: {(0,): descr},
        probe.SYS_NAME: {(0,): name},
        probe.SYS_LOCATION: {(0,): location},
        probe.SYS_SERVICES: {(0,): services},
    }


def lldp(rows: list[tuple[int, bytes, bytes, bytes]], ports: dict[int, bytes]) -> TableColumns:
    """LLDP rows (local ifIndex, remote sysName, remote port, remote address) and ifNames."""
    cols: TableColumns = {mibs.IF_NAME: {(i,): n for i, n in ports.items()}}
    for n, (local, name, port, addr) in enumerate(rows, start=1):
        index = (0, local, n)
        cols.setdefault(mibs.LLDP_REM_SYS_NAME, {})[index] = name
        cols.setdefault(mibs.LLDP_REM_PORT, {})[index] = port
        cols.setdefault(mibs.LLDP_REM_PORT_SUBTYPE, {})[index] = 5  # interfaceName
        cols.setdefault(mibs.LLDP_REM_CHASSIS, {})[index] = name
        if addr:
            arcs = tuple(int(x) for x in addr.decode().split("."))
            cols.setdefault(mibs.LLDP_MAN_ADDR_IF_SUBTYPE, {})[(0, local, n, 1, 4, *arcs)] = 2
    return cols


class FakePinger:
    def __init__(self, alive: set[str]) -> None:
        self.alive = alive
        self.batches: list[int] = []

    async def sweep(self, batch: Sequence[PingTarget]) -> list[Observation]:
        self.batches.append(len(batch))
        ok, lost = ProbeStatus.OK, ProbeStatus.TIMEOUT
        return [
            Observation(t.name, "ping", ok if t.address in self.alive else lost, AT, 0.001)
            for t in batch
        ]


class FakeWalker:
    """Answers only the right credential: v3 user ``noc``; the old community gets silence."""

    def __init__(self, devices: dict[str, TableColumns]) -> None:
        self.devices = devices
        self.asked: list[tuple[str, str]] = []

    async def walk_columns(self, target: SnmpTarget, oids: Sequence[str]) -> TableColumns | str:
        self.asked.append((target.address, target.auth.version.value))
        if target.auth.version is not SnmpVersion.V3 or target.auth.user != "noc":
            return "timeout"
        found = self.devices.get(target.address)
        if found is None:
            return "timeout"
        return {o: found.get(o, {}) for o in oids}


def lab_answers() -> dict[str, TableColumns]:
    """dist (known) sees the new opd router; the new router sees dist and a new switch."""
    return {
        "10.9.10.1": {
            **system(ROUTEROS, b"RouterOS RB4011iGS+", b"dist", b"POP", 6),
            **lldp(
                [(3, b"OPD-Dinkes", b"ether1", b""), (4, b"Printer-LT2", b"eth0", b"10.9.12.9")],
                {1: b"ether1", 3: b"ether3", 4: b"ether4"},
            ),
        },
        "10.9.12.1": {
            **system(ROUTEROS, b"RouterOS RB4011iGS+", b"OPD-Dinkes", b"Dinas Kesehatan", 6),
            **lldp(
                [(1, b"dist", b"ether3", b"10.9.10.1"), (2, b"sw-dinkes", b"Gi0-0", b"")],
                {1: b"ether1", 2: b"ether2"},
            ),
        },
        "10.9.12.2": {
            **system(
                CISCO_SW,
                b"Cisco IOS Software, C2960X Software, Version 15.2(7)E8",
                b"sw-dinkes",
                b"Dinas Kesehatan \x1b[2J\n#lt: 2",
                2,
            ),
            **lldp([(10101, b"OPD-Dinkes", b"ether2", b"")], {10101: b"Gi0-0"}),
        },
        "10.9.12.3": {  # answers SNMP with a name already in the inventory
            **system(ROUTEROS, b"RouterOS hAP", b"rtr-setda", b"", 6),
        },
    }


def run_scan(inventory_file: Path, alive: set[str], ranges: str = "10.9.10.0/24,10.9.12.0/24"):
    pinger, walker = FakePinger(alive), FakeWalker(lab_answers())
    inventory = load_inventory(inventory_file)
    found = asyncio.run(scan(inventory, ranges, pinger=pinger, walker=walker, at=AT))
    return found, pinger, walker


def test_credentials_come_in_order_v2c_first_with_their_groups(inventory_file: Path) -> None:
    tried = credentials(load_inventory(inventory_file))
    assert [(c.label, c.groups) for c in tried] == [
        ("defaults", ()),
        ("group snmpv3", ("snmpv3",)),
    ]
    assert "lama" not in repr(tried)  # secrets never shown


def test_the_scan_proposes_new_devices_with_parents_platforms_and_opd(
    inventory_file: Path,
) -> None:
    alive = {"10.9.10.1", "10.9.12.1", "10.9.12.2", "10.9.12.3", "10.9.12.9"}
    found, _, walker = run_scan(inventory_file, alive)
    by = {h.name: h for h in found.hosts}
    assert set(by) == {"opd-dinkes", "sw-dinkes", "rtr-setda-2", "printer-lt2"}
    router, switch = by["opd-dinkes"], by["sw-dinkes"]
    assert (router.address, router.platform, router.role, router.parent) == (
        "10.9.12.1", "mikrotik_routeros", "router", "dist",
    )  # fmt: skip
    assert router.groups == ("snmpv3",)  # v2c (old community) tried first, then v3
    assert (switch.platform, switch.role, switch.parent) == ("cisco_ios", "switch", "opd-dinkes")
    assert router.opd is not None
    assert (router.opd.opd, router.opd.confidence) == ("Dinas Kesehatan", "tinggi")
    assert any("sudah dipakai" in m and "alamat lain" in m for m in by["rtr-setda-2"].markers)
    ping_only = by["printer-lt2"]  # named and placed by dist's LLDP table
    assert (ping_only.snmp, ping_only.parent) == (False, "dist")
    assert any("hanya menjawab ping" in m for m in ping_only.markers)
    assert "10.9.10.1" not in {h.address for h in found.hosts}  # known: not proposed again
    assert found.known_seen == ("dist",)
    assert found.probed == 2 * 254 - 1
    assert ("10.9.12.1", "2c") in walker.asked


def test_the_proposal_text_passes_check_and_keeps_comments(inventory_file: Path) -> None:
    alive = {"10.9.12.1", "10.9.12.2", "10.9.12.9"}
    found, _, _ = run_scan(inventory_file, alive)
    removed = [x for x in found.diff.splitlines() if x.startswith("-") and not x.startswith("---")]
    assert removed == []  # only lines added
    assert found.text.startswith(INVENTORY)
    assert "# the test network: comments and order must survive" in found.text
    assert "KONFIRMASI" in found.text
    assert yamlout.problems_of(inventory_file, found.text) == ""
    data = YAML(typ="safe").load(found.text)
    sw = data["hosts"]["sw-dinkes"]
    assert sw["site"] == "Dinas Kesehatan [2J #lt: 2"  # one clean line, quoted as needed
    assert data["hosts"]["printer-lt2"]["snmp"] == {"enabled": False}


def cli_write(inventory_file: Path, before: str, after: str) -> str:
    """What ``sigap discover --scan --apply`` does with the proposal (one inventory writer)."""
    db = f"sqlite:///{inventory_file.parent / 'sigap.db'}"
    return write_inventory(load_inventory(inventory_file), db, before, after, summary="scan")


def edits_of(inventory_file: Path) -> list[EditView]:
    store = TicketStore(f"sqlite:///{inventory_file.parent / 'sigap.db'}")
    try:
        return AdminLog(store).edits(10)
    finally:
        store.close()


def test_apply_writes_with_a_backup_an_audit_row_and_check_is_clean(
    inventory_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIGAP_PID_FILE", raising=False)
    found, _, _ = run_scan(inventory_file, {"10.9.12.1", "10.9.12.2"})
    reload = cli_write(inventory_file, found.before, found.text)
    assert "daemon tidak dihubungi" in reload  # no pid file: the operator is told to reload
    assert inventory_file.read_text() == found.text
    backups = list((inventory_file.parent / BACKUPS).iterdir())
    assert [b.read_text() for b in backups] == [INVENTORY]
    (edit,) = edits_of(inventory_file)
    assert edit.by.startswith("cli:")
    assert edit.summary == "scan"
    assert "+  sw-dinkes:" in edit.diff
    loaded = load_inventory(inventory_file)
    assert loaded.devices["sw-dinkes"].parent == "opd-dinkes"
    again, _, _ = run_scan(inventory_file, {"10.9.12.1", "10.9.12.2"})
    assert again.hosts == ()  # already known: not proposed again
    assert again.diff == ""


def test_apply_refuses_a_file_someone_changed_since(inventory_file: Path) -> None:
    found, _, _ = run_scan(inventory_file, {"10.9.12.1"})
    inventory_file.write_text(INVENTORY + "# edited meanwhile\n")
    with pytest.raises(EditConflictError):
        cli_write(inventory_file, found.before, found.text)
    assert inventory_file.read_text().endswith("# edited meanwhile\n")
    assert edits_of(inventory_file) == []


def test_apply_refuses_a_result_that_fails_check(inventory_file: Path) -> None:
    broken = INVENTORY.replace("  dist:\n", "  dist:\n    bogus: 1\n")
    with pytest.raises(ConfigError, match="bogus"):
        cli_write(inventory_file, INVENTORY, broken)
    assert inventory_file.read_text() == INVENTORY
    assert not (inventory_file.parent / BACKUPS).exists()
    assert edits_of(inventory_file) == []


def test_the_sweep_is_rate_limited_in_batches() -> None:
    pinger = FakePinger({"10.9.0.5"})
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    addresses = [f"10.9.{i // 256}.{i % 256}" for i in range(600)]
    limits = probe.Limits(rate=256)
    told: list[int] = []
    alive = asyncio.run(
        probe.sweep(pinger, addresses, limits, sleep=sleep, clock=lambda: 0.0, progress=told.append)
    )
    assert alive == {"10.9.0.5": 0.001}
    assert told == [256, 512, 600]
    assert pinger.batches == [256, 256, 88]
    assert slept == [1.0, 1.0]  # a new batch each second, none after the last


HOSTILE_BYTES = [h.text.encode("utf-8", "surrogatepass") for h in CORPUS] + [
    b"\xff\xfe\xfa non-utf8",
    b"- [yaml, list]",
    b"*alias &anchor !tag %directive @at `tick`",
    b"key: value # comment",
    b"'single' \"double\" | > {flow: map}",
    b"null",
    b"yes",
    b"0x1F",
    b"~",
    b"...",
    b"--- document",
    b"x" * 100_000,
]


@pytest.mark.parametrize("raw", HOSTILE_BYTES, ids=range(len(HOSTILE_BYTES)))
def test_hostile_sysname_and_syslocation_never_break_the_yaml(
    inventory_file: Path, raw: bytes
) -> None:
    device = system(ROUTEROS, b"RouterOS RB4011iGS+", raw, raw, 6)
    credential = credentials(load_inventory(inventory_file))[1]
    answer = probe.answer("10.9.12.77", credential, device)
    ctx_inventory = load_inventory(inventory_file)
    (host,) = propose(context(ctx_inventory), [answer], [])
    text = yamlout.with_hosts(INVENTORY, [host], title=f"scan {raw[:40]!r}")
    assert yamlout.problems_of(inventory_file, text) == ""
    data = YAML(typ="safe").load(text)
    entry = data["hosts"][host.name]
    assert entry["address"] == "10.9.12.77"
    assert entry.get("site", "") == host.site  # the cleaned text, read back exactly
    assert names.NAME_RE.match(host.name)
    assert "core" in data["hosts"]


# --- the device zoo: recordings of real devices as a scan would read them ------------------

ZOO_ROLES = {
    "airos_airos8": "ap",
    "fortigate_60f": "firewall",
    "ios_2960x": "switch",
    "ios_c3560": "switch",
    "iosxe_isr4321": "router",
    "jetstream_sg2218p": "switch",
    "routeros_ccr2004-7.24": "router",
    "routeros_crs317": "switch",
    "routeros_rb5009upr+s+": "router",
    "routeros_station": "ap",
    "routeros_wifi": "ap",
    "ruijie": "switch",
    "tplink_sg2008": "switch",
    "unifi_nanohd": "ap",
    "vrp_5720": "switch",
    "vrp_ar169sfp": "router",
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_recorded_device_is_proposed_with_its_platform(
    inventory_file: Path, name: str
) -> None:
    columns = snmprec(name, probe.COLUMNS)
    credential = credentials(load_inventory(inventory_file))[0]
    answer = probe.answer("10.9.12.50", credential, columns)
    (host,) = propose(context(load_inventory(inventory_file)), [answer], [])
    assert host.platform == ZOO[name]["platform"][4]
    assert host.role == ZOO_ROLES.get(name, host.role)
    assert names.NAME_RE.match(host.name)
    text = yamlout.with_hosts(INVENTORY, [host], title=f"zoo {name}")
    assert yamlout.problems_of(inventory_file, text) == ""


def test_accepting_line_by_line_drops_a_parent_not_accepted(inventory_file: Path) -> None:
    found, _, _ = run_scan(inventory_file, {"10.9.12.1", "10.9.12.2"})
    text = accepted(found, ["sw-dinkes"], path=str(inventory_file))
    data = YAML(typ="safe").load(text)
    assert "opd-dinkes" not in data["hosts"]
    assert "parent" not in data["hosts"]["sw-dinkes"]  # its parent was not accepted
    assert "induk opd-dinkes tidak diterima" in text
    assert yamlout.problems_of(inventory_file, text) == ""
    both = accepted(found, ["sw-dinkes", "opd-dinkes"], path=str(inventory_file))
    assert both == found.text


def test_two_new_devices_calling_themselves_the_same_get_two_names(
    inventory_file: Path,
) -> None:
    inventory = load_inventory(inventory_file)
    credential = credentials(inventory)[1]
    same = system(ROUTEROS, b"RouterOS hAP", b"MikroTik", b"", 6)
    answers = [probe.answer(a, credential, same) for a in ("10.9.12.5", "10.9.12.6")]
    got = [h.name for h in propose(context(inventory), answers, [])]
    assert got == ["mikrotik", "mikrotik-2"]


def test_hostile_neighbour_ports_stay_inside_one_comment_line(inventory_file: Path) -> None:
    inventory = load_inventory(inventory_file)
    credential = credentials(inventory)[1]
    evil = b"ether1\n  dist:\n    address: 10.9.9.9\n# \x1b[2J"
    device = {
        **system(ROUTEROS, b"RouterOS RB4011iGS+", b"opd-x", b"", 6),
        **lldp([(1, b"dist", evil, b"10.9.10.1")], {1: evil}),
    }
    dist = {
        **system(ROUTEROS, b"RouterOS RB4011iGS+", b"dist", b"", 6),
        **lldp([(3, b"opd-x", evil, b"")], {3: evil}),
    }
    known = DeviceScan("dist", mibs.if_names(dist), tuple(mibs.neighbours(dist)))
    answer = probe.answer("10.9.12.60", credential, device)
    (host,) = propose(context(inventory), [answer], [known])
    assert host.parent == "dist"
    text = yamlout.with_hosts(INVENTORY, [host], title="t")
    assert yamlout.problems_of(inventory_file, text) == ""
    data = YAML(typ="safe").load(text)
    assert data["hosts"]["dist"]["address"] == "10.9.10.1"  # not overwritten by the port text
    assert set(data["hosts"]) == {"core", "dist", "rtr-setda", "ap-dinkes", "opd-x"}


@pytest.mark.parametrize(
    "hosts_text",
    [
        "hosts: {core: {groups: [core], address: 10.9.0.1}}\n",  # flow style: round trip
        "hosts:\n  core:\n    groups: [core]\n    address: 10.9.0.1",  # no newline at the end
        "hosts:\n  core:\n    groups: [core]\n    address: 10.9.0.1\n  # trailing note\n\n"
        "# people come next\n",
    ],
)
def test_new_hosts_land_inside_hosts_whatever_its_shape(
    inventory_file: Path, hosts_text: str
) -> None:
    head = INVENTORY.split("hosts:", maxsplit=1)[0]
    inventory_file.write_text(head + hosts_text)
    found, _, _ = run_scan(inventory_file, {"10.9.12.1"})
    (host,) = found.hosts
    assert host.parent is None  # dist is not in this inventory: no path to the core
    data = YAML(typ="safe").load(found.text)
    assert list(data["hosts"]) == ["core", host.name]
    assert yamlout.problems_of(inventory_file, found.text) == ""
    if "# people" in hosts_text:
        assert found.text.endswith("\n\n# people come next\n")
