"""Shared test helpers: capability checks that fail (not skip) under CI, PostgreSQL databases."""

from __future__ import annotations

import os
import shutil
import time
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")
PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_SOCKET_DIR = "/var/run/postgresql"  # reachable from every network namespace (a file path)


def unavailable(reason: str) -> None:
    """Fail under CI=true (the lab must run there), skip with the reason elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required for CI but unavailable: {reason}")
    pytest.skip(reason)


def require_lab_capabilities() -> None:
    """Root, `ip`, `nft` and network namespaces are needed for the lab."""
    if os.geteuid() != 0:
        unavailable("the lab needs root (network namespaces)")
    for tool in ("ip", "nft", "fping"):
        if shutil.which(tool) is None:
            unavailable(f"`{tool}` is not installed")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.2) -> T:
    """Poll ``probe`` until it returns something other than None; fail with ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database; yields a URL over the unix socket, dropped afterwards."""
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        unavailable(f"PostgreSQL at 127.0.0.1:5432 not reachable: {exc}")
    name = f"sigap_t{os.getpid()}_{time.monotonic_ns() % 10**9}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@/{name}?host={PG_SOCKET_DIR}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
