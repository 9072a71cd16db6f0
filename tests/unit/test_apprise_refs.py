"""people[].apprise_env / apprise_file: URLs read at load like every secret; inline URLs still
work and `sigap check` warns about them; no message ever shows a URL."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from agent import cli
from agent.config.load import load_inventory
from agent.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

TG = "tgram://123456:AAHsecretbottoken/987654"
MAIL = "mailtos://kasi:smtp-pass-9@mail.example.go.id?to=kasi@example.go.id"
INLINE = "json://127.0.0.1:9/inline-secret-token"
INVENTORY = """\
office: {{name: Dinas Komunikasi dan Informatika}}
hosts:
  rtr-a: {{address: 10.52.0.1, opd: Setda, role: router, platform: linux}}
people:
  - name: Baiq Kasi
    role: kasi
    apprise_env: SIGAP_T_TG
    apprise_file: [{file}]
  - name: Hj Kabid
    role: kabid
    apprise: ["{inline}"]
"""


def write(tmp_path: Path, file: str = "kasi.apprise") -> Path:
    (tmp_path / "kasi.apprise").write_text(f"# the Kasi's mailbox\n{MAIL}\n")
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY.format(file=file, inline=INLINE))
    return path


def test_references_are_resolved_and_inline_urls_warned(tmp_path):
    inventory = load_inventory(write(tmp_path), env={"SIGAP_T_TG": f"  {TG}  "})
    kasi, kabid = inventory.people
    assert kasi.apprise == (TG, MAIL)
    assert kabid.apprise == (INLINE,)
    (warning,) = inventory.warnings
    assert warning.startswith("line 11   people[1].apprise: 1 Apprise URL(s) written inline")
    assert "apprise_env or apprise_file" in warning
    assert "secret" not in warning
    assert TG not in repr(kasi)  # the Person repr hides its addresses


def test_unset_variable_unreadable_file_and_non_urls_are_problems_without_values(tmp_path):
    path = write(tmp_path, file="nope.apprise")
    with pytest.raises(ConfigError) as info:
        load_inventory(path, env={})
    text = str(info.value)
    assert "people[0].apprise_env[0]: environment variable SIGAP_T_TG is not set" in text
    assert "people[0].apprise_file[0]: cannot read secret file" in text
    with pytest.raises(ConfigError) as info:
        load_inventory(write(tmp_path), env={"SIGAP_T_TG": "AAHsecretbottoken"})
    text = str(info.value)
    assert "variable SIGAP_T_TG does not hold Apprise URLs (scheme://...)" in text
    assert "AAHsecretbottoken" not in text


def test_sigap_check_shows_the_warning_and_exits_0(tmp_path, monkeypatch, capsys):
    path = write(tmp_path)
    monkeypatch.setenv("SIGAP_T_TG", TG)
    monkeypatch.setattr(sys, "argv", ["sigap", "check", str(path)])
    monkeypatch.setattr(cli.console, "width", 1000)
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert ": OK - 1 devices" in out
    assert f"{path}: 1 warning\n" in out
    assert "people[1].apprise: 1 Apprise URL(s) written inline" in out
    assert INLINE not in out
    assert TG not in out
