"""deploy/sigap-poller@.service with the real systemd-analyze (issue 23): an instance per zone
verifies clean, runs `sigap run --zona <instance>`, reads SIGAP_DB_URL from an environment
file, and is hardened exactly like deploy/sigap.service (same offline exposure level)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unavailable

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "sigap-poller@.service"
AGENT = ROOT / "deploy" / "sigap.service"
MAX_EXPOSURE = 1.5  # sigap.service's level (README "Operations")
# everything that makes sigap.service's sandbox, which the poller must not loosen
HARDENING = (
    "User", "Group", "AmbientCapabilities", "CapabilityBoundingSet", "NoNewPrivileges",
    "SecureBits", "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateMounts",
    "PrivateDevices", "DevicePolicy", "ProtectKernelTunables", "ProtectKernelModules",
    "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname",
    "ProtectProc", "ProcSubset", "RemoveIPC", "KeyringMode", "RestrictNamespaces",
    "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute",
    "SystemCallArchitectures", "SystemCallFilter", "SystemCallErrorNumber",
    "RestrictAddressFamilies", "UMask", "StateDirectory", "ConfigurationDirectory",
    "WatchdogSec", "Restart", "KillMode",
)  # fmt: skip


def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        unavailable("`systemd-analyze` is not installed (Debian package systemd)")
    return path


def settings_of(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if re.match(r"^[A-Z]\w+=", line):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def instance(tmp_path: Path, zone: str = "kec-praya") -> Path:
    """The template installed as one zone's instance, pointing at a sigap that exists."""
    sigap = ROOT / ".venv" / "bin" / "sigap"
    assert sigap.exists(), "the dev venv's sigap (make setup)"
    text = TEMPLATE.read_text(encoding="utf-8").replace("/opt/sigap/.venv/bin/sigap", str(sigap))
    path = tmp_path / f"sigap-poller@{zone}.service"
    path.write_text(text, encoding="utf-8")
    return path


def test_poller_is_hardened_like_the_agent() -> None:
    ours = settings_of(TEMPLATE.read_text(encoding="utf-8"))
    agent = settings_of(AGENT.read_text(encoding="utf-8"))
    for key in HARDENING:
        assert ours[key] == agent[key], key


def test_instance_is_the_zone_and_the_database_comes_from_an_env_file() -> None:
    ours = settings_of(TEMPLATE.read_text(encoding="utf-8"))
    (start,) = ours["ExecStart"]
    assert start.startswith("/opt/sigap/.venv/bin/sigap run ")
    assert start.endswith(" --zona %i")
    assert "--inventory /etc/sigap/inventory.yaml" in start, "the deployed file, not the db"
    assert ours["EnvironmentFile"][0] == "/etc/sigap/sigap.env", "required: SIGAP_DB_URL"
    assert ours["ExecStartPre"] == ["/opt/sigap/.venv/bin/sigap check /etc/sigap/inventory.yaml"]


def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    result = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(instance(tmp_path))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == "", "warnings: " + result.stderr


def test_systemd_analyze_verify_catches_a_bad_unit(tmp_path: Path) -> None:
    unit = instance(tmp_path)
    unit.write_text(unit.read_text().replace("Type=exec", "Type=exek"), encoding="utf-8")
    result = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Failed to parse service type, ignoring: exek" in result.stderr


def test_systemd_analyze_security_exposure(tmp_path: Path) -> None:
    unit = instance(tmp_path)
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    match = re.search(
        rf"Overall exposure level for {re.escape(unit.name)}: ([\d.]+)", result.stdout
    )
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout
