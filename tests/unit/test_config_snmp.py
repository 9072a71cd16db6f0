"""SNMP settings in the inventory: v2c/v3 checks, secrets by env or file, inheritance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from agent.config.load import load_inventory
from agent.errors import ConfigError
from collectors.model import SnmpVersion

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


def write(tmp_path: Path, snmp_defaults: str, host_extra: str = "") -> Path:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "office: {name: T}\n"
        "defaults:\n  platform: cisco_ios\n  role: router\n"
        f"  snmp: {snmp_defaults}\n"
        "hosts:\n"
        f"  a: {{address: 10.52.0.1{host_extra}}}\n"
        "  b: {address: 10.52.0.2}\n"
    )
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_inventory(path, env=env or {})
    return [f"{p.line} {p.path}: {p.message}" for p in info.value.problems]


def test_priv_without_auth_reported_once_where_it_was_set(tmp_path: Path) -> None:
    path = write(tmp_path, '{version: "3", user: u, priv_protocol: aes128, priv_key_env: P}')
    found = problems(path, {"P": "x"})
    assert len(found) == 1
    assert found[0].startswith("5 defaults.snmp.priv_protocol: priv_protocol without auth")


def test_v2c_needs_community_and_v3_a_user(tmp_path: Path) -> None:
    assert problems(write(tmp_path, '{version: "2c"}')) == [
        "5 defaults.snmp.version: SNMP v2c needs community_env or community_file"
    ]
    assert any("needs a user" in p for p in problems(write(tmp_path, '{version: "3"}')))


def test_unset_env_and_unreadable_file(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "{community_env: NOPE}"))
    assert found == ["5 defaults.snmp.community_env: environment variable NOPE is not set"]
    found = problems(write(tmp_path, "{community_file: missing.txt}"))
    assert "cannot read secret file" in found[0]


def test_v3_secrets_from_file_relative_to_inventory(tmp_path: Path) -> None:
    (tmp_path / "auth").write_text("authpass123\n")
    (tmp_path / "priv").write_text("privpass123\n")
    path = write(
        tmp_path,
        '{version: "3", user: sigap, auth_protocol: sha256, auth_key_file: auth, '
        "priv_protocol: aes256, priv_key_file: priv, timeout: 2s, retries: 2}",
        ", snmp: {port: 1161}",
    )
    inv = load_inventory(path, env={})
    a, b = inv.devices["a"].snmp, inv.devices["b"].snmp
    assert a is not None
    assert b is not None
    assert a.auth.version is SnmpVersion.V3
    assert (a.auth.auth_key, a.auth.priv_key) == ("authpass123", "privpass123")
    assert (a.port, b.port, a.timeout, a.retries) == (1161, 161, 2.0, 2)
    assert "authpass123" not in repr(a)


def test_bad_interface_pattern(tmp_path: Path) -> None:
    found = problems(write(tmp_path, '{community_env: C, interfaces: "(ether"}'), {"C": "c"})
    assert "valid regular expression" in found[0]


def test_snmp_disabled_on_a_host(tmp_path: Path) -> None:
    path = write(tmp_path, "{community_env: C}", ", snmp: {enabled: false}")
    inv = load_inventory(path, env={"C": "c"})
    assert inv.devices["a"].snmp is None
    assert inv.devices["b"].snmp is not None
