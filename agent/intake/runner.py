"""``sigap intake``: the IMAP watcher, the WhatsApp webhook (if configured) and the notifier.

Wiring for the daemon: ``build_handler`` gives the handler; run ``ImapWatcher.run_blocking``
in a thread. ``sigap web`` mounts ``webhook_routes(...)`` next to the board (one public HTTPS
endpoint); then ``sigap intake --no-webhook`` runs only the mailbox and the notifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING

from agent.intake.handler import IntakeHandler
from agent.intake.imap import ImapWatcher
from agent.intake.mail import Limits
from agent.intake.recognise import Directory
from agent.intake.whatsapp import routes
from agent.wiring import ticket_service
from ticketing.intake import IntakeLedger

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from starlette.routing import Route

    from agent.config.model import Inventory
    from agent.intake.settings import IntakeSettings
    from ticketing.store import TicketStore

logger = logging.getLogger(__name__)


def build_handler(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> IntakeHandler:
    """The handler over ``store`` for this inventory's people, devices and caps."""
    settings = inventory.intake
    if settings is None:
        raise ValueError("inventory has no intake: block")
    service = ticket_service(inventory, store, now)
    ledger = IntakeLedger(store, service, now=now)
    domains = settings.imap.allowed_domains if settings.imap else ()
    limits = Limits(
        settings.max_message_bytes, settings.max_attachment_bytes, settings.max_attachments
    )
    return IntakeHandler(ledger, Directory(inventory, domains), limits)


def webhook_routes(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> list[Route]:
    """The WhatsApp webhook's routes over ``store``; none when intake.whatsapp is not set.

    ``sigap web`` mounts them next to the board, so that one public HTTPS endpoint behind
    the TLS proxy serves both (``sigap intake --no-webhook`` then leaves them to it).
    """
    settings = inventory.intake
    if settings is None or settings.whatsapp is None:
        return []
    return routes(settings.whatsapp, build_handler(inventory, store, now))


def watcher(settings: IntakeSettings, handler: IntakeHandler, stop: threading.Event) -> ImapWatcher:
    """The mailbox watcher (settings.imap must be set)."""
    assert settings.imap is not None  # noqa: S101 - callers check
    return ImapWatcher(
        settings.imap, handler.mail_blocking, max_bytes=settings.max_message_bytes, stop=stop
    )


async def run_intake(
    inventory: Inventory,
    store: TicketStore,
    now: Callable[[], datetime],
    stop: asyncio.Event,
    *,
    notify: bool = True,
    webhook: bool = True,
) -> None:
    """Run every configured intake channel until ``stop`` is set.

    ``webhook=False``: the WhatsApp webhook is left to ``sigap web`` (it mounts the same
    routes), so that only one of them listens.
    """
    settings = inventory.intake
    serve_wa = webhook and settings is not None and settings.whatsapp is not None
    if settings is None or (settings.imap is None and not serve_wa):
        logger.warning("intake: nothing to run (no intake.imap; WhatsApp absent or left to web)")
        return
    handler = build_handler(inventory, store, now)
    halt = threading.Event()
    async with asyncio.TaskGroup() as group:
        if settings.imap is not None:
            mailbox = watcher(settings, handler, halt)
            group.create_task(asyncio.to_thread(mailbox.run_blocking), name="intake:imap")
        if serve_wa:
            group.create_task(_serve_webhook(settings, handler, stop), name="intake:whatsapp")
        if notify:
            from agent.notify.wiring import notifier_for  # noqa: PLC0415

            group.create_task(notifier_for(inventory, store).run(stop), name="intake:notify")
        await stop.wait()
        halt.set()


async def _serve_webhook(
    settings: IntakeSettings, handler: IntakeHandler, stop: asyncio.Event
) -> None:
    import uvicorn  # noqa: PLC0415 - only when WhatsApp is configured
    from starlette.applications import Starlette  # noqa: PLC0415

    from agent.config.listen import parse_listen  # noqa: PLC0415

    assert settings.whatsapp is not None  # noqa: S101 - caller checks
    listen = parse_listen(settings.whatsapp.listen)
    host, port = listen.host, listen.port
    app = Starlette(routes=routes(settings.whatsapp, handler))
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve(), name="intake:uvicorn")
    logger.info("WhatsApp webhook on http://%s:%d%s", host, port, settings.whatsapp.path)
    await stop.wait()
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await task
