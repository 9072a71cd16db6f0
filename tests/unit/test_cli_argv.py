"""Command-line arguments that are not UTF-8 are refused at the edge (issue 17).

``sigap tiket lapor --uraian $'mati\\xfe'`` reached the database as a lone surrogate and ended
in a UnicodeEncodeError traceback; now every command refuses it first, exit 2, bytes shown.
"""

from __future__ import annotations

import os
import sys

import pytest

from agent import cli

pytestmark = pytest.mark.unit


def _argv(*args: bytes) -> list[str]:
    """What Python makes of raw argv bytes (PEP 383: surrogateescape)."""
    return [os.fsdecode(a) for a in args]


@pytest.mark.parametrize(
    "raw",
    [b"mati\xfe", b"\xff", b"Budi\xff\x1b[2J", b"\xed\xa0\x80", b"ok\xc3"],
)
def test_undecodable_argument_exits_2_and_shows_its_bytes(
    raw: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sigap", *_argv(b"tiket", b"lapor", b"--uraian", raw)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        cli.main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argumen bukan teks UTF-8 yang sah" in err
    assert "\x1b" not in err
    assert "\\x" in err


def test_valid_utf8_arguments_pass() -> None:
    assert cli.undecodable(_argv(b"tiket", "Dinas Pariwisata \u2013 \U0001f600".encode())) is None
