"""No test asserts a wall time (issue 17, finding 10): a loaded CI machine fails it.

Time belongs in tests/bench (a ratio against the anchor, printed); a test may bound time only
generously, to catch a hang. This scan finds every ``assert`` that compares a clock reading
(``time.monotonic()``, ``perf_counter()``, ``time.time()``, or a name assigned from one in the
same function) with a number below ``HANG_FLOOR_S``, in every test outside tests/bench.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parents[1]
CLOCKS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns"}
HANG_FLOOR_S = 60.0
ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _reads_clock(node: ast.AST, timed: set[str]) -> bool:
    """Whether ``node`` calls a clock or uses a name that holds a clock reading."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in CLOCKS:
                return True
        if isinstance(sub, ast.Name) and sub.id in timed:
            return True
    return False


def _timed_names(scope: ast.AST) -> set[str]:
    """Names assigned (directly or through another timed name) from a clock reading."""
    timed: set[str] = set()
    while True:
        found = {
            target.id
            for node in ast.walk(scope)
            if isinstance(node, ast.Assign) and _reads_clock(node.value, timed)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        if found <= timed:
            return timed
        timed |= found


def _small_bounds(compare: ast.Compare) -> list[float]:
    """Numeric literals below the hang floor on either side of an ordering comparison."""
    if not any(isinstance(op, ORDER) for op in compare.ops):
        return []
    sides = [compare.left, *compare.comparators]
    return [
        float(s.value)
        for s in sides
        if isinstance(s, ast.Constant)
        and isinstance(s.value, int | float)
        and not isinstance(s.value, bool)
        and s.value < HANG_FLOOR_S
    ]


def timed_asserts(source: str) -> list[tuple[int, str]]:
    """(line, text) of every assert comparing a clock reading with a small number."""
    tree = ast.parse(source)
    found = set()
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        timed = _timed_names(func)
        asserts = (node for node in ast.walk(func) if isinstance(node, ast.Assert))
        found |= {
            (node.lineno, ast.unparse(node))
            for node in asserts
            for compare in ast.walk(node.test)
            if isinstance(compare, ast.Compare)
            and _reads_clock(compare, timed)
            and _small_bounds(compare)
        }
    return sorted(found)


def test_the_scan_finds_the_shapes_that_failed_ci() -> None:
    source = (
        "import time\n"
        "def test_a():\n    started = time.monotonic()\n    wall = time.monotonic() - started\n"
        "    assert wall < 3.0\n"
        "def test_b():\n    t0 = time.perf_counter()\n    assert time.perf_counter() - t0 <= 2\n"
        "def test_c():\n    started = time.monotonic()\n    elapsed = time.monotonic() - started\n"
        "    assert elapsed < 120  # a hang bound\n    assert (7, 1000 + int(elapsed)) == (7, 9)\n"
    )
    assert [line for line, _ in timed_asserts(source)] == [5, 8]


def test_no_test_asserts_a_small_wall_time() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{line}: {text}"
        for path in sorted(TESTS.rglob("*.py"))
        if "bench" not in path.relative_to(TESTS).parts
        for line, text in timed_asserts(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "move the timing to tests/bench:\n" + "\n".join(offenders)
