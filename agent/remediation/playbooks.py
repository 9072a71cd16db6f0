"""Playbooks as data: fault kind x platform -> pre-check, commands, verification, rollback.

A playbook file (``playbooks/*.yaml``, see ``aktifkan-port.yaml``) is validated when loaded:
unknown keys, a placeholder other than ``{interface}``, a regular expression that does not
compile, or a pre-check/verify command that is not read-only are errors naming the file and
the line. Rendering takes the interface name from the fault only after
:func:`check_interface` accepted it: a plain name the device reported, without spaces or
shell/CLI metacharacters. Nothing from the inventory or the device is pasted into a command
line unchecked.

A check reads the output with a regular expression (``expect``) or, on RouterOS, as items
with flags (``flags``, :mod:`agent.remediation.routeros`). In a check ``{interface}`` is
any name the device gives the port, ifName or ifDescr (IOS tables print
``GigabitEthernet1/0/1`` for ifName ``Gi1/0/1``); commands use the ifName.

One concept: a playbook, from its file to the plan sent (schema, checks, rendering, loading).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.config.schema import Name, Platform
from agent.config.source import YamlSyntaxError, load_source
from agent.errors import ConfigError, Problem
from agent.remediation.routeros import FlagCheck
from ticketing.faults import FaultKind

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Mapping

    from agent.config.model import Device

BUNDLED_DIR: Final = Path(__file__).resolve().parent / "playbooks"
# whole-string shapes: \A...\Z and fullmatch (``$`` would also accept a trailing newline)
INTERFACE_RE: Final = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9/._:-]{0,63}\Z")
PLACEHOLDERS: Final = frozenset({"interface"})
ROUTEROS: Final = "mikrotik_routeros"
_ROS_VERBS: Final = (
    r"(add|set|unset|remove|enable|disable|edit|move|comment|reset\S*|reboot|shutdown|"
    r"run|execute|import|upgrade|export|send|fetch)\b"
)
_WORD: Final = r"[!-~]+"  # printable ASCII, no space: no control character rides along
# read-only command shapes per platform (pre-checks, verification, diagnostics)
READ_ONLY: Final[Mapping[str, re.Pattern[str]]] = {
    "mikrotik_routeros": re.compile(  # menu path (no action word) then print
        rf"\A/(?!{_ROS_VERBS})[a-z-]+( (?!{_ROS_VERBS})[a-z-]+)* print"
        rf"( (detail|terse|brief|without-paging|where {_WORD}={_WORD}))*\Z"
    ),
    "cisco_ios": re.compile(rf"\Ashow [a-z][a-z -]*( {_WORD})?\Z"),
    "linux": re.compile(rf"\Aip (-br |-j |-s )*(link|addr|address|route) show( dev {_WORD})?\Z"),
}
ProbeKind = Literal["admin_up", "oper_up"]


class PlaybookError(ConfigError):
    """A playbook file is unusable (every problem listed)."""


class RefusedError(Exception):
    """A guard refused the run; ``reason`` is the Indonesian text stored on the ticket."""

    def __init__(self, reason: str) -> None:
        """Keep the reason."""
        super().__init__(reason)
        self.reason = reason


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FlagsBlock(_Strict):
    """RouterOS: the item named ``{interface}`` has every flag of ``has``, none of ``lacks``."""

    has: str = Field(default="", pattern=r"^[A-Z]*$")
    lacks: str = Field(default="", pattern=r"^[A-Z]*$")


class CheckBlock(_Strict):
    """A read-only command and what its output must show.

    ``expect``: a regular expression (multiline) it matches; ``flags`` (RouterOS): the flags
    of the interface's item.
    """

    command: str = Field(min_length=1)
    expect: str | None = Field(default=None, min_length=1)
    flags: FlagsBlock | None = None


class PlatformBlock(_Strict):
    """What to do on one platform: exec-mode ``commands`` and/or config-mode ``config``."""

    precheck: CheckBlock | None = None
    commands: list[str] = Field(default_factory=list)
    config: list[str] = Field(default_factory=list)
    verify: CheckBlock
    rollback: list[str] = Field(default_factory=list)
    rollback_config: list[str] = Field(default_factory=list)


class AppliesBlock(_Strict):
    """Which interfaces a playbook is for: a name pattern, or ports marked ``uplink``."""

    interface: str | None = None
    uplink: bool = False


class PlaybookFile(_Strict):
    """One playbook file as written."""

    name: Name
    title: str = Field(min_length=1)
    # several: e.g. interface_down and pppoe_down (issue 18)
    fault: FaultKind | Annotated[list[FaultKind], Field(min_length=1, max_length=8)]
    probe: ProbeKind
    applies_to: AppliesBlock | None = None
    rollback_on_failure: bool = False
    platforms: dict[Platform, PlatformBlock] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Check:
    """A rendered read-only command and its expectation (a compiled pattern or item flags)."""

    command: str
    expect: re.Pattern[str] | None = None
    flags: FlagCheck | None = None

    def matches(self, output: str) -> bool:
        """Return True when the command's output shows the expected state."""
        text = output.replace("\r\n", "\n")
        if self.flags is not None:
            return self.flags.matches(text)
        return self.expect is not None and self.expect.search(text) is not None


@dataclass(frozen=True, slots=True)
class Plan:
    """A playbook rendered for one device and interface: exactly what will be sent."""

    playbook: str
    title: str
    platform: str
    interface: str
    probe: ProbeKind
    precheck: Check | None
    commands: tuple[str, ...]
    config: tuple[str, ...]
    verify: Check
    rollback: tuple[str, ...]
    rollback_config: tuple[str, ...]
    rollback_on_failure: bool

    def lines(self) -> list[str]:
        """Every line that would be sent, in order (for dry runs and ``remediasi list``)."""
        out = [self.precheck.command] if self.precheck else []
        out += list(self.commands)
        if self.config:
            out += ["(config)", *self.config, "(end)"]
        out.append(self.verify.command)
        return out


@dataclass(frozen=True, slots=True)
class Playbook:
    """A validated playbook."""

    name: str
    title: str
    fault: FaultKind
    probe: ProbeKind
    platforms: Mapping[str, PlatformBlock]
    interface_pattern: re.Pattern[str] | None
    uplink: bool
    rollback_on_failure: bool
    path: Path
    also: frozenset[FaultKind] = frozenset()  # further kinds it repairs (``fault: [a, b]``)

    def handles(self, kind: str) -> bool:
        """True when the playbook is written for fault ``kind``."""
        return kind == self.fault.value or kind in self.also

    def applies(self, device: Device, interface: str) -> bool:
        """Return True when this playbook is meant for ``interface`` of ``device``."""
        if self.interface_pattern is None and not self.uplink:
            return True
        mark = device.ports.get(interface)
        by_mark = self.uplink and mark is not None and mark.uplink
        by_name = self.interface_pattern is not None and bool(
            self.interface_pattern.search(interface)
        )
        return by_mark or by_name

    def render(self, platform: str, interface: str, also: Collection[str] = ()) -> Plan:
        """Fill in ``interface`` (already checked by :func:`check_interface`).

        ``also``: the device's other names for the port (its ifDescr); checks accept them,
        commands never contain them.
        """
        if not INTERFACE_RE.fullmatch(interface):  # defence in depth: callers check first
            raise RefusedError(f"nama interface {interface!r} ditolak")
        steps = self.platforms[platform]
        fill = {"interface": interface}
        names = tuple(sorted({interface, *(n for n in also if n)}, key=lambda n: (-len(n), n)))

        def check(block: CheckBlock | None) -> Check | None:
            return None if block is None else _check(block, block.command.format_map(fill), names)

        verify = check(steps.verify)
        assert verify is not None  # noqa: S101 - verify is required by the schema
        return Plan(
            playbook=self.name,
            title=self.title,
            platform=platform,
            interface=interface,
            probe=self.probe,
            precheck=check(steps.precheck),
            commands=tuple(c.format_map(fill) for c in steps.commands),
            config=tuple(c.format_map(fill) for c in steps.config),
            verify=verify,
            rollback=tuple(c.format_map(fill) for c in steps.rollback),
            rollback_config=tuple(c.format_map(fill) for c in steps.rollback_config),
            rollback_on_failure=self.rollback_on_failure,
        )


def _check(block: CheckBlock, command: str, names: tuple[str, ...]) -> Check:
    """The check of ``block`` for a port called ``names`` (the command already rendered)."""
    if block.flags is not None:
        flags = FlagCheck(names, frozenset(block.flags.has), frozenset(block.flags.lacks))
        return Check(command, flags=flags)
    any_name = "(?:" + "|".join(re.escape(n) for n in names) + ")"
    pattern = (block.expect or "").replace("{interface}", any_name)
    return Check(command, expect=re.compile(pattern, re.MULTILINE))


def check_interface(name: str, known: Collection[str] | None) -> str:
    """Return ``name`` if it is a plain interface name the device reported, else refuse.

    ``known`` is the device's current interface list (ifName from SNMP); None when it could
    not be read, which is also a refusal: a name that cannot be checked is not used.
    """
    if not INTERFACE_RE.fullmatch(name):
        raise RefusedError(
            f"nama interface {name!r} ditolak: hanya huruf, angka dan / . _ : - yang diterima"
        )
    if known is None:
        raise RefusedError(f"daftar interface perangkat tidak terbaca; {name!r} tidak diperiksa")
    if name not in known:
        raise RefusedError(f"interface {name!r} tidak dikenal perangkat")
    return name


class PlaybookBook:
    """Every playbook by name; selects the one for a fault on a device."""

    def __init__(self, playbooks: Iterable[Playbook]) -> None:
        """Index ``playbooks`` by name (names are unique: checked by :func:`load_playbooks`)."""
        self._by_name = {p.name: p for p in playbooks}

    def __iter__(self) -> Iterator[Playbook]:
        """Playbooks in name order."""
        return iter(sorted(self._by_name.values(), key=lambda p: p.name))

    def get(self, name: str) -> Playbook | None:
        """Return the playbook called ``name``."""
        return self._by_name.get(name)

    def select(self, device: Device, kind: str, interface: str) -> Playbook | None:
        """Return the first allowed playbook for this fault on ``device``, or None."""
        for name in device.remediation.playbooks:
            book = self._by_name.get(name)
            if (
                book is not None
                and device.remediation.enabled
                and book.handles(kind)
                and device.platform in book.platforms
                and book.applies(device, interface)
            ):
                return book
        return None

    def candidates(self, device: Device, kind: str) -> list[Playbook]:
        """Every playbook (allowed or not) written for this fault and the device's platform."""
        return [p for p in self if p.handles(kind) and device.platform in p.platforms]


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


YPath = tuple[str | int, ...]
LIST_KEYS: Final = ("commands", "config", "rollback", "rollback_config")


def _check_problems(
    platform: str, base: YPath, key: str, check: CheckBlock
) -> Iterator[tuple[YPath, str]]:
    if extra := _placeholders(check.command) - PLACEHOLDERS:
        yield (*base, key, "command"), f"unknown placeholder {sorted(extra)}"
    shape = READ_ONLY.get(platform)
    sample = check.command.replace("{interface}", "ether1")
    if shape is not None and not shape.fullmatch(sample):
        yield (*base, key, "command"), f"not a read-only command for {platform}"
    if (check.expect is None) == (check.flags is None):
        yield (*base, key), "needs either expect or flags"
    if check.flags is not None:
        yield from _flags_problems(platform, (*base, key, "flags"), check.flags)
    if check.expect is None:
        return
    try:
        re.compile(check.expect.replace("{interface}", "ether1"), re.MULTILINE)
    except re.error as exc:
        yield (*base, key, "expect"), f"bad regular expression: {exc}"


def _flags_problems(platform: str, where: YPath, flags: FlagsBlock) -> Iterator[tuple[YPath, str]]:
    if platform != ROUTEROS:
        yield where, f"flags are RouterOS item flags, not for {platform}"
    if not flags.has and not flags.lacks:
        yield where, "needs has or lacks"
    if both := set(flags.has) & set(flags.lacks):
        yield where, f"flags both required and excluded: {''.join(sorted(both))}"


def _problems(model: PlaybookFile) -> Iterator[tuple[YPath, str]]:
    for platform, steps in model.platforms.items():
        base: YPath = ("platforms", platform)
        if not steps.commands and not steps.config:
            yield base, "needs commands or config"
        for key in LIST_KEYS:
            for i, line in enumerate(getattr(steps, key)):
                if extra := _placeholders(line) - PLACEHOLDERS:
                    yield (*base, key, i), f"unknown placeholder {sorted(extra)}"
        for key in ("precheck", "verify"):
            check: CheckBlock | None = getattr(steps, key)
            if check is not None:
                yield from _check_problems(platform, base, key, check)
    if model.applies_to is not None and model.applies_to.interface is not None:
        try:
            re.compile(model.applies_to.interface)
        except re.error as exc:
            yield ("applies_to", "interface"), f"bad regular expression: {exc}"


def _dotted(where: YPath) -> str:
    return ".".join(str(p) for p in where) or "(top)"


def load_playbook(path: Path) -> Playbook:
    """Load and validate one playbook file; PlaybookError lists every problem with its line."""
    try:
        source = load_source(path.read_text(encoding="utf-8"))
    except (OSError, YamlSyntaxError) as exc:
        raise PlaybookError(str(path), [Problem("(file)", str(exc))]) from exc
    try:
        model = PlaybookFile.model_validate(source.data)
    except ValidationError as exc:
        problems = [
            Problem(_dotted(tuple(e["loc"])), e["msg"], source.line_of(tuple(e["loc"])))
            for e in exc.errors()
        ]
        raise PlaybookError(str(path), problems) from None
    problems = [
        Problem(_dotted(where), message, source.line_of(where))
        for where, message in _problems(model)
    ]
    if problems:
        raise PlaybookError(str(path), problems)
    applies = model.applies_to or AppliesBlock()
    kinds = model.fault if isinstance(model.fault, list) else [model.fault]
    return Playbook(
        name=model.name,
        title=model.title,
        fault=kinds[0],
        also=frozenset(kinds[1:]),
        probe=model.probe,
        platforms={str(k): v for k, v in model.platforms.items()},
        interface_pattern=re.compile(applies.interface) if applies.interface else None,
        uplink=applies.uplink,
        rollback_on_failure=model.rollback_on_failure,
        path=path,
    )


def load_playbooks(*directories: Path | None) -> PlaybookBook:
    """Load the bundled playbooks and those of ``directories``; a name defined twice is an error."""
    found: dict[str, Playbook] = {}
    problems: list[Problem] = []
    for directory in (BUNDLED_DIR, *(d for d in directories if d is not None)):
        if not directory.is_dir():
            problems.append(Problem(str(directory), "playbook directory not found"))
            continue
        for path in sorted(directory.glob("*.yaml")):
            try:
                book = load_playbook(path)
            except PlaybookError as exc:
                problems += [Problem(f"{path}: {p.path}", p.message, p.line) for p in exc.problems]
                continue
            if book.name in found:
                first = found[book.name].path
                problems.append(Problem(str(path), f"playbook {book.name!r} already in {first}"))
                continue
            found[book.name] = book
    if problems:
        raise PlaybookError("playbooks", problems)
    return PlaybookBook(found.values())


def describe(plan: Plan) -> dict[str, Any]:
    """Plain data of a plan (for transcripts of dry runs and JSON output)."""
    return {
        "playbook": plan.playbook,
        "platform": plan.platform,
        "interface": plan.interface,
        "lines": plan.lines(),
    }
