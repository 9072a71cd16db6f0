"""The composition root: every part sigap runs is built here and handed down.

Commands (``agent.cli``) call these builders; nothing else imports this module, and the parts
it builds never import it back (the layering test checks both). Imports of heavy libraries stay
inside the builders that need them, so a command pays only for what it opens. One concept:
the composition root (store, collectors, web and intake, daemon, notifications), one section each.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from agent.config.sop import office_calendar, workflow_config
from collectors.model import utc_now
from ticketing.db import at_head
from ticketing.store import TicketStore

if TYPE_CHECKING:
    import asyncio
    import random
    from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime

    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from agent.admin.edits import InventoryEditor
    from agent.backup.service import BackupService, NightlyBackups
    from agent.chat.actions import ChatActions
    from agent.chat.prompts import Prompter
    from agent.config.model import Device, Inventory
    from agent.discovery.model import Proposal
    from agent.discovery.probe import Pinger
    from agent.events.service import EventReceivers
    from agent.intake.handler import IntakeHandler
    from agent.notify.apprise_sender import AppriseSender
    from agent.notify.routing import InventoryRouter
    from agent.notify.templates import Renderer
    from agent.notify.worker import Notifier, Sender
    from agent.runtime.daemon import Daemon
    from agent.runtime.leader import Leadership
    from agent.runtime.metrics import Metrics
    from agent.runtime.parts import Runtime
    from agent.runtime.scheduler import Scheduler
    from agent.topology.scan import Walker
    from agent.topology.watcher import TopologyWatcher
    from agent.web.auth import AuthSettings
    from agent.web.board import SilentZones
    from agent.web.limits import ServerLimits
    from agent.zones.ingest import ZoneIngest
    from agent.zones.poller import Poller
    from agent.zones.settings import PollerSettings
    from collectors.base import GeneralPath, HealthPoller, Prober, SnmpPoller
    from collectors.snmp import SnmpCollector
    from ticketing.service import TicketService
    from ticketing.views import TicketView

DEFAULT_DB: Final = Path("/var/lib/sigap/sigap.db")
# the discovery scan's probes, opened per scan: (pinger, SNMP walker)
ScanCollectors: TypeAlias = "Callable[[], AbstractAsyncContextManager[tuple[Pinger, Walker]]]"


def database_url(inventory: Inventory, db: str | None = None) -> str:
    """The ticket database: ``--db``/``SIGAP_DB_URL``, else ``daemon.database``, else the file."""
    return db or inventory.database or TicketStore.sqlite_url(DEFAULT_DB)


def open_store(
    inventory: Inventory,
    db: str | None = None,
    *,
    hold_down: float | None = None,
    migrate: bool = False,
) -> TicketStore:
    """The ticket store as every command opens it: the inventory's settings, the outbox hook on.

    ``hold_down`` (seconds) overrides ``tickets.hold_down`` (``sigap run --hold-down``). The
    default SQLite file's folder is created when it is missing. ``migrate`` brings the schema
    to the newest revision (idempotent; it lets a command run before the daemon ever did), loading
    Alembic only when the stored revision is not the newest; commands that only read leave it off.
    """
    url = database_url(inventory, db)
    if url == TicketStore.sqlite_url(DEFAULT_DB):
        DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    settings = inventory.tickets
    store = TicketStore(
        url,
        number_prefix=settings.number_prefix,
        hold_down=timedelta(seconds=hold_down) if hold_down is not None else settings.hold_down,
        reopen_window=settings.reopen_window,
        tz=inventory.tz.key,
    )
    install_outbox(store, inventory)  # ticket changes write their notifications (issue 7)
    if migrate and not at_head(store.engine):
        from ticketing.migrate import migrate as upgrade  # Alembic only when the schema is behind

        upgrade(store)
    return store


def snmp_collector(*, max_in_flight: int = 64, v3_fast: bool = True) -> SnmpCollector:
    """The SNMP collector with pysnmp as its general path, imported on the first v3 fallback."""
    from collectors.snmp import SnmpCollector  # the SNMP stack on use

    return SnmpCollector(max_in_flight=max_in_flight, v3_fast=v3_fast, general=_pysnmp_engine)


def _pysnmp_engine() -> GeneralPath:
    from collectors._snmp.engine import open_engine  # pysnmp on first need

    return open_engine()


def ticket_service(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> TicketService:
    """The SOP workflow service over ``store`` for this inventory's people and settings."""
    from agent.history.evidence import SlowEvidence  # a slow complaint's uplink traffic
    from ticketing.service import TicketService  # the SOP engine: commands that act

    return TicketService(
        store,
        people=inventory.people,
        calendar=office_calendar(inventory),
        now=now,
        config=workflow_config(inventory),
        devices={d.name: d.opd for d in inventory.devices.values()},
        evidence=SlowEvidence(store, inventory, now),
    )


# ---- the web board and intake


def build_intake_handler(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> IntakeHandler:
    """The intake handler over ``store`` for this inventory's people, devices and caps."""
    from agent.intake.handler import IntakeHandler  # only where intake runs
    from agent.intake.mail import Limits, Trust
    from agent.intake.recognise import Directory
    from ticketing.intake import IntakeLedger

    settings = inventory.intake
    if settings is None:
        raise ValueError("inventory has no intake: block")
    ledger = IntakeLedger(store, ticket_service(inventory, store, now), now=now)
    domains = settings.imap.allowed_domains if settings.imap else ()
    limits = Limits(
        settings.max_message_bytes, settings.max_attachment_bytes, settings.max_attachments
    )
    imap = settings.imap
    trust = Trust(imap.require_authenticated, imap.authserv_id) if imap else Trust()
    return IntakeHandler(ledger, Directory(inventory, domains), limits, trust=trust)


def webhook_routes(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> list[BaseRoute]:
    """The WhatsApp webhook's routes over ``store``; none when intake.whatsapp is not set.

    ``sigap web`` mounts them next to the board, so that one public HTTPS endpoint behind
    the TLS proxy serves both (``sigap intake --no-webhook`` then leaves them to it).
    """
    from agent.intake.whatsapp import routes  # only where intake runs

    settings = inventory.intake
    if settings is None or settings.whatsapp is None:
        return []
    handler = build_intake_handler(inventory, store, now)
    chat = chat_actions(inventory, store, now)
    return [*routes(settings.whatsapp, handler, chat=chat)]


def chat_actions(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> ChatActions | None:
    """The SOP actions of the WhatsApp webhook (issue 24); None when not configured."""
    settings = inventory.intake
    prompter = chat_prompter(inventory, store, now)
    if prompter is None or settings is None or settings.whatsapp is None:
        return None
    from agent.chat.actions import ChatActions  # only where the webhook runs
    from agent.chat.closeout import CloseOut
    from agent.chat.desk import OpdDesk
    from agent.chat.media import MediaFetcher

    devices: dict[str, list[str]] = {}
    for d in inventory.devices.values():
        devices.setdefault(d.opd, []).append(d.name)
    desk = OpdDesk(store, devices, office=inventory.office_name, zone=inventory.tz)
    fetch = MediaFetcher(settings.whatsapp, settings.max_attachment_bytes)
    closeout = CloseOut(prompter, store, now=now, fetch=fetch)
    return ChatActions(prompter, store, now=now, desk=desk, closeout=closeout)


def chat_prompter(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> Prompter | None:
    """The SOP's WhatsApp buttons (issue 24); None without an access token and action secret."""
    from agent.chat.prompts import Prompter  # only where WhatsApp runs
    from agent.chat.signing import SECRET_MIN_BYTES
    from agent.notify.whatsapp import WhatsAppSender
    from ticketing.intake import last_inbound
    from ticketing.workflow import Sifat, Source

    wa = inventory.intake.whatsapp if inventory.intake else None
    if wa is None or not wa.access_token or len(wa.action_secret.encode()) < SECRET_MIN_BYTES:
        return None
    sender = WhatsAppSender(wa, last_inbound=partial(last_inbound, store, Source.WA), now=now)
    standing = workflow_config(inventory).standing
    return Prompter(
        ticket_service(inventory, store, now),
        inventory.people,
        secret=wa.action_secret,
        post=sender.post,
        in_window=sender.in_window,
        now=now,
        template_name=wa.action_template,
        language=wa.template_language,
        link=inventory.notifications.link,
        sifat=standing.sifat if standing is not None else Sifat.BIASA,
        zone=inventory.tz,
    )


def build_intake_run(
    inventory: Inventory,
    store: TicketStore,
    now: Callable[[], datetime],
    stop: asyncio.Event,
    *,
    notify: bool = True,
    webhook: bool = True,
) -> Coroutine[Any, Any, None]:
    """``sigap intake``'s run until ``stop``: the handler, and the notifier if ``notify``.

    ``webhook=False`` leaves the WhatsApp webhook to ``sigap web`` (see ``webhook_routes``).
    """
    from agent.intake.runner import run_intake  # only for sigap intake

    settings = inventory.intake
    if settings is None:
        raise ValueError("inventory has no intake: block")
    handler = build_intake_handler(inventory, store, now)
    notifier = build_notifier(inventory, store) if notify else None
    extra = []
    if settings.metrics_listen:
        extra.append(("intake:metrics", partial(_intake_metrics, settings.metrics_listen, stop)))
    chat = chat_actions(inventory, store, now) if webhook else None
    return run_intake(
        settings, handler, stop, notifier=notifier, webhook=webhook, extra=extra, chat=chat
    )


async def _intake_metrics(listen: str, stop: asyncio.Event) -> None:
    """``sigap intake``'s /metrics (the intake counters) and /healthz until ``stop``."""
    from agent.runtime.httpd import HealthChecks, MetricsServer  # only when configured
    from agent.runtime.metrics import intake_registry

    health = HealthChecks(database=lambda: None, scheduler_lag=float, outbox_depth=int)
    async with MetricsServer(intake_registry(), health, listen):
        await stop.wait()


def build_web_app(
    inventory: Inventory,
    store: TicketStore,
    *,
    now: Callable[[], datetime] = utc_now,
    secret_key: str | None = None,
    auth: AuthSettings | None = None,
    webhook: bool = True,
    limits: ServerLimits | None = None,
    daemon_pid_file: Path | None = None,
    scan_probes: ScanCollectors | None = None,
) -> Starlette:
    """The web board over ``store`` (closed when the app stops), with the map (issue 11).

    ``webhook``: also serve the WhatsApp webhook of ``intake.whatsapp`` (if configured), its
    path with the webhook's body limit. The admin pages (issue 21) edit ``inventory.path``
    and ask the daemon whose pid is in ``daemon_pid_file`` to reload; their discovery scan
    (``/admin/temukan``) probes through ``scan_probes`` (default: the real ping and SNMP).
    """
    from agent.backup import web as konfigurasi  # starlette only when serving
    from agent.topology import web as peta
    from agent.web import admin, temukan
    from agent.web import limits as web_limits
    from agent.web.app import create_app

    bounds = limits or web_limits.ServerLimits()
    extra = webhook_routes(inventory, store, now) if webhook else []
    whatsapp = inventory.intake.whatsapp if inventory.intake is not None else None
    paths = {whatsapp.path: bounds.webhook_bytes} if extra and whatsapp is not None else {}
    return create_app(
        inventory,
        store,
        ticket_service(inventory, store, now),
        now=now,
        secret_key=secret_key,
        auth=auth,
        routes=[
            *extra,
            *peta.ROUTES,
            *konfigurasi.routes(_backups_of(inventory, store)),
            *temukan.routes(discovery_scanner(scan_probes or scan_collectors)),
        ],
        nav=[peta.NAV, admin.NAV],
        template_dirs=[peta.TEMPLATES, konfigurasi.TEMPLATES],
        limits=bounds,
        body_paths=paths,
        editor=inventory_editor(inventory, store, daemon_pid_file, now),
        zones=zone_watch(store),
    )


def zone_watch(store: TicketStore) -> SilentZones | None:
    """The board's look at the zone pollers' heartbeats (issue 23): zones need PostgreSQL."""
    if store.engine.dialect.name != "postgresql":
        return None
    from agent.zones.view import silent_zones  # only where the board runs

    return silent_zones


def inventory_editor(
    inventory: Inventory,
    store: TicketStore,
    daemon_pid_file: Path | None,
    now: Callable[[], datetime] = utc_now,
) -> InventoryEditor:
    """The one inventory writer (issue 21): the board's admin pages and the CLI's ``--apply``.

    Every write is checked, backed up, audited in ``store`` and followed by a reload request
    to the daemon whose pid is in ``daemon_pid_file``.
    """
    from agent.admin.edits import InventoryEditor
    from agent.admin.reload import PidFileReloader
    from ticketing.admin_log import AdminLog

    return InventoryEditor(
        inventory.path, AdminLog(store), PidFileReloader(daemon_pid_file), now=now
    )


def discovery_scanner(
    collectors: ScanCollectors,
) -> Callable[[Inventory, str, bool], Proposal]:
    """The board's discovery scan: ``service.scan`` over ``collectors``, run to its end.

    Called on a worker thread (the board's form seam): it runs its own event loop there,
    never the board's.
    """

    def run(inventory: Inventory, ranges: str, force: bool) -> Proposal:
        import asyncio  # the scan stack on use

        from agent.discovery.service import scan

        async def scanned() -> Proposal:
            async with collectors() as (pinger, walker):
                return await scan(
                    inventory, ranges, pinger=pinger, walker=walker, at=utc_now(), force=force
                )

        return asyncio.run(scanned())

    return run


@contextlib.asynccontextmanager
async def scan_collectors() -> AsyncIterator[tuple[Pinger, Walker]]:
    """The real probes of a discovery scan (``sigap discover --scan`` and the board's)."""
    from collectors.ping import PingCollector  # the probes on use

    async with PingCollector() as pinger, snmp_collector() as walker:
        yield pinger, walker


# ---- the daemon


def build_daemon(
    inventory: Inventory,
    store: TicketStore,
    *,
    ready_file: Path | None = None,
    reload: Callable[[], Inventory] | None = None,
) -> Daemon:
    """``sigap run``: the real collectors, metrics, SOP service, remediation, notifications.

    SNMP (and the topology re-discovery over it) only when a device has SNMP settings;
    remediation only when a device enables it (its playbooks load now: a bad one stops
    start-up).
    """
    from prometheus_client import CollectorRegistry  # only `sigap run` serves

    from agent.backup.service import backed_up
    from agent.runtime.metrics import Metrics
    from collectors.ping import PingCollector

    devices = inventory.devices.values()
    snmp = snmp_collector() if any(d.snmp is not None for d in devices) else None
    return assemble_daemon(
        inventory,
        store,
        PingCollector(),
        snmp=snmp,
        health=snmp,
        service=ticket_service(inventory, store, utc_now),
        metrics=Metrics(CollectorRegistry()),
        remediation=any(d.remediation.enabled for d in devices),
        backup=inventory.backup.enabled and bool(backed_up(inventory)),
        notifications=True,
        walker=snmp,  # issue 11: the topology walks go through the daemon's SNMP collector
        ready_file=ready_file,
        reload=reload,
        leadership=leadership(inventory, store),
    )


def build_poller(
    inventory: Inventory,
    store: TicketStore,
    settings: PollerSettings,
    *,
    inventory_path: Path | None = None,
    reload: Callable[[], Inventory] | None = None,
    prober: Prober | None = None,
    snmp: SnmpPoller | None = None,
    health: HealthPoller | None = None,
    now: Callable[[], datetime] = utc_now,
    rng: random.Random | None = None,
) -> Poller:
    """``sigap run --zona``: the scheduler and detector of the owned devices, and the shipper.

    Ping, SNMP and health polls of the zones' devices are shipped (SNMP only when one of
    them has SNMP settings; ``snmp`` and ``health`` replace the real collector in tests). No
    ticket writer, notifier, remediation, backup, topology, events or web: those are the
    leader's.
    """
    import asyncio  # the poller's parts only for `sigap run --zona`

    from prometheus_client import CollectorRegistry

    from agent.detect.ping import Detector
    from agent.runtime.metrics import Metrics
    from agent.runtime.parts import Runtime
    from agent.runtime.scheduler import Scheduler
    from agent.zones.poller import Poller, owned_devices, zone_inventory
    from agent.zones.ship import Shipper, inventory_sha

    if prober is None:
        from collectors.ping import PingCollector

        prober = PingCollector()
    owned = owned_devices(inventory, settings.zones)
    local = zone_inventory(inventory, owned)
    if snmp is None and any(d.snmp is not None for d in owned):
        snmp = health = snmp_collector()
    detector = Detector(local)
    runtime = Runtime(
        store, asyncio.Semaphore(inventory.max_concurrent_probes), detector.states,
        snmp=snmp, health=health, now=now,
    )  # fmt: skip
    sha = inventory_sha(inventory_path or inventory.path)
    shipper = Shipper(settings, store, runtime.call, now=now, sha=sha)
    metrics = Metrics(CollectorRegistry())
    scheduler = Scheduler(
        local, runtime, prober, detector, metrics=metrics, rng=rng, on_probe=shipper.record
    )
    poller = Poller(
        settings, local, runtime, scheduler, shipper,
        metrics=metrics, reload=reload, full=inventory,
    )  # fmt: skip
    if store.engine.dialect.name == "postgresql":  # two pollers of a zone share its devices
        from agent.zones.leases import DeviceLeases, LeaseKeeper

        leases = DeviceLeases(store.engine, settings.node, settings.lease, cluster=settings.cluster)
        poller.keeper = LeaseKeeper(
            leases, zones=poller.zone_devices, apply=poller.hold, report=metrics
        )
        poller.listen = listen_session(store)  # the leader's re-poll requests
    return poller


def listen_session(store: TicketStore) -> Callable[[], Any]:
    """Opens a psycopg session (autocommit, the store's bounds) for LISTEN (issue 23)."""
    import psycopg  # the LISTEN session's driver, only with zones

    from agent.runtime.leader import conninfo
    from ticketing.db import pg_connect_args

    url = store.engine.url.render_as_string(hide_password=False)
    return partial(psycopg.connect, conninfo(url), autocommit=True, **pg_connect_args(url))


def leadership(inventory: Inventory, store: TicketStore) -> Leadership | None:
    """Active/standby (issue 23) when ``daemon.ha`` is set: the lock, and the write fence."""
    if inventory.ha is None:
        return None
    import psycopg  # the lock session's driver, only with HA

    from agent.runtime.leader import Leadership, install_fence

    ha = inventory.ha
    url = store.engine.url.render_as_string(hide_password=False)
    lead = Leadership(url, ha.node, psycopg.connect, ha.lease, cluster=ha.cluster)
    install_fence(store.engine, lead)
    return lead


def assemble_daemon(
    inventory: Inventory,
    store: TicketStore,
    prober: Prober,
    *,
    snmp: SnmpPoller | None = None,
    health: HealthPoller | None = None,
    service: TicketService | None = None,
    metrics: Metrics | None = None,
    remediation: bool = False,
    backup: bool = False,
    notifications: bool = False,
    walker: Walker | None = None,
    now: Callable[[], datetime] = utc_now,
    rng: random.Random | None = None,
    ready_file: Path | None = None,
    reload: Callable[[], Inventory] | None = None,
    leadership: Leadership | None = None,
) -> Daemon:
    """Build the shared :class:`Runtime`, then every part from it, then the daemon.

    ``service`` starts the SOP of each new ticket; ``walker`` enables the topology
    re-discovery; ``rng`` sets the poll jitter (tests pass a seeded one).
    """
    import asyncio  # the daemon's parts only for `sigap run`

    from agent.detect.ping import Detector
    from agent.history.recorder import TrafficHistory
    from agent.runtime.daemon import Daemon
    from agent.runtime.parts import Runtime
    from agent.runtime.repairs import Repairs
    from agent.runtime.scheduler import Scheduler
    from agent.runtime.writer import TicketWriter
    from ticketing.rollups import FINE, HOURLY

    detector = Detector(inventory)
    runtime = Runtime(
        store,
        asyncio.Semaphore(inventory.max_concurrent_probes),
        detector.states,
        snmp=snmp,
        health=health,
        now=now,
    )
    kept = inventory.history
    history = (
        TrafficHistory(runtime, keep={FINE: kept.fine, HOURLY: kept.hourly})
        if kept.enabled  # ping loss is kept without SNMP too
        else None
    )
    scheduler = Scheduler(
        inventory, runtime, prober, detector,
        metrics=metrics, rng=rng, ready_file=ready_file, history=history,
        polls=_central,  # issue 23: other zones' devices are their pollers'
    )  # fmt: skip
    backups = backup_service(inventory, store, runtime, metrics) if backup else None
    repairs = None
    if remediation:
        from agent.remediation.runner import for_daemon  # netmiko when used

        sop = service or ticket_service(inventory, store, now)
        remediator = for_daemon(
            inventory, runtime, sop, walker,
            guard=backups.guard if backups else None,
            before=backups.before_remediation if backups else None,
            after=backups.after_remediation if backups else None,
        )  # fmt: skip
        repairs = Repairs(remediator, runtime, metrics)
    nightly = _nightly(backups, inventory) if backups else None
    hooks = [h for h in (repairs.dispatch if repairs else None,
                         nightly.on_ticket if nightly else None) if h is not None]  # fmt: skip
    writer = TicketWriter(runtime, service, metrics=metrics, on_opened=_each(hooks))
    zones = zone_ingest(inventory, store, runtime, scheduler, metrics, now=now)
    return Daemon(
        inventory,
        runtime,
        scheduler,
        writer,
        repairs=repairs,
        notifier=(
            build_notifier(inventory, store, run_blocking=runtime.call, metrics=metrics)
            if notifications
            else None
        ),
        topology=_topology(inventory, walker, runtime) if walker is not None else None,
        events=_events(inventory, runtime, scheduler, metrics),
        metrics=metrics,
        reload=reload,
        leadership=leadership,
        backups=nightly,
        zones=zones,
        zone_status=zones.liveness.status if zones is not None else None,
    )


def zone_ingest(
    inventory: Inventory,
    store: TicketStore,
    runtime: Runtime,
    scheduler: Scheduler,
    metrics: Metrics | None,
    *,
    now: Callable[[], datetime] = utc_now,
) -> ZoneIngest | None:
    """The leader's zone duty (issue 23) when the inventory has zones besides ``pusat``.

    PostgreSQL only (pollers refuse SQLite): with SQLite those zones' devices stay unpolled,
    and the log says so.
    """
    import logging
    import time

    zones = inventory.remote_zones()
    if not zones:
        return None
    if store.engine.dialect.name != "postgresql":
        logging.getLogger(__name__).warning(
            "zones %s need zone pollers on PostgreSQL: their devices are not polled",
            ", ".join(zones),
        )
        return None
    from agent.zones.ingest import ZoneIngest
    from agent.zones.liveness import Liveness
    from agent.zones.ship import inventory_sha
    from agent.zones.view import cluster_lease

    cluster, lease = cluster_lease(inventory)
    liveness = Liveness(
        inventory, lease, started=time.monotonic(), started_at=now(),
        sha=inventory_sha(inventory.path),
    )  # fmt: skip
    if metrics is not None:
        metrics.watch_zones(liveness.view)
    ingest = ZoneIngest(
        inventory, runtime, scheduler.ingest_any, liveness, cluster=cluster, lease=lease,
        listen=listen_session(store),
    )  # fmt: skip
    scheduler.forward = ingest.forward  # a zone device's re-poll goes to its pollers
    return ingest


def _central(device: Device) -> bool:
    """The central daemons poll the devices of zone ``pusat`` only."""
    from agent.config.model import CENTRAL_ZONE

    return device.zone == CENTRAL_ZONE


def _events(
    inventory: Inventory, runtime: Runtime, scheduler: Scheduler, metrics: Metrics | None
) -> EventReceivers | None:
    """The trap and syslog receivers (issue 20) when ``events:`` has a listen address."""
    settings = inventory.events
    if settings is None or not (settings.syslog_listen or settings.trap_listen):
        return None
    from agent.events.actions import EventActions  # only for `sigap run` with events
    from agent.events.hub import EventHub
    from agent.events.listeners import Listeners
    from agent.events.service import EventReceivers
    from agent.runtime.metrics.events import EventMetrics

    counters = EventMetrics(metrics.registry if metrics is not None else None)
    hub = EventHub(settings, inventory, counters, now=runtime.now)
    actions = EventActions(hub, runtime, inventory, scheduler.repoll)
    return EventReceivers(Listeners(hub), actions)


def backup_service(
    inventory: Inventory,
    store: TicketStore,
    runtime: Runtime | None = None,
    metrics: Metrics | None = None,
    *,
    now: Callable[[], datetime] = utc_now,
) -> BackupService:
    """The configuration backup (issue 22).

    Tickets go through the daemon's store thread, else a thread of their own (the CLI);
    metrics go on the daemon's registry when it has one.
    """
    import asyncio

    from agent.backup.service import BackupService
    from agent.backup.tracking import TicketSink
    from agent.remediation.guard import DeviceGuard
    from agent.runtime.metrics.backup import build_backup_metrics
    from ticketing.remediation import RemediationLog

    call = runtime.call if runtime is not None else asyncio.to_thread
    settings = replace(inventory.backup, directory=_backups_of(inventory, store))
    return BackupService(
        settings, inventory.remediation, DeviceGuard(),
        now=runtime.now if runtime is not None else now,
        sink=TicketSink(store, call=call, now=now),
        metrics=build_backup_metrics(metrics.registry) if metrics is not None else None,
        busy=RemediationLog(store).running_on,
    )  # fmt: skip


def backup_directory(inventory: Inventory, db: str | None = None) -> Path:
    """Where the configuration history lives.

    ``backup.directory`` if written; else ``konfigurasi`` beside the SQLite database file
    (``--db``, ``daemon.database`` or the default: the state directory); else, with
    PostgreSQL, ``konfigurasi`` in the default state directory.
    """
    if inventory.backup.directory is not None:
        return inventory.backup.directory
    url = database_url(inventory, db)
    prefix = "sqlite:///"
    if url.startswith(prefix) and len(url) > len(prefix):
        return Path(url.removeprefix(prefix).split("?", 1)[0]).parent / "konfigurasi"
    return DEFAULT_DB.parent / "konfigurasi"


def _backups_of(inventory: Inventory, store: TicketStore) -> Path:
    return backup_directory(inventory, store.engine.url.render_as_string(hide_password=True))


def _each(hooks: Sequence[Callable[[TicketView], None]]) -> Callable[[TicketView], None] | None:
    """One ``on_opened`` hook calling each of ``hooks`` (None when there are none)."""
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def each(ticket: TicketView) -> None:
        for hook in hooks:
            hook(ticket)

    return each


def _nightly(service: BackupService, inventory: Inventory) -> NightlyBackups:
    from agent.backup.service import NightlyBackups

    return NightlyBackups(service, inventory)


def _topology(inventory: Inventory, walker: Walker, runtime: Runtime) -> TopologyWatcher:
    from agent.topology.watcher import TopologyWatcher

    return TopologyWatcher(inventory, walker, runtime)


# ---- notifications


def router_for(inventory: Inventory, store: TicketStore | None = None) -> InventoryRouter:
    """The router over the inventory's people, ``notifications:`` and intake reply settings.

    With ``store``, replies to e-mail reporters thread under their complaint's Message-ID.
    """
    from agent.notify.reporter import ReporterRoutes  # routing only when used
    from agent.notify.routing import InventoryRouter, Recipients
    from ticketing.intake import ack_message_id, first_message_id

    first = partial(first_message_id, store) if store is not None else None
    imap = inventory.intake.imap if inventory.intake else None
    ack = None
    if store is not None and imap is not None:
        ack = partial(ack_message_id, store, domain=imap.reply_domain, now=utc_now)
    reporters = ReporterRoutes(inventory.intake, first_message=first, ack_id=ack)
    wa = inventory.intake.whatsapp if inventory.intake else None
    prompts = None
    if wa is not None and wa.access_token and wa.action_secret:
        from agent.chat.routes import PromptRoutes  # WhatsApp SOP buttons (issue 24)

        prompts = PromptRoutes(inventory.people, inventory.notifications.group_window)
    return InventoryRouter(
        Recipients(inventory.people),
        inventory.notifications,
        inventory.tz,
        reporters=reporters,
        prompts=prompts,
    )


def install_outbox(store: TicketStore, inventory: Inventory) -> InventoryRouter:
    """From now on every ticket event of ``store`` writes its outbox rows in its transaction.

    Idempotent: a store already hooked (by :func:`open_store`) keeps its router, returned here,
    so the notifier plans and addresses with the very router the hook uses.
    """
    from agent.notify.routing import InventoryRouter  # routing only when used
    from ticketing.outbox.enqueue import install, installed

    router = installed(store)
    if isinstance(router, InventoryRouter):
        return router
    router = router_for(inventory, store)
    install(store, router)
    return router


def renderer_for(inventory: Inventory, *, now: datetime | None = None) -> Renderer:
    """The renderer with the bundled templates and the inventory's overrides."""
    from agent.notify.templates import Renderer, load_templates

    templates = load_templates(inventory.notifications.templates_dir)
    return Renderer(
        templates,
        tz=inventory.tz,
        office=inventory.office_short,
        link=inventory.notifications.link,
        now=now,
    )


def apprise_sender() -> AppriseSender:
    """The Apprise sender (people's addresses); Apprise loads here, only where something sends."""
    from agent.notify.apprise_sender import AppriseSender  # Apprise on use

    return AppriseSender()


def sender_for(
    inventory: Inventory, store: TicketStore, sender: Sender | None, now: Callable[[], datetime]
) -> Sender:
    """Apprise (or ``sender``) for people and e-mail; the Cloud API for WhatsApp reporters."""
    from agent.notify.whatsapp import ReplySender, WhatsAppSender
    from ticketing.intake import last_inbound
    from ticketing.workflow import Source

    general = sender or apprise_sender()
    wa = inventory.intake.whatsapp if inventory.intake else None
    if wa is None or not wa.access_token:
        return general
    whatsapp = WhatsAppSender(wa, last_inbound=partial(last_inbound, store, Source.WA), now=now)
    return ReplySender(general, whatsapp, chat_prompter(inventory, store, now))


def build_notifier(
    inventory: Inventory,
    store: TicketStore,
    *,
    sender: Sender | None = None,
    now: Callable[[], datetime] = utc_now,
    run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None,
    metrics: Metrics | None = None,
    poll: float = 1.0,
) -> Notifier:
    """The notification worker over ``store`` (hooked by :func:`install_outbox` if not yet).

    ``run_blocking`` runs its database calls (the daemon passes its store thread); ``metrics``
    counts what it sends; ``sender`` replaces Apprise (tests).
    """
    from agent.notify.worker import Notifier  # only where notifications run

    notifier = Notifier(
        store,
        install_outbox(store, inventory),
        renderer_for(inventory),
        sender=sender_for(inventory, store, sender, now),
        now=now,
        run_blocking=run_blocking,
        poll=poll,
    )
    if metrics is not None:
        notifier.on_result = metrics.notification_sent
    return notifier
