"""Issue 16's rule: no module over ~400 lines unless it is one concept, named in its docstring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "collectors", "ticketing", "labnet")
LIMIT = 400


def _long_modules() -> list[Path]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    return [p for p in files if "migrations" not in p.parts and _lines(p) > LIMIT]


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_every_long_module_names_its_one_concept() -> None:
    unnamed = [
        f"{p.relative_to(ROOT)} ({_lines(p)} lines)"
        for p in _long_modules()
        if "one concept" not in (ast.get_docstring(ast.parse(p.read_text("utf-8"))) or "").lower()
    ]
    assert not unnamed, f"split these, or name their one concept in the docstring: {unnamed}"


def test_the_rule_sees_a_long_module(tmp_path: Path) -> None:
    long = tmp_path / "long.py"
    long.write_text('"""Many things."""\n' + "x = 1\n" * (LIMIT + 1), encoding="utf-8")
    assert _lines(long) > LIMIT
    assert "one concept" not in (ast.get_docstring(ast.parse(long.read_text("utf-8"))) or "")
