"""Read YAML into plain Python data while remembering the line of every key and item.

The node graph is walked by hand (``compose``) instead of constructed, so duplicate keys are
reported with both lines instead of stopping the load at the first one. Everything else reads
as ruamel.yaml's own loader reads it (``agent.topology.apply`` writes the file back with it):
plain scalars are resolved by ruamel's resolver and ints, floats, booleans and nulls built by
its constructor for the document's YAML version (1.2 unless ``%YAML 1.1``: ``010`` is 10,
``0o10`` is 8, ``0x10`` 16, ``1_000`` 1000, ``'010'`` stays a string); timestamps stay the text
written (the schema parses them). The text is composed by libyaml through PyYAML's C parser:
every command reads the inventory, and libyaml composes the demo's 22 KB in ~8 ms where
ruamel's pure-Python composer takes ~100 ms (docs/decisions.md).

A merge key (``<<: *base`` or ``<<: [*a, *b]``) merges as YAML 1.1 and ruamel define it: the
mapping's own keys win, then the merged mappings in the order listed. A merged key keeps the
line where it is written, i.e. inside the anchored mapping.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import yaml
from ruamel.yaml import YAML
from ruamel.yaml import nodes as ruamel_nodes
from ruamel.yaml.resolver import VersionedResolver
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

if TYPE_CHECKING:
    from collections.abc import Iterator

Path = tuple[str | int, ...]

_CORE: Final = "tag:yaml.org,2002:"
_CONSTRUCTED: Final = frozenset({"null", "bool", "int", "float"})  # others stay the text
_VERSION_RE: Final = re.compile(r"^%YAML[ \t]+(\d+)\.(\d+)", re.MULTILINE)
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it


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
    version = _version(text)
    try:
        root = yaml.compose(text, Loader=_loader(version))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlSyntaxError(f"{exc.problem or exc.context}", line) from exc
    except yaml.YAMLError as exc:  # unmarked: e.g. a YAML 2.x directive
        raise YamlSyntaxError(str(exc), None) from exc
    source = Source(data=None)
    if root is not None:
        scalars = YAML(typ="safe", pure=True)
        scalars.version = version  # None: ruamel's default, YAML 1.2
        source.data = _Reader(source, scalars).convert(root, ())
    return source


def _version(text: str) -> tuple[int, int] | None:
    """The document's ``%YAML`` directive, if it has one."""
    match = _VERSION_RE.search(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


class _FixedVersionResolver(VersionedResolver):
    """ruamel's resolver for one YAML version, its implicit-resolver table looked up once.

    ruamel finds the version again for every scalar (``processing_version`` walks its loader
    through two caught AttributeErrors when there is none): 0.1 s of ``sigap tiket list``.
    """

    def __init__(self, version: tuple[int, int] | None) -> None:
        super().__init__(version=version)
        self._table = super().versioned_resolver

    @property
    def versioned_resolver(self) -> Any:
        return self._table


def _loader(version: tuple[int, int] | None) -> Any:
    """A libyaml composer whose plain scalars get the tags ruamel's resolver gives them."""
    resolver = _FixedVersionResolver(version)

    class Loader(_BASE_LOADER):  # type: ignore[misc]  # C or pure loader, chosen at import
        def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
            if kind is ScalarNode and implicit[0]:
                return str(resolver.resolve(ruamel_nodes.ScalarNode, value, implicit))
            return str(super().resolve(kind, value, implicit))

    return Loader


class _Reader:
    """Turns the node graph into plain data, recording lines and duplicate keys in ``source``."""

    def __init__(self, source: Source, scalars: YAML) -> None:
        self.source = source
        self.scalars = scalars  # its constructor builds bool/int/float/null for the version
        self.active: set[int] = set()  # nodes being read: an alias to one of them is a cycle

    def convert(self, node: Node, path: Path) -> Any:
        with self.entered(node, path):
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            if isinstance(node, SequenceNode):
                return self.sequence(node, path)
            assert isinstance(node, ScalarNode)  # noqa: S101 - the composer yields only these three
            return self.scalar(node)

    def sequence(self, node: SequenceNode, path: Path) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.source.lines[(*path, index)] = item.start_mark.line + 1
            items.append(self.convert(item, (*path, index)))
        return items

    def mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, (key_node, value_node) in self.pairs(node, path).items():
            child = (*path, key)
            self.source.lines[child] = key_node.start_mark.line + 1
            out[key] = self.convert(value_node, child)
        return out

    def pairs(self, node: MappingNode, path: Path) -> dict[Any, tuple[Node, Node]]:
        """The mapping's own keys, then the keys of the mappings it merges that it lacks."""
        own, merges = self.own_pairs(node, path)
        for merged in merges:
            with self.entered(merged, (*path, "<<")):
                for key, pair in self.pairs(merged, path).items():
                    own.setdefault(key, pair)
        return own

    def own_pairs(
        self, node: MappingNode, path: Path
    ) -> tuple[dict[Any, tuple[Node, Node]], list[MappingNode]]:
        """The keys written in the mapping (duplicates recorded) and what its ``<<`` merges."""
        own: dict[Any, tuple[Node, Node]] = {}
        merges: list[MappingNode] = []
        merge_line: int | None = None
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if _kind(key_node) == "merge" and merge_line is not None:
                self.duplicate((*path, "<<"), merge_line, line)
            elif _kind(key_node) == "merge":
                merge_line, merges = line, _merge_sources(value_node)
            elif (key := self.key(key_node)) in own:
                self.duplicate((*path, key), own[key][0].start_mark.line + 1, line)
            else:
                own[key] = (key_node, value_node)
        return own, merges

    def key(self, node: Node) -> str | int:
        key = self.scalar(node) if isinstance(node, ScalarNode) else str(node.value)
        return key if isinstance(key, str | int) else str(key)

    def scalar(self, node: ScalarNode) -> Any:
        """bool/int/float/None as ruamel builds them; any other scalar is the text written."""
        if _kind(node) not in _CONSTRUCTED:
            return node.value
        ruamel_node = ruamel_nodes.ScalarNode(node.tag, node.value, style=node.style)
        try:
            return self.scalars.constructor.construct_object(ruamel_node)
        except (ValueError, KeyError, IndexError):  # e.g. `!!int abc`: the schema reports it
            return node.value

    def duplicate(self, path: Path, first: int, again: int) -> None:
        """Record a duplicate key once, even when its mapping is read again through an alias."""
        if all((f, a) != (first, again) for _path, f, a in self.source.duplicates):
            self.source.duplicates.append((path, first, again))

    @contextmanager
    def entered(self, node: Node, path: Path) -> Iterator[None]:
        """Mark ``node`` as being read; reading it again inside itself is a recursive alias."""
        if id(node) in self.active:
            line = self.source.line_of(path)
            raise YamlSyntaxError("recursive alias: a node that contains itself", line)
        self.active.add(id(node))
        try:
            yield
        finally:
            self.active.discard(id(node))


def _kind(node: Node) -> str:
    """The core-schema name of a node's tag (``int``, ``merge``...); ``str`` for other tags."""
    tag = str(getattr(node.tag, "value", node.tag) or "")
    return tag.removeprefix(_CORE) if tag.startswith(_CORE) else "str"


def _merge_sources(node: Node) -> list[MappingNode]:
    """The mappings a merge key names, in order; anything else is a YAML error (as in ruamel)."""
    if isinstance(node, MappingNode):
        return [node]
    if not isinstance(node, SequenceNode):
        found = getattr(node, "id", "node")
        message = f"expected a mapping or list of mappings for merging, but found {found}"
        raise YamlSyntaxError(message, node.start_mark.line + 1)
    for item in node.value:
        if not isinstance(item, MappingNode):
            message = f"expected a mapping for merging, but found {getattr(item, 'id', 'node')}"
            raise YamlSyntaxError(message, item.start_mark.line + 1)
    return list(node.value)
