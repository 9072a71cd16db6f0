"""Network history on the board (issue 19): device page graphs and availability, ticket traffic.

Real database (SQLite in tmp_path and PostgreSQL), rollups written through
``ticketing.rollups.write`` as the daemon writes them, pages fetched with Starlette's client.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime, timedelta

import pytest

from agent.config.load import load_inventory
from agent.wiring import build_web_app, open_store
from tests.hostile_text import NO_NUL, assert_shown
from tests.webboard import SECRET, TestClient, csrf_of, password_of, set_passwords
from ticketing import pingloss
from ticketing.faults import Fault, FaultKind
from ticketing.pingloss import Loss
from ticketing.reports.linechart import Series, line_chart_svg
from ticketing.rollups import FINE, HOURLY, Rollup, write
from ticketing.store import TicketStore

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 WITA
INVENTORY = """
office: {name: Diskominfo Lombok Tengah}
defaults: {role: router, platform: mikrotik_routeros}
hosts:
  core-r1: {address: 10.0.0.1, opd: Diskominfo}
  rsud-r1:
    address: 10.0.1.1
    opd: RSUD Praya
    parent: core-r1
    interfaces: {ether1: {uplink: true, bandwidth: 20M}}
  setda-r1: {address: 10.0.2.1, opd: Sekretariat Daerah, parent: core-r1}
people:
  - {name: Baiq Kasi, role: kasi, opd: Diskominfo}
  - {name: PJ RSUD, role: pj_opd, opd: RSUD Praya}
"""


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.unit),
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
def url(request, tmp_path):
    if request.param == "sqlite":
        found = TicketStore.sqlite_url(tmp_path / "board.db")
    else:
        found = request.getfixturevalue("pg_url")
    set_passwords(found)
    return found


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY), encoding="utf-8")
    return load_inventory(path)


@pytest.fixture
def kasi(inventory, url):
    app = build_web_app(inventory, open_store(inventory, url), now=lambda: NOW, secret_key=SECRET)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/masuk")
        data = {"nama": "Baiq Kasi", "sandi": password_of("Baiq Kasi"),
                "csrf": csrf_of(page.text), "lanjut": "/"}  # fmt: skip
        assert client.post("/masuk", data=data).status_code == 303
        yield client


def bucket(start, in_bps, out_bps, *, step=FINE, interface="ether1", util=None, device="rsud-r1"):
    return Rollup(device, interface, step, start, float(step), in_bps, out_bps,
                  in_bps, out_bps, util, 0.0)  # fmt: skip


def fill(url, rollups):
    store = TicketStore(url)
    try:
        write(store, rollups)
    finally:
        store.close()


def outage(url, device, start, minutes):
    store = TicketStore(url)
    try:
        store.open_fault(Fault(device, FaultKind.DEVICE_DOWN, f"{device} mati"), at=start)
        store.clear_fault(f"{device}/device_down", at=start + timedelta(minutes=minutes))
    finally:
        store.close()


def saturated(url, at):
    """A link_saturated ticket on rsud-r1 ether1 opened at ``at``; its number."""
    with TicketStore(url) as store:
        fault = Fault("rsud-r1", FaultKind.LINK_SATURATED, "ether1 penuh", subject="ether1")
        return store.open_fault(fault, at=at).ticket.number


def polylines(html):
    return re.findall(r"<polyline points=\"([^\"]+)\"", html)


def test_device_page_draws_24h_traffic_against_the_contract_and_availability(kasi, url):
    day_ago = NOW - timedelta(hours=24)
    rows = [bucket(day_ago + timedelta(minutes=5 * i), 8e6, 1e6, util=0.4) for i in range(288)]
    del rows[100:112]  # an hour without data: the line breaks there
    fill(url, rows)
    outage(url, "rsud-r1", NOW - timedelta(hours=5), 30)
    html = kasi.get("/perangkat/rsud-r1").text
    assert "Trafik dan ketersediaan: 24 jam terakhir" in html
    assert len(polylines(html)) == 4  # in and out, each in two runs around the gap
    assert "kontrak 20 Mb/s" in html  # the bandwidth line
    assert "rata-rata 5 menit: masuk 8 Mb/s, keluar 1 Mb/s" in html
    assert "utilisasi tertinggi 40%" in html
    assert "97.91%" in html  # 30 of 1,440 minutes down
    assert "30.0 menit" in html
    assert "<script>" not in html.split("</header>", 1)[1]


def test_device_page_7_and_30_days_use_hourly_buckets(kasi, url):
    rows = [bucket(NOW - timedelta(days=29, hours=-i), 2e6, 5e5, step=HOURLY) for i in range(700)]
    fill(url, rows)
    week = kasi.get("/perangkat/rsud-r1?periode=7h").text
    month = kasi.get("/perangkat/rsud-r1?periode=30h").text
    assert "rata-rata per jam: masuk 2 Mb/s" in week
    assert "7 hari terakhir" in week
    assert "30 hari terakhir" in month
    assert len(polylines(month)) == 2
    # fewer points in the week than in the month
    assert len(polylines(week)[0].split()) < len(polylines(month)[0].split())
    assert kasi.get("/perangkat/rsud-r1?periode=1tahun").status_code == 400


def test_device_without_history_says_so(kasi):
    html = kasi.get("/perangkat/setda-r1").text
    assert "Tidak ada port yang disimpan riwayat trafiknya" in html
    assert "100.00%" in html
    uplink = kasi.get("/perangkat/rsud-r1").text  # marked uplink, nothing stored yet
    assert "Tidak ada data pada periode ini." in uplink


def test_hostile_port_names_are_shown_escaped(kasi, url):
    names = {h.text[:128] for h in NO_NUL}  # tables hold 128 characters of a port name
    fill(url, [bucket(NOW - timedelta(minutes=30), 1e6, 1e6, interface=n) for n in names])
    reply = kasi.get("/perangkat/rsud-r1")
    assert reply.status_code == 200
    body = reply.text.split("</header>", 1)[1]
    assert "<script" not in body.lower()
    assert "<img" not in body
    assert_shown(body, NO_NUL)


def test_link_saturated_ticket_shows_the_hours_before(kasi, url):
    start = NOW - timedelta(hours=6)
    fill(url, [bucket(start + timedelta(minutes=5 * i), 19.5e6, 2e6, util=0.97) for i in range(72)])
    number = saturated(url, NOW - timedelta(hours=1))
    html = kasi.get(f"/tiket/{number}").text
    assert "Trafik perangkat sekitar gangguan" in html
    assert "rsud-r1 ether1" in html
    assert "utilisasi tertinggi 97%" in html
    assert "padam 0 kali, 0 menit" in html
    assert len(polylines(html)) == 2


def test_outage_ticket_shows_outage_minutes_in_its_window(kasi, url):
    outage(url, "rsud-r1", NOW - timedelta(hours=2), 45)
    store = TicketStore(url)
    try:
        number = store.list()[0].number
    finally:
        store.close()
    html = kasi.get(f"/tiket/{number}").text
    assert "padam 1 kali, 45 menit" in html


def test_line_chart_breaks_at_gaps_and_none_and_escapes_labels():
    t0 = NOW
    points = [(t0 + timedelta(minutes=5 * i), float(i)) for i in range(10)]
    points[4] = (points[4][0], None)
    points += [(t0 + timedelta(hours=3), 1.0), (t0 + timedelta(hours=3, minutes=5), 2.0)]
    svg = line_chart_svg(
        "<b>x</b>", [Series("a&b", "#000", points)], start=t0, end=t0 + timedelta(hours=4),
        tz=UTC, gap=timedelta(minutes=8),
    )  # fmt: skip
    assert len(polylines(svg)) == 3
    assert "<b>" not in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in svg
    assert "a&amp;b" in svg


def test_dashboard_and_ticket_list_link_to_device_pages(kasi, url):
    outage(url, "rsud-r1", NOW - timedelta(hours=2), 45)
    dashboard = kasi.get("/").text
    assert '<a href="/perangkat/rsud-r1#trafik">rsud-r1</a>' in dashboard
    assert '<a href="/perangkat/setda-r1#trafik">setda-r1</a>' in dashboard
    assert '<a href="/perangkat/rsud-r1">rsud-r1</a>' in kasi.get("/tiket").text


def test_ticket_and_device_pages_show_the_icmp_loss(kasi, url):
    rows = [
        Loss("rsud-r1", NOW - timedelta(minutes=5 * i), 10, 2.0 if i < 6 else 0.0, 0.4)
        for i in range(1, 30)
    ]
    with TicketStore(url) as store:
        pingloss.write(store, rows)
    number = saturated(url, NOW - timedelta(minutes=30))
    html = kasi.get(f"/tiket/{number}").text
    assert "rsud-r1 loss ICMP" in html
    assert "terburuk 5 menit 20.0% (290 putaran ping)" in html
    assert "Loss ICMP: rata-rata 3.4%" in html  # 5 buckets of 20 % among 29
    month = kasi.get("/perangkat/rsud-r1?periode=30h").text
    assert "Loss ICMP: rata-rata" in month
    assert "rsud-r1 loss ICMP" not in month  # 30 days: the figures only


def test_a_slow_complaint_from_the_board_form_shows_its_evidence(kasi, url):
    fill(url, [bucket(NOW - timedelta(minutes=5 * i), 19.5e6, 1e6) for i in range(1, 13)])
    form = kasi.get("/lapor").text
    data = {"sumber": "wa", "opd": "RSUD Praya", "pelapor": "dr. Ayu",
            "uraian": "Internet di poli LEMOOOT", "csrf": csrf_of(form)}  # fmt: skip
    reply = kasi.post("/lapor", data=data)
    assert reply.status_code == 303
    html = kasi.get(reply.headers["location"]).text
    assert "Bukti otomatis untuk keluhan internet lambat (uplink RSUD Praya): PENUH." in html


def test_a_complaint_without_device_shows_its_opd_uplink(kasi, url):
    fill(url, [bucket(NOW - timedelta(minutes=5 * i), 3e6, 1e6) for i in range(1, 13)])
    form = kasi.get("/lapor").text
    data = {"sumber": "surat", "opd": "RSUD Praya", "pelapor": "dr. Ayu",
            "uraian": "printer tidak bisa dipakai", "csrf": csrf_of(form)}  # fmt: skip
    html = kasi.get(kasi.post("/lapor", data=data).headers["location"]).text
    assert "Trafik perangkat sekitar gangguan (uplink OPD: rsud-r1)" in html
    assert "rata-rata 5 menit: masuk 3 Mb/s" in html
