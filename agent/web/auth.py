"""Who is asking: logins (argon2), sessions (signed cookie, revocable), CSRF tokens, a proxy.

The session cookie is Starlette's ``SessionMiddleware`` (itsdangerous, signed with the app's
secret, ``max_age`` = idle timeout, refreshed on every response); the login time inside it
bounds the whole session (``absolute``). The cookie also carries the account's session epoch
at login (``ticketing.accounts``): every request compares it with the stored one, so logout,
a new password and ``sigap web pengguna nonaktifkan`` end every session of the account at
once, copies of the cookie included. Every form carries the session's CSRF token and every
POST handler calls :func:`check_csrf` before anything else.

Behind a reverse proxy that authenticates people itself (e.g. SSO), ``proxy_header`` names
the header carrying the person's name; it is believed only from ``trusted_proxies`` (and the
last ``X-Forwarded-For`` entry likewise). A peer address alone proves little: any local
process can connect from 127.0.0.1 and send the header. With ``proxy_secret`` set, the
forwarded headers are believed only when the request also carries ``PROXY_SECRET_HEADER``
with that secret, which only the proxy knows (``deploy/web-proxy/`` sets it); without it
they are ignored.
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
EPOCH_FIELD: Final = "epoch"
PROXY_SECRET_HEADER: Final = "X-Sigap-Proxy-Secret"  # noqa: S105 - a header name
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
    proxy_secret: str = field(default="", repr=False)  # PROXY_SECRET_HEADER's value; "": none
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
        accounts.set_hash(person.name, HASHER.hash(password), at=utc_now(), end_sessions=False)
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


def from_proxy(request: Request, settings: AuthSettings) -> bool:
    """Whether the request came through the trusted proxy (peer, and the secret if one is set)."""
    peer = request.client.host if request.client else ""
    if peer not in settings.trusted_proxies:
        return False
    if not settings.proxy_secret:
        return True
    sent = request.headers.get(PROXY_SECRET_HEADER, "")
    return sent.isascii() and secrets.compare_digest(sent.encode(), settings.proxy_secret.encode())


def sign_in(request: Request, person: Person, epoch: int) -> None:
    """Start a fresh session for ``person`` at the account's session ``epoch`` (new CSRF token)."""
    request.session.clear()
    request.session.update(
        {
            "user": person.name,
            "login": int(time.time()),
            EPOCH_FIELD: epoch,
            CSRF_FIELD: secrets.token_urlsafe(32),
        }
    )
    logger.info("web login: %s", person.name)


def sign_out(request: Request, accounts: AccountStore) -> None:
    """End this session and every other session of its account (the epoch moves on)."""
    name = request.session.get("user")
    if isinstance(name, str) and name:
        accounts.end_sessions(name, at=utc_now())
        logger.info("web logout: %s (every session ended)", name)
    request.session.clear()


def current_user(
    request: Request, inventory: Inventory, settings: AuthSettings, accounts: AccountStore
) -> User | None:
    """The signed-in person, from the proxy header (if trusted) or a live session."""
    if settings.proxy_header and from_proxy(request, settings):
        given = request.headers.get(settings.proxy_header, "")
        if given:
            person = find_person(inventory, given)
            if person is None:
                return None
            state = accounts.state(person.name)
            return None if state is not None and state.disabled else user_of(person)
    name = request.session.get("user")
    login = request.session.get("login")
    if not isinstance(name, str) or not isinstance(login, int):
        return None
    person = find_person(inventory, name)
    state = accounts.state(person.name) if person is not None else None
    expired = time.time() - login > settings.absolute
    if person is None or state is None or state.disabled or expired:
        request.session.clear()
        return None
    if request.session.get(EPOCH_FIELD) != state.epoch:  # logged out, new password elsewhere
        request.session.clear()
        return None
    return user_of(person)
