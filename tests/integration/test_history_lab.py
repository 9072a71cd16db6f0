"""Network history end to end in the lab (issue 19): traffic and an outage, as the office sees it.

The real daemon runs in the lab's NOC namespace polling real net-snmp agents (IF-MIB counters
of the namespaces' own kernel interfaces). A bounded UDP blast from ``rtr``'s namespace to
``core`` (``BLAST_BPS`` for ``BLAST_S`` seconds, datagrams counted) goes out of ``rtr``'s
``ether1``; meanwhile ``pc`` is dead for ``OUTAGE_S`` seconds (real time, no injected clock:
the outage is recorded from detection to recovery, each a second or two after the real
change). Then the daemon stops (its open rollup buckets are written at stop) and the test
checks the metrics scraped during the blast, the rollups, ``sigap laporan ketersediaan``
and the device pages in Chromium (screenshots in ``tests/artifacts/web/perangkat/``).
SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from labnet.netns import entered
from tests.conftest import require_lab_capabilities, unavailable, wait_for
from tests.webboard import password_of, served_board, set_passwords
from ticketing import pingloss
from ticketing.rollups import FINE, read
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.labagent import Agent
    from ticketing.store import TicketStore

pytestmark = pytest.mark.integration

METRICS_PORT = 19471
BLAST_BPS = 4_000_000  # UDP payload bits per second
BLAST_S = 20.0
PAYLOAD = 1400
FRAME = PAYLOAD + 8 + 20 + 14  # UDP, IPv4 and Ethernet headers: what ifHCOutOctets counts
OUTAGE_S = 60.0
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "web" / "perangkat"
WITA = ZoneInfo("Asia/Makassar")
INVENTORY = f"""
office: {{name: Diskominfo Uji, timezone: Asia/Makassar}}
lab: {{prefixes: [10.67.0.0/16], noc_address: 10.67.255.254}}
daemon: {{metrics_listen: "127.0.0.1:{METRICS_PORT}"}}
defaults:
  platform: mikrotik_routeros
  role: router
  opd: Diskominfo
  ping: {{interval: 1s}}
  snmp: {{version: "2c", community_file: community, interval: 2s, timeout: 1s, retries: 0}}
hosts:
  core: {{address: 10.67.0.1}}
  rtr:
    address: 10.67.1.1
    parent: core
    opd: Dinas Kesehatan
    interfaces: {{ether1: {{uplink: true, bandwidth: 10M}}}}
  pc: {{address: 10.67.1.2, parent: rtr, role: switch, opd: Dinas Kesehatan}}
people:
  - {{name: Baiq Kasi, role: kasi, opd: Diskominfo}}
"""


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    if not Path("/usr/sbin/snmpd").exists():
        unavailable("net-snmp snmpd is not installed (apt-get install snmpd)")
    folder = tmp_path_factory.mktemp("histinv")
    (folder / "community").write_text("lab-community\n")
    path = folder / "inventory.yaml"
    path.write_text(INVENTORY)
    lab = Lab(f"h{os.getpid() % 100000}")
    try:
        labctl.up(load_inventory(path), lab)
        yield lab, path
    finally:
        lab.down()


def blast(lab: Lab, seconds: float, bps: int) -> int:
    """UDP datagrams from rtr's namespace to core, paced to ``bps``; frames sent."""
    with entered(lab.device_netns("rtr")):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    per_tick = max(1, round(bps / 8 / PAYLOAD / 100))  # 100 ticks a second
    sent = 0
    data = b"\x00" * PAYLOAD
    start = time.monotonic()
    with sock:
        for tick in range(round(seconds * 100)):  # bounded: seconds x 100 ticks
            for _ in range(per_tick):
                try:
                    sock.sendto(data, ("10.67.0.1", 9))
                    sent += 1
                except ConnectionRefusedError:  # core's port unreachable, reported back
                    continue
            delay = start + (tick + 1) / 100 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    return sent


def blast_watched(lab: Lab) -> tuple[int, float]:
    """The blast in a thread while /metrics is read every second; (frames, highest rate)."""
    result: list[int] = []
    sender = threading.Thread(target=lambda: result.append(blast(lab, BLAST_S, BLAST_BPS)))
    sender.start()
    labels = {"device": "rtr", "opd": "Dinas Kesehatan", "interface": "ether1", "direction": "out"}
    highest = 0.0
    while sender.is_alive():
        highest = max(highest, scrape(lab, "sigap_interface_bits_per_second", labels) or 0.0)
        sender.join(timeout=1.0)
    return result[0], highest


def scrape(lab: Lab, name: str, labels: dict[str, str]) -> float | None:
    """One sample of the agent's /metrics (read inside the NOC namespace)."""
    url = f"http://127.0.0.1:{METRICS_PORT}/metrics"
    with entered(lab.noc_netns):
        try:
            with urllib.request.urlopen(url, timeout=3) as reply:
                text = reply.read().decode()
        except OSError:
            return None
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            got = ",".join(sorted(line[len(name) + 1 : line.index("}")].split(",")))
            if got == want:
                return float(line.rsplit(" ", 1)[1])
    return None


def laporan_csv(inventory: Path, db_url: str, folder: Path) -> dict[str, dict[str, str]]:
    """``sigap laporan ketersediaan`` for today (WITA) as CSV: device rows by name."""
    today = datetime.now(WITA).date().isoformat()
    argv = [str(Path(sys.executable).with_name("sigap")), "laporan", "ketersediaan",
            "--dari", today, "--sampai", today, "--inventory", str(inventory), "--db", db_url,
            "--csv", str(folder / "ketersediaan.csv")]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    print(done.stdout)
    assert done.returncode == 0, done.stderr
    with (folder / "ketersediaan-perangkat.csv").open(encoding="utf-8") as f:
        return {row["perangkat"]: row for row in csv.DictReader(f)}


def test_blast_and_outage_show_in_metrics_rollups_report_and_device_page(
    lab: Lab, agent: Agent, store: TicketStore, db_url: str, tmp_path: Path
) -> None:
    agent.start()
    lab.fail("pc")
    failed_at = time.monotonic()
    print(f"pc failed at {datetime.now(UTC).isoformat()}")
    sent, rate = blast_watched(lab)
    print(f"blast: {sent} datagrams, highest /metrics out rate {rate / 1e6:.2f} Mbit/s")
    assert rate > BLAST_BPS * 0.8
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - failed_at)))
    lab.restore("pc")
    restored_at = time.monotonic()
    wait_for(
        "pc's outage cleared",
        lambda: next((t for t in store.list(limit=50) if t.device == "pc"
                      and t.status is not TicketState.OPEN), None),
        timeout=30,
    )  # fmt: skip
    (ticket,) = [t for t in store.list(limit=50) if t.device == "pc"]
    events = {e.kind.value: e.at for e in store.events(ticket.number)}
    print(f"real outage {restored_at - failed_at:.1f} s; recorded {events}")
    time.sleep(6)  # net-snmp's interface cache (5 s): the last counters of the blast
    assert agent.stop() == 0  # the open 5-minute buckets are written at stop

    now = datetime.now(UTC)
    buckets = read(store, "rtr", "ether1", step=FINE, start=now - timedelta(hours=1), end=now)
    bits = sum((r.out_avg or 0.0) * r.covered_s for r in buckets)
    expected = sent * FRAME * 8
    print(f"rollups: {len(buckets)} buckets, {bits / 1e6:.1f} Mbit out, {expected / 1e6:.1f} sent")
    assert bits == pytest.approx(expected, rel=0.1)

    pc_loss = pingloss.read(store, "pc", start=now - timedelta(hours=1), end=now)
    rtr_loss = pingloss.read(store, "rtr", start=now - timedelta(hours=1), end=now)
    print(f"ping loss: pc {pingloss.summary(pc_loss)}, rtr {pingloss.summary(rtr_loss)}")
    assert max(b.loss_max for b in pc_loss) == 1.0  # its rounds while dead
    assert pingloss.summary(rtr_loss)[0] == 0.0  # the blast lost no ping of rtr

    rows = laporan_csv(agent.inventory, db_url, tmp_path)
    minutes = float(rows["pc"]["gangguan_menit"])
    print(f"laporan ketersediaan: pc {minutes} menit padam")
    assert f"{minutes:.1f}" == f"{OUTAGE_S / 60:.1f}"  # from the first lost probe to the answer
    assert float(rows["rtr"]["gangguan_menit"]) == 0.0

    device_pages(agent.inventory, db_url, tmp_path, minutes)


def device_pages(inventory: Path, db_url: str, folder: Path, minutes: float) -> None:
    """rtr's graph and pc's downtime on the board, in Chromium; screenshots kept."""
    if not CHROMIUM.exists():
        unavailable("Debian's chromium is not installed (/usr/bin/chromium)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    set_passwords(db_url)
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with served_board(inventory, db_url, folder) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            context = browser.new_context(locale="id-ID", viewport={"width": 1000, "height": 900})
            page = context.new_page()
            page.goto(f"{base}/masuk?lanjut=/perangkat/rtr")
            page.fill("input[name=nama]", "Baiq Kasi")
            page.fill("input[name=sandi]", password_of("Baiq Kasi"))
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/perangkat/rtr")
            drawn = page.locator("figure.graph svg polyline, figure.graph svg circle").count()
            assert drawn >= 2  # in and out (a lone 5-minute bucket is a dot)
            caption = page.inner_text("figure.graph figcaption")
            print(f"device page: {caption}")
            assert re.search(r"keluar [0-9.]+ (Mb/s|kb/s)", caption)
            assert "kontrak 10 Mb/s" in (page.text_content("figure.graph svg") or "")
            page.screenshot(path=str(SHOTS / "rtr-24j.png"), full_page=True)
            page.goto(f"{base}/perangkat/pc")
            facts = page.inner_text("dl.availability")
            assert f"{minutes:.1f} menit" in facts
            page.screenshot(path=str(SHOTS / "pc-24j.png"), full_page=True)
        finally:
            browser.close()
