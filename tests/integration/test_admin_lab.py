"""A maintenance window opened through the admin service silences the running daemon (issue 21).

The real daemon runs in the lab's NOC namespace with ``--pid-file``; the editor writes the
window into its inventory and sends SIGHUP through the pid file; a device that then fails
inside the window opens no ticket while another one does; cancelling the window opens it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

import pytest

from agent.admin import changes
from agent.admin.edits import InventoryEditor
from agent.admin.reload import PidFileReloader
from agent.config.load import load_inventory
from agent.lab import control as labctl
from labnet.lab import Lab
from tests.conftest import require_lab_capabilities, wait_for
from tests.labagent import Agent
from ticketing.admin_log import AdminLog
from ticketing.migrate import migrate
from ticketing.states import TicketState

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from ticketing.store import TicketStore

pytestmark = pytest.mark.integration

INVENTORY = """# lab for the admin test
office: {name: Diskominfo Uji, timezone: Asia/Makassar}
lab: {prefixes: [10.63.0.0/16], noc_address: 10.63.255.254}
defaults: {platform: mikrotik_routeros, role: router, opd: Diskominfo}
hosts:
  core: {address: 10.63.0.1}
  opd1: {address: 10.63.1.10, parent: core, opd: Dinas Kesehatan}
  opd2: {address: 10.63.1.20, parent: core, opd: RSUD Praya}
"""


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    require_lab_capabilities()
    path = tmp_path_factory.mktemp("inv") / "inventory.yaml"
    path.write_text(INVENTORY)
    lab = Lab(f"m{os.getpid() % 100000}")
    try:
        labctl.up(load_inventory(path), lab)
        yield lab, path
    finally:
        lab.down()


def open_ticket(store: TicketStore, device: str) -> bool | None:
    found = [t for t in store.list(limit=100) if t.device == device]
    return True if any(t.status is TicketState.OPEN for t in found) else None


MUTED = "during maintenance 'kabel fiber': no ticket"


def said(agent: Agent, text: str) -> bool | None:
    return True if text in agent.log.read_text() else None


def reloaded(agent: Agent, count: int) -> bool | None:
    return True if agent.log.read_text().count("inventory reloaded") >= count else None


def test_window_from_the_editor_stops_tickets_until_cancelled(
    lab: Lab, lab_env: tuple[Lab, Path], db_url: str, store: TicketStore, tmp_path: Path
) -> None:
    inventory = lab_env[1]
    original = inventory.read_text()
    pid_file = tmp_path / "sigap.pid"
    agent = Agent(lab, inventory, db_url, tmp_path, env={"SIGAP_PID_FILE": str(pid_file)})
    try:
        agent.start()
        migrate(store)
        editor = InventoryEditor(
            inventory, AdminLog(store), PidFileReloader(pid_file), now=lambda: datetime.now(UTC)
        )
        start = datetime.now(UTC) - timedelta(minutes=1)
        result = editor.apply(
            changes.add_window("opd2", "kabel fiber", start, start + timedelta(hours=2)),
            by="Baiq Kasi",
            base_version=editor.snapshot().version,
            summary="jendela",
        )
        assert "diminta memuat ulang" in result.reload, result.reload
        wait_for("the daemon's reload", partial(reloaded, agent, 1), timeout=20)
        lab.fail("opd2")
        lab.fail("opd1")
        wait_for("a ticket for opd1", partial(open_ticket, store, "opd1"), timeout=60)
        # opd2's loops restarted with the reload, so its verdict may come a round after opd1's
        wait_for("opd2 found down inside its window", partial(said, agent, MUTED), timeout=60)
        assert open_ticket(store, "opd2") is None  # down as long as opd1, inside its window
        editor.apply(
            changes.cancel_window("opd2", "kabel fiber"),
            by="Baiq Kasi",
            base_version=result.version,
            summary="batal",
        )
        wait_for("the second reload", partial(reloaded, agent, 2), timeout=20)
        wait_for("a ticket for opd2", partial(open_ticket, store, "opd2"), timeout=60)
        assert [e.summary for e in AdminLog(store).edits()] == ["batal", "jendela"]
    finally:
        agent.close()
        if agent.log.exists():
            print(agent.log.read_text()[-6000:])
        inventory.write_text(original)
