"""Module boundaries (STYLE 1, 9): one-way imports between packages; only the CLI prints."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "collectors", "ticketing", "labnet")
# package -> the first-party packages it must never import (agent is the composition root)
FORBIDDEN: dict[str, frozenset[str]] = {
    "collectors": frozenset({"ticketing", "agent", "labnet"}),
    "ticketing": frozenset({"collectors", "agent", "labnet"}),
    "labnet": frozenset({"agent", "collectors", "ticketing"}),
    "agent": frozenset(),
}
PRINT_ALLOWED_UNDER = "agent/cli/"
DYNAMIC_IMPORTERS = frozenset({"import_module", "__import__"})


def module_package(relpath: str) -> list[str]:
    """Return the package a module lives in, as parts ('collectors/ping.py' -> ['collectors'])."""
    parts = relpath.removesuffix(".py").split("/")
    return parts[:-1]  # for __init__.py this is the package itself, as Python resolves it


def resolve(relpath: str, level: int, module: str | None) -> str:
    """Turn ``from <level dots><module> import ...`` in ``relpath`` into an absolute name."""
    if level == 0:
        return module or ""
    package = module_package(relpath)
    base = package[: len(package) - (level - 1)] if level - 1 <= len(package) else []
    return ".".join([*base, *([module] if module else [])])


def imported_names(relpath: str, source: str) -> list[tuple[int, str]]:
    """Every module a file imports, anywhere (functions, TYPE_CHECKING, try blocks, dynamic)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=relpath)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolve(relpath, node.level, node.module)
            found.append((node.lineno, base))
            # `from . import store` / `from .. import agent`: the names may be modules
            if node.module is None:
                found.extend((node.lineno, f"{base}.{a.name}".lstrip(".")) for a in node.names)
        elif isinstance(node, ast.Call) and _dynamic_target(node) is not None:
            found.append((node.lineno, _dynamic_target(node) or ""))
    return found


def _dynamic_target(call: ast.Call) -> str | None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in DYNAMIC_IMPORTERS or not call.args:
        return None
    arg = call.args[0]
    return arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None


def violations(relpath: str, source: str) -> list[str]:
    """Forbidden first-party imports in one file, as 'path:line imports name'."""
    package = relpath.split("/", 1)[0]
    forbidden = FORBIDDEN.get(package, frozenset())
    return [
        f"{relpath}:{line} imports {name}"
        for line, name in imported_names(relpath, source)
        if name.split(".", 1)[0] in forbidden
    ]


def print_calls(relpath: str, source: str) -> list[str]:
    """Calls of the builtin print (``print(...)`` or ``builtins.print(...)``)."""
    found = []
    for node in ast.walk(ast.parse(source, filename=relpath)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Name) and func.id == "print") or (
            isinstance(func, ast.Attribute)
            and func.attr == "print"
            and isinstance(func.value, ast.Name)
            and func.value.id == "builtins"
        ):
            found.append(f"{relpath}:{node.lineno} calls print")
    return found


def sources() -> list[tuple[str, str]]:
    files = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))
    return [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in files]


# ------------------------------------------------------------------ the real tree


def test_every_package_has_sources() -> None:
    seen = {relpath.split("/", 1)[0] for relpath, _ in sources()}
    assert seen == set(PACKAGES)


def test_imports_go_one_way() -> None:
    found = [v for relpath, text in sources() for v in violations(relpath, text)]
    assert found == []


def test_only_the_cli_prints() -> None:
    found = [
        v
        for relpath, text in sources()
        if not relpath.startswith(PRINT_ALLOWED_UNDER)
        for v in print_calls(relpath, text)
    ]
    assert found == []


# ------------------------------------------------------------------ the checker itself

CAUGHT = [
    ("collectors/ping.py", "import ticketing.store\n", "ticketing.store"),
    ("collectors/ping.py", "from agent.config.load import load_inventory\n", "agent.config.load"),
    ("collectors/ping.py", "import labnet as ln\n", "labnet"),
    ("collectors/ping.py", "from ..ticketing import store\n", "ticketing"),
    ("collectors/ping.py", "from .. import agent\n", "agent"),
    ("collectors/__init__.py", "from ..labnet.lab import Lab\n", "labnet.lab"),
    ("collectors/sub/deep.py", "from ...agent import daemon\n", "agent"),
    (
        "ticketing/store.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from collectors.model import X\n",
        "collectors.model",
    ),
    (
        "ticketing/store.py",
        "def f():\n    import agent.runtime.daemon\n    return agent\n",
        "agent.runtime.daemon",
    ),
    (
        "ticketing/store.py",
        "class S:\n    async def g(self):\n        from labnet import plan\n",
        "labnet",
    ),
    ("ticketing/store.py", "try:\n    import agent\nexcept ImportError:\n    pass\n", "agent"),
    ("labnet/lab.py", "import importlib\nm = importlib.import_module('agent.cli')\n", "agent.cli"),
    ("labnet/lab.py", "m = __import__('collectors')\n", "collectors"),
    ("labnet/lab.py", "import os, ticketing.views\n", "ticketing.views"),
]


@pytest.mark.parametrize(("relpath", "source", "name"), CAUGHT)
def test_checker_catches_violation(relpath: str, source: str, name: str) -> None:
    found = violations(relpath, source)
    assert found, source
    assert any(v.endswith(f" imports {name}") for v in found), found


ALLOWED = [
    ("agent/daemon.py", "from collectors.model import Observation\nimport ticketing.store\n"),
    ("agent/cli.py", "from labnet.errors import LabError\n"),
    ("collectors/ping.py", "from . import model\nfrom .errors import CollectorError\n"),
    ("collectors/ping.py", "from collectors._icmp.codec import x\nimport asyncio\n"),
    ("ticketing/migrations/env.py", "from ticketing.db import VERSION_TABLE\n"),
    ("ticketing/migrations/versions/0001.py", "from ... import models\n"),
    ("labnet/lab.py", "import agents_of_change\nfrom collectorsx import y\n"),
]


@pytest.mark.parametrize(("relpath", "source"), ALLOWED)
def test_checker_allows_legal_imports(relpath: str, source: str) -> None:
    assert violations(relpath, source) == []


@pytest.mark.parametrize(
    ("relpath", "level", "module", "expected"),
    [
        ("collectors/ping.py", 1, "model", "collectors.model"),
        ("collectors/ping.py", 1, None, "collectors"),
        ("collectors/ping.py", 2, "agent", "agent"),
        ("collectors/__init__.py", 1, "ping", "collectors.ping"),
        ("ticketing/migrations/versions/x.py", 3, "db", "ticketing.db"),
        ("ticketing/store.py", 0, "sqlalchemy", "sqlalchemy"),
    ],
)
def test_relative_import_resolution(
    relpath: str, level: int, module: str | None, expected: str
) -> None:
    assert resolve(relpath, level, module) == expected


def test_print_checker() -> None:
    source = (
        "import builtins\n"
        "def f(console):\n"
        "    print('x')\n"
        "    builtins.print('y')\n"
        "    console.print('rich is not the builtin')\n"
    )
    assert print_calls("agent/daemon.py", source) == [
        "agent/daemon.py:3 calls print",
        "agent/daemon.py:4 calls print",
    ]


def test_test_module_basenames_are_unique() -> None:
    """pytest's default (prepend) import mode cannot collect two test files of one name."""
    tests = Path(__file__).resolve().parents[1]
    names = [p.name for p in tests.rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
