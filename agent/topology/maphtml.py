"""A self-contained HTML page of the map: inline SVG (readable without JS), inline JS/CSS.

The SVG is drawn on the server so the file shows the network even with scripts off; the
script adds pan/zoom (mouse, touch), a detail panel per device (its tickets), and, with
``live_url``, polls the map JSON and recolours nodes without reloading (the layout never
changes between refreshes). UI text is Indonesian. Names, ports and OPDs (some learnt over
LLDP from the devices) are :func:`ticketing.display.shown` before they are HTML-escaped.
"""

from __future__ import annotations

import json
from html import escape as _html_escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ticketing.display import shown

if TYPE_CHECKING:
    from collections.abc import Mapping

STATE_LABEL: Final = {
    "up": "normal",
    "down": "mati",
    "unreachable": "tak terjangkau",
    "warning": "ada gangguan",
    "unmonitored": "tak terpantau",  # issue 23: its zone's poller is silent
}
COLOURS: Final = {  # also in static/map.css
    "up": "#2e7d32",
    "down": "#c62828",
    "unreachable": "#8d8d8d",
    "warning": "#f9a825",
    "unmonitored": "#4a5568",  # a dashed ring, no fill
}
STATIC: Final = Path(__file__).with_name("static")


def escape(text: str) -> str:
    """Text for HTML and SVG: control and bidi characters shown, then entity-escaped."""
    return _html_escape(shown(text))


def shown_data(value: Any) -> Any:
    """A JSON document with every string (keys too) through ``shown``: safe for a script."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {shown_data(k): shown_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown_data(v) for v in value]
    return value


def _svg(data: Mapping[str, Any]) -> str:
    pos = {n["id"]: n for n in data["nodes"]}
    out = [
        f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {data["width"]} '
        f'{data["height"]}" preserveAspectRatio="xMidYMin meet" role="img" '
        'aria-label="Peta jaringan">'
    ]
    for i, link in enumerate(data["links"]):
        a, b = pos.get(link["a"]), pos.get(link["b"])
        if a is None or b is None:
            continue
        out.append(
            f'<line id="link-{i}" class="link st-{link["state"]}" x1="{a["x"]}" y1="{a["y"]}" '
            f'x2="{b["x"]}" y2="{b["y"]}"><title>{escape(link["a"])} {escape(link["a_port"])} '
            f"&#8596; {escape(link['b'])} {escape(link['b_port'])}</title></line>"
        )
        for end, other, port in ((a, b, link["a_port"]), (b, a, link["b_port"])):
            if port:
                x = end["x"] + (other["x"] - end["x"]) * 0.25
                y = end["y"] + (other["y"] - end["y"]) * 0.25
                out.append(f'<text class="port" x="{x:.0f}" y="{y:.0f}">{escape(port)}</text>')
    for n in data["nodes"]:
        name = escape(n["id"])
        count = len(n["tickets"])
        hidden = "" if count else ' style="display:none"'
        out.append(
            f'<g class="node st-{n["state"]}" data-device="{name}" data-state="{n["state"]}" '
            f'transform="translate({n["x"]},{n["y"]})"><title>{name} ({escape(n["address"])}) - '
            f"{escape(n['opd'])}</title>"
            '<circle class="dot" r="13"/>'
            f'<text y="28">{name}</text>'
            f'<g class="badges"{hidden}><circle class="badge" cx="12" cy="-12" r="8"/>'
            f'<text class="badge-t" x="12" y="-9">{count}</text></g></g>'
        )
    out.append("</svg>")
    return "".join(out)


def _groups(data: Mapping[str, Any]) -> str:
    state = {n["id"]: n["state"] for n in data["nodes"]}
    parts = []
    for group in data["groups"]:
        chips = "".join(
            f'<a href="#" class="st-{state[d]}" data-device="{escape(d)}">{escape(d)}</a>'
            for d in group["devices"]
        )
        parts.append(f'<div class="opd"><h3>{escape(group["opd"])}</h3>{chips}</div>')
    return "".join(parts)


def summary_html(data: Mapping[str, Any]) -> str:
    """Return the counts per state and the time of the data (ids the script updates)."""
    counts = data["counts"]
    parts = "".join(
        f'<span>{escape(label)}: <b id="count-{s}">{counts.get(s, 0)}</b></span>'
        for s, label in STATE_LABEL.items()
    )
    stamp = escape(str(data.get("generated_at") or "-").replace("T", " ")[:19])
    return f'{parts}<span>diperbarui <b id="generated">{stamp}</b></span>'


def map_fragment(data: Mapping[str, Any]) -> str:
    """Return the map without page or script: SVG, zoom buttons, legend, panel, OPD groups.

    The data rides along as a JSON script element (not executed; CSP-safe) for ``map.js``.
    """
    embedded = json.dumps(shown_data(data), ensure_ascii=False).replace("<", "\\u003c")
    legend = "".join(
        f'<span class="st-{s}">{escape(label)}</span>' for s, label in STATE_LABEL.items()
    )
    return (
        f'<div id="wrap">{_svg(data)}<div class="zoom"><button id="zin" aria-label="perbesar">+'
        '</button><button id="zout" aria-label="perkecil">&#8722;</button>'
        '<button id="zhome" aria-label="seluruh peta">&#8962;</button></div></div>'
        f'<div class="legend">{legend}<span class="lost">link hilang</span></div>'
        '<div id="panel">Ketuk perangkat untuk melihat tiketnya.</div>'
        f"<section>{_groups(data)}</section>"
        f'<script type="application/json" id="sigap-map-data">{embedded}</script>'
    )


def map_script() -> str:
    """Return ``map.js`` with its labels filled in (inline in a file, a URL on the board)."""
    script = (STATIC / "map.js").read_text()
    return script.replace("%LABELS%", json.dumps(STATE_LABEL, ensure_ascii=False))


def map_css() -> str:
    """Return the map's style sheet (no page-wide rules: the board has its own layout)."""
    return (STATIC / "map.css").read_text()


def render_map_html(
    data: Mapping[str, Any], *, live_url: str | None = None, device_url: str | None = None
) -> str:
    """Return the standalone map page for ``data`` (from ``map_json``).

    Args:
        data: the map document.
        live_url: URL of the map JSON to poll every 10 s; none in a file export.
        device_url: link of a device page, ``{name}`` replaced.
    """
    title = escape(data.get("title") or "Peta jaringan")
    css = (STATIC / "page.css").read_text() + map_css()
    body_attrs = f' data-live="{escape(live_url)}"' if live_url else ""
    body_attrs += f' data-device-url="{escape(device_url)}"' if device_url else ""
    return (
        '<!doctype html>\n<html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{css}</style></head>"
        f'<body{body_attrs}><header><h1>{title}</h1><div class="sum">{summary_html(data)}'
        "</div></header>"
        f"{map_fragment(data)}<script>{map_script()}</script></body></html>\n"
    )
