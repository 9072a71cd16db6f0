"""Printable reports: Markdown, HTML and a hand-written SVG bar chart (no template engine).

Both the per-ticket laporan and the monthly recap (``ticketing.reports.documents``) are first
laid out as a small document (:class:`Doc`: headings, key/value tables, tables, paragraphs,
charts) and then written as Markdown or HTML by one walker each, so the two formats never
drift apart. The walkers show every text through :func:`ticketing.display.shown` (complaint
subjects, SNMP names: control characters visible, never acting) and escape it for the format:
HTML entities, and in Markdown table cells the characters that would make links, images, raw
HTML or emphasis out of data. The small Indonesian formatters (durations, Rupiah, local times)
are here too.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ticketing.calendar import zone_abbreviation
from ticketing.display import shown

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

MONTHS: Final = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
SOURCE_LABEL: Final = {
    "agent": "deteksi agen",
    "wa": "WhatsApp",
    "email": "email",
    "surat": "surat",
}
DOC_LABEL: Final = {
    "surat_disposisi": "Surat disposisi",
    "nota_dinas": "Nota dinas",
    "register_gangguan": "Register gangguan",
    "laporan_permasalahan": "Laporan permasalahan",
    "laporan": "Laporan",
}
FORMATS: Final = ("md", "html")
MINUTE: Final = 60
HOUR: Final = 3600
DAY: Final = 86400
CHART_WIDTH: Final = 640
CHART_LABEL_W: Final = 220
CHART_ROW_H: Final = 22
CHART_TOP: Final = 34
LABEL_CHARS: Final = 30
MARKDOWN_ACTIVE: Final = frozenset("\\`*_[]<>|&")  # backslash-escaped in table cells


# -- small formatters ---------------------------------------------------------------------------


def duration_text(value: timedelta | None) -> str:
    """Indonesian duration: ``2 hari 3 jam``, ``1 jam 5 menit``, ``12 menit``, ``< 1 menit``."""
    if value is None:
        return "-"
    total = int(value.total_seconds())
    if total < MINUTE:
        return "0 menit" if total <= 0 else "< 1 menit"
    days, rest = divmod(total, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    parts = [f"{days} hari"] if days else []
    if hours:
        parts.append(f"{hours} jam")
    if minutes and not days:  # minutes do not matter once days are counted
        parts.append(f"{minutes} menit")
    return " ".join(parts) or f"{days} hari"


def rupiah(amount: int) -> str:
    """``Rp 7.500.000`` (Indonesian thousands separator)."""
    return "Rp " + f"{amount:,}".replace(",", ".")


def when(at: datetime | None, tz: ZoneInfo) -> str:
    """``2026-11-02 09:00 WITA`` (``-`` for None)."""
    if at is None:
        return "-"
    zone = zone_abbreviation(tz) or tz.key
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") + f" {zone}"


def month_title(year: int, month: int) -> str:
    """``November 2026``."""
    return f"{MONTHS[month - 1]} {year}"


def percent(value: float | None) -> str:
    """``75%`` (``-`` for None)."""
    return "-" if value is None else f"{value:.0f}%"


# -- document model -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Table:
    """A table with a header row; ``caption`` printed above it."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    """An SVG chart: inlined in HTML, linked from Markdown as ``href``."""

    svg: str
    href: str
    alt: str


Block = str | Table | Chart  # a str is a paragraph; "## x" starts a heading


@dataclass(slots=True)
class Doc:
    """A printable document: title, subtitle lines and blocks in order."""

    title: str
    subtitle: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str) -> None:
        """Start a section."""
        self.blocks.append(f"## {text}")

    def add(self, *blocks: Block) -> None:
        """Append blocks."""
        self.blocks.extend(blocks)


def _md_cell(text: str) -> str:
    """A table cell: one line, shown, Markdown's active characters backslash-escaped."""
    safe = shown(text.replace("\r\n", " ").replace("\n", " "))
    return "".join(f"\\{ch}" if ch in MARKDOWN_ACTIVE else ch for ch in safe)


def html_text(text: str) -> str:
    """HTML (and SVG) text: shown, then entity-escaped."""
    return html.escape(shown(text))


def to_markdown(doc: Doc) -> str:
    """The document as GitHub-flavoured Markdown."""
    out = [f"# {shown(doc.title, one_line=True)}", ""]
    subtitle = [f"{shown(line, one_line=True)}  " for line in doc.subtitle]
    out += [*subtitle, ""] if subtitle else []
    for block in doc.blocks:
        if isinstance(block, Table):
            if block.caption:
                out += [f"**{_md_cell(block.caption)}**", ""]
            out.append("| " + " | ".join(_md_cell(h) for h in block.headers) + " |")
            out.append("|" + "|".join("---" for _ in block.headers) + "|")
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        elif isinstance(block, Chart):
            out.append(f"![{block.alt}]({block.href})")
        else:
            out.append(shown(block))
        out.append("")
    return "\n".join(out)


CSS: Final = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; margin: 2em; color: #111; }
h1 { font-size: 16pt; margin-bottom: 0.2em; } h2 { font-size: 13pt; margin-top: 1.4em; }
.sub { color: #444; margin: 0 0 1em 0; }
table { border-collapse: collapse; margin: 0.4em 0 0.8em 0; width: 100%; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; } caption { text-align: left; font-weight: bold; padding: 4px 0; }
@page { size: A4; margin: 15mm; }
@media print { body { margin: 0; } h2 { page-break-after: avoid; }
  tr { page-break-inside: avoid; } }
"""


def to_html(doc: Doc) -> str:
    """The document as one printable HTML page (charts inlined)."""
    e = html_text
    out = [
        "<!DOCTYPE html>",
        '<html lang="id"><head><meta charset="utf-8">',
        f"<title>{e(doc.title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(doc.title)}</h1>",
    ]
    if doc.subtitle:
        out.append('<p class="sub">' + "<br>".join(e(s) for s in doc.subtitle) + "</p>")
    for block in doc.blocks:
        if isinstance(block, Table):
            out.append(_html_table(block))
        elif isinstance(block, Chart):
            out.append(f"<figure>{block.svg}<figcaption>{e(block.alt)}</figcaption></figure>")
        elif block.startswith("## "):
            out.append(f"<h2>{e(block[3:])}</h2>")
        else:
            out.append(f"<p>{e(block)}</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _html_table(table: Table) -> str:
    e = html_text
    cap = f"<caption>{e(table.caption)}</caption>" if table.caption else ""
    head = "".join(f"<th>{e(h)}</th>" for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(doc: Doc, fmt: str) -> str:
    """``md`` or ``html``; raise ValueError naming the known formats."""
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "html":
        return to_html(doc)
    raise ValueError(f"format {fmt!r} tidak dikenal ({', '.join(FORMATS)})")


# -- chart ----------------------------------------------------------------------------------------


def svg_open(title: str, width: int, height: int) -> list[str]:
    """The opening lines of a standalone SVG chart: root element, title, heading (escaped).

    Every chart of sigap (this module's bars, ``ticketing.reports.linechart``'s lines) starts
    here, so the frame, the fonts and the escaping of the title are written once.
    """
    e = html_text
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
        'font-size="12">',
        f"<title>{e(title)}</title>",
        f'<text x="8" y="20" font-size="14" font-weight="bold">{e(title)}</text>',
    ]


def bar_chart_svg(title: str, items: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar chart as a standalone SVG document (one bar per item, value at its end)."""
    e = html_text
    top = max((v for _, v in items), default=0) or 1
    bar_w = CHART_WIDTH - CHART_LABEL_W - 50
    height = CHART_TOP + CHART_ROW_H * max(len(items), 1) + 10
    out = svg_open(title, CHART_WIDTH, height)
    if not items:
        out.append(f'<text x="8" y="{CHART_TOP + 14}" fill="#555">Tidak ada data.</text>')
    for i, (label, value) in enumerate(items):
        y = CHART_TOP + i * CHART_ROW_H
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        width = round(bar_w * value / top)
        out += [
            f'<text x="{CHART_LABEL_W - 6}" y="{y + 15}" text-anchor="end">{e(short)}</text>',
            f'<rect x="{CHART_LABEL_W}" y="{y + 3}" width="{width}" height="{CHART_ROW_H - 6}" '
            'fill="#2b6cb0"/>',
            f'<text x="{CHART_LABEL_W + width + 5}" y="{y + 15}">{value}</text>',
        ]
    out.append("</svg>")
    return "\n".join(out) + "\n"
