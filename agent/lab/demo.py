"""``sigap demo``: lab network + agent in the NOC namespace + a scripted outage scenario.

The demo is a client of the real parts: it builds the lab from the inventory, starts
``sigap run`` inside the lab's NOC namespace as a separate process, injects faults with
:mod:`labnet`, and prints what the agent wrote to the ticket database as it happens.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text

from agent.errors import AgentError
from agent.lab import control as labctl
from agent.present.labels import EVENT_STYLE, EVENT_WORD
from agent.present.render import local, ticket_table
from agent.present.terminal import data
from ticketing.remediation import RemediationLog
from ticketing.states import TicketState
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from agent.config.model import Inventory
    from labnet.lab import Lab
    from ticketing.views import FeedItem, TicketView

_T = TypeVar("_T")
READY_TIMEOUT = 60.0
STEP_TIMEOUT = 45.0


@dataclass(frozen=True, slots=True)
class Scenario:
    """One scripted outage: which device dies, and what the tickets must show."""

    title: str
    device: str


class Demo:
    """Runs the scripted scenario and reports whether every expectation held."""

    def __init__(
        self, inventory: Inventory, console: Console, *, keep: bool, hold_down: float
    ) -> None:
        """Prepare a private database and log under a temporary directory."""
        self.inventory = inventory
        self.console = console
        self.keep = keep
        self.hold_down = hold_down
        self.lab: Lab = labctl.lab()
        self.workdir = Path(tempfile.mkdtemp(prefix="sigap-demo-"))
        self.db_url = TicketStore.sqlite_url(self.workdir / "sigap.db")
        self.log = self.workdir / "agent.log"
        self.failures: list[str] = []
        self._agent: subprocess.Popen[bytes] | None = None
        self._stop_watch = threading.Event()
        self.t0 = time.monotonic()

    # ------------------------------------------------------------------ main flow
    def run(self) -> bool:
        """Run everything; tear down unless ``keep``; return True when all checks passed."""
        dist, opd = self._pick_devices()
        try:
            self._say(
                f"[bold]1. Lab[/]: membangun jaringan {len(self.inventory.devices)} perangkat"
            )
            status = labctl.up(self.inventory, self.lab)
            self._say(f"   lab siap; agen berjalan di namespace [bold]{status.noc_netns}[/]")
            self._start_agent()
            watcher = threading.Thread(target=self._watch, name="demo-watch", daemon=True)
            watcher.start()
            self._outage(Scenario(f"2. Router distribusi {dist} mati", dist))
            self._outage(Scenario(f"3. Router OPD {opd} mati lalu hidup kembali", opd))
            self._port_disabled()
            self._summary()
        finally:
            self._stop_watch.set()
            self._stop_agent()
            self._teardown()
        return not self.failures

    def _pick_devices(self) -> tuple[str, str]:
        """The distribution router with the most devices behind it, and an OPD router."""
        inv = self.inventory
        dists = [d for d in inv.devices.values() if "distribusi" in d.tags]
        if not dists:
            raise AgentError("demo needs a device tagged 'distribusi' in the inventory")
        dist = max(dists, key=lambda d: sum(1 for _ in inv.descendants(d.name))).name
        opds = [
            d.name
            for d in inv.devices.values()
            if d.role == "router"
            and "opd" in d.tags
            and dist not in {a.name for a in inv.ancestors(d.name)}
        ]
        if not opds:
            raise AgentError(
                "demo needs an OPD router tagged 'opd' outside the chosen distribution"
            )
        return dist, opds[0]

    def _outage(self, scenario: Scenario) -> None:
        device = scenario.device
        hidden = sorted(self.inventory.descendants(device))
        self._say(f"\n[bold]{scenario.title}[/] ({len(hidden)} perangkat di belakangnya)")
        failed_at = time.monotonic()
        self.lab.fail(device)
        ticket = self._wait(
            f"tiket untuk {device}", lambda: self._ticket_for(device, {TicketState.OPEN})
        )
        if ticket is None:
            return
        self._say(f"   terdeteksi dalam {time.monotonic() - failed_at:.1f} detik: {ticket.number}")
        self._wait(
            f"{len(hidden)} perangkat terlampir",
            lambda: self._attached_all(ticket.number, hidden),
        )
        self._check_no_child_tickets(hidden)
        self.lab.restore(device)
        self._say(f"   {device} dipulihkan; hold-down {self.hold_down:.0f} detik")
        self._wait(
            f"{ticket.number} selesai",
            lambda: self._ticket_for(device, {TicketState.RESOLVED}),
            timeout=STEP_TIMEOUT + self.hold_down,
        )

    def _port_disabled(self) -> None:
        """An OPD's required LAN port is shut by mistake: SNMP sees it, one ticket, then fixed."""
        picked = self._pick_port()
        if picked is None:
            self._say("\n(4. dilewati: tidak ada perangkat dengan SNMP dan port wajib aktif)")
            return
        device, port, interval = picked
        self._say(
            f"\n[bold]4. Port {port} di {device} dimatikan (admin down) lalu dihidupkan[/] "
            f"(SNMP tiap {interval:.0f} detik)"
        )
        key = f"{device}/interface_disabled/{port}"
        self.lab.if_down(device, port)
        started = time.monotonic()
        found = self._wait(
            f"tiket interface_disabled {device} {port}",
            lambda: self._ticket_by_key(key, {TicketState.OPEN}),
            timeout=2 * interval + STEP_TIMEOUT,
        )
        if found is None:
            return
        self._say(f"   terdeteksi lewat SNMP dalam {time.monotonic() - started:.1f} detik")
        repairs = self.inventory.devices[device].remediation.enabled
        if repairs:
            self._say("   perbaikan otomatis diizinkan: sigap masuk lewat SSH dan menghidupkannya")
        else:
            self.lab.if_up(device, port)
        done = self._wait(
            f"{found.number} selesai",
            lambda: self._ticket_by_key(key, {TicketState.RESOLVED}),
            timeout=2 * interval + self.hold_down + STEP_TIMEOUT + (60 if repairs else 0),
        )
        if done is not None and repairs:
            with self._store() as store:
                runs = RemediationLog(store).runs(done.number)
            for run in runs:
                sent = [
                    str(e["command"]).replace("\n", "; ")
                    for e in run.transcript
                    if e.get("step") in ("command", "config")
                ]
                self._say(  # commands hold "[find ...]": text, not markup
                    data(
                        f"   perbaikan #{run.id} {run.playbook}: {run.status.value}; "
                        f"dikirim: {'; '.join(sent) or '-'}"
                    )
                )
            self._say(f"   lihat transkrip: sigap tiket show {done.number}")

    def _pick_port(self) -> tuple[str, str, float] | None:
        """An OPD router with SNMP and a required-up LAN port (not the uplink) in the lab."""
        for d in self.inventory.devices.values():
            if d.snmp is None or "opd" not in d.tags or d.role != "router":
                continue
            ports = set(self.lab.ports(d.name))
            for name, mark in d.ports.items():
                if mark.required_up and not mark.uplink and name in ports:
                    return d.name, name, d.snmp.interval
        return None

    def _ticket_by_key(self, key: str, states: set[TicketState]) -> TicketView | None:
        with self._store() as store:
            tickets = store.list(limit=50)
        return next((t for t in tickets if t.fault_key == key and t.status in states), None)

    def _summary(self) -> None:
        with self._store() as store:
            tickets = store.list(limit=20)
        self._say("\n[bold]5. Ringkasan tiket[/] (sigap tiket list)")
        self.console.print(ticket_table(tickets, self.inventory.tz, self.console.width))
        verdict = (
            "[bold green]semua pemeriksaan lulus[/]"
            if not self.failures
            else ("[bold red]GAGAL:[/] " + "; ".join(self.failures))
        )
        self._say(f"   {verdict} - total {time.monotonic() - self.t0:.0f} detik")

    # ------------------------------------------------------------------ agent process
    def _start_agent(self) -> None:
        ready = self.workdir / "ready"
        argv = [
            sys.executable,
            "-m",
            "agent",
            "run",
            "--inventory",
            str(self.inventory.path.resolve()),
            "--db",
            self.db_url,
            "--ready-file",
            str(ready),
            "--hold-down",
            str(self.hold_down),
        ]
        with self.log.open("wb") as log:
            self._agent = subprocess.Popen(
                self.lab.noc_argv(argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready.exists():
            if self._agent.poll() is not None or time.monotonic() > deadline:
                raise AgentError(f"agent did not start; its log:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        up, total = ready.read_text().split()
        self._say(f"   agen siap: {up} dari {total} perangkat menjawab ping")
        if up != total:
            self.failures.append(f"only {up} of {total} devices up at start")

    def _stop_agent(self) -> None:
        if self._agent is None or self._agent.poll() is not None:
            return
        self._agent.send_signal(signal.SIGTERM)
        try:
            self._agent.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._agent.kill()
            self._agent.wait()
            self.failures.append("agent did not stop on SIGTERM within 15 s")

    def _teardown(self) -> None:
        if self.keep:
            self._say(f"\n--keep: lab tetap berjalan; database {self.db_url}, log {self.log}")
            self._say("   sigap lab down  # untuk membongkar")
            return
        self.lab.down()
        self._say(f"\nlab dibongkar; database dan log agen tetap di {self.workdir}")

    # ------------------------------------------------------------------ observing
    def _watch(self) -> None:
        """Print every ticket event the agent writes, as it happens."""
        last = 0
        with self._store() as store:
            while not self._stop_watch.wait(0.25):
                for item in store.feed(after_id=last):
                    last = item.id
                    self._print_event(item)

    def _print_event(self, item: FeedItem) -> None:
        style = EVENT_STYLE.get(item.kind, "dim")
        word = EVENT_WORD.get(item.kind, item.kind.value)
        when = local(item.at, self.inventory.tz, "%H:%M:%S")
        self.console.print(
            Text.assemble(
                f"   [{when}] ", (item.number, "bold"), " ", (f"{word:<11}", style), " "
            ).append_text(data(item.detail)),
            highlight=False,
        )

    def _ticket_for(self, device: str, states: set[TicketState]) -> TicketView | None:
        with self._store() as store:
            tickets = store.list(limit=50)
        return next((t for t in tickets if t.device == device and t.status in states), None)

    def _attached_all(self, number: str, devices: list[str]) -> bool | None:
        with self._store() as store:
            ticket = store.get(number)
        attached = {a.device for a in ticket.affected if a.detached_at is None}
        return True if attached >= set(devices) else None

    def _check_no_child_tickets(self, hidden: list[str]) -> None:
        with self._store() as store:
            own = [t.number for t in store.active() if t.device in hidden]
        if own:
            self.failures.append(f"devices behind the failed router got own tickets: {own}")
        else:
            count = len(hidden)
            self._say(
                f"   [green]OK[/]: tidak ada tiket sendiri untuk {count} perangkat di belakangnya"
            )

    def _wait(
        self, what: str, probe: Callable[[], _T | None], timeout: float = STEP_TIMEOUT
    ) -> _T | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = probe()
            if found is not None:
                return found
            if self._agent is not None and self._agent.poll() is not None:
                break
            time.sleep(0.25)
        self.failures.append(f"timed out waiting for {what}")
        self._say(f"   [bold red]GAGAL[/]: {what} tidak terjadi dalam {timeout:.0f} detik")
        return None

    def _store(self) -> TicketStore:
        return TicketStore(self.db_url, tz=self.inventory.tz.key)

    def _say(self, text: str | Text) -> None:
        """One line: the demo's own ``str`` is markup (bold steps, green OK), data is Text."""
        line = Text.from_markup(text) if isinstance(text, str) else text
        self.console.print(line, highlight=False)
