"""agent.config.source: YAML with lines reads what ruamel.yaml reads (merge keys, ints, bools)."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import pytest
from ruamel.yaml import YAML

from agent.config.load import load_inventory
from agent.config.source import Source, YamlSyntaxError, load_source
from agent.errors import ConfigError

pytestmark = pytest.mark.unit


def read(text: str) -> Source:
    return load_source(textwrap.dedent(text).lstrip("\n"))


def ruamel_reads(text: str) -> Any:
    """What ruamel's round-trip loader (``sigap discover --apply``) reads, as plain data."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        for kind in (int, float, str):
            if isinstance(value, kind):
                return kind(value)
        return value

    return plain(YAML(typ="rt").load(textwrap.dedent(text).lstrip("\n")))


# ------------------------------------------------------------------ merge keys

MERGES = """
base: &base {x: 1, y: 2}
other: &other
  y: 3
  z: 4
single:
  <<: *base
  y: 9
before:
  y: 7
  <<: *base
listed:
  <<: [*base, *other]
  w: 0
reversed:
  <<: [*other, *base]
nested:
  <<: {<<: *other, v: 5}
"""


def test_a_merge_key_merges_and_the_mappings_own_keys_win() -> None:
    data = read(MERGES).data
    assert data["single"] == {"y": 9, "x": 1}
    assert data["before"] == {"y": 7, "x": 1}
    assert "<<" not in data["single"]


def test_a_list_of_merges_takes_earlier_mappings_first() -> None:
    data = read(MERGES).data
    assert data["listed"] == {"w": 0, "x": 1, "y": 2, "z": 4}
    assert data["reversed"] == {"y": 3, "z": 4, "x": 1}
    assert data["nested"] == {"v": 5, "y": 3, "z": 4}


def test_merges_read_as_ruamel_reads_them() -> None:
    data = read(MERGES).data
    assert data == ruamel_reads(MERGES)
    assert list(data["listed"]) == list(ruamel_reads(MERGES)["listed"])  # same key order


def test_a_merged_key_has_the_line_of_the_anchored_mapping() -> None:
    source = read(MERGES)
    assert source.line_of(("single", "x")) == 1  # written in `base`
    assert source.line_of(("single", "y")) == 7  # the mapping's own key
    assert source.line_of(("listed", "z")) == 4  # from `other`, line of `z:`
    assert source.line_of(("nested", "v")) == 17


def test_duplicate_keys_beside_a_merge_are_reported_with_both_lines() -> None:
    source = read(
        """
        base: &base {x: 1}
        m:
          <<: *base
          x: 2
          x: 3
        """
    )
    assert source.data["m"] == {"x": 2}
    assert source.duplicates == [(("m", "x"), 4, 5)]


def test_a_duplicate_inside_an_anchor_is_reported_once() -> None:
    source = read(
        """
        base: &base
          x: 1
          x: 2
        a: {<<: *base}
        b: {<<: *base}
        """
    )
    assert source.duplicates == [(("base", "x"), 2, 3)]
    assert source.data["a"] == source.data["b"] == {"x": 1}


def test_two_merge_keys_in_one_mapping_are_a_duplicate() -> None:
    source = read(
        """
        a: &a {x: 1}
        b: &b {y: 1}
        m:
          <<: *a
          <<: *b
        """
    )
    assert source.duplicates == [(("m", "<<"), 4, 5)]
    assert source.data["m"] == {"x": 1}


def test_a_quoted_merge_key_is_a_plain_key() -> None:
    assert read("m: {'<<': 1}\n").data == {"m": {"<<": 1}}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "m:\n  <<: 5\n",
            2,
            "mappings for merging, but found scalar",
        ),
        ("a: &a {x: 1}\nm:\n  <<: [*a, [1]]\n", 3, "expected a mapping for merging"),
    ],
)
def test_merging_something_else_than_mappings_is_a_yaml_error(
    text: str, line: int, words: str
) -> None:
    with pytest.raises(YamlSyntaxError) as info:
        load_source(text)
    assert words in str(info.value)
    assert info.value.line == line


@pytest.mark.parametrize("text", ["a: &a\n  b: *a\n", "a: &a\n  <<: *a\n", "a: &a [1, *a]\n"])
def test_a_recursive_alias_is_a_yaml_error_not_a_crash(text: str) -> None:
    with pytest.raises(YamlSyntaxError, match="recursive alias"):
        load_source(text)


def test_an_inventory_with_merge_keys_loads(tmp_path: Any) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        textwrap.dedent(
            """
            office: {name: Test}
            defaults: {role: router, platform: mikrotik_routeros}
            hosts:
              a: &site
                address: 10.0.0.1
                opd: OPD A
                site: Praya
              b:
                <<: *site
                address: 10.0.0.2
                parent: a
                bogus: 1
            """
        ).lstrip("\n"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_inventory(path, env={})
    [problem] = info.value.problems
    assert (problem.path, problem.line) == ("hosts.b.bogus", 12)
    path.write_text(path.read_text(encoding="utf-8").replace("    bogus: 1\n", ""))
    inventory = load_inventory(path, env={})
    b = inventory.devices["b"]
    assert (b.address, b.opd, b.site, b.parent) == ("10.0.0.2", "OPD A", "Praya", "a")


# ------------------------------------------------------------------ scalars

SCALARS = [
    ("010", 10),  # YAML 1.2: decimal, the leading zero means nothing
    ("-010", -10),
    ("09", 9),
    ("0o10", 8),
    ("0x10", 16),
    ("0b101", 5),
    ("1_000", 1000),
    ("+10", 10),
    ("'010'", "010"),
    ('"010"', "010"),
    ("0O10", "0O10"),  # not an int in YAML 1.2
    ("!!str 010", "010"),
    ("!!int '012'", 12),
    ("!!int abc", "abc"),  # the schema check reports it
    ("true", True),
    ("True", True),
    ("FALSE", False),
    ("yes", "yes"),  # YAML 1.1 booleans are strings in 1.2
    ("on", "on"),
    ("'true'", "true"),
    ("~", None),
    ("null", None),
    ("", None),
    ("1.5", 1.5),
    ("1e3", 1000.0),
    ("1_0.5", 10.5),
    ("-.inf", -math.inf),
    ("22:00", "22:00"),  # not sexagesimal in 1.2
    ("2026-01-02T10:00:00+08:00", "2026-01-02T10:00:00+08:00"),  # timestamps stay the text
    ("5s", "5s"),
]


@pytest.mark.parametrize(("written", "value"), SCALARS)
def test_scalars_read_as_ruamel_reads_them(written: str, value: Any) -> None:
    data = read(f"v: {written}\n").data
    assert data["v"] == value
    assert type(data["v"]) is type(value)
    if not written.startswith(("2026", "!!")):  # ruamel: datetimes, tagged scalars
        assert data == ruamel_reads(f"v: {written}\n")


def test_nan_is_a_float() -> None:
    assert math.isnan(read("v: .NaN\n").data["v"])


def test_int_keys_are_ints() -> None:
    assert read("010: a\n0x1: b\n'2': c\n").data == {10: "a", 1: "b", "2": "c"}


def test_a_yaml_1_1_document_reads_as_yaml_1_1() -> None:
    text = "%YAML 1.1\n---\noctal: 010\nflag: yes\nsexagesimal: 1:30\n"
    data = load_source(text).data
    assert data == {"octal": 8, "flag": True, "sexagesimal": 90}
    assert data == ruamel_reads(text)


def test_lines_of_keys_and_items() -> None:
    source = read(
        """
        a:
          b: [x,
              y]
          c:
            - 1
            - 2
        """
    )
    assert source.lines[("a",)] == 1
    assert source.lines[("a", "b")] == 2
    assert source.lines[("a", "b", 1)] == 3
    assert source.lines[("a", "c", 1)] == 6
    assert source.line_of(("a", "c", 1, "nothing")) == 6


def test_folded_and_literal_blocks_are_the_text_yaml_says() -> None:
    """ruamel's round-trip composer left a BEL (\\x07) where a folded line broke; not any more."""
    src = load_source("a: >-\n  one\n  two\nb: |\n  x\n  y\n")
    assert src.data == {"a": "one two", "b": "x\ny\n"}
