"""The ``daemon.ha`` block (issue 23): defaults, bounds, and the PostgreSQL requirement."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.errors import AgentError, ConfigError
from agent.runtime.leader import conninfo, fence_key, lock_key

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

BASE = """\
office: {{name: Uji}}
defaults: {{platform: mikrotik_routeros, role: router, opd: Dinas Uji}}
hosts:
  r1: {{address: 10.7.0.1}}
daemon:
{daemon}
"""


def _load(tmp_path: Path, daemon: str) -> object:
    path = tmp_path / "inventory.yaml"
    path.write_text(BASE.format(daemon=daemon), encoding="utf-8")
    return load_inventory(path, env={})


def _problems(tmp_path: Path, daemon: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, daemon)
    return [p.render() for p in info.value.problems]


def test_no_ha_block_means_a_single_daemon(tmp_path: Path) -> None:
    assert _load(tmp_path, "  metrics_listen: ''").ha is None  # type: ignore[attr-defined]


def test_the_node_defaults_to_the_host_name(tmp_path: Path) -> None:
    ha = _load(tmp_path, "  ha: {}").ha  # type: ignore[attr-defined]
    assert (ha.node, ha.cluster, ha.lease) == (socket.gethostname(), "sigap", 15.0)


def test_ha_can_be_switched_off(tmp_path: Path) -> None:
    assert _load(tmp_path, "  ha: {enabled: false, node: noc-a}").ha is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("daemon", "expected"),
    [
        ("  ha: {lease: 1s}", "lease 1s is outside 3s..2m"),
        ("  ha: {lease: 10m}", "lease 600s is outside 3s..2m"),
        ("  ha: {node: 'a b'}", "daemon.ha.node"),
        ('  ha: {node: "noc\\nx"}', "daemon.ha.node"),
        ("  ha: {cluster: UPPER}", "daemon.ha.cluster"),
        ("  ha: {colour: red}", "daemon.ha.colour"),
        ("  ha: [1, 2]", "daemon.ha"),
        ("  database: sqlite:////tmp/x.db\n  ha: {}", "ha needs PostgreSQL in database"),
    ],
)
def test_bad_ha_blocks_are_listed_with_their_line(
    tmp_path: Path, daemon: str, expected: str
) -> None:
    problems = _problems(tmp_path, daemon)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("line ") for p in problems), problems


def test_a_sqlite_url_at_run_time_is_refused_by_name() -> None:
    with pytest.raises(AgentError, match="needs PostgreSQL, not sqlite"):
        conninfo("sqlite:////tmp/x.db")


def test_clusters_have_their_own_locks_and_the_fence_differs_from_the_lock() -> None:
    assert lock_key("sigap") != lock_key("kecamatan-praya")
    assert lock_key("sigap") == lock_key("sigap")
    assert fence_key("sigap") != lock_key("sigap")
    assert conninfo("postgresql+psycopg://u:p@db:5432/sigap").startswith("postgresql://u:p@db")
