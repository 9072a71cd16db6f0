"""Hostile inventories (issue 17, finding 9): every wrong value is a listed problem, never a crash.

Property-based: the shipped inventory, parsed, gets one to three mutations at random paths
(deleted keys, values of the wrong type, huge, unicode, NUL and control-character strings,
deep nesting, garbage keys), is written back as YAML and loaded as ``sigap check`` loads it.
The only outcomes allowed are an Inventory or a ConfigError whose problems each name a path,
a message and a line, sorted by line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent import cli
from agent.config.load import load_inventory
from agent.errors import ConfigError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "inventory.yaml"

Key = str | int


def _absolute_files(node: Any) -> Any:
    """The shipped data with every relative ``*_file`` made absolute (the fuzz writes elsewhere)."""
    if isinstance(node, dict):
        return {
            k: str(ROOT / v)
            if isinstance(k, str) and k.endswith("_file") and isinstance(v, str)
            else _absolute_files(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_files(v) for v in node]
    return node


BASE = _absolute_files(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))


def _paths(node: Any, prefix: tuple[Key, ...] = ()) -> list[tuple[Key, ...]]:
    """Every key and item path of ``node``, depth first."""
    items: list[tuple[Key, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    found = []
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


PATHS = _paths(BASE)
# the shapes of every section (a host's, a group's, a person's keys), tried more often than
# the 2,000 deep paths of the shipped file
SHALLOW = sorted({p for p in PATHS if len(p) <= 3}, key=str)

text = st.one_of(
    st.text(max_size=40),
    st.just("\x00"),
    st.just("a\x00b\x1b[2J\u202e\r\n"),
    st.just("x" * 100_000),
    st.just("\U0001d530\U0001d526 \u2713 \u2013 \u03a9"),  # fraktur, check mark, dash, omega
    st.just("[/nonexistent]"),
    st.just("10.1.0.1\n"),
)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


wrong = st.one_of(
    scalar,
    st.lists(scalar, max_size=4),
    st.dictionaries(st.text(max_size=8), scalar, max_size=4),
    st.sampled_from([_nested(60), {"x": 1}, [1, 2], [], {}]),
)
mutation = st.tuples(
    st.one_of(st.sampled_from(SHALLOW), st.sampled_from(PATHS)),
    st.sampled_from(["delete", "replace", "rename"]),
    wrong,
)


def _mutate(data: Any, path: tuple[Key, ...], how: str, value: Any) -> Any:
    """Apply one mutation in place when ``path`` still exists; return ``data``."""
    parent = data
    for key in path[:-1]:
        try:
            parent = parent[key]
        except (KeyError, IndexError, TypeError):
            return data
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        if how == "delete":
            del parent[last]
        elif how == "rename":
            parent[str(value)[:50] or "\x00"] = parent.pop(last)
        else:
            parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        if how == "delete":
            del parent[last]
        else:
            parent[last] = value
    return data


def _check(path: Path) -> ConfigError | None:
    """Load like `sigap check`; only an Inventory or a well-formed ConfigError may come out."""
    try:
        load_inventory(path, env={})
    except ConfigError as exc:
        error = exc
    else:
        return None
    assert error.problems, "a ConfigError lists its problems"
    for problem in error.problems:
        assert problem.path, problem
        assert problem.message, problem
        written = problem.path in {"(file)", "(yaml)"} or "missing" in problem.message
        assert problem.line is not None or written, problem  # a missing key has no line
    return error


@settings(
    max_examples=int(os.environ.get("SIGAP_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mutations=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_inventory_is_an_inventory_or_listed_problems(
    tmp_path: Path, mutations: list[tuple[tuple[Key, ...], str, Any]]
) -> None:
    data = yaml.safe_load(yaml.safe_dump(BASE))  # a fresh deep copy
    for path, how, value in mutations:
        data = _mutate(data, path, how, value)
    file = tmp_path / "inventory.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    _check(file)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"x": 1}, "hosts.a.opd"),
        ([1, 2], "hosts.a.opd"),
        (12, "hosts.a.opd"),
    ],
)
def test_check_lists_an_opd_of_the_wrong_type_and_exits_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: Any,
    expected: str,
) -> None:
    """The review's case: a host's ``opd`` as a mapping or list crashed the OPD count."""
    file = tmp_path / "inventory.yaml"
    file.write_text(
        "office: {name: Diskominfo Uji}\n"
        "people: [{name: Kasi, role: kasi, email: kasi@example.org}]\n"
        "hosts:\n"
        f"  a: {{address: 10.1.0.1, opd: {json.dumps(value)}, platform: linux, role: server}}\n"
        "  b: {address: 10.1.0.2, opd: Dinas B, platform: linux, role: server}\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys, "argv", ["sigap", "check", str(file)])
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"line 4    {expected}: expected a valid string" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "text",
    ["hosts:\n  a: " + "[" * 5_000 + "]" * 5_000 + "\n", "a: b\x00c\n", "\x1b]0;x\x07: 1\n"],
)
def test_hostile_yaml_text_is_a_listed_problem(tmp_path: Path, text: str) -> None:
    file = tmp_path / "inventory.yaml"
    file.write_text(text, encoding="utf-8")
    assert _check(file) is not None


@pytest.mark.parametrize(
    "value", ["146873183373440.0", "-146891973855360.0", "99999999999d", ".inf", ".nan", "1e300"]
)
def test_an_absurd_duration_is_a_listed_problem(tmp_path: Path, value: str) -> None:
    """Found by the fuzz: a huge interval overflowed timedelta (OverflowError, a traceback)."""
    file = tmp_path / "inventory.yaml"
    file.write_text(
        "office: {name: Uji}\n"
        f"defaults: {{ping: {{interval: {value}}}}}\n"
        "hosts:\n  a: {address: 10.1.0.1, platform: linux, role: server, opd: Uji}\n",
        encoding="utf-8",
    )
    error = _check(file)
    assert error is not None
    assert any(p.path == "defaults.ping.interval" for p in error.problems), error.problems


@pytest.mark.parametrize("name", ["\\0", "a\\0b", "x/\\0"])
def test_a_secret_file_name_with_nul_is_a_listed_problem(tmp_path: Path, name: str) -> None:
    """Found by the fuzz: os.access raised ValueError (embedded null byte) in three checks."""
    file = tmp_path / "inventory.yaml"
    file.write_text(
        "office: {name: Uji}\n"
        f'defaults: {{snmp: {{version: "2c", community_file: "{name}"}}}}\n'
        "people:\n"
        f'  - {{name: Kasi, role: kasi, apprise_file: ["{name}"]}}\n'
        "hosts:\n  a: {address: 10.1.0.1, platform: linux, role: server, opd: Uji}\n",
        encoding="utf-8",
    )
    error = _check(file)
    assert error is not None
    paths = {p.path for p in error.problems}
    assert {"defaults.snmp.community_file", "people[0].apprise_file[0]"} <= paths, paths


@pytest.mark.parametrize(
    ("content", "says"), [(b"", "is empty"), (b"\n\n", "is empty"), (b"\xff\xfe", "UTF-8")]
)
def test_an_empty_or_binary_secret_file_is_a_listed_problem(
    tmp_path: Path, content: bytes, says: str
) -> None:
    (tmp_path / "community").write_bytes(content)
    file = tmp_path / "inventory.yaml"
    file.write_text(
        "office: {name: Uji}\n"
        'defaults: {snmp: {version: "2c", community_file: community}}\n'
        "hosts:\n  a: {address: 10.1.0.1, platform: linux, role: server, opd: Uji}\n",
        encoding="utf-8",
    )
    error = _check(file)
    assert error is not None
    [problem] = error.problems
    assert problem.path == "defaults.snmp.community_file"
    assert says in problem.message
