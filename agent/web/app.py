"""The web ticket board (issue 10): a Starlette app over the same TicketService as the CLI.

``create_app(inventory, store, svc)`` assembles it from the ``ROUTES`` of the handler modules
(``pages``, ``devicepage``, ``actions``, ``program``); it builds no service itself: the caller
hands it the opened store, the TicketService over it and any extra routes
(``agent.wiring.build_web_app`` does, for ``sigap web``, which serves it with uvicorn on
127.0.0.1:8080). Pages are
server-rendered Jinja2 (autoescaped) with htmx for the list's partial updates; nothing needs
a front-end build.

Other parts of the agent mount their own pages and endpoints into the same app::

    app = create_app(inventory, store, svc, routes=[Route("/peta", peta_page)],
                     nav=[("/peta", "Peta")], template_dirs=[Path("agent/topo/templates")])

A page handler (``agent.web.board``, never this module) gets the board with
``board_of(request)``, the person with ``board.user(request)`` (None: not signed in) or
``board.require(request)`` (redirects to the login page), and renders with
``board.render(request, "peta.html", {...})`` so that it shares the layout
(``{% extends "base.html" %}``), the menu and the CSRF token. Handlers that touch the
database are plain ``def`` (pages) or wrapped in ``board.posted`` (form posts): neither runs
on the event loop. Routes that are not for people are plain Starlette routes: no session,
no CSRF, their own authentication. The WhatsApp webhook is one, passed in ``routes`` when
``intake.whatsapp`` is configured; its ``X-Hub-Signature-256`` authenticates.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import TYPE_CHECKING, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from agent.web import actions, admin, api, devicepage, openapi, pages, photos, program
from agent.web.auth import AuthSettings
from agent.web.board import HERE, NAV, Board, board_of, environment
from agent.web.limits import BodyLimit, ServerLimits
from agent.web.throttle import LoginThrottle
from collectors.model import utc_now
from ticketing.accounts import AccountStore
from ticketing.migrate import migrate as upgrade_schema

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime
    from pathlib import Path

    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from agent.admin.edits import InventoryEditor
    from agent.config.model import Inventory
    from agent.web.board import SilentZones
    from ticketing.service import TicketService
    from ticketing.store import TicketStore

COOKIE: Final = "sigap_sesi"


def create_app(
    inventory: Inventory,
    store: TicketStore,
    svc: TicketService,
    *,
    now: Callable[[], datetime] = utc_now,
    secret_key: str | None = None,
    auth: AuthSettings | None = None,
    routes: Sequence[BaseRoute] = (),
    nav: Sequence[tuple[str, str]] = (),
    template_dirs: Sequence[Path] = (),
    migrate: bool = True,
    limits: ServerLimits | None = None,
    body_paths: Mapping[str, int] | None = None,
    editor: InventoryEditor | None = None,
    zones: SilentZones | None = None,
) -> Starlette:
    """The board's ASGI app over ``store`` (opened by the caller; closed when the app stops).

    ``svc`` is the TicketService over ``store`` with the same clock ``now``. ``secret_key``
    signs the session cookies (None: a random one, so sessions end with the process).
    ``routes`` are mounted before the board's own (the map, the WhatsApp webhook); ``nav``
    adds menu entries; ``template_dirs`` are searched before the board's templates.
    ``editor`` writes inventory.yaml for the admin pages (None: they say it is not set up).
    ``zones`` reads the zones without a live poller (None: no zones, e.g. on SQLite).
    Request bodies are cut off at ``limits.form_bytes`` (``body_paths``: path -> own limit,
    e.g. the webhook's) while they are read (``agent.web.limits.BodyLimit``).
    """
    if migrate:
        upgrade_schema(store)
    settings = auth or AuthSettings()
    board = Board(
        inventory=inventory,
        store=store,
        svc=svc,
        accounts=AccountStore(store),
        env=environment(inventory.tz, template_dirs),
        now=now,
        auth=settings,
        nav=(*NAV, *nav),
        throttle=LoginThrottle(settings.login_limits),
        editor=editor,
        zones=zones,
    )
    bounds = limits or ServerLimits()
    middleware = [
        Middleware(BodyLimit, limit=bounds.form_bytes, paths=body_paths),
        Middleware(
            SessionMiddleware,
            secret_key=secret_key or secrets.token_urlsafe(32),
            session_cookie=COOKIE,
            max_age=settings.idle,
            same_site="strict",
            https_only=settings.https_only,
        ),
    ]
    app = Starlette(
        routes=[
            *routes,
            *pages.ROUTES,
            *devicepage.ROUTES,
            *actions.ROUTES,
            *program.ROUTES,
            *photos.ROUTES,
            *admin.ROUTES,
            *api.ROUTES,
            openapi.ROUTE,
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=middleware,
        exception_handlers={HTTPException: _http_error},
        lifespan=_lifespan(store),
    )
    app.state.board = board
    return app


def _lifespan(store: TicketStore) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Close the store's pool when the server stops."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            store.close()

    return lifespan


async def _http_error(request: Request, exc: Exception) -> Response:
    """Redirects as redirects; any other HTTP error as the board's error page (no database)."""
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    if exc.status_code in {301, 302, 303, 307} and exc.headers:
        return RedirectResponse(exc.headers["Location"], status_code=exc.status_code)
    board = board_of(request)
    context = {"status": exc.status_code, "detail": exc.detail}
    return board.render(request, "error.html", context, exc.status_code, lookup=False)


__all__ = ["COOKIE", "create_app"]
