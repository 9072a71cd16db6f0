"""What a device said (traps, syslog lines) as a table: ``sigap log`` and ``tiket show``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table

from agent.present.render import local
from agent.present.terminal import data

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from ticketing.device_log import LogLine

SEVERITY_SHORT = ("emerg", "alert", "crit", "err", "warn", "notice", "info", "debug")


def _level(line: LogLine) -> str:
    if line.channel == "trap":
        return "trap"
    return (
        SEVERITY_SHORT[line.severity]
        if line.severity is not None and 0 <= line.severity < len(SEVERITY_SHORT)
        else "-"
    )


def log_table(lines: Sequence[LogLine], tz: ZoneInfo, *, title: str = "") -> Table:
    """One row per message, oldest first: time (office zone), level, source app, text."""
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True, title=title
    )
    table.add_column("Waktu", no_wrap=True)
    table.add_column("Jenis", no_wrap=True)
    table.add_column("Sumber", no_wrap=True, max_width=24)
    table.add_column("Pesan", overflow="fold")
    for line in lines:
        table.add_row(local(line.at, tz), _level(line), data(line.app), data(line.text))
    return table


def log_json(lines: Sequence[LogLine]) -> list[dict[str, Any]]:
    """The messages for ``--json``."""
    keys = ("device", "channel", "source", "severity", "app", "text", "rule")
    return [{"at": line.at.isoformat(), **{k: getattr(line, k) for k in keys}} for line in lines]
