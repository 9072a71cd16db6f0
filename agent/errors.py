"""Agent exceptions: one root, leaves with structured fields; the CLI maps them to exit codes."""

from __future__ import annotations

from dataclasses import dataclass


class AgentError(Exception):
    """Raised for any agent failure that the CLI reports without a traceback (exit 1)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One configuration mistake: where it is, what was found, what was expected."""

    path: str
    message: str
    line: int | None = None

    def render(self) -> str:
        """Return ``line 12  hosts.x.address: message`` (line omitted when unknown)."""
        where = f"line {self.line:<4} " if self.line is not None else ""
        return f"{where}{self.path}: {self.message}"


class ConfigError(AgentError):
    """Raised when the inventory or settings are invalid; carries every problem found (exit 2)."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        """Keep the file name and the problems, sorted by line."""
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.path))
        count = len(self.problems)
        lines = [f"{source}: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"  {p.render()}" for p in self.problems]
        super().__init__("\n".join(lines))


class LabUnavailableError(AgentError):
    """Raised when a command needs the lab (network namespaces) and it is not up."""
