"""The board's network history (issue 19): the device page and the traffic on a ticket page.

``/perangkat/{name}?periode=24j|7h|30h``: the device's facts and status (*tak terpantau*
when its zone's poller is silent, issue 23), a traffic graph per port kept in history
(5-minute buckets for 24 hours, hourly for 7 and 30 days; in/out bit rate against the
contracted bandwidth), its ICMP loss (5-minute averages), its availability
over the same period (%, downtime, outages, longest, MTBF) and its tickets. A ticket page
shows the device's traffic and loss from 3 hours before the fault until it cleared (or now),
and the outage minutes in that window; a complaint that names no device shows its OPD's
uplink.

Graphs are SVG drawn on the server (``ticketing.reports.linechart``): labels escaped, no
script. Plain ``def`` handlers (database reads in Starlette's thread pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.routing import Route

from agent.config.model import CENTRAL_ZONE
from agent.history.availability import MEGA, device_figures, uplinks
from agent.web.board import board_of
from agent.web.inputs import path_text, query_text
from agent.web.zoneview import device_zone, silent_banners
from ticketing import board as queries
from ticketing import device_log, pingloss
from ticketing.faults import split_key
from ticketing.reports.availability import pct_text
from ticketing.reports.linechart import Series, line_chart_svg
from ticketing.reports.portgraph import PortGraph, port_graph
from ticketing.reports.render import duration_text
from ticketing.rollups import FINE, HOURLY, stored_ports
from ticketing.states import TicketState

if TYPE_CHECKING:
    from datetime import datetime

    from starlette.requests import Request
    from starlette.responses import Response

    from agent.config.model import Device
    from agent.web.board import Board
    from ticketing.availability import Figures
    from ticketing.views import TicketView

# query value -> (label, length, bucket step)
PERIODS: Final = {
    "24j": ("24 jam", timedelta(hours=24), FINE),
    "7h": ("7 hari", timedelta(days=7), HOURLY),
    "30h": ("30 hari", timedelta(days=30), HOURLY),
}
BEFORE_FAULT: Final = timedelta(hours=3)
AFTER_CLEAR: Final = timedelta(minutes=30)
MAX_TICKET_WINDOW: Final = timedelta(days=2)  # a ticket open for weeks: its first two days
LOSS_COLOUR: Final = "#c05621"
MAX_LOSS_CHART: Final = timedelta(days=2)  # longer periods: the figures only (8,640 points)


@dataclass(frozen=True, slots=True)
class Graph:
    """A port graph ready for a template (the SVG marked safe: built and escaped by us)."""

    interface: str
    svg: Markup
    caption: str


def _graph(g: PortGraph) -> Graph:
    # the SVG comes from ticketing.reports.linechart, which escapes every label
    return Graph(g.interface, Markup(g.svg), g.caption)  # noqa: S704


def graphs(
    board: Board, device: Device, *, start: datetime, end: datetime, step: int, only: str = ""
) -> list[Graph]:
    """The graphs of the device's ports kept in history (or only the port ``only``)."""
    ports = set(stored_ports(board.store, device.name)) | {
        name for name, mark in device.ports.items() if mark.uplink
    }
    if only:  # a port's own fault: that port, kept in history or not
        ports = {only}
    out = []
    for port in sorted(ports):
        mark = device.ports.get(port)
        bandwidth = mark.bandwidth_mbps * MEGA if mark and mark.bandwidth_mbps else None
        g = port_graph(
            board.store, device.name, port, start=start, end=end, step=step, tz=board.tz,
            bandwidth_bps=bandwidth,
        )  # fmt: skip
        out.append(_graph(g))
    return out


def loss_graph(board: Board, device: str, *, start: datetime, end: datetime) -> Graph:
    """The device's ICMP loss (5-minute averages) over the window, and its figures."""
    rounds, average, worst = pingloss.totals(board.store, device, start=start, end=end)
    if average is None or worst is None:
        return Graph("ICMP", Markup(""), "Loss ICMP: belum ada data pada periode ini.")
    caption = (f"Loss ICMP: rata-rata {average * 100:.1f}%, terburuk 5 menit {worst * 100:.1f}% "
               f"({rounds} putaran ping)")  # fmt: skip
    if end - start > MAX_LOSS_CHART:
        return Graph("ICMP", Markup(""), caption)
    buckets = pingloss.read(board.store, device, start=start, end=end)
    half = timedelta(seconds=FINE / 2)
    points = [(b.start + half, b.ratio) for b in buckets]
    svg = line_chart_svg(
        f"{device} loss ICMP", [Series("loss (5 menit)", LOSS_COLOUR, points)], start=start,
        end=end, tz=board.tz, gap=timedelta(seconds=FINE * 1.5), limit=1.0, limit_label="100%",
        value_text=lambda v: f"{v * 100:.0f}%",
    )  # fmt: skip
    # built by ticketing.reports.linechart, which escapes every label
    return Graph("ICMP", Markup(svg), caption)  # noqa: S704


def _minutes(value: timedelta) -> str:
    """``0.98 menit`` -> ``1.0 menit`` under an hour (as the downtime), else ``2 jam 5 menit``."""
    if value < timedelta(hours=1):
        return f"{value.total_seconds() / 60:.1f} menit"
    return duration_text(value)


def availability_rows(f: Figures) -> list[tuple[str, str]]:
    """The device's availability figures as (label, value) rows."""
    return [
        ("Ketersediaan", pct_text(f.percent)),
        ("Waktu padam", f"{f.downtime.total_seconds() / 60:.1f} menit"),  # as the report
        ("Jumlah gangguan", str(f.outages)),
        ("Gangguan terlama", _minutes(f.longest) if f.outages else "-"),
        ("MTBF", duration_text(f.mtbf)),
    ]


def device_page(request: Request) -> Response:
    """One device: facts, status, traffic graphs and availability of the period, tickets."""
    board = board_of(request)
    user = board.require(request)
    name = path_text(request, "name")
    device = board.inventory.devices.get(name)
    if device is None or not user.sees(device.opd):
        raise HTTPException(404, f"Perangkat {name} tidak ada di inventaris.")
    chosen = query_text(request, "periode", "24j")
    if chosen not in PERIODS:
        raise HTTPException(400, "periode: 24j, 7h atau 30h")
    label, length, step = PERIODS[chosen]
    now = board.now()
    start = now - length
    history = [t for t in queries.device_tickets(board.store, name) if user.sees(t.opd)]
    figures = device_figures(board.store, board.inventory, name, start=start, end=now, as_of=now)
    zone = device_zone(board, name, now)
    context = {
        "d": device,
        "remote": device.zone != CENTRAL_ZONE,  # polled by its zone's pollers (issue 23)
        "silent": silent_banners(board, user, [zone], []) if zone is not None else [],
        "history": history,
        "active": [t for t in history if t.status is not TicketState.RESOLVED],
        "periods": [(key, p[0]) for key, p in PERIODS.items()],
        "periode": chosen,
        "period_label": label,
        "graphs": graphs(board, device, start=start, end=now, step=step),
        "loss": loss_graph(board, name, start=start, end=now),
        "availability": availability_rows(figures),
        "said": device_log.read(board.store, name, since=now - timedelta(days=1), limit=200),
    }
    return board.render(request, "device.html", context)


def ticket_window(ticket: TicketView, now: datetime) -> tuple[datetime, datetime]:
    """From 3 hours before the fault until 30 minutes after it cleared (or now; at most 2 days)."""
    start = ticket.opened_at - BEFORE_FAULT
    cleared = ticket.resolved_at or now
    end = min(cleared + AFTER_CLEAR, now, ticket.opened_at + MAX_TICKET_WINDOW)
    return start, max(end, ticket.opened_at + timedelta(minutes=30))


def ticket_traffic(board: Board, ticket: TicketView) -> dict[str, object] | None:
    """The device's traffic and outage time around the fault, for the ticket page."""
    device = board.inventory.devices.get(ticket.device) if ticket.device else None
    if device is None and ticket.opd:  # a complaint naming no device: the OPD's uplink
        names = uplinks(board.inventory).get(ticket.opd, ())
        device = board.inventory.devices[names[0]] if names else None
    if device is None:
        return None
    start, end = ticket_window(ticket, board.now())
    _device, kind, subject = split_key(ticket.fault_key or "")
    # a port's fault (link_saturated, errors) shows that port; anything else every kept port
    only = subject if kind else ""
    figures = device_figures(board.store, board.inventory, device.name, start=start, end=end,
                             as_of=board.now())  # fmt: skip
    return {
        "device": device.name,
        "start": start,
        "end": end,
        "graphs": graphs(board, device, start=start, end=end, step=FINE, only=only),
        "loss": loss_graph(board, device.name, start=start, end=end),
        "down": duration_text(figures.downtime),
        "outages": figures.outages,
    }


ROUTES: Final = [Route("/perangkat/{name}", device_page)]
