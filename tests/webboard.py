"""Shared pieces of the web board tests: an office inventory, people with passwords, a login."""

from __future__ import annotations

import functools
import re
import textwrap
import warnings
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from agent.config import load_inventory
from agent.web.auth import hash_password
from ticketing.accounts import AccountStore
from ticketing.store import TicketStore

with warnings.catch_warnings():
    # starlette 0.52's TestClient names anyio.abc.BlockingPortal, deprecated in anyio 4.12
    warnings.filterwarnings("ignore", "The anyio.abc.BlockingPortal alias", DeprecationWarning)
    from starlette.testclient import TestClient

if TYPE_CHECKING:
    from pathlib import Path

    from agent.inventory import Inventory

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
    store.migrate()
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
