"""Validation patterns match whole strings (issue 17, finding 8): no ``$`` that lets "x\\n" by.

Python's ``$`` also matches before a trailing newline, so ``re.compile(r"^[a-z]+$").match``
accepts ``"rtr\\n"``: a device name, a community or a lab name with a newline would reach a
config file or a command line. Every compiled pattern in the code ends with ``\\Z`` instead
(or is MULTILINE, where ``$`` means a line end on purpose).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from agent.config.load import load_inventory
from agent.errors import ConfigError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "collectors", "ticketing", "labnet")


def _loose_patterns(source: str) -> list[tuple[int, str]]:
    """(line, pattern) of every ``re.compile`` whose pattern can end before a newline."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "compile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            continue
        flags = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
        flags += " ".join(ast.unparse(k.value) for k in node.keywords)
        pattern = node.args[0].value
        if "MULTILINE" not in flags and re.search(r"(?<!\\)\$\)*\Z", pattern):
            found.append((node.lineno, pattern))
    return found


def test_the_scan_finds_a_trailing_dollar() -> None:
    source = (
        'import re\nA = re.compile(r"^[a-z]+$")\nB = re.compile(r"^x\\Z")\n'
        'C = re.compile(r"(a|$)")\n'
    )
    assert [line for line, _ in _loose_patterns(source)] == [2, 4]


def test_no_pattern_lets_a_trailing_newline_through() -> None:
    loose = [
        f"{path.relative_to(ROOT)}:{line}: {pattern}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, pattern in _loose_patterns(path.read_text(encoding="utf-8"))
    ]
    assert loose == [], "end these patterns with \\Z:\n" + "\n".join(loose)


def test_a_device_name_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        'office: {name: Uji}\nhosts:\n  "rtr\\n": {address: 10.1.0.1, platform: linux, '
        "role: server, opd: Uji}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="rtr"):
        load_inventory(inventory, env={})
