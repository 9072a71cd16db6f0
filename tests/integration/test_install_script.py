"""deploy/install.sh into directories under tmp_path (--no-system: no user, no systemctl):
layout and modes, the rendered unit passes systemd-analyze verify, a second run changes
nothing the operator wrote, and with an inventory it migrates the database."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import unavailable
from ticketing.migrate import VERSION_TABLE

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = """
office: {name: Uji}
hosts:
  rtr-uji: {address: 127.0.0.1, role: router, platform: linux, opd: Uji}
"""


def install(tmp: Path, *extra: str) -> str:
    argv = [
        str(ROOT / "deploy" / "install.sh"), "--no-system",
        "--prefix", str(tmp / "opt" / "sigap"), "--confdir", str(tmp / "etc" / "sigap"),
        "--statedir", str(tmp / "var" / "lib" / "sigap"), "--unitdir", str(tmp / "units"),
        "--pip-args", "--no-deps",  # dependencies come from the dev venv (see below)
        *extra,
    ]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def borrow_dev_site_packages(prefix: Path) -> None:
    """Let the new venv import the dev venv's dependencies instead of downloading them."""
    new = next((prefix / ".venv" / "lib").glob("python3*/site-packages"))
    (new / "zz-dev-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


def test_install_is_idempotent_and_migrates(tmp_path):
    if shutil.which("systemd-analyze") is None:
        unavailable("`systemd-analyze` is not installed")
    prefix, conf = tmp_path / "opt" / "sigap", tmp_path / "etc" / "sigap"
    first = install(tmp_path)
    assert "wrote" in first
    assert "no " + str(conf / "inventory.yaml") in first
    env = conf / "sigap.env"
    assert env.stat().st_mode & 0o777 == 0o600
    assert conf.stat().st_mode & 0o777 == 0o750
    assert (prefix / ".venv" / "bin" / "sigap").exists()
    assert (prefix / "share" / "grafana" / "sigap.json").exists()
    unit = tmp_path / "units" / "sigap.service"
    text = unit.read_text()
    assert f"ExecStart={prefix}/.venv/bin/sigap run --inventory {conf}/inventory.yaml" in text
    assert "/opt/sigap" not in text.replace(str(prefix), "")
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (verify.returncode, verify.stderr) == (0, "")
    poller = (tmp_path / "units" / "sigap-poller@.service").read_text()
    assert f"sigap run --inventory {conf}/inventory.yaml --zona %i" in poller
    assert f"EnvironmentFile={conf}/sigap.env" in poller

    env.write_text(env.read_text() + "SIGAP_SNMP_AUTH=operator-secret\n")
    env.chmod(0o644)
    before = unit.stat().st_mtime_ns
    second = install(tmp_path)
    assert "wrote" not in second
    assert "installed" not in second
    assert unit.stat().st_mtime_ns == before
    assert "operator-secret" in env.read_text()
    assert env.stat().st_mode & 0o777 == 0o600  # modes are enforced on every run

    borrow_dev_site_packages(prefix)
    (conf / "inventory.yaml").write_text(INVENTORY)
    third = install(tmp_path)
    assert "database schema at the newest revision" in third
    db = tmp_path / "var" / "lib" / "sigap" / "sigap.db"
    with sqlite3.connect(db) as conn:
        query = f"select version_num from {VERSION_TABLE}"  # noqa: S608 - a constant
        (head,) = conn.execute(query).fetchone()
    newest = sorted((ROOT / "ticketing" / "migrations" / "versions").glob("0*.py"))[-1]
    assert head == newest.stem.split("_")[0]
    assert sys.prefix not in unit.read_text()

    fourth = install(tmp_path, "--zona", "kec-praya")  # a poller machine: the centre migrates
    assert "zone poller: the centre migrates the database" in fourth
    assert "database schema" not in fourth


@pytest.mark.parametrize("zone", ["", "Kec Praya", "pusat", "x" * 41, "kec;rm"])
def test_install_refuses_a_bad_zone(tmp_path, zone):
    argv = [str(ROOT / "deploy" / "install.sh"), "--no-system", "--prefix", str(tmp_path / "p"),
            "--zona", zone]  # fmt: skip
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "--zona" in result.stderr or "pusat" in result.stderr
    assert not (tmp_path / "p").exists(), "refused before anything is written"
