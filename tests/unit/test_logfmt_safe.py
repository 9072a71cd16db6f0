"""Log lines: data from outside cannot forge a line or reach the terminal as escapes."""

from __future__ import annotations

import json
import logging

import pytest

from agent.runtime.logfmt import formatter

pytestmark = pytest.mark.unit

HOSTILE = ("evil\n<3>forged line", "\x1b]0;PWNED\x07\x1b[2J", "\u202egnp.exe", "a\rb\x00c")


def record(*args: object, msg: str = "mail from %s: %s\nsecond line is ours") -> logging.LogRecord:
    return logging.LogRecord("agent.intake", logging.WARNING, __file__, 1, msg, args, None)


@pytest.mark.parametrize("kind", ["text", "journal", "json"])
@pytest.mark.parametrize("value", HOSTILE)
def test_string_arguments_are_shown_on_one_line(kind: str, value: str) -> None:
    out = formatter(kind).format(record(value, "subject"))
    text = json.loads(out)["message"] if kind == "json" else out
    lines = text.splitlines()
    assert len(lines) == 2  # the template's own line break stays, the argument's does not
    assert lines[1].endswith("second line is ours")
    assert all(ch.isprintable() for line in lines for ch in line)


def test_dict_arguments_and_plain_messages() -> None:
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "%(who)s", ({"who": "a\x1bb"},), None)
    assert formatter("journal").format(rec) == "<6>x: a\\x1bb"
    assert (
        formatter("journal").format(record(msg="no args\nhere"))
        == "<4>agent.intake: no args\n<4>here"
    )
