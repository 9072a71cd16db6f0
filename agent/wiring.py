"""The composition root: every part sigap runs is built here and handed down.

Commands (``agent.cli``) call these builders; nothing else imports this module, and the parts
it builds never import it back (the layering test checks both). Imports of heavy libraries stay
inside the builders that need them, so a command pays only for what it opens.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from agent.config.sop import office_calendar, workflow_config
from collectors.model import utc_now
from ticketing.service import TicketService
from ticketing.store import TicketStore

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Coroutine
    from datetime import datetime

    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from agent.config.model import Inventory
    from agent.intake.handler import IntakeHandler
    from agent.web.auth import AuthSettings
    from collectors.snmp import GeneralPath, SnmpCollector

DEFAULT_DB: Final = Path("/var/lib/sigap/sigap.db")


def database_url(inventory: Inventory, db: str | None = None) -> str:
    """The ticket database: ``--db``/``SIGAP_DB_URL``, else ``daemon.database``, else the file."""
    return db or inventory.database or TicketStore.sqlite_url(DEFAULT_DB)


def open_store(
    inventory: Inventory, db: str | None = None, *, hold_down: float | None = None
) -> TicketStore:
    """The ticket store as every command opens it: the inventory's settings, the outbox hook on.

    ``hold_down`` (seconds) overrides ``tickets.hold_down`` (``sigap run --hold-down``). The
    default SQLite file's folder is created when it is missing; the schema is not migrated here.
    """
    from agent.notify.wiring import install_outbox  # noqa: PLC0415 - routing only when opened

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
    return store


def snmp_collector(*, max_in_flight: int = 64, v3_fast: bool = True) -> SnmpCollector:
    """The SNMP collector with pysnmp as its general path, imported on the first v3 fallback."""
    from collectors.snmp import SnmpCollector  # noqa: PLC0415 - the SNMP stack on use

    return SnmpCollector(max_in_flight=max_in_flight, v3_fast=v3_fast, general=_pysnmp_engine)


def _pysnmp_engine() -> GeneralPath:
    from collectors._snmp.engine import open_engine  # noqa: PLC0415 - pysnmp on first need

    return open_engine()


def ticket_service(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> TicketService:
    """The SOP workflow service over ``store`` for this inventory's people and settings."""
    return TicketService(
        store,
        people=inventory.people,
        calendar=office_calendar(inventory),
        now=now,
        config=workflow_config(inventory),
    )


# ---- the web board and intake


def build_intake_handler(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> IntakeHandler:
    """The intake handler over ``store`` for this inventory's people, devices and caps."""
    from agent.intake.handler import IntakeHandler  # noqa: PLC0415 - only where intake runs
    from agent.intake.mail import Limits  # noqa: PLC0415
    from agent.intake.recognise import Directory  # noqa: PLC0415
    from ticketing.intake import IntakeLedger  # noqa: PLC0415

    settings = inventory.intake
    if settings is None:
        raise ValueError("inventory has no intake: block")
    ledger = IntakeLedger(store, ticket_service(inventory, store, now), now=now)
    domains = settings.imap.allowed_domains if settings.imap else ()
    limits = Limits(
        settings.max_message_bytes, settings.max_attachment_bytes, settings.max_attachments
    )
    return IntakeHandler(ledger, Directory(inventory, domains), limits)


def webhook_routes(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> list[BaseRoute]:
    """The WhatsApp webhook's routes over ``store``; none when intake.whatsapp is not set.

    ``sigap web`` mounts them next to the board, so that one public HTTPS endpoint behind
    the TLS proxy serves both (``sigap intake --no-webhook`` then leaves them to it).
    """
    from agent.intake.whatsapp import routes  # noqa: PLC0415 - only where intake runs

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
    from agent.intake.runner import run_intake  # noqa: PLC0415 - only for sigap intake
    from agent.notify.wiring import notifier_for  # noqa: PLC0415

    settings = inventory.intake
    if settings is None:
        raise ValueError("inventory has no intake: block")
    handler = build_intake_handler(inventory, store, now)
    notifier = notifier_for(inventory, store) if notify else None
    return run_intake(settings, handler, stop, notifier=notifier, webhook=webhook)


def build_web_app(
    inventory: Inventory,
    store: TicketStore,
    *,
    now: Callable[[], datetime] = utc_now,
    secret_key: str | None = None,
    auth: AuthSettings | None = None,
    webhook: bool = True,
) -> Starlette:
    """The web board over ``store`` (closed when the app stops), with the map (issue 11).

    ``webhook``: also serve the WhatsApp webhook of ``intake.whatsapp`` (if configured).
    """
    from agent.topology import web as peta  # noqa: PLC0415 - starlette only when serving
    from agent.web.app import create_app  # noqa: PLC0415

    extra = webhook_routes(inventory, store, now) if webhook else []
    return create_app(
        inventory,
        store,
        ticket_service(inventory, store, now),
        now=now,
        secret_key=secret_key,
        auth=auth,
        routes=[*extra, *peta.ROUTES],
        nav=[peta.NAV],
        template_dirs=[peta.TEMPLATES],
    )
