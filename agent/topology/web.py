"""The map in the web board (issue 11): ``/peta``, its live JSON, script and style sheet.

The page is the board's layout around the same server-drawn SVG as ``sigap peta --html``;
the script and style come from URLs of their own (the proxy's CSP forbids inline ones) and
the page polls ``/peta/data.json`` every 10 s. Links are the ones the daemon stored
(``network_links``; the inventory's parent edges before its first discovery); colours come
from the open tickets, except for the devices of a zone whose poller is silent: those are
*tak terpantau* (issue 23), with a banner per zone above the map. An OPD contact sees the
devices and tickets of their OPD only.

``agent.wiring.build_web_app`` mounts ``ROUTES`` with the menu entry ``NAV`` and the
``TEMPLATES`` folder. The handlers are plain ``def`` (they read the database and files):
Starlette runs them in its thread pool, off the event loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from markupsafe import Markup
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agent.topology.mapdata import MapDevice, map_json
from agent.topology.maphtml import map_css, map_fragment, map_script, shown_data, summary_html
from agent.topology.model import Link
from agent.web.board import board_of
from agent.web.zoneview import silent_banners
from agent.zones.view import unwatched
from ticketing.topology import TopologyStore

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from agent.web.auth import User
    from agent.web.board import Board

TEMPLATES: Final = Path(__file__).with_name("templates")
NAV: Final = ("/peta", "Peta")
MAX_NEIGHBOURS: Final = 50
NO_CACHE: Final = {"Cache-Control": "no-store"}


def map_data(board: Board, user: User) -> dict[str, Any]:
    """Return the map document as ``user`` may see it (OPD contacts: their OPD)."""
    inventory = board.inventory
    devices = [
        MapDevice(d.name, d.address, d.opd, d.site, d.role, d.parent)
        for d in inventory.devices.values()
        if user.sees(d.opd)
    ]
    names = {d.name for d in devices}
    stored = TopologyStore(board.store).links()
    rows = [r for r in stored if {r.a, r.b} <= names]
    links = [Link(r.a, r.a_port, r.b, r.b_port, r.protocols) for r in rows]
    title = f"Peta jaringan {inventory.office_short or inventory.office_name}".strip()
    # a complaint of another OPD may name one of these devices: its summary is not theirs
    tickets = [t for t in board.store.active() if user.sees(t.opd)]
    now = board.now()
    return map_json(
        devices,
        tickets,
        links=links if stored else None,
        lost={r.key for r in rows if r.lost_at is not None},
        title=title,
        at=now.astimezone(board.tz),
        unmonitored=unwatched(board.silent_zones(now)),
    )


def peta_page(request: Request) -> Response:
    """Peta jaringan: the live map, lost links and unknown neighbours."""
    board = board_of(request)
    user = board.require(request)
    data = map_data(board, user)
    topo = TopologyStore(board.store)
    visible = {n["id"] for n in data["nodes"]}
    lost = [r for r in topo.links() if r.lost_at is not None and {r.a, r.b} <= visible]
    neighbours = [] if user.read_only else topo.neighbours()[:MAX_NEIGHBOURS]
    silent = silent_banners(board, user, board.silent_zones(board.now()), [])
    context = {
        "silent": silent,
        "brief": True,  # the map shows the devices
        # both are built by agent.topology.maphtml, which escapes every name and label
        "fragment": Markup(map_fragment(data)),  # noqa: S704
        "summary": Markup(summary_html(data)),  # noqa: S704
        "lost": lost,
        "neighbours": neighbours,
    }
    return board.render(request, "peta.html", context)


def peta_json(request: Request) -> Response:
    """The map document for live updates (the page polls it)."""
    board = board_of(request)
    user = board.require(request)
    # strings from devices (LLDP ports) and complaints (summaries): nothing acts in the page
    return JSONResponse(shown_data(map_data(board, user)), headers=NO_CACHE)


def peta_script(_request: Request) -> Response:
    """The map's script (pan, zoom, detail panel, polling)."""
    return Response(map_script(), media_type="text/javascript; charset=utf-8")


def peta_style(_request: Request) -> Response:
    """The map's style sheet."""
    return Response(map_css(), media_type="text/css; charset=utf-8")


ROUTES: Final[list[BaseRoute]] = [
    Route("/peta", peta_page),
    Route("/peta/data.json", peta_json),
    Route("/peta/peta.js", peta_script),
    Route("/peta/peta.css", peta_style),
]
