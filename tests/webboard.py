"""Shared pieces of the web board tests: an office inventory, people with passwords, a login."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from agent.config.load import load_inventory
from agent.web.auth import hash_password
from ticketing.accounts import AccountStore
from ticketing.migrate import migrate
from ticketing.store import TicketStore

with warnings.catch_warnings():
    # starlette 0.52's TestClient names anyio.abc.BlockingPortal, deprecated in anyio 4.12
    warnings.filterwarnings("ignore", "The anyio.abc.BlockingPortal alias", DeprecationWarning)
    from starlette.testclient import TestClient

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from agent.config.model import Inventory

INVENTORY = """
office:
  name: Diskominfo Lombok Tengah
defaults:
  role: router
  platform: mikrotik_routeros
hosts:
  core-r1: {address: 10.0.0.1, opd: Diskominfo}
  rsud-r1: {address: 10.0.1.1, opd: RSUD Praya, parent: core-r1}
  rsud-sw1: {address: 10.0.1.2, opd: RSUD Praya, parent: rsud-r1, role: switch}
  setda-r1: {address: 10.0.2.1, opd: Sekretariat Daerah, parent: core-r1}
people:
  - {name: Lalu Kadis, role: kadis, opd: Diskominfo}
  - {name: Hj Kabid, role: kabid, opd: Diskominfo}
  - {name: Baiq Kasi, role: kasi, opd: Diskominfo}
  - {name: Teknisi Satu, role: teknisi, opd: Diskominfo}
  - {name: PJ RSUD, role: pj_opd, opd: RSUD Praya}
"""
# the same office with zone pollers (issue 23): RSUD's devices in kecamatan Praya, Setda's in
# Jonggat, core-r1 polled by the centre
ZONED_INVENTORY = (
    INVENTORY.replace(
        "parent: core-r1}\n  rsud-sw1", "parent: core-r1, zone: kec-praya}\n  rsud-sw1"
    )
    .replace("role: switch}", "role: switch, zone: kec-praya}")
    .replace(
        "opd: Sekretariat Daerah, parent: core-r1}",
        "opd: Sekretariat Daerah, parent: core-r1, zone: kec-jonggat}",
    )
)
PEOPLE = ("Lalu Kadis", "Hj Kabid", "Baiq Kasi", "Teknisi Satu", "PJ RSUD")
SECRET = "test-secret-key-of-the-web-board-0123456789"  # noqa: S105 - a test key
__all__ = ["TestClient"]
CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def password_of(name: str) -> str:
    """Every test person's password (long enough for the board's minimum)."""
    return f"sandi-{name.lower().replace(' ', '-')}-2026"


def write_inventory(directory: Path, extra: str = "") -> Inventory:
    """The test office's inventory file in ``directory``, loaded."""
    path = directory / "inventory.yaml"
    path.write_text(textwrap.dedent(INVENTORY) + extra, encoding="utf-8")
    return load_inventory(path)


@functools.cache
def _hash(name: str) -> str:
    return hash_password(password_of(name))  # argon2 is slow on purpose: once per run


def set_passwords(url: str) -> None:
    """Give every test person a password (argon2 hashes in the database)."""
    store = TicketStore(url)
    migrate(store)
    accounts = AccountStore(store)
    at = datetime.now(UTC)
    for name in PEOPLE:
        accounts.set_hash(name, _hash(name), at=at)
    store.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF_RE.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def served_board(inventory: Path, db_url: str, workdir: Path) -> Iterator[str]:
    """Run ``sigap web`` on 127.0.0.1 as its own process; yield its base URL; stop it.

    The server's output goes to ``workdir/web.log`` (printed when it does not come up).
    """
    with served_board_process(inventory, db_url, workdir) as (base, _proc):
        yield base


@contextlib.contextmanager
def served_board_process(
    inventory: Path, db_url: str, workdir: Path, *extra: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`served_board` yielding the process too (its memory is read in /proc); ``extra``
    arguments are added to ``sigap web``'s."""
    port = free_port()
    log_path = workdir / "web.log"
    argv = [
        str(Path(sys.executable).with_name("sigap")),
        "web",
        "--listen", f"127.0.0.1:{port}",
        "--secret-file", str(workdir / "web-secret"),
        "--inventory", str(inventory),
        "--db", db_url,
        *extra,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/masuk", timeout=2) as reply:  # noqa: S310
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sigap web did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield base, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def signed_in_clients(inventory: Inventory, url: str) -> Iterator[Callable[[str], TestClient]]:
    """``make(name)``: a client of the whole board (``build_web_app``) signed in as ``name``.

    Every client made is closed when the block ends.
    """
    from agent.wiring import build_web_app, open_store

    clients: list[TestClient] = []

    def make(name: str) -> TestClient:
        app = build_web_app(inventory, open_store(inventory, url), secret_key=SECRET)
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        page = client.get("/masuk")
        reply = client.post(
            "/masuk", data={"nama": name, "sandi": password_of(name), "csrf": csrf_of(page.text)}
        )
        assert reply.status_code == 303, reply.text
        return client

    try:
        yield make
    finally:
        for c in clients:
            c.__exit__(None, None, None)


def login(client: TestClient, name: str) -> TestClient:
    """Sign ``name`` in on ``client`` (its test password); the client, signed in."""
    page = client.get("/masuk")
    data = {"nama": name, "sandi": password_of(name), "csrf": csrf_of(page.text), "lanjut": "/"}
    reply = client.post("/masuk", data=data)
    assert reply.status_code == 303, reply.text
    return client
