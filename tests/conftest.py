"""Shared test helpers: capability checks that fail (not skip) under CI, PostgreSQL databases."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

T = TypeVar("T")
PG_DEFAULT_URL = "postgresql+psycopg://postgres@/test?host=/var/run/postgresql"


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


def require_binaries(*paths: str) -> None:
    """Programs a lab test runs inside its namespaces (snmpd, lldpd, ...) must be installed."""
    for binary in paths:
        if not Path(binary).exists():
            unavailable(f"{binary} is needed (deploy/bootstrap.sh installs it)")


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
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema per test; yields its URL (unix socket: usable from every
    network namespace, e.g. by an agent in a lab's NOC); the schema is dropped afterwards.

    ``SIGAP_TEST_PG_URL`` overrides the server (default: the local one over its socket).
    """
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("SIGAP_TEST_PG_URL", PG_DEFAULT_URL))
    conninfo = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL not reachable at {conninfo}: {exc}")
    schema = f"sigap_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:  # a new connection: a test may have restarted the server meanwhile
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as again:
            again.execute(f'DROP SCHEMA "{schema}" CASCADE')
