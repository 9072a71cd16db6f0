"""The web ticket board (issue 10): a Starlette app over the same TicketService as the CLI.

``create_app(inventory, store)`` builds it; ``sigap web`` serves it with uvicorn on
127.0.0.1:8080. Pages are server-rendered Jinja2 (autoescaped) with htmx for the list's
partial updates; nothing needs a front-end build.

Other parts of the agent mount their own pages and endpoints into the same app::

    app = create_app(inventory, store, routes=[Route("/peta", peta_page)],
                     nav=[("/peta", "Peta")], template_dirs=[Path("agent/topo/templates")])

A page handler gets the board with ``board_of(request)``, the person with
``board.user(request)`` (None: not signed in) or ``board.require(request)`` (redirects to
the login page), and renders with ``board.render(request, "peta.html", {...})`` so that it
shares the layout (``{% extends "base.html" %}``), the menu and the CSRF token. Routes
that are not for people are plain Starlette routes: no session, no CSRF, their own
authentication. The WhatsApp webhook is one: when ``intake.whatsapp`` is configured,
``create_app`` mounts it (``webhook=True``) and its ``X-Hub-Signature-256`` authenticates.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from agent.present.labels import EVENT_LABEL, KIND_LABEL, STATUS_LABEL
from agent.present.render import local_suffix
from agent.web.auth import AuthSettings, User, csrf_token, current_user
from agent.web.throttle import LoginThrottle
from agent.wiring import ticket_service
from collectors.model import utc_now
from ticketing.accounts import AccountStore
from ticketing.people import ROLE_TITLES, Role
from ticketing.reports.render import duration_text, rupiah

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence
    from contextlib import AbstractAsyncContextManager
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from starlette.requests import Request

    from agent.config.model import Inventory
    from ticketing.service import TicketService
    from ticketing.store import TicketStore

HERE: Final = Path(__file__).parent
COOKIE: Final = "sigap_sesi"
NAV: Final = (
    ("/", "Dasbor"),
    ("/tiket", "Tiket"),
    ("/program", "Program Kegiatan"),
    ("/laporan", "Laporan bulanan"),
)


@dataclass(frozen=True, slots=True)
class Board:
    """What every handler needs: inventory, store, workflow service, templates, clock."""

    inventory: Inventory
    store: TicketStore
    svc: TicketService
    accounts: AccountStore
    env: Environment
    now: Callable[[], datetime]
    auth: AuthSettings
    nav: tuple[tuple[str, str], ...] = field(default=NAV)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    @property
    def tz(self) -> ZoneInfo:
        """The office time zone (WITA)."""
        return self.inventory.tz

    def user(self, request: Request) -> User | None:
        """The signed-in person, or None."""
        return current_user(request, self.inventory, self.auth)

    def require(self, request: Request) -> User:
        """The signed-in person; otherwise a redirect to the login page (303)."""
        user = self.user(request)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(303, headers={"Location": f"/masuk?lanjut={target}"})
        return user

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        """Render template ``name`` with the common context (user, menu, CSRF token)."""
        base = {
            "request": request,
            "user": self.user(request),
            "nav": self.nav,
            "csrf": csrf_token(request),
            "office": self.inventory.office_name,
            "zone": local_suffix(self.tz).strip(),
            "now": self.now(),
        }
        html = self.env.get_template(name).render({**base, **context})
        return HTMLResponse(html, status_code=status)


def board_of(request: Request) -> Board:
    """The board of the app serving ``request``."""
    board: Board = request.app.state.board
    return board


def _environment(tz: ZoneInfo, extra: Sequence[Path]) -> Environment:
    loader = ChoiceLoader([FileSystemLoader([*map(str, extra), str(HERE / "templates")])])
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def when(at: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
        return at.astimezone(tz).strftime(fmt) if at is not None else "-"

    def late(value: timedelta | None) -> str:
        return duration_text(value) if value else ""

    env.filters.update(when=when, durasi=late, rupiah=rupiah)
    env.globals.update(
        STATUS_LABEL=STATUS_LABEL,
        KIND_LABEL=KIND_LABEL,
        EVENT_LABEL=EVENT_LABEL,
        ROLE_TITLES={k.value: v for k, v in ROLE_TITLES.items()},
    )
    return env


def create_app(
    inventory: Inventory,
    store: TicketStore,
    *,
    now: Callable[[], datetime] = utc_now,
    secret_key: str | None = None,
    auth: AuthSettings | None = None,
    routes: Sequence[BaseRoute] = (),
    nav: Sequence[tuple[str, str]] = (),
    template_dirs: Sequence[Path] = (),
    migrate: bool = True,
    webhook: bool = True,
) -> Starlette:
    """The board's ASGI app over ``store`` (opened by the caller; closed when the app stops).

    ``secret_key`` signs the session cookies (None: a random one, so sessions end with the
    process). ``routes`` are mounted before the board's own; ``nav`` adds menu entries.
    ``webhook``: also serve the WhatsApp webhook of ``intake.whatsapp`` (if configured).
    """
    from agent.web import actions, pages, program  # noqa: PLC0415 - they import this module

    if migrate:
        store.migrate()
    settings = auth or AuthSettings()
    board = Board(
        inventory=inventory,
        store=store,
        svc=ticket_service(inventory, store, now),
        accounts=AccountStore(store),
        env=_environment(inventory.tz, template_dirs),
        now=now,
        auth=settings,
        nav=(*NAV, *nav),
        throttle=LoginThrottle(settings.login_limits),
    )
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=secret_key or secrets.token_urlsafe(32),
            session_cookie=COOKIE,
            max_age=settings.idle,
            same_site="strict",
            https_only=settings.https_only,
        )
    ]
    if webhook:
        from agent.intake.runner import webhook_routes  # noqa: PLC0415 - intake is optional

        routes = [*webhook_routes(inventory, store, now), *routes]
    app = Starlette(
        routes=[
            *routes,
            *pages.ROUTES,
            *actions.ROUTES,
            *program.ROUTES,
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
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for HTTPException only
    if exc.status_code in {301, 302, 303, 307} and exc.headers:
        return RedirectResponse(exc.headers["Location"], status_code=exc.status_code)
    board = board_of(request)
    return board.render(
        request, "error.html", {"status": exc.status_code, "detail": exc.detail}, exc.status_code
    )


ROLE_ACTS: Final = frozenset({Role.KADIS, Role.KABID, Role.KASI, Role.TEKNISI})

__all__ = ["Board", "Route", "board_of", "create_app"]
