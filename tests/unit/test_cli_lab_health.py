"""`sigap lab health`: options become the values the lab's MIKROTIK-MIB helper serves."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.cli import lab as lab_cli

pytestmark = pytest.mark.unit


class FakeLab:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []

    def health(self, device: str, **changes: object) -> None:
        self.calls.append((device, changes))


def test_options_reach_the_lab(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeLab()
    monkeypatch.setattr(lab_cli, "_lab", lambda: fake)
    argv = ["lab", "health", "rtr", "--temperature", "83", "--signal", "-79", "--psu-fail"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert fake.calls == [("rtr", {"temperature_c": 83, "signal_dbm": -79, "psu_ok": False})]
    assert "temperature_c=83" in result.output


@pytest.mark.parametrize("bad", [["--ccq", "101"], ["--temperature", "panas"], ["--voltage", "x"]])
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, bad: list[str]) -> None:
    fake = FakeLab()
    monkeypatch.setattr(lab_cli, "_lab", lambda: fake)
    result = CliRunner().invoke(app, ["lab", "health", "rtr", *bad])
    assert result.exit_code != 0
    assert fake.calls == []
