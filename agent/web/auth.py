"""Who is asking: logins (argon2), sessions (signed cookie), CSRF tokens, a proxy header.

The session cookie is Starlette's ``SessionMiddleware`` (itsdangerous, signed with the app's
secret, ``max_age`` = idle timeout, refreshed on every response); the login time inside it
bounds the whole session (``absolute``). Every form carries the session's CSRF token and
every POST handler calls :func:`check_csrf` before anything else.

Behind a reverse proxy that authenticates people itself (e.g. SSO), ``proxy_header`` names
the header carrying the person's name; it is believed only from ``trusted_proxies``.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.exceptions import HTTPException

from agent.web.throttle import Limits
from collectors.model import utc_now
from ticketing.people import Role

if TYPE_CHECKING:
    from starlette.requests import Request

    from agent.config.model import Inventory, Person
    from ticketing.accounts import AccountStore

logger = logging.getLogger(__name__)

CSRF_FIELD: Final = "csrf"
MIN_PASSWORD: Final = 10
READ_ONLY_ROLES: Final = frozenset({Role.PJ_OPD})  # OPD contacts: read-only, their OPD only
HASHER: Final = PasswordHasher()  # argon2id, the library's (RFC 9106) defaults


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Session and login settings of the board."""

    idle: int = 2 * 3600  # seconds without a request before the session ends
    absolute: int = 12 * 3600  # seconds after login the session ends anyway
    proxy_header: str = ""  # e.g. "X-Remote-User"; empty: logins only
    trusted_proxies: frozenset[str] = field(default_factory=lambda: frozenset({"127.0.0.1"}))
    https_only: bool = False  # set the cookie's Secure flag (behind the TLS proxy)
    login_limits: Limits = field(default_factory=Limits)  # failed logins (agent.web.throttle)


@dataclass(frozen=True, slots=True)
class User:
    """A person of the inventory, signed in."""

    name: str
    role: Role
    opd: str
    jabatan: str

    @property
    def read_only(self) -> bool:
        """OPD contacts may look, not act."""
        return self.role in READ_ONLY_ROLES

    def sees(self, opd: str) -> bool:
        """Whether this person may see a ticket or device of ``opd``."""
        return not self.read_only or opd == self.opd


def user_of(person: Person) -> User:
    """The signed-in view of an inventory person."""
    return User(person.name, Role(person.role), person.opd, person.jabatan)


def find_person(inventory: Inventory, name: str) -> Person | None:
    """The inventory person called ``name`` (case-insensitive), or None."""
    key = name.strip().casefold()
    return next((p for p in inventory.people if p.name.casefold() == key), None)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``; refuses short ones."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"kata sandi minimal {MIN_PASSWORD} karakter")
    return HASHER.hash(password)


def verify(accounts: AccountStore, person: Person | None, password: str) -> bool:
    """Whether ``password`` is the person's; rehashes when the parameters changed."""
    stored = accounts.hash_of(person.name) if person is not None else None
    try:
        HASHER.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    if person is None or stored is None:
        return False
    if HASHER.check_needs_rehash(stored):
        accounts.set_hash(person.name, HASHER.hash(password), at=utc_now())
    return True


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so that both paths cost one argon2 hash."""
    return HASHER.hash(secrets.token_urlsafe(16))


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def check_csrf(request: Request, sent: object) -> None:
    """Raise 403 unless ``sent`` is the session's CSRF token."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(sent, str) or not isinstance(token, str) or not token:
        raise HTTPException(403, "Token formulir tidak sah; muat ulang halaman lalu coba lagi.")
    if not secrets.compare_digest(sent.encode(), token.encode()):
        raise HTTPException(403, "Token formulir tidak sah; muat ulang halaman lalu coba lagi.")


def sign_in(request: Request, person: Person) -> None:
    """Start a fresh session for ``person`` (a new CSRF token: no session fixation)."""
    request.session.clear()
    request.session.update(
        {"user": person.name, "login": int(time.time()), CSRF_FIELD: secrets.token_urlsafe(32)}
    )
    logger.info("web login: %s", person.name)


def sign_out(request: Request) -> None:
    """End the session."""
    request.session.clear()


def current_user(request: Request, inventory: Inventory, settings: AuthSettings) -> User | None:
    """The signed-in person, from the proxy header (if trusted) or the session."""
    if settings.proxy_header:
        peer = request.client.host if request.client else ""
        given = request.headers.get(settings.proxy_header, "")
        if given and peer in settings.trusted_proxies:
            person = find_person(inventory, given)
            return user_of(person) if person is not None else None
    name = request.session.get("user")
    login = request.session.get("login")
    if not isinstance(name, str) or not isinstance(login, int):
        return None
    if time.time() - login > settings.absolute:
        request.session.clear()
        return None
    person = find_person(inventory, name)
    return user_of(person) if person is not None else None
