"""The composition root: every part sigap runs is built here and handed down.

Commands (``agent.cli``) call these builders; nothing else imports this module, and the parts
it builds never import it back (the layering test checks both). Imports of heavy libraries stay
inside the builders that need them, so a command pays only for what it opens. One concept:
the composition root (store, collectors, web and intake, daemon, notifications), one section each.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from agent.config.sop import office_calendar, workflow_config
from collectors.model import utc_now
from ticketing.store import TicketStore

if TYPE_CHECKING:
    import asyncio
    import random
    from collections.abc import Awaitable, Callable, Coroutine
    from datetime import datetime

    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from agent.config.model import Inventory
    from agent.intake.handler import IntakeHandler
    from agent.notify.apprise_sender import AppriseSender
    from agent.notify.routing import InventoryRouter
    from agent.notify.templates import Renderer
    from agent.notify.worker import Notifier, Sender
    from agent.runtime.daemon import Daemon
    from agent.runtime.metrics import Metrics
    from agent.runtime.parts import Runtime
    from agent.topology.scan import Walker
    from agent.topology.watcher import TopologyWatcher
    from agent.web.auth import AuthSettings
    from agent.web.limits import ServerLimits
    from collectors.base import GeneralPath, HealthPoller, Prober, SnmpPoller
    from collectors.snmp import SnmpCollector
    from ticketing.service import TicketService

DEFAULT_DB: Final = Path("/var/lib/sigap/sigap.db")


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
    to the newest revision (idempotent; it lets a command run before the daemon ever did);
    commands that only read leave it off and never load Alembic.
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
    if migrate:
        from ticketing.migrate import migrate as upgrade  # Alembic only for commands that write

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
    from ticketing.service import TicketService  # the SOP engine: commands that act

    return TicketService(
        store,
        people=inventory.people,
        calendar=office_calendar(inventory),
        now=now,
        config=workflow_config(inventory),
        devices={d.name: d.opd for d in inventory.devices.values()},
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
    return [*routes(settings.whatsapp, build_intake_handler(inventory, store, now))]


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
    return run_intake(settings, handler, stop, notifier=notifier, webhook=webhook, extra=extra)


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
) -> Starlette:
    """The web board over ``store`` (closed when the app stops), with the map (issue 11).

    ``webhook``: also serve the WhatsApp webhook of ``intake.whatsapp`` (if configured), its
    path with the webhook's body limit. The admin pages (issue 21) edit ``inventory.path``
    and ask the daemon whose pid is in ``daemon_pid_file`` to reload.
    """
    from agent.admin.edits import InventoryEditor
    from agent.admin.reload import PidFileReloader
    from agent.topology import web as peta  # starlette only when serving
    from agent.web import admin
    from agent.web import limits as web_limits
    from agent.web.app import create_app
    from ticketing.admin_log import AdminLog

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
        routes=[*extra, *peta.ROUTES],
        nav=[peta.NAV, admin.NAV],
        template_dirs=[peta.TEMPLATES],
        limits=bounds,
        body_paths=paths,
        editor=InventoryEditor(
            inventory.path, AdminLog(store), PidFileReloader(daemon_pid_file), now=now
        ),
    )


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
        notifications=True,
        walker=snmp,  # issue 11: the topology walks go through the daemon's SNMP collector
        ready_file=ready_file,
        reload=reload,
    )


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
    notifications: bool = False,
    walker: Walker | None = None,
    now: Callable[[], datetime] = utc_now,
    rng: random.Random | None = None,
    ready_file: Path | None = None,
    reload: Callable[[], Inventory] | None = None,
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
        if snmp is not None and kept.enabled
        else None
    )
    scheduler = Scheduler(
        inventory, runtime, prober, detector,
        metrics=metrics, rng=rng, ready_file=ready_file, history=history,
    )  # fmt: skip
    repairs = None
    if remediation:
        from agent.remediation.runner import for_daemon  # netmiko when used

        sop = service or ticket_service(inventory, store, now)
        remediator = for_daemon(inventory, runtime, sop, walker)
        repairs = Repairs(remediator, runtime, metrics)
    writer = TicketWriter(
        runtime, service, metrics=metrics, on_opened=repairs.dispatch if repairs else None
    )
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
        metrics=metrics,
        reload=reload,
    )


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
    return InventoryRouter(
        Recipients(inventory.people), inventory.notifications, inventory.tz, reporters=reporters
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
    return ReplySender(general, whatsapp)


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
