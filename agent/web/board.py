"""What every handler of the board shares: the Board, its templates, and the thread seam.

Handler modules (``pages``, ``actions``, ``program``, ``agent.topology.web``) import this
module and never ``agent.web.app``, which only assembles their ``ROUTES`` into the app.

Handlers that touch the database never run on the event loop: a page (GET) is a plain
``def``, which Starlette runs in its thread pool; a form post is a plain ``def`` wrapped in
:func:`posted`, which reads the form on the event loop and then runs the handler in the same
thread pool (``run_in_threadpool``, the one seam). Only the wrapper itself is ``async``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse

from agent.present.labels import EVENT_LABEL, KIND_LABEL, STATUS_LABEL
from agent.present.render import local_suffix
from agent.web.auth import AuthSettings, User, csrf_token, current_user
from agent.web.throttle import LoginThrottle
from ticketing.display import shown
from ticketing.people import ROLE_TITLES
from ticketing.reports.render import duration_text, rupiah

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from starlette.datastructures import FormData
    from starlette.requests import Request
    from starlette.responses import Response

    from agent.admin.edits import InventoryEditor
    from agent.config.model import Inventory
    from agent.zones.liveness import ZoneState
    from ticketing.accounts import AccountStore
    from ticketing.service import TicketService
    from ticketing.store import TicketStore

    # the zones without a live poller at a moment (agent.zones.view.silent_zones)
    SilentZones = Callable[[Inventory, TicketStore, datetime], Sequence[ZoneState]]

HERE: Final = Path(__file__).parent
UNKNOWN: Final = object()  # request.state.user before the lookup
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
    editor: InventoryEditor | None = None  # the admin pages' inventory writer (issue 21)
    zones: SilentZones | None = None  # the zones without a live poller (issue 23; PostgreSQL)

    @property
    def tz(self) -> ZoneInfo:
        """The office time zone (WITA)."""
        return self.inventory.tz

    def silent_zones(self, now: datetime) -> Sequence[ZoneState]:
        """The zones with no live poller at ``now``: their devices are tak terpantau."""
        return self.zones(self.inventory, self.store, now) if self.zones is not None else ()

    def user(self, request: Request) -> User | None:
        """The signed-in person, or None (looked up once a request: it reads the database)."""
        found = getattr(request.state, "user", UNKNOWN)
        if found is UNKNOWN:
            found = current_user(request, self.inventory, self.auth, self.accounts)
            request.state.user = found
        assert found is None or isinstance(found, User)  # noqa: S101 - set just above
        return found

    def known_user(self, request: Request) -> User | None:
        """The person looked up earlier in this request, or None (no database: event loop)."""
        found: User | None = getattr(request.state, "user", None)
        return found

    def require(self, request: Request) -> User:
        """The signed-in person; otherwise a redirect to the login page (303)."""
        user = self.user(request)
        if user is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(303, headers={"Location": f"/masuk?lanjut={target}"})
        return user

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        status: int = 200,
        *,
        lookup: bool = True,
    ) -> HTMLResponse:
        """Render template ``name`` with the common context (user, menu, CSRF token).

        ``lookup=False`` (on the event loop): the person only if already looked up.
        """
        base = {
            "request": request,
            "user": self.user(request) if lookup else self.known_user(request),
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


def visible(value: object) -> object:
    """What a template prints: text through ``shown`` (control and bidi characters escaped).

    The environment's ``finalize``: every ``{{ ... }}`` of every page passes here before it
    is HTML-escaped, so no text from a mail, a message or a device acts in a browser.
    Markup (the map's SVG, built escaped and shown by ``agent.topology.maphtml``) is kept.
    """
    if isinstance(value, str) and not isinstance(value, Markup):
        return shown(value)
    return value


def environment(tz: ZoneInfo, extra: Sequence[Path]) -> Environment:
    """The board's Jinja environment: ``extra`` folders first, then the board's templates."""
    loader = ChoiceLoader([FileSystemLoader([*map(str, extra), str(HERE / "templates")])])
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=visible,
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


def posted(
    handler: Callable[[Request, FormData], Response],
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that reads the posted form, then runs ``handler`` in the thread pool."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(handler, request, form)

    return endpoint


__all__ = ["NAV", "Board", "board_of", "environment", "posted", "visible"]
