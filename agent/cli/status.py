"""``sigap status``: who leads, who waits, and what the local daemon says (issue 23).

Two views, both read-only: the database's (PostgreSQL: the session holding the cluster's lock
is the leader, the other ``sigap/NODE`` sessions wait; SQLite: one node, no election) and the
local daemon's ``/healthz`` on ``daemon.metrics_listen`` (asked only on a loopback or wildcard
address: this command never sends a packet off the machine). Exit 1 when nobody leads (HA) or
no daemon answers (one node): the office is blind then.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import typer

from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, JsonOpt, console, load

if TYPE_CHECKING:
    from agent.config.model import Inventory
    from ticketing.store import TicketStore

HEALTH_TIMEOUT_S: Final = 3.0


def register(app: typer.Typer) -> None:
    """Add ``status`` to ``app``."""
    app.command("status")(status_cmd)


def cluster_view(inventory: Inventory, db: str | None) -> dict[str, Any]:
    """The database's view: backend, cluster, leader, lease age, standbys."""
    from agent.runtime.leader import members
    from agent.wiring import database_url, open_store

    url = database_url(inventory, db)
    ha = inventory.ha
    if not url.startswith("postgresql"):
        return {"backend": "sqlite", "ha": False}
    cluster = ha.cluster if ha is not None else "sigap"
    with open_store(inventory, db) as store:
        with store.engine.connect() as connection:
            found = members(connection, cluster)
        zones = _zones(inventory, store, cluster)
    leader = next((m for m in found if m.leads), None)
    return {
        "zones": zones,
        "backend": "postgresql",
        "ha": ha is not None,
        "cluster": cluster,
        "lease_seconds": ha.lease if ha is not None else None,
        "leader": leader.node if leader else None,
        "since_renewal_seconds": round(leader.idle_seconds, 1) if leader else None,
        "standby": [m.node for m in found if not m.leads],
    }


def _zones(inventory: Inventory, store: TicketStore, cluster: str) -> list[dict[str, Any]]:
    """Each zone of the inventory besides ``pusat``: its pollers' heartbeats (issue 23)."""
    if not inventory.remote_zones():
        return []
    from agent.zones.liveness import zone_table
    from agent.zones.ship import inventory_sha
    from agent.zones.view import cluster_lease
    from collectors.model import utc_now
    from ticketing.zones import pollers

    _, lease = cluster_lease(inventory)
    try:
        beats = pollers(store, cluster)
    except Exception:  # noqa: BLE001 - not migrated yet: no poller ever reported
        beats = []
    return zone_table(inventory, beats, utc_now(), lease, inventory_sha(inventory.path))


def zone_lines(zones: list[dict[str, Any]]) -> list[str]:
    """``sigap status`` lines of the zones: monitored, or tak terpantau with the reason."""
    out: list[str] = []
    for z in zones:
        names = ", ".join(_poller_text(p) for p in z["pollers"]) or "belum pernah ada poller"
        state = "terpantau" if z["monitored"] else "TAK TERPANTAU"
        out.append(f"Zona {z['zone']}: {state}, {z['devices']} perangkat; poller: {names}")
    return out


def _poller_text(p: dict[str, Any]) -> str:
    live = "hidup" if p["live"] else "diam"
    other = "" if p["inventory_matches"] else ", INVENTORY BERBEDA"
    return f"{p['node']} ({live}, {p['last_seen_seconds']:g} s lalu{other})"


def local_host(host: str) -> str | None:
    """Where to ask a daemon listening on ``host``: loopback only (None: not on this machine)."""
    import ipaddress

    if host == "localhost":
        return "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    v6 = isinstance(ip, ipaddress.IPv6Address)
    if ip.is_unspecified:  # 0.0.0.0 / :: listen everywhere, loopback included
        return "[::1]" if v6 else "127.0.0.1"
    if ip.is_loopback:
        return f"[{host}]" if v6 else host
    return None


def daemon_view(inventory: Inventory) -> dict[str, Any]:
    """The local daemon's /healthz, or why it was not asked or did not answer."""
    import urllib.error
    import urllib.request

    from agent.config.listen import parse_listen

    listen = inventory.metrics_listen
    if not listen:
        return {"asked": False, "why": "daemon.metrics_listen kosong"}
    address = parse_listen(listen)
    host = local_host(address.host)
    if host is None:
        return {"asked": False, "why": f"{listen} bukan alamat lokal"}
    url = f"http://{host}:{address.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT_S) as answer:
            report = json.loads(answer.read(65536))
    except urllib.error.HTTPError as exc:  # 503: unhealthy, still a report
        try:
            report = json.loads(exc.read(65536))
        except ValueError:
            return {"asked": True, "url": url, "answered": False, "why": f"HTTP {exc.code}"}
    except (OSError, ValueError) as exc:
        return {"asked": True, "url": url, "answered": False, "why": str(exc)[:200]}
    if not isinstance(report, dict):
        return {"asked": True, "url": url, "answered": False, "why": "bukan laporan /healthz"}
    return {"asked": True, "url": url, "answered": True, "report": report}


def _lines(cluster: dict[str, Any], local: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if cluster["backend"] == "sqlite":
        out.append("Basis data: SQLite (satu node, tanpa pemilihan pemimpin)")
    else:
        out.append(f"Basis data: PostgreSQL, klaster {cluster['cluster']!r}")
        if cluster["leader"]:
            lease = cluster["lease_seconds"]
            lease_text = f"; lease {lease:g} s" if lease else ""
            out.append(
                f"Pemimpin / leader: {cluster['leader']} (kunci diperbarui "
                f"{cluster['since_renewal_seconds']:g} s lalu{lease_text})"
            )
        elif cluster["ha"]:
            out.append("Pemimpin / leader: TIDAK ADA - tidak ada daemon yang memegang kunci")
        standby = ", ".join(cluster["standby"]) or "-"
        out.append(f"Siaga / standby: {standby}")
        out += zone_lines(cluster.get("zones", []))
    if not local["asked"]:
        out.append(f"Daemon lokal: tidak ditanya ({local['why']})")
    elif not local["answered"]:
        out.append(f"Daemon lokal ({local['url']}): tidak menjawab ({local['why']})")
    else:
        report = local["report"]
        ha = report.get("ha") if isinstance(report.get("ha"), dict) else None
        role = f", peran {ha.get('role')}, node {ha.get('node')}" if ha else ""
        out.append(f"Daemon lokal ({local['url']}): {report.get('status')}{role}")
    return out


def blind(cluster: dict[str, Any], local: dict[str, Any]) -> bool:
    """Nobody leads an HA cluster, or (one node) no daemon answered."""
    if cluster.get("ha"):
        return not cluster.get("leader")
    return not local.get("answered")


def status_cmd(
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Siapa memimpin, siapa siaga / who leads, who waits (exit 1: nobody watching)."""
    inventory = load(inventory_path)
    cluster = cluster_view(inventory, db)
    local = daemon_view(inventory)
    if as_json:
        console.print_json(json.dumps({"database": cluster, "daemon": local}))
    else:
        for line in _lines(cluster, local):
            console.print(line, markup=False)
    if blind(cluster, local):
        raise typer.Exit(1)
