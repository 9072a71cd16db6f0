"""The ``events:`` block of the inventory and the syslog rule file it names (issue 20).

```yaml
events:
  syslog_listen: [10.52.255.254:5514]   # UDP and TCP; written out, never a wildcard by default
  trap_listen: [10.52.255.254:10162]    # UDP; 162/514 need CAP_NET_BIND_SERVICE (README)
  rate: 50          # messages per second per source (token bucket) ...
  burst: 200        # ... and the bucket's size
  queue: 10000      # messages waiting for the store at most; more are dropped and counted
  retention: 30d    # raw messages kept this long
  context_before: 10m   # ticket context starts this long before the fault
  rules: syslog-rules.yaml   # relative to the inventory; the bundled rules when absent
```

Rules are data (``agent/events/rules/*.yaml``), validated with lines like the playbooks: a
``match`` regular expression (``(?P<address>...)``/``(?P<user>...)`` name what a ticket
shows) and an ``action``: ``attach`` (event on the device's open ticket), ``repoll`` (poll the
device now), ``login_failure`` (counts per source address: ``login_failures.count`` within
``login_failures.window`` opens one ``login_failures`` ticket) or ``config_changed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.config.source import YamlSyntaxError, load_source
from agent.errors import Problem

if TYPE_CHECKING:
    from agent.config.schema import EventsBlock

BUNDLED_RULES: Final = Path(__file__).resolve().parent / "rules" / "syslog.yaml"
Action = Literal["attach", "repoll", "login_failure", "config_changed"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleBlock(_Strict):
    """One syslog rule as written."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
    match: Annotated[str, Field(min_length=1, max_length=1000)]
    action: Action
    platforms: list[str] = Field(default_factory=list)  # empty: every platform


class RuleFile(_Strict):
    """A rule file: ``rules:`` list."""

    rules: list[RuleBlock] = Field(min_length=1, max_length=200)


@dataclass(frozen=True, slots=True)
class SyslogRule:
    """A validated rule: compiled pattern and what to do."""

    name: str
    pattern: re.Pattern[str]
    action: str
    platforms: frozenset[str] = frozenset()

    def applies(self, platform: str) -> bool:
        """True for the device's platform (or when the rule names none)."""
        return not self.platforms or platform in self.platforms


@dataclass(frozen=True, slots=True)
class EventsSettings:
    """The receivers' resolved settings (durations as timedelta)."""

    syslog_listen: tuple[str, ...] = ()
    syslog_tcp: bool = True
    trap_listen: tuple[str, ...] = ()
    trap_communities: tuple[str, ...] = ()
    rate: float = 50.0
    burst: int = 200
    queue: int = 10000
    max_line: int = 8192
    retention: timedelta = timedelta(days=30)
    context_before: timedelta = timedelta(minutes=10)
    rules: tuple[SyslogRule, ...] = ()
    login_count: int = 10
    login_window: timedelta = timedelta(minutes=5)


def _dotted(where: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in where) or "(top)"


def load_rules(path: Path) -> tuple[tuple[SyslogRule, ...], list[Problem]]:
    """Load and check one rule file; every problem with its line (none: the rules)."""
    name = str(path)
    try:
        source = load_source(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YamlSyntaxError) as exc:
        return (), [Problem(f"{name}: (file)", str(exc))]
    try:
        model = RuleFile.model_validate(source.data)
    except ValidationError as exc:
        return (), [
            Problem(
                f"{name}: {_dotted(tuple(e['loc']))}", e["msg"], source.line_of(tuple(e["loc"]))
            )
            for e in exc.errors()
        ]
    rules: list[SyslogRule] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, rule in enumerate(model.rules):
        where = ("rules", i)
        if rule.name in seen:
            problems.append(
                Problem(f"{name}: rules.{i}.name", "defined twice", source.line_of(where))
            )
        seen.add(rule.name)
        try:
            pattern = re.compile(rule.match)
        except re.error as exc:
            line = source.line_of((*where, "match"))
            problems.append(
                Problem(f"{name}: rules.{i}.match", f"bad regular expression: {exc}", line)
            )
            continue
        if rule.action == "login_failure" and "address" not in pattern.groupindex:
            line = source.line_of((*where, "match"))
            problems.append(
                Problem(
                    f"{name}: rules.{i}.match", "login_failure needs a (?P<address>...) group", line
                )
            )
        rules.append(SyslogRule(rule.name, pattern, rule.action, frozenset(rule.platforms)))
    return (tuple(rules), problems) if not problems else ((), problems)


def events_settings(block: EventsBlock, base: Path) -> tuple[EventsSettings, list[Problem]]:
    """Resolve the block; the rule file (relative to ``base``) is loaded and checked here."""
    path = base / block.rules if block.rules else BUNDLED_RULES
    rules, problems = load_rules(path)
    return EventsSettings(
        syslog_listen=tuple(block.syslog_listen),
        syslog_tcp=block.syslog_tcp,
        trap_listen=tuple(block.trap_listen),
        trap_communities=tuple(block.trap_communities),
        rate=block.rate,
        burst=block.burst,
        queue=block.queue,
        max_line=block.max_line,
        retention=block.retention,
        context_before=block.context_before,
        rules=rules,
        login_count=block.login_failures.count,
        login_window=block.login_failures.window,
    ), problems
