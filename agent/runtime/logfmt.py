"""Log formats: text for a terminal, journald priority prefixes under systemd, JSON by choice.

Under systemd (``$JOURNAL_STREAM`` set) journald adds the timestamp itself, so the journal
format carries none; each line starts with ``<N>`` (sd-daemon(3) priority prefixes) so that
``journalctl -p warning`` filters by level.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Final

FORMATS: Final = ("auto", "text", "journal", "json")
PRIORITY: Final = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


class JournalFormatter(logging.Formatter):
    """``<4>agent.runtime.daemon: message`` (no timestamp: journald has it)."""

    def format(self, record: logging.LogRecord) -> str:
        """Prefix every line of the record with its syslog priority."""
        text = f"{record.name}: {record.getMessage()}"
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
            "message": record.getMessage(),
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
    return logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
