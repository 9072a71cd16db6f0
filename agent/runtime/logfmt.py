"""Log formats: text for a terminal, journald priority prefixes under systemd, JSON by choice.

Under systemd (``$JOURNAL_STREAM`` set) journald adds the timestamp itself, so the journal
format carries none; each line starts with ``<N>`` (sd-daemon(3) priority prefixes) so that
``journalctl -p warning`` filters by level.

Log arguments are data, often from outside (a mail's sender and subject, a device's ifAlias):
every string argument is shown on one line with its hidden characters escaped
(:func:`ticketing.display.shown`), so it can neither forge a log line nor send escape
sequences to a terminal; the message templates (sigap's own text) keep their line breaks.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any, Final

from ticketing.display import shown

FORMATS: Final = ("auto", "text", "journal", "json")
PRIORITY: Final = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


def message(record: logging.LogRecord) -> str:
    """The record's message with every string argument made safe to show (see above)."""
    args = record.args
    if isinstance(args, dict):
        return str(record.msg) % {k: _safe(v) for k, v in args.items()}
    if args:
        return str(record.msg) % tuple(_safe(a) for a in args)
    return record.getMessage()


def _safe(value: Any) -> Any:
    return shown(value, one_line=True) if isinstance(value, str) else value


class _Safe(logging.Formatter):
    """The standard text format over :func:`message`."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        """Use the safe message."""
        record.message = message(record)
        return super().formatMessage(record)


class JournalFormatter(logging.Formatter):
    """``<4>agent.runtime.daemon: message`` (no timestamp: journald has it)."""

    def format(self, record: logging.LogRecord) -> str:
        """Prefix every line of the record with its syslog priority."""
        text = f"{record.name}: {message(record)}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        prio = PRIORITY.get(record.levelno, 6)
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record."""
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message(record),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def formatter(kind: str) -> logging.Formatter:
    """The formatter for ``kind`` (``auto``: journal under systemd, else text)."""
    if kind == "auto":
        kind = "journal" if os.environ.get("JOURNAL_STREAM") else "text"
    if kind == "journal":
        return JournalFormatter()
    if kind == "json":
        return JsonFormatter()
    return _Safe("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
