"""Read YAML into plain Python data while remembering the line of every key and item.

The node graph is walked by hand (``compose``) instead of constructed, so duplicate keys are
reported with both lines instead of stopping the load at the first one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]

_BOOL = {"true": True, "false": False}
_FLOAT_SPECIAL = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}


@dataclass
class Source:
    """Plain data of one YAML document plus where each path was written."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """Return the line of ``path`` or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


class YamlSyntaxError(ValueError):
    """Raised when the text is not YAML; carries the line of the mistake."""

    def __init__(self, message: str, line: int | None) -> None:
        """Keep the parser's message and line."""
        super().__init__(message)
        self.line = line


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else ``{}`` (the schema check reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a sequence, else ``[]`` (the schema check reports the wrong type)."""
    return value if isinstance(value, list) else []


def load_source(text: str) -> Source:
    """Parse ``text`` into a :class:`Source`; raise :class:`YamlSyntaxError` on bad YAML."""
    try:
        root = YAML(typ="rt").compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlSyntaxError(f"{exc.problem or exc.context}", line) from exc
    source = Source(data=None)
    if root is not None:
        source.data = _convert(root, (), source)
    return source


def _convert(node: Node, path: Path, source: Source) -> Any:
    if isinstance(node, MappingNode):
        return _convert_mapping(node, path, source)
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            source.lines[(*path, index)] = item.start_mark.line + 1
            items.append(_convert(item, (*path, index), source))
        return items
    assert isinstance(node, ScalarNode)  # noqa: S101 - the composer yields only these three
    return _scalar(node)


def _convert_mapping(node: MappingNode, path: Path, source: Source) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = _scalar(key_node) if isinstance(key_node, ScalarNode) else str(key_node.value)
        key = key if isinstance(key, str | int) else str(key)
        line = key_node.start_mark.line + 1
        child = (*path, key)
        if key in out:
            source.duplicates.append((child, source.lines[child], line))
            continue
        source.lines[child] = line
        out[key] = _convert(value_node, child, source)
    return out


def _scalar(node: ScalarNode) -> Any:
    """Turn a scalar into bool/int/float/None/str following YAML 1.2 core tags."""
    tag = str(getattr(node.tag, "value", node.tag) or "")
    value: str = node.value
    kind = tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else "str"
    if kind == "null":
        return None
    if kind == "bool":
        return _BOOL.get(value.lower(), value)
    if kind == "int":
        try:
            return int(value.replace("_", ""), 0)
        except ValueError:
            return value
    if kind == "float":
        special = _FLOAT_SPECIAL.get(value.lower())
        return special if special is not None else float(value.replace("_", ""))
    return value
