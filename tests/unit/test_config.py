"""Inventory loading: shipped file, all problems at once, precedence, durations, windows, CLI."""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from datetime import UTC, datetime, time
from ipaddress import IPv4Address, ip_network
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent import cli
from agent.config.load import load_inventory
from agent.config.model import Inventory, MaintenanceWindow, PingSettings
from agent.errors import ConfigError, Problem

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
REPO_INVENTORY = REPO / "inventory.yaml"
CORE = "rtr-core-diskominfo"
DISKOMINFO = "Dinas Komunikasi dan Informatika"
WITA = ZoneInfo("Asia/Makassar")


def write(tmp_path: Path, text: str, name: str = "inventory.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Inventory:
    return load_inventory(write(tmp_path, text), env={} if env is None else env)


def problems_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text, env)
    return info.value.problems


def where(problems: list[Problem]) -> set[tuple[str, int | None]]:
    return {(p.path, p.line) for p in problems}


# ------------------------------------------------------------------ the shipped inventory


@pytest.fixture(scope="module")
def shipped() -> Inventory:
    return load_inventory(REPO_INVENTORY, env={})


def test_shipped_inventory_has_at_least_30_opds(shipped: Inventory) -> None:
    opd_sites = [o for o in shipped.opds() if o != DISKOMINFO]
    assert len(opd_sites) >= 30
    assert DISKOMINFO in shipped.opds()


def test_every_opd_site_has_one_router_and_one_switch(shipped: Inventory) -> None:
    for opd in shipped.opds():
        if opd == DISKOMINFO:  # the NOC: core + distribution routers, core switch
            continue
        roles = Counter(d.role for d in shipped.devices.values() if d.opd == opd)
        assert roles == Counter({"router": 1, "switch": 1}), opd


def test_every_opd_switch_hangs_off_its_own_router(shipped: Inventory) -> None:
    for device in shipped.devices.values():
        if device.role == "switch" and device.opd != DISKOMINFO:
            parent = shipped.devices[device.parent or ""]
            assert (parent.role, parent.opd) == ("router", device.opd), device.name


def test_every_parent_chain_ends_at_the_core_router(shipped: Inventory) -> None:
    assert shipped.devices[CORE].parent is None
    for name in shipped.devices:
        if name == CORE:
            continue
        chain = [d.name for d in shipped.ancestors(name)]
        assert chain, f"{name} has no parent"
        assert chain[-1] == CORE, f"{name}: {chain}"
        assert len(chain) == len(set(chain))
    assert set(shipped.descendants(CORE)) == set(shipped.devices) - {CORE}


def test_people_follow_the_sop(shipped: Inventory) -> None:
    roles = Counter(p.role for p in shipped.people)
    assert roles["kadis"] == 1
    assert roles["kabid"] == 1
    assert roles["kasi"] == 1
    assert roles["teknisi"] >= 1
    for person in shipped.people:
        if person.role != "pj_opd":
            assert person.opd == DISKOMINFO, person


def test_one_penanggung_jawab_per_opd(shipped: Inventory) -> None:
    pj = Counter(p.opd for p in shipped.people if p.role == "pj_opd")
    opd_sites = {o for o in shipped.opds() if o != DISKOMINFO}
    assert set(pj) == opd_sites  # Diskominfo itself is covered by kadis/kabid/kasi/teknisi
    assert all(count == 1 for count in pj.values()), pj


def test_every_address_is_unique_and_inside_the_lab_prefix(shipped: Inventory) -> None:
    assert shipped.lab is not None
    prefixes = [ip_network(p) for p in shipped.lab.prefixes]
    addresses = [IPv4Address(d.address) for d in shipped.devices.values()]
    assert len(addresses) == len(set(addresses))
    for address in [*addresses, IPv4Address(shipped.lab.noc_address)]:
        assert any(address in net for net in prefixes), address
    assert IPv4Address(shipped.lab.noc_address) not in addresses


# ------------------------------------------------------------------ every problem at once

BAD = """
office: {name: Test}
defaults:
  platform: mikrotik_routeros
  role: router
groups:
  opd: {tags: [opd]}
hosts:
  core:
    address: 10.52.0.1
    colour: red
  a:
    address: 10.52.0.300
    parent: core
  b:
    address: 10.52.0.1
    parent: nowhere
  c:
    address: 10.52.0.4
    groups: [opd, wan]
  d:
    address: 10.52.0.5
    parent: e
  e:
    address: 10.52.0.6
    parent: d
  f:
    address: 10.52.0.7
    platform: vyos
  g:
    address: 10.52.0.8
    ssh: {user: admin, password_env: SIGAP_TEST_SSH_PASSWORD}
  g:
    address: 10.52.0.9
"""

# (dotted path, line, words the message must contain)
BAD_EXPECTED = [
    ("hosts.core.colour", 10, ["unknown key 'colour'", "allowed:", "address"]),
    ("hosts.a.address", 12, ["IPv4", "'10.52.0.300'"]),
    ("hosts.b.address", 15, ["10.52.0.1", "already used by 'core'", "line 9"]),
    ("hosts.b.parent", 16, ["unknown parent", "'nowhere'"]),
    ("hosts.c.groups[1]", 19, ["unknown group 'wan'", "defined: opd"]),
    ("hosts.d.parent", 22, ["parent cycle", "d -> e -> d"]),
    ("hosts.f.platform", 28, ["'vyos'", "mikrotik_routeros", "cisco_ios"]),
    ("hosts.g.ssh.password_env", 31, ["SIGAP_TEST_SSH_PASSWORD", "not set"]),
    ("hosts.g", 32, ["duplicate key 'g'", "line 29"]),
]


def test_every_mistake_is_reported_with_line_and_path(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, BAD)
    assert len(problems) == len(BAD_EXPECTED), [p.render() for p in problems]
    by_path = {p.path: p for p in problems}
    for path, line, words in BAD_EXPECTED:
        problem = by_path[path]
        assert problem.line == line, problem
        for word in words:
            assert word in problem.message, (word, problem)


def test_rendered_message_names_file_count_and_lines(tmp_path: Path) -> None:
    path = write(tmp_path, BAD, "bad.yaml")
    with pytest.raises(ConfigError) as info:
        load_inventory(path, env={})
    text = str(info.value)
    head, *rest = text.splitlines()
    assert head == f"{path}: {len(BAD_EXPECTED)} problems"
    assert info.value.source == str(path)
    for (dotted, line, _words), rendered in zip(BAD_EXPECTED, rest, strict=True):
        assert rendered.startswith(f"  line {line}"), rendered
        assert f"{dotted}: " in rendered


def test_problems_are_sorted_by_line() -> None:
    error = ConfigError("x.yaml", [Problem("b", "m", 9), Problem("a", "m", 2), Problem("c", "m")])
    assert [p.path for p in error.problems] == ["c", "a", "b"]
    assert str(error).splitlines()[0] == "x.yaml: 3 problems"
    assert ConfigError("x.yaml", [Problem("a", "m")]).args[0].startswith("x.yaml: 1 problem\n")


SSH_ENV = """
office: {name: Test}
defaults: {platform: cisco_ios, role: router}
groups:
  cisco:
    ssh: {user: admin, password_env: SIGAP_TEST_SSH_PASSWORD}
hosts:
  r1: {address: 10.0.0.1, groups: [cisco]}
"""


def test_secret_env_var_not_set_is_reported_where_it_is_written(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, SSH_ENV, env={"OTHER": "x"})
    assert (problem.path, problem.line) == ("groups.cisco.ssh.password_env", 5)
    assert "SIGAP_TEST_SSH_PASSWORD" in problem.message


def test_secret_env_var_set_loads_without_printing_the_secret(tmp_path: Path) -> None:
    inventory = load_text(tmp_path, SSH_ENV, env={"SIGAP_TEST_SSH_PASSWORD": "rahasia"})
    ssh = inventory.devices["r1"].ssh
    assert ssh is not None
    assert (ssh.user, ssh.password) == ("admin", "rahasia")
    assert "rahasia" not in repr(inventory)


def test_unknown_parent_suggests_a_close_name(tmp_path: Path) -> None:
    [problem] = problems_of(
        tmp_path,
        """
        office: {name: T}
        defaults: {platform: linux, role: router}
        hosts:
          rtr-core: {address: 10.0.0.1}
          sw: {address: 10.0.0.2, parent: rtr-cor}
        """,
    )
    assert problem.path == "hosts.sw.parent"
    assert "did you mean 'rtr-core'?" in problem.message


def test_group_cycle_and_unknown_nested_group(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
        office: {name: T}
        defaults: {platform: linux, role: router}
        groups:
          x: {groups: [y]}
          y: {groups: [x, zz]}
        hosts:
          a: {address: 10.0.0.1, groups: [x]}
        """,
    )
    assert ("groups.y.groups[1]", 5) in where(problems)
    cycles = [p for p in problems if "group cycle" in p.message]
    assert cycles
    assert {p.path for p in cycles} <= {"groups.x.groups", "groups.y.groups"}


def test_role_unset_everywhere_platform_may_be_omitted(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "office: {name: T}\nhosts:\n  a: {address: 10.0.0.1}\n")
    assert where(problems) == {("hosts.a.role", 3)}  # platform: detected (issue 18)
    assert all("not set on the host, its groups or defaults" in p.message for p in problems)


def test_address_outside_lab_prefix_and_noc_clash(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
        office: {name: T}
        lab: {prefixes: [10.52.0.0/16], noc_address: 10.52.0.1}
        defaults: {platform: linux, role: router}
        hosts:
          a: {address: 10.0.0.1}
          b: {address: 10.52.0.1}
        """,
    )
    assert where(problems) == {("hosts.a.address", 5), ("lab.noc_address", 2)}


def test_people_mistakes(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
        office: {name: T}
        defaults: {platform: linux, role: router, opd: Dinas X}
        hosts:
          a: {address: 10.0.0.1}
        people:
          - {name: P, role: pj_opd}
          - {name: Q, role: pj_opd, opd: Dinas Y}
          - {name: R, role: boss}
        """,
    )
    assert where(problems) == {("people[0].opd", 6), ("people[1].opd", 7), ("people[2].role", 8)}


def test_unknown_timezone(tmp_path: Path) -> None:
    [problem] = problems_of(
        tmp_path,
        """
        office: {name: T, timezone: Asia/Lombok}
        defaults: {platform: linux, role: router}
        hosts:
          a: {address: 10.0.0.1}
        """,
    )
    assert (problem.path, problem.line) == ("office.timezone", 1)


# ------------------------------------------------------------------ precedence

WORKED_EXAMPLE = """
office: {name: T}
defaults:  {role: router, ping: {interval: 5s, count: 3}}
groups:    {opd-router: {platform: mikrotik_routeros, ping: {count: 5}},
            cisco: {platform: cisco_ios}}
hosts:     {rtr-rsud: {address: 10.0.0.1, groups: [cisco, opd-router], ping: {timeout: 2s}}}
"""


def test_docstring_worked_example(tmp_path: Path) -> None:
    # the docstring's example plus what a loadable file needs (office, address, role)
    device = load_text(tmp_path, WORKED_EXAMPLE).devices["rtr-rsud"]
    assert device.platform == "cisco_ios"  # cisco is listed first
    assert device.ping.interval == 5.0  # defaults
    assert device.ping.count == 5  # opd-router
    assert device.ping.timeout == 2.0  # host
    assert device.ping.spacing == PingSettings().spacing  # nobody sets it
    assert device.groups == ("cisco", "opd-router")


NESTED = """
office: {name: T}
defaults:
  role: router
  platform: linux
  opd: Default OPD
  tags: [d, shared]
  maintenance:
    - {name: from-defaults, weekly: {days: [sun], start: "01:00", end: "03:00"}}
  ping: {interval: 5s, count: 3, spacing: 200ms, timeout: 1s}
groups:
  a:
    groups: [a1]
    tags: [x, shared]
    ping: {count: 5}
    maintenance:
      - {name: from-a, weekly: {days: [mon], start: "01:00", end: "02:00"}}
  a1:
    platform: huawei
    parent: core
    tags: [y]
    ping: {count: 7, spacing: 100ms, enabled: false}
  b:
    groups: [a1]
    platform: cisco_ios
    site: Site B
    tags: [z]
    ping: {interval: 30s}
hosts:
  core: {address: 10.0.0.1}
  h:
    address: 10.0.0.2
    groups: [a, b]
    tags: [h, x]
    ping: {timeout: 2s}
    maintenance:
      - {name: from-host, start: "2026-11-25T09:00:00+08:00", end: "2026-11-25T11:00:00+08:00"}
"""


@pytest.fixture
def nested(tmp_path: Path) -> Inventory:
    return load_text(tmp_path, NESTED)


def test_nested_groups_depth_first(nested: Inventory) -> None:
    h = nested.devices["h"]
    # order: h, a, a1 (a's own group, right after a), b, defaults -> a1 beats b
    assert h.platform == "huawei"
    assert h.parent == "core"  # from a1
    assert h.site == "Site B"  # only b sets it
    assert h.opd == "Default OPD"
    assert nested.devices["core"].platform == "linux"


def test_tags_union_in_precedence_order(nested: Inventory) -> None:
    assert nested.devices["h"].tags == ("h", "x", "shared", "y", "z", "d")
    assert nested.devices["core"].tags == ("d", "shared")


def test_maintenance_windows_add_up(nested: Inventory) -> None:
    names = [w.name for w in nested.devices["h"].maintenance]
    assert names == ["from-host", "from-a", "from-defaults"]
    assert [w.name for w in nested.devices["core"].maintenance] == ["from-defaults"]


def test_ping_block_merged_key_by_key(nested: Inventory) -> None:
    assert nested.devices["h"].ping == PingSettings(
        interval=30.0,  # b
        count=5,  # a beats a1
        spacing=0.1,  # a1
        timeout=2.0,  # host
        enabled=False,  # a1
    )
    assert nested.devices["core"].ping == PingSettings(5.0, 3, 0.2, 1.0, True)


def test_children_index_follows_resolved_parents(nested: Inventory) -> None:
    assert nested.children("core") == ("h",)
    assert [d.name for d in nested.ancestors("h")] == ["core"]


# ------------------------------------------------------------------ durations

DURATION_HOST = """
office: {{name: T}}
defaults: {{platform: linux, role: router}}
detection: {{reprobe_interval: {value}}}
hosts:
  a: {{address: 10.0.0.1, ping: {{interval: {value}}}}}
"""


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("250ms", 0.25), ("5s", 5.0), ("2m", 120.0), ("1h", 3600.0), ("1.5s", 1.5), ("3", 3.0)],
)
def test_durations(tmp_path: Path, value: str, seconds: float) -> None:
    inventory = load_text(tmp_path, DURATION_HOST.format(value=value))
    assert inventory.devices["a"].ping.interval == pytest.approx(seconds)
    assert inventory.detection.reprobe_interval == pytest.approx(seconds)


def test_bad_durations_name_the_expected_forms(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
        office: {name: T}
        defaults:
          platform: linux
          role: router
          ping: {interval: 5 minutes, timeout: 0s, spacing: -1}
        hosts:
          a: {address: 10.0.0.1}
        """,
    )
    by_path = {p.path: p for p in problems}
    assert set(by_path) == {
        "defaults.ping.interval",
        "defaults.ping.timeout",
        "defaults.ping.spacing",
    }
    interval = by_path["defaults.ping.interval"]
    assert interval.line == 5
    assert "expected a duration such as 5s, 250ms, 2m" in interval.message
    assert "'5 minutes'" in interval.message
    assert "longer than 0s" in by_path["defaults.ping.timeout"].message


# regression: YAML `true` used to load as 1 (1s, count 1) through pydantic's lax mode
@pytest.mark.parametrize("field", ["interval", "count"])
def test_boolean_is_not_a_number(tmp_path: Path, field: str) -> None:
    problems = problems_of(
        tmp_path,
        f"""
        office: {{name: T}}
        defaults: {{platform: linux, role: router, ping: {{{field}: true}}}}
        hosts:
          a: {{address: 10.0.0.1}}
        """,
    )
    [problem] = problems
    assert (problem.path, problem.line) == (f"defaults.ping.{field}", 2)
    assert "(got True)" in problem.message


# ------------------------------------------------------------------ maintenance windows

SAT_NIGHT = MaintenanceWindow(
    "malam minggu", days=frozenset({5}), start_time=time(22), end_time=time(2)
)


def wita(day: int, hour: int, minute: int = 0) -> datetime:
    """2026-11-28 is a Saturday; returns the instant in UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=WITA).astimezone(UTC)


@pytest.mark.parametrize(
    ("at", "active"),
    [
        (wita(28, 21, 59), False),  # Saturday, before
        (wita(28, 22, 0), True),  # Saturday, start is inclusive
        (wita(28, 23, 30), True),
        (wita(29, 1, 0), True),  # Sunday 01:00 WITA: the part after midnight
        (wita(29, 2, 0), False),  # end is exclusive
        (wita(29, 3, 0), False),
        (wita(28, 1, 0), False),  # Saturday 01:00 belongs to Friday's night (not listed)
        (wita(29, 22, 30), False),  # Sunday evening: Sunday is not listed
        (datetime(2026, 11, 29, 1, 0, tzinfo=UTC), False),  # Sunday 01:00 UTC = 09:00 WITA
    ],
)
def test_weekly_window_over_midnight(at: datetime, active: bool) -> None:
    assert SAT_NIGHT.active(at, WITA) is active


def test_weekly_window_same_day() -> None:
    window = MaintenanceWindow("senin", days=frozenset({0}), start_time=time(1), end_time=time(3))
    assert window.active(wita(30, 2), WITA)  # Monday 02:00
    assert not window.active(wita(30, 3), WITA)
    assert not window.active(wita(29, 2), WITA)  # Sunday


def test_one_off_window() -> None:
    start, end = wita(25, 9), wita(25, 11)
    window = MaintenanceWindow("ganti kabel", start=start, end=end)
    assert window.active(start, WITA)
    assert window.active(wita(25, 10, 59), WITA)
    assert not window.active(end, WITA)
    assert not window.active(wita(25, 8, 59), WITA)


def test_weekly_window_loaded_from_yaml(tmp_path: Path) -> None:
    inventory = load_text(
        tmp_path,
        """
        office: {name: T, timezone: Asia/Makassar}
        defaults: {platform: linux, role: router}
        hosts:
          a:
            address: 10.0.0.1
            maintenance:
              - name: malam minggu
                weekly: {days: [sat], start: "22:00", end: "02:00"}
        """,
    )
    device = inventory.devices["a"]
    assert device.maintenance == (SAT_NIGHT,)
    assert device.in_maintenance(wita(29, 1), inventory.tz) == SAT_NIGHT
    assert device.in_maintenance(wita(29, 3), inventory.tz) is None


def test_window_shape_mistakes(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
        office: {name: T}
        defaults: {platform: linux, role: router}
        hosts:
          a:
            address: 10.0.0.1
            maintenance:
              - name: both
                start: 2026-01-01T00:00:00+08:00
                end: 2026-01-01T01:00:00+08:00
                weekly: {days: [sat], start: "22:00", end: "02:00"}
              - name: neither
              - name: only start
                start: 2026-01-01T00:00:00+08:00
              - name: backwards
                start: 2026-01-02T00:00:00+08:00
                end: 2026-01-01T00:00:00+08:00
              - name: naive
                start: 2026-01-01T00:00:00
                end: 2026-01-01T01:00:00
              - name: bad day
                weekly: {days: [sabtu], start: "22:00", end: "02:00"}
        """,
    )
    by_path = {p.path: p for p in problems}
    assert by_path["hosts.a.maintenance[0]"].message == "expected either start and end, or weekly"
    assert by_path["hosts.a.maintenance[0]"].line == 7
    assert by_path["hosts.a.maintenance[1]"].line == 11
    assert "needs both start and end" in by_path["hosts.a.maintenance[2]"].message
    assert by_path["hosts.a.maintenance[2]"].line == 12
    assert "is not after start" in by_path["hosts.a.maintenance[3].end"].message
    assert by_path["hosts.a.maintenance[3].end"].line == 16
    assert "timezone" in by_path["hosts.a.maintenance[4].start"].message
    assert by_path["hosts.a.maintenance[4].start"].line == 18
    assert "'sabtu'" in by_path["hosts.a.maintenance[5].weekly.days[0]"].message
    assert by_path["hosts.a.maintenance[5].weekly.days[0]"].line == 21


ONE_OFF = """
office: {{name: T}}
defaults: {{platform: linux, role: router}}
hosts:
  a:
    address: 10.0.0.1
    maintenance:
      - name: w
        start: {start}
        end: {end}
"""


# regression: start/end used to be compared as strings, ignoring the offsets
@pytest.mark.parametrize(
    ("start", "end", "valid"),
    [
        # 10:00 WITA -> 11:00 WITA, the end written in UTC
        ("2026-01-01T10:00:00+08:00", "2026-01-01T03:00:00+00:00", True),
        # 11:00 WITA -> 10:00 WITA: backwards although the strings sort the other way
        ("2026-01-01T03:00:00+00:00", "2026-01-01T10:00:00+08:00", False),
        # space instead of T, same offset
        ("2026-01-01T10:00:00+08:00", "2026-01-01 09:00:00+08:00", False),
        ("2026-01-01 10:00:00+08:00", "2026-01-01T10:30:00+08:00", True),
        # equal instants are not a window
        ("2026-01-01T10:00:00+08:00", "2026-01-01T02:00:00+00:00", False),
    ],
)
def test_one_off_window_order_respects_offsets(
    tmp_path: Path, start: str, end: str, *, valid: bool
) -> None:
    text = ONE_OFF.format(start=start, end=end)
    if valid:
        window = load_text(tmp_path, text).devices["a"].maintenance[0]
        assert window.end is not None
        assert window.start is not None
        assert window.end > window.start
    else:
        [problem] = problems_of(tmp_path, text)
        assert problem.path == "hosts.a.maintenance[0].end"


# ------------------------------------------------------------------ files and YAML


def test_yaml_syntax_error_is_one_problem_with_its_line(tmp_path: Path) -> None:
    text = "office: {name: T}\nhosts:\n  a: {address: 10.0.0.1\n  b: [\n"
    [problem] = problems_of(tmp_path, text)
    assert problem.path == "(yaml)"
    assert problem.line == 4


def test_tab_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "office:\n\tname: T\n")
    assert (problem.path, problem.line) == ("(yaml)", 2)


@pytest.mark.parametrize("text", ["", "# nothing here\n", "- a\n- b\n", "just a string\n"])
def test_empty_or_not_a_mapping(tmp_path: Path, text: str) -> None:
    [problem] = problems_of(tmp_path, text)
    assert problem.path == "(top)"
    assert "expected a mapping" in problem.message


def test_missing_top_level_keys(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "defaults: {}\n")
    assert {p.path for p in problems} == {"office", "hosts"}
    assert all(p.message == "required key is missing" for p in problems)


def test_file_not_found_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_inventory(missing)
    [problem] = info.value.problems
    assert problem.path == "(file)"
    assert "cannot read" in problem.message
    assert str(missing) in str(info.value)


# ------------------------------------------------------------------ the CLI


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str, width: int = 1000) -> int:
    monkeypatch.setattr(sys, "argv", ["sigap", *args])
    # rich's width when stderr is not a terminal is 80 (journald, CI logs, 2>file)
    monkeypatch.setattr(cli.console, "width", width)
    monkeypatch.setattr(cli.err_console, "width", width)
    monkeypatch.delenv("SIGAP_TEST_SSH_PASSWORD", raising=False)
    with pytest.raises(SystemExit) as info:
        cli.main()
    code = info.value.code
    assert isinstance(code, int)
    return code


def test_cli_check_bad_inventory_exits_2_listing_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, BAD, "bad.yaml")
    assert run_cli(monkeypatch, "check", str(bad)) == 2
    out, err = capsys.readouterr()
    assert f"{bad}: {len(BAD_EXPECTED)} problems" in err
    for path, line, _words in BAD_EXPECTED:
        assert f"line {line:<4} {path}: " in err
    assert "Traceback" not in out + err


def test_cli_check_missing_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(monkeypatch, "check", str(tmp_path / "nope.yaml")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_check_shipped_inventory_exits_0(
    shipped: Inventory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(monkeypatch, "check", str(REPO_INVENTORY)) == 0
    out = capsys.readouterr().out
    assert f": OK - {len(shipped.devices)} devices" in out
    assert f"{len(shipped.opds())} OPD" in out


def test_cli_problem_lines_are_not_wrapped_on_a_narrow_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, BAD, "bad.yaml")
    assert run_cli(monkeypatch, "check", str(bad), width=80) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{bad}: {len(BAD_EXPECTED)} problems"
    assert len(lines) == 1 + len(BAD_EXPECTED)
