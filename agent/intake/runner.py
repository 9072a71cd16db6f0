"""``sigap intake``'s run loop: the IMAP watcher, the WhatsApp webhook (if set), the notifier.

Everything it runs is built by the caller (``agent.wiring.build_intake_run`` for
``sigap intake``): the handler, and the notifier when the outbox is delivered here. The mailbox
watcher (``ImapWatcher.run_blocking``) runs in a thread. ``sigap web`` mounts the same webhook
routes next to the board (one public HTTPS endpoint); then ``sigap intake --no-webhook`` runs
only the mailbox and the notifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware

from agent.config.listen import parse_listen
from agent.intake.imap import ImapWatcher
from agent.intake.whatsapp import routes
from agent.web.limits import BodyLimit, ServerLimits, server_options

if TYPE_CHECKING:
    from agent.intake.handler import IntakeHandler
    from agent.intake.settings import IntakeSettings
    from agent.notify.worker import Notifier

logger = logging.getLogger(__name__)


def watcher(settings: IntakeSettings, handler: IntakeHandler, stop: threading.Event) -> ImapWatcher:
    """The mailbox watcher (settings.imap must be set)."""
    assert settings.imap is not None  # noqa: S101 - callers check
    return ImapWatcher(
        settings.imap, handler.mail_blocking, max_bytes=settings.max_message_bytes, stop=stop
    )


async def run_intake(
    settings: IntakeSettings,
    handler: IntakeHandler,
    stop: asyncio.Event,
    *,
    notifier: Notifier | None = None,
    webhook: bool = True,
    limits: ServerLimits | None = None,
) -> None:
    """Run every configured intake channel (and ``notifier``, if given) until ``stop`` is set.

    ``webhook=False``: the WhatsApp webhook is left to ``sigap web`` (it mounts the same
    routes), so that only one of them listens.
    """
    serve_wa = webhook and settings.whatsapp is not None
    if settings.imap is None and not serve_wa:
        logger.warning("intake: nothing to run (no intake.imap; WhatsApp absent or left to web)")
        return
    halt = threading.Event()
    async with asyncio.TaskGroup() as group:
        if settings.imap is not None:
            mailbox = watcher(settings, handler, halt)
            group.create_task(asyncio.to_thread(mailbox.run_blocking), name="intake:imap")
        if serve_wa:
            webhook_task = _serve_webhook(settings, handler, stop, limits or ServerLimits())
            group.create_task(webhook_task, name="intake:whatsapp")
        if notifier is not None:
            group.create_task(notifier.run(stop), name="intake:notify")
        await stop.wait()
        halt.set()


async def _serve_webhook(
    settings: IntakeSettings, handler: IntakeHandler, stop: asyncio.Event, limits: ServerLimits
) -> None:
    assert settings.whatsapp is not None  # noqa: S101 - caller checks
    listen = parse_listen(settings.whatsapp.listen)
    host, port = listen.host, listen.port
    app = Starlette(
        routes=routes(settings.whatsapp, handler),
        middleware=[Middleware(BodyLimit, limit=limits.webhook_bytes)],
    )
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", **server_options(limits)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name="intake:uvicorn")
    logger.info("WhatsApp webhook on http://%s:%d%s", host, port, settings.whatsapp.path)
    await stop.wait()
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await task


__all__ = ["run_intake", "watcher"]
