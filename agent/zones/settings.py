"""What a zone poller is told: its zones, its name, its cluster, lease and replay buffer."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy.engine import make_url

from agent.config.model import CENTRAL_ZONE
from agent.config.schema import ZONE_PATTERN, HaBlock
from agent.errors import AgentError
from agent.zones import DEFAULT_BUFFER

if TYPE_CHECKING:
    from collections.abc import Sequence

    from agent.config.model import Inventory

MAX_BUFFER: Final = 10_000_000
_ZONE_RE: Final = re.compile(ZONE_PATTERN.replace("^", r"\A").replace("$", r"\Z"))
_NODE_RE: Final = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,47}\Z")


class PollerConfigError(AgentError):
    """A poller cannot start with these options (exit 2, like a bad inventory)."""


@dataclass(frozen=True, slots=True)
class PollerSettings:
    """One poller process: the zones it polls, its node name, cluster, lease (s), buffer."""

    zones: tuple[str, ...]
    node: str
    cluster: str = "sigap"
    lease: float = 15.0
    buffer: int = DEFAULT_BUFFER

    @property
    def heartbeat(self) -> float:
        """Seconds between heartbeats: a third of the lease."""
        return self.lease / 3


def poller_settings(
    inventory: Inventory,
    zones: Sequence[str],
    database_url: str,
    *,
    node: str | None = None,
    buffer: int = DEFAULT_BUFFER,
) -> PollerSettings:
    """Check ``sigap run --zona`` options against the inventory; every problem in one error.

    A poller needs PostgreSQL (it shares the centre's database); its zones must be written in
    the inventory (a typo would otherwise poll nothing, silently).
    """
    problems: list[str] = []
    for zone in zones:
        if not isinstance(zone, str) or not _ZONE_RE.match(zone):
            problems.append(f"--zona {zone!r}: expected lowercase letters, digits and '-' (max 40)")
        elif zone == CENTRAL_ZONE:
            problems.append(f"--zona {CENTRAL_ZONE}: the centre's devices are polled by sigap run")
        elif not inventory.zone_devices(zone):
            known = ", ".join(inventory.remote_zones()) or "none"
            problems.append(f"--zona {zone}: no device of the inventory is in it (zones: {known})")
    ha = inventory.ha
    name = node or (ha.node if ha is not None else "") or socket.gethostname()
    if not _NODE_RE.match(name):
        problems.append(f"--node {name!r}: expected letters, digits, '.', '_', '-' (max 48)")
    if not 1 <= buffer <= MAX_BUFFER:
        problems.append(f"--buffer {buffer}: expected 1..{MAX_BUFFER} rows")
    if not database_url.startswith("postgresql"):
        scheme = database_url.split(":", 1)[0] or "none"
        problems.append(f"a zone poller needs PostgreSQL (daemon.database or --db), not {scheme}")
    if problems:
        raise PollerConfigError("\n".join(problems))
    return PollerSettings(
        zones=tuple(dict.fromkeys(zones)),
        node=name,
        cluster=ha.cluster if ha is not None else HaBlock().cluster,
        lease=ha.lease if ha is not None else HaBlock().lease.total_seconds(),
        buffer=buffer,
    )


def poller_url(url: str, lease: float) -> str:
    """``url`` with libpq timeouts so a lost link fails a write within the lease, not minutes.

    Settings already in the URL win; a unix socket ignores the TCP ones.
    """
    parsed = make_url(url)
    query = dict(parsed.query)
    for key, value in {
        "connect_timeout": str(max(2, int(lease / 3))),
        "keepalives": "1",
        "keepalives_idle": str(max(1, int(lease / 3))),
        "keepalives_interval": "1",
        "keepalives_count": "3",
        "tcp_user_timeout": str(max(1000, int(lease * 1000))),
    }.items():
        query.setdefault(key, value)
    return parsed.set(query=query).render_as_string(hide_password=False)
