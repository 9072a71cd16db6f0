"""deploy/sigap-web.service and deploy/sigap-intake.service with the real systemd-analyze:
`verify` is clean, they are hardened like sigap.service (no capabilities at all) and the offline
`security` exposure stays low; the intake unit leaves the WhatsApp webhook to the web board."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import unavailable

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
UNITS = ("sigap-web.service", "sigap-intake.service")
MAX_EXPOSURE = 1.5  # sigap.service's level; these need even less (no CAP_NET_RAW)


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


def rendered(unit: str, tmp_path: Path) -> Path:
    """The unit as it is installed, pointing at a sigap executable that exists."""
    sigap = ROOT / ".venv" / "bin" / "sigap"
    assert sigap.exists(), "the dev venv's sigap (make setup)"
    text = (ROOT / "deploy" / unit).read_text(encoding="utf-8")
    path = tmp_path / unit
    path.write_text(text.replace("/opt/sigap/.venv/bin/sigap", str(sigap)), encoding="utf-8")
    return path


@pytest.mark.parametrize("unit", UNITS)
def test_unit_is_hardened_like_the_agent(unit):
    ours = settings_of((ROOT / "deploy" / unit).read_text(encoding="utf-8"))
    agent = settings_of((ROOT / "deploy" / "sigap.service").read_text(encoding="utf-8"))
    assert ours["User"] == ["sigap"]
    assert ours["Restart"] == ["on-failure"]
    assert ours["CapabilityBoundingSet"] == [""]  # not even the agent's CAP_NET_RAW
    assert ours["AmbientCapabilities"] == [""]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices",
                "ProtectSystem", "ProtectKernelTunables", "RestrictNamespaces",
                "MemoryDenyWriteExecute", "SystemCallFilter", "SystemCallArchitectures",
                "RestrictAddressFamilies", "StateDirectory", "UMask", "ProtectProc"):  # fmt: skip
        assert ours[key] == agent[key], key


def test_intake_leaves_the_webhook_to_the_board_which_only_loopback_reaches():
    intake = settings_of((ROOT / "deploy" / "sigap-intake.service").read_text(encoding="utf-8"))
    web = settings_of((ROOT / "deploy" / "sigap-web.service").read_text(encoding="utf-8"))
    assert " intake " in intake["ExecStart"][0]
    assert intake["ExecStart"][0].endswith("--no-webhook")
    assert " web " in web["ExecStart"][0]
    assert "--cookie-secure" in web["ExecStart"][0]
    assert (web["IPAddressDeny"], web["IPAddressAllow"]) == (["any"], ["localhost"])


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_is_clean(unit, tmp_path):
    result = subprocess.run(
        [systemd_analyze(), "verify", "--man=no", str(rendered(unit, tmp_path))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == "", "warnings: " + result.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_security_exposure(unit, tmp_path):
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", "--no-pager",
         str(rendered(unit, tmp_path))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    name = re.escape(unit)
    match = re.search(rf"Overall exposure level for {name}: ([\d.]+) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE, result.stdout
