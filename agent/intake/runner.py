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
import time
from functools import partial
from typing import TYPE_CHECKING, Final

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware

from agent.config.listen import parse_listen
from agent.intake.imap import ImapWatcher
from agent.intake.whatsapp import routes
from agent.web.limits import BodyLimit, ServerLimits, server_options

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from agent.chat.actions import ChatActions
    from agent.intake.handler import IntakeHandler
    from agent.intake.settings import IntakeSettings
    from agent.notify.worker import Notifier

logger = logging.getLogger(__name__)

RESTART_MAX: Final = 60.0


def watcher(settings: IntakeSettings, handler: IntakeHandler, stop: threading.Event) -> ImapWatcher:
    """The mailbox watcher (settings.imap must be set)."""
    assert settings.imap is not None  # noqa: S101 - callers check
    return ImapWatcher(
        settings.imap,
        handler.mail_blocking,
        max_bytes=settings.max_message_bytes,
        stop=stop,
        give_up=handler.quarantine_blocking,
    )


async def run_intake(
    settings: IntakeSettings,
    handler: IntakeHandler,
    stop: asyncio.Event,
    *,
    notifier: Notifier | None = None,
    webhook: bool = True,
    limits: ServerLimits | None = None,
    extra: Sequence[tuple[str, Callable[[], Awaitable[None]]]] = (),
    chat: ChatActions | None = None,
) -> None:
    """Run every configured intake channel (and ``notifier``, if given) until ``stop`` is set.

    ``webhook=False``: the WhatsApp webhook is left to ``sigap web`` (it mounts the same
    routes), so that only one of them listens. ``extra``: more (name, part) pairs to run
    until ``stop`` (the metrics endpoint). ``chat``: the SOP's WhatsApp buttons on the
    webhook (:mod:`agent.chat.actions`). Each part is :func:`supervised`: one that fails
    is logged and restarted with backoff while the others keep running.
    """
    serve_wa = webhook and settings.whatsapp is not None
    if settings.imap is None and not serve_wa:
        logger.warning("intake: nothing to run (no intake.imap; WhatsApp absent or left to web)")
        return
    halt = threading.Event()
    async with asyncio.TaskGroup() as group:
        if settings.imap is not None:
            mailbox = watcher(settings, handler, halt)
            imap = partial(asyncio.to_thread, mailbox.run_blocking)
            group.create_task(supervised("intake:imap", imap, stop), name="intake:imap")
        if serve_wa:
            bounds = limits or ServerLimits()
            wa = partial(_serve_webhook, settings, handler, stop, bounds, chat)
            group.create_task(supervised("intake:whatsapp", wa, stop), name="intake:whatsapp")
        if notifier is not None:
            notify = partial(notifier.run, stop)
            group.create_task(supervised("intake:notify", notify, stop), name="intake:notify")
        for name, part in extra:
            group.create_task(supervised(name, part, stop), name=name)
        await stop.wait()
        halt.set()


async def supervised(
    name: str, start: Callable[[], Awaitable[None]], stop: asyncio.Event, *, first: float = 1.0
) -> None:
    """Run ``start()`` until ``stop``; when it fails or ends early, log and start it again.

    The wait between starts doubles from ``first`` to :data:`RESTART_MAX` (reset after a run
    that lasted longer than that); a part failing never cancels the others.
    """
    backoff = first
    while not stop.is_set():
        began = time.monotonic()
        try:
            await start()
        except (Exception, SystemExit):  # uvicorn exits when it cannot bind
            logger.exception("%s failed; restart in %.0f s", name, backoff)
        else:
            if stop.is_set():
                return
            logger.warning("%s ended before stop; restart in %.0f s", name, backoff)
        if time.monotonic() - began > RESTART_MAX:
            backoff = first
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), backoff)
        backoff = min(backoff * 2, RESTART_MAX)


async def _serve_webhook(
    settings: IntakeSettings,
    handler: IntakeHandler,
    stop: asyncio.Event,
    limits: ServerLimits,
    chat: ChatActions | None = None,
) -> None:
    assert settings.whatsapp is not None  # noqa: S101 - caller checks
    listen = parse_listen(settings.whatsapp.listen)
    host, port = listen.host, listen.port
    app = Starlette(
        routes=routes(settings.whatsapp, handler, chat=chat),
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


__all__ = ["run_intake", "supervised", "watcher"]
