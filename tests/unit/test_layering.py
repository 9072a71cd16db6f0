"""Module boundaries (STYLE 1, 9): one-way imports, no cycles, one composition root, CLI prints.

Every import counts: at module level, under ``TYPE_CHECKING``, inside functions, in ``try``
blocks, and ``importlib.import_module('...')`` with a literal name.
"""

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
# imports inside functions (lazy, for CLI start-up time) only in the CLI and the composition root
LAZY_IMPORTS_ALLOWED = ("agent/cli/", "agent/wiring.py")
WIRING = "agent.wiring"  # built here, handed down: imported by the CLI only
CLI = "agent.cli"  # imported by ``python -m agent`` only
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


def module_name(relpath: str) -> str:
    """``agent/cli/__init__.py`` -> ``agent.cli``; ``agent/wiring.py`` -> ``agent.wiring``."""
    return relpath.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def module_edges(relpath: str, source: str, modules: frozenset[str]) -> set[str]:
    """First-party modules ``relpath`` imports, each resolved to the longest known module.

    ``from agent.web import actions`` is an edge to ``agent.web.actions`` (a module), while
    ``from agent.web.app import Board`` is an edge to ``agent.web.app``.
    """
    targets: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=relpath)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(relpath, node.level, node.module)
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        elif isinstance(node, ast.Call) and _dynamic_target(node) is not None:
            names = [_dynamic_target(node) or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            for end in range(len(parts), 0, -1):
                if (candidate := ".".join(parts[:end])) in modules:
                    targets.add(candidate)
                    break
    return targets - {module_name(relpath)}


def import_graph(files: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Module -> the first-party modules it imports (anywhere in the file)."""
    modules = frozenset(module_name(relpath) for relpath, _ in files)
    return {module_name(r): module_edges(r, s, modules) for r, s in files}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan; the graph is shallow)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(component) > 1:
                found.append(sorted(component))

    for root in sorted(graph):
        if root not in index:
            visit(root)
    return found


def lazy_imports(relpath: str, source: str) -> list[str]:
    """Imports inside a function or class body, as 'path:line'."""
    found: list[str] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            )
            if nested and isinstance(child, ast.Import | ast.ImportFrom):
                found.append(f"{relpath}:{child.lineno}")
            visit(child, inner)

    visit(ast.parse(source, filename=relpath), nested=False)
    return found


# ------------------------------------------------------------------ the real tree


def test_every_package_has_sources() -> None:
    seen = {relpath.split("/", 1)[0] for relpath, _ in sources()}
    assert seen == set(PACKAGES)


def test_imports_go_one_way() -> None:
    found = [v for relpath, text in sources() for v in violations(relpath, text)]
    assert found == []


def test_no_import_cycles() -> None:
    assert cycles(import_graph(sources())) == []


def test_lazy_imports_only_in_the_cli_and_the_composition_root() -> None:
    found = [
        v
        for relpath, text in sources()
        if not relpath.startswith(LAZY_IMPORTS_ALLOWED)
        for v in lazy_imports(relpath, text)
    ]
    noqa = [
        f"{relpath}:{n}"
        for relpath, text in sources()
        if not relpath.startswith(LAZY_IMPORTS_ALLOWED)
        for n, line in enumerate(text.splitlines(), 1)
        if "PLC0415" in line
    ]
    assert (found, noqa) == ([], [])


def test_only_the_cli_uses_the_composition_root() -> None:
    graph = import_graph(sources())
    wiring_users = sorted(m for m, deps in graph.items() if WIRING in deps)
    cli_users = sorted(m for m, deps in graph.items() if CLI in deps and not m.startswith(CLI))
    assert [m for m in wiring_users if not m.startswith(f"{CLI}")] == []
    assert cli_users == ["agent.__main__"]


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


# ------------------------------------------------------------------ the cycle checker itself

PLANTED = [
    # a plain cycle
    [("agent/a.py", "import agent.b\n"), ("agent/b.py", "from agent.a import x\n")],
    # hidden under TYPE_CHECKING on one side
    [
        ("agent/a.py", "from agent.b import y\n"),
        (
            "agent/b.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from agent.a import A\n",
        ),
    ],
    # hidden inside a function on one side, through a third module
    [
        ("agent/a.py", "import agent.b\n"),
        ("agent/b.py", "import agent.c\n"),
        ("agent/c.py", "def f():\n    from agent import a\n    return a\n"),
    ],
    # a package importing its module that imports the package's sibling back by `from pkg import`
    [
        ("agent/web/__init__.py", ""),
        ("agent/web/app.py", "def make():\n    from agent.web import pages\n"),
        ("agent/web/pages.py", "from agent.web.app import board_of\n"),
    ],
    # dynamic import
    [
        ("agent/a.py", "import agent.b\n"),
        ("agent/b.py", "import importlib\nimportlib.import_module('agent.a')\n"),
    ],
]


@pytest.mark.parametrize("files", PLANTED)
def test_cycle_checker_catches_planted_cycle(files: list[tuple[str, str]]) -> None:
    assert cycles(import_graph(files)) != []


def test_cycle_checker_allows_a_tree() -> None:
    files = [
        ("agent/__init__.py", ""),
        ("agent/a.py", "import agent.b\nfrom agent import c\n"),
        ("agent/b.py", "from agent.c import z\n"),
        ("agent/c.py", "import collectors.model\n"),
        ("collectors/model.py", "import dataclasses\n"),
    ]
    assert cycles(import_graph(files)) == []


def test_lazy_import_checker() -> None:
    source = (
        "import os\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import agent.b\n"
        "def f():\n    import json\n"
        "class K:\n    async def g(self):\n        from agent import c\n"
    )
    assert lazy_imports("agent/x.py", source) == ["agent/x.py:6", "agent/x.py:9"]
