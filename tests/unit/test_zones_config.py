"""``zone:`` on devices and ``sigap run --zona`` options (issue 23): defaults and hostile values."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.config.model import CENTRAL_ZONE
from agent.errors import ConfigError
from agent.zones import DEFAULT_BUFFER
from agent.zones.settings import PollerConfigError, poller_settings

if TYPE_CHECKING:
    from pathlib import Path

    from agent.config.model import Inventory

pytestmark = pytest.mark.unit

PG = "postgresql+psycopg:///test"
BASE = """\
office: {{name: Uji}}
defaults: {{platform: mikrotik_routeros, role: router, opd: Dinas Uji{defaults}}}
groups:
  praya: {{zone: praya-barat}}
hosts:
  core: {{address: 10.7.0.1}}
  r1: {{address: 10.7.0.2, parent: core, groups: [praya]}}
  r2: {{address: 10.7.0.3, parent: r1, {host}}}
{daemon}
"""


def _load(tmp_path: Path, *, defaults: str = "", host: str = "", daemon: str = "") -> Inventory:
    path = tmp_path / "inventory.yaml"
    text = BASE.format(defaults=defaults, host=host or "groups: [praya]", daemon=daemon)
    path.write_text(text, encoding="utf-8")
    return load_inventory(path, env={})


def _problems(tmp_path: Path, **kw: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, **kw)
    return [p.render() for p in info.value.problems]


def test_zone_defaults_to_the_centre_and_is_inherited(tmp_path: Path) -> None:
    inv = _load(tmp_path)
    assert inv.devices["core"].zone == CENTRAL_ZONE == "pusat"
    assert (inv.devices["r1"].zone, inv.devices["r2"].zone) == ("praya-barat", "praya-barat")
    assert inv.remote_zones() == ["praya-barat"]
    assert [d.name for d in inv.zone_devices("praya-barat")] == ["r1", "r2"]


def test_the_host_wins_over_groups_and_defaults(tmp_path: Path) -> None:
    inv = _load(tmp_path, defaults=", zone: jonggat", host="zone: kopang, groups: [praya]")
    assert inv.devices["core"].zone == "jonggat"
    assert inv.devices["r2"].zone == "kopang"


@pytest.mark.parametrize(
    "value",
    [
        "Praya",  # upper case
        "-praya",  # leading dash
        "'praya barat'",  # space
        "'praya\\nbarat'",  # a control character
        "'zona/../etc'",
        "'" + "a" * 41 + "'",  # too long
        "''",
        "12",  # a number, not text
        "[praya]",
        "{x: 1}",
        "true",
        "'praya\u00e9'",  # non-ASCII
    ],
)
def test_hostile_zone_values_name_the_device(tmp_path: Path, value: str) -> None:
    problems = _problems(tmp_path, host=f"zone: {value}")
    assert any("hosts.r2.zone" in p for p in problems), problems


def test_a_hostile_zone_in_defaults_is_reported_there(tmp_path: Path) -> None:
    problems = _problems(tmp_path, defaults=", zone: 'A B'")
    assert any("defaults.zone" in p for p in problems), problems


def test_poller_settings_defaults(tmp_path: Path) -> None:
    inv = _load(tmp_path)
    s = poller_settings(inv, ["praya-barat", "praya-barat"], PG, node="poller-1")
    assert (s.zones, s.node, s.cluster, s.lease, s.buffer) == (
        ("praya-barat",),
        "poller-1",
        "sigap",
        15.0,
        DEFAULT_BUFFER,
    )
    assert s.heartbeat == 5.0


def test_poller_takes_cluster_lease_and_node_from_daemon_ha(tmp_path: Path) -> None:
    daemon = (
        "daemon:\n  database: postgresql+psycopg:///x\n  ha: {node: kec-1, cluster: lt, lease: 9s}"
    )
    inv = _load(tmp_path, daemon=daemon)
    s = poller_settings(inv, ["praya-barat"], PG)
    assert (s.node, s.cluster, s.lease) == ("kec-1", "lt", 9.0)


@pytest.mark.parametrize(
    ("zones", "url", "node", "buffer", "expected"),
    [
        (["praya-barat"], "sqlite:////tmp/x.db", "n", 10, "needs PostgreSQL"),
        (["praya-barat"], "", "n", 10, "needs PostgreSQL"),
        (["pusat"], PG, "n", 10, "--zona pusat"),
        (["kopang"], PG, "n", 10, "no device of the inventory is in it (zones: praya-barat)"),
        (["Praya"], PG, "n", 10, "--zona 'Praya'"),
        (["a\nb"], PG, "n", 10, "--zona 'a\\nb'"),
        (["x" * 500], PG, "n", 10, "expected lowercase"),
        (["praya-barat"], PG, "bad node\x1b", 10, "--node"),
        (["praya-barat"], PG, "n", 0, "--buffer 0"),
        (["praya-barat"], PG, "n", -5, "--buffer -5"),
    ],
)
def test_bad_poller_options_are_refused_clearly(
    tmp_path: Path, *, zones: list[str], url: str, node: str, buffer: int, expected: str
) -> None:
    inv = _load(tmp_path)
    with pytest.raises(PollerConfigError) as info:
        poller_settings(inv, zones, url, node=node, buffer=buffer)
    assert expected in str(info.value)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    inv = _load(tmp_path)
    with pytest.raises(PollerConfigError) as info:
        poller_settings(inv, ["pusat", "X"], "sqlite:///x", node="n", buffer=0)
    assert len(str(info.value).splitlines()) == 4
