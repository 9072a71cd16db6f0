"""Issue 17, finding 7: text from outside is shown, never obeyed, wherever people read it.

Complaints whose every field carries the hostile corpus (tests/hostile_text.py: ESC/CSI/OSC
sequences, BEL, NUL, C1 controls, bidi overrides, rich markup, a real LLDP name with NULs, 10 kB)
go through the real commands (``sigap tiket show|list``, ``program-kegiatan list``, ``laporan``)
on SQLite and PostgreSQL, in a terminal with colours too; the views, the diagnosis, discovery
output, the demo feed, remediation transcripts and notification templates get the corpus in
every text field. Each output must hold no acting character and still show every marker.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from agent import cli
from agent.cli.remediasi import runs_section
from agent.cli.topology import _console as discover_console
from agent.cli.topology import _print as print_discovery
from agent.config.load import load_inventory
from agent.diagnose import render as diagnose_render
from agent.diagnose.report import (
    CommandOutput,
    DeviceReport,
    Diagnosis,
    Finding,
    Health,
    Hop,
    InterfaceReport,
    PingStats,
    Severity,
    SnmpReport,
    SshReport,
    TicketBrief,
    TicketsReport,
)
from agent.lab.demo import Demo
from agent.notify.templates import Renderer, load_templates
from agent.present import render as present
from agent.topology.graph import discover
from agent.topology.model import DeviceScan, Neighbour
from agent.topology.scan import known_devices
from agent.wiring import open_store, ticket_service
from tests.hostile_text import CORPUS, LLDP_NAME, NO_NUL, RENDER_ONLY, SGR, Hostile, unsafe
from ticketing.models import ProgramStatus, RunStatus
from ticketing.outbox.types import MessageContext
from ticketing.remediation import RunView
from ticketing.service import ProgramDraft
from ticketing.states import EventKind, TicketState
from ticketing.views import AffectedView, EventView, FeedItem, ProgramEntry, StepView, TicketView
from ticketing.workflow import Complexity

# ruff: noqa: S314 - the XML parsed here is the SVG sigap wrote

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
ROOT = Path(__file__).resolve().parents[2]
INVENTORY = """
office:
  name: Diskominfo Lombok Tengah
defaults:
  role: router
  platform: mikrotik_routeros
hosts:
  core-r1: {address: 10.0.0.1, opd: Diskominfo, tags: [core]}
  rsud-r1: {address: 10.0.1.1, opd: RSUD Praya, parent: core-r1}
people:
  - {name: Lalu Kadis, role: kadis, opd: Diskominfo}
  - {name: Hj Kabid, role: kabid, opd: Diskominfo}
  - {name: Baiq Kasi, role: kasi, opd: Diskominfo}
  - {name: Teknisi Satu, role: teknisi, opd: Diskominfo}
"""
STR_TYPES = frozenset({"str", "str | None"})
ALL_TEXT = "\n".join(h.text for h in CORPUS)
SHOWN = (0, 6, 15, 20)  # tickets shown one by one (each ~1 s): formula, OSC title, [/x], LLDP
T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def md_text(markdown: str) -> str:
    """Markdown as read: backslash escapes undone."""
    return re.sub(r"\\(.)", r"\1", markdown)


def with_markers(text: str, corpus: tuple[Hostile, ...]) -> list[str]:
    """The markers of ``corpus`` that ``text`` does not show."""
    return [h.marker for h in corpus if h.marker not in text]


def hostile(view: object, text: str) -> object:
    """``view`` with every text field set to ``text``."""
    return replace(view, **{f.name: text for f in fields(view) if f.type in STR_TYPES})  # type: ignore[arg-type]


@pytest.fixture
def inventory_file(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the real commands


@pytest.fixture(params=["sqlite", "postgresql"])
def sigap(request, tmp_path, monkeypatch, capsys, inventory_file):
    """Complaints carrying the corpus (one per entry: subject, sender, OPD, device; the whole
    corpus in the body), each decided kompleks with a hostile Program Kegiatan entry; yields
    (run, numbers, corpus). PostgreSQL text holds no NUL (the intake strips it before storing:
    finding 1), so its corpus has none."""
    if request.param == "sqlite":
        url, corpus = f"sqlite:///{tmp_path / 'sigap.db'}", CORPUS
    else:
        url, corpus = str(request.getfixturevalue("pg_url")), NO_NUL
    monkeypatch.setenv("SIGAP_INVENTORY", str(inventory_file))
    monkeypatch.setenv("SIGAP_DB_URL", url)
    monkeypatch.setattr(cli.console, "width", 250)
    monkeypatch.chdir(tmp_path)
    inventory = load_inventory(inventory_file)
    numbers = []
    with open_store(inventory, url, migrate=True) as store:
        svc = ticket_service(inventory, store, lambda: datetime.now(UTC))
        everything = "\n".join(h.text for h in corpus)
        for h in corpus:
            ticket = svc.report(source="email", opd=h.text[:200], reporter=h.text[:200],
                                description=f"{h.text}\n{everything}", by=None,
                                device=h.text[:128], contact=h.text[:200])  # fmt: skip
            svc.dispose(ticket.number, by="Hj Kabid", isi=h.text)
            svc.assign(ticket.number, by="Baiq Kasi", technician="Teknisi Satu")
            draft = ProgramDraft(proposed_action=h.text, estimated_cost=1000, budget_year=2027)
            svc.handle(ticket.number, by="Teknisi Satu", complexity=Complexity.KOMPLEKS,
                       reason=h.text, program=draft, notes=h.text)  # fmt: skip
            numbers.append(ticket.number)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sigap", *args])
        with pytest.raises(SystemExit) as info:
            cli.main()
        out, err = capsys.readouterr()
        return info.value.code, out, err

    return run, numbers, corpus


def test_tiket_show_shows_every_field_and_obeys_none(sigap):
    run, numbers, corpus = sigap
    for i in SHOWN:
        code, out, err = run("tiket", "show", numbers[i])
        assert (code, err) == (0, "")  # no MarkupError: the ticket can be viewed
        assert unsafe(out) == []
        assert with_markers(out, corpus) == []
        assert "Langkah SOP" in out


def test_tiket_list_and_program_list_obey_none(sigap):
    run, _numbers, corpus = sigap
    code, out, err = run("tiket", "list", "--limit", "100")
    assert (code, err) == (0, "")
    assert unsafe(out) == []
    code, out, err = run("program-kegiatan", "list", "--tahun", "2027")
    assert (code, err) == (0, "")
    assert unsafe(out) == []
    assert with_markers(out, corpus) == []


def test_laporan_markdown_html_and_monthly_files(sigap, tmp_path):
    run, numbers, corpus = sigap
    for i in SHOWN:
        code, out, _ = run("laporan", "tiket", numbers[i])
        assert code == 0
        assert unsafe(out) == []
        assert with_markers(md_text(out), corpus) == []
        assert "<script>" not in out  # raw HTML in Markdown is escaped: \<script\>
        assert not re.search(r"(?<!\\)\]\(http", out)  # no Markdown link or image of data
    code, _, _ = run("laporan", "tiket", numbers[0], "--format", "html", "-o", "t.html")
    page = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert unsafe(page) == []
    assert "<script>" not in page
    month = datetime.now(UTC).astimezone(WITA).strftime("%Y-%m")
    for fmt in ("md", "html"):
        code, _, err = run("laporan", "bulanan", "--bulan", month, "--format", fmt, "-o", fmt)
        assert code == 0, err
        for path in sorted((tmp_path / fmt).iterdir()):
            text = path.read_text(encoding="utf-8-sig")
            assert unsafe(text) == [], path.name
            if path.suffix == ".svg":
                ET.fromstring(text)  # well-formed: no control character left in the XML
    shown = html.unescape((tmp_path / "html" / f"laporan-bulanan-{month}.html").read_text())
    assert with_markers(shown, corpus) == []


def test_a_terminal_gets_only_sigaps_own_colours(tmp_path, inventory_file):
    """``tiket show`` in a colour terminal (FORCE_COLOR): the only escape sequences are the
    SGR colours rich writes for a harmless ticket; no title, clear, conceal or OSC 8 link."""
    url = f"sqlite:///{tmp_path / 'sigap.db'}"
    inventory = load_inventory(inventory_file)
    with open_store(inventory, url, migrate=True) as store:
        svc = ticket_service(inventory, store, lambda: datetime.now(UTC))
        plain = svc.report(source="email", opd="RSUD Praya", reporter="Ayu",
                           description="internet mati", by=None).number  # fmt: skip
        bad = svc.report(source="email", opd="RSUD Praya", reporter=CORPUS[6].text,
                         description=ALL_TEXT, by=None).number  # fmt: skip
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "200", "SIGAP_DB_URL": url,
           "SIGAP_INVENTORY": str(inventory_file)}  # fmt: skip
    env.pop("NO_COLOR", None)

    def show(number: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "agent", "tiket", "show", number],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, "")
        return done.stdout

    own = set(SGR.findall(show(plain)))
    out = show(bad)
    assert own  # colours are on
    assert set(SGR.findall(out)) <= own
    assert unsafe(SGR.sub("", out)) == []
    assert with_markers(out, CORPUS) == []


# ---------------------------------------------------------------- every view, every field


@pytest.mark.parametrize("h", CORPUS + RENDER_ONLY, ids=lambda h: h.marker[:20])
def test_ticket_views_with_the_corpus_in_every_text_field(h, inventory_file):
    """The views themselves are safe: printed by a plain rich console (markup on)."""
    inventory = load_inventory(inventory_file)
    ticket = hostile(TicketView(1, "GJ/2026/0001", "k", "rsud-r1", "complaint", "RSUD", "s",
                                TicketState.OPEN, T0, None, None, 0,
                                (AffectedView("rsud-r1", T0, None),)), h.text)  # fmt: skip
    event = hostile(EventView(T0, EventKind.NOTE, "a", "d"), h.text)
    step = hostile(StepView(1, "1", "k", "kasi", ("kasi",), "p", False, T0, T0, None, None,
                            None, "surat_disposisi", None, "", 0), h.text)  # fmt: skip
    entry = hostile(ProgramEntry(1, "GJ/2026/0001", "o", "d", "p", "a", 1000, "tinggi", 2027,
                                 ProgramStatus.USULAN, T0), h.text)  # fmt: skip
    views = [
        present.ticket_table([ticket], WITA, 250),  # type: ignore[list-item]
        *present.ticket_detail(ticket, [event], inventory),  # type: ignore[arg-type,list-item]
        present.sop_header(ticket, WITA),  # type: ignore[arg-type]
        present.step_table([step], WITA, T0 + timedelta(hours=1)),  # type: ignore[list-item]
        present.program_table([entry], WITA),  # type: ignore[list-item]
    ]
    out = printed(views)
    assert unsafe(out) == []
    assert h.marker in out


def printed(renderables: list[object]) -> str:
    """What a plain rich console (markup and emoji on, no sanitising) writes."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=250, color_system=None, force_terminal=False)
    for part in renderables:
        console.print(part)
    return buffer.getvalue()


def test_diagnosis_of_a_device_whose_snmp_and_ssh_answers_are_hostile():
    text = ALL_TEXT
    finding = Finding(Severity.PROBLEM, "interface", f"ether1: {text}", interface="ether1")
    row = InterfaceReport(1, text, alias=text, admin_up=True, oper_up=False, issues=(finding,))
    report = DeviceReport(
        name="rsud-r1", address="10.0.1.1", opd=text, platform="mikrotik_routeros",
        role="router", in_inventory=True, health=Health.DEGRADED, verdict=text,
        ping=PingStats(3, 0, errors=(text,)), path=(Hop(text, "10.0.0.1", PingStats(3, 3)),),
        broken_at=text, findings=(finding,),
        snmp=SnmpReport(True, name=LLDP_NAME, descr=text, interfaces=(row,)),
        ssh=SshReport(True, commands=(CommandOutput("/interface print", text),)),
        tickets=TicketsReport(True, items=(TicketBrief("GJ/2026/0001", "open", "complaint",
                                                       text, T0, None, step=text),)),
    )  # fmt: skip
    failed = replace(report, snmp=SnmpReport(False, reason=text), ssh=SshReport(False, text))
    out = printed(
        [diagnose_render.diagnosis(Diagnosis("x", "opd", T0, 1.0, (report, failed)), WITA)]
    )
    assert unsafe(out) == []
    assert with_markers(out, CORPUS) == []


def test_discover_prints_lldp_names_as_text(capsys, inventory_file):
    """``sigap topology discover``'s listing of a neighbour that sent NULs and escapes."""
    inventory = load_inventory(inventory_file)
    neighbours = tuple(
        Neighbour("lldp", 1, h.text, remote_port=h.text, remote_address=h.text[:40])
        for h in CORPUS + RENDER_ONLY
    )
    scan = DeviceScan("core-r1", {1: "ether1"}, neighbours)
    found = discover([scan], known_devices(inventory))
    found = replace(found, silent={"rsud-r1": ALL_TEXT})
    print_discovery(found, discover_console())
    out = capsys.readouterr().out
    assert unsafe(out) == []
    assert with_markers(out, CORPUS + RENDER_ONLY) == []


def test_demo_feed_and_remediation_transcript(inventory_file):
    inventory = load_inventory(inventory_file)
    buffer = io.StringIO()
    console = Console(file=buffer, width=250, color_system=None)  # the demo's is the CLI's
    demo = SimpleNamespace(console=console, inventory=inventory)
    for h in CORPUS + RENDER_ONLY:
        item = FeedItem(1, "GJ/2026/0001", "rsud-r1", T0, EventKind.NOTE, "sistem", h.text)
        Demo._print_event(demo, item)  # type: ignore[arg-type]
    transcript = [{"step": "precheck", "command": "/interface print", "output": ALL_TEXT},
                  {"step": "catatan", "command": "", "output": ALL_TEXT}]  # fmt: skip
    run = RunView(1, "GJ/2026/0001", "rsud-r1", "k", "aktifkan-port", "ether2", "sistem",
                  RunStatus.FAILED, ALL_TEXT, T0, T0, tuple(transcript))  # fmt: skip
    console.print(runs_section([run], WITA))
    out = buffer.getvalue()
    assert unsafe(out) == []
    assert with_markers(out, CORPUS + RENDER_ONLY) == []
    assert "[precheck] /interface print" in out


@pytest.mark.parametrize("email", [True, False], ids=["email", "chat"])
@pytest.mark.parametrize("kind", ["opened", "resolved", "escalated", "umum"])
def test_notifications_carry_no_acting_character_and_a_one_line_title(kind, email):
    renderer = Renderer(load_templates(), tz=WITA, now=T0 + timedelta(hours=2))
    base = MessageContext("sigap-1", kind, "pelapor:x", "mailto", T0, number="GJ/2026/0001",
                          opened_at=T0, affected=("rsud-r1",), data={"level": 1})  # fmt: skip
    for h in CORPUS + RENDER_ONLY:
        for recipient in ("Baiq Kasi", "pelapor:a@b.example"):
            ctx = replace(
                hostile(base, h.text), kind=kind, recipient=recipient, number="GJ/1", sop=None
            )  # a code of sigap, not outside text
            text = renderer.render(ctx, email=email)  # type: ignore[arg-type]
            assert unsafe(text.title + text.body) == []
            assert "\n" not in text.title
            assert h.marker in text.title + text.body


def test_monthly_csv_cells_from_hostile_opds_are_text(sigap, tmp_path):
    """``laporan bulanan`` writes per-OPD CSV rows: an OPD name is a complaint's field."""
    run, _numbers, corpus = sigap
    month = datetime.now(UTC).astimezone(WITA).strftime("%Y-%m")
    code, _, err = run("laporan", "bulanan", "--bulan", month, "-o", "out")
    assert code == 0, err
    with (tmp_path / "out" / f"laporan-bulanan-{month}-opd.csv").open(encoding="utf-8-sig") as fh:
        cells = [row[0] for row in csv.reader(fh)][1:]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells
    for text in (h.text for h in corpus if h.text[:1] in "=+-@\t"):
        assert "'" + text in cells  # quoted: a spreadsheet keeps it as text, whole
    assert "\\x0d=1+1 cr-awal" in cells  # a leading CR is shown, so nothing is left to quote
