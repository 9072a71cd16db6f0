"""``sigap web``: serve the ticket board; ``sigap web pengguna set-password|nonaktifkan NAME``.

The board listens on 127.0.0.1:8080 unless told otherwise; every interface needs the
address written out *and* ``--semua-antarmuka`` (the TLS reverse proxy in ``deploy/`` is the
way to reach it from the office network). Passwords are read from the terminal (twice) or
from the first line of stdin, never from the command line; so is the proxy's shared secret
(a file). A new password and ``nonaktifkan`` end every session of the account.
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final, TypeVar

import typer

from agent.cli import webtoken
from agent.cli.options import DEFAULT_INVENTORY, DbOpt, InventoryOpt, load
from agent.errors import AgentError
from agent.web.limits import FORM_LIMIT, WEBHOOK_LIMIT

if TYPE_CHECKING:
    from collections.abc import Callable

    from agent.config.model import Inventory
    from ticketing.accounts import AccountStore

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_LISTEN: Final = "127.0.0.1:8080"
DEFAULT_SECRET: Final = Path("/var/lib/sigap/web-secret")

web_app = typer.Typer(
    help="Papan tiket web / the web ticket board (127.0.0.1:8080).",
    invoke_without_command=True,
)
pengguna_app = typer.Typer(help="Akun web / web board logins.", no_args_is_help=True)
web_app.add_typer(pengguna_app, name="pengguna")
webtoken.register(web_app)


def register(app: typer.Typer) -> None:
    """Add ``web`` to ``app``."""
    app.add_typer(web_app, name="web")


def read_secret(path: Path) -> str:
    """The session signing key in ``path``; created (0600) with a random key if missing."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        import secrets  # only when the key is made

        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
        logger.info("web: new session key written to %s", path)
        return key
    if len(text) < 32:  # noqa: PLR2004 - a key shorter than this is a mistake
        raise AgentError(f"{path}: session key too short (need 32+ characters)")
    return text


def read_proxy_secret(path: Path) -> str:
    """The proxy's shared secret: the first line of ``path`` (16+ characters)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AgentError(f"{path}: cannot read the proxy secret ({exc.strerror})") from exc
    if len(text) < 16 or not text.isascii() or not text.isprintable():  # noqa: PLR2004
        raise AgentError(f"{path}: proxy secret must be 16+ printable ASCII characters")
    return text


@web_app.callback()
def serve(  # keyword-only: typer passes options by name
    ctx: typer.Context,
    *,
    listen: Annotated[
        str, typer.Option("--listen", help="host:port; default 127.0.0.1:8080.")
    ] = DEFAULT_LISTEN,
    all_interfaces: Annotated[
        bool,
        typer.Option("--semua-antarmuka", help="Allow 0.0.0.0 / [::] (prefer the TLS proxy)."),
    ] = False,
    secret_file: Annotated[
        Path, typer.Option(envvar="SIGAP_WEB_SECRET_FILE", help="Session signing key file.")
    ] = DEFAULT_SECRET,
    proxy_header: Annotated[
        str,
        typer.Option(
            envvar="SIGAP_WEB_PROXY_HEADER",
            help="Header with the person's name set by a trusted proxy on 127.0.0.1.",
        ),
    ] = "",
    proxy_secret_file: Annotated[
        Path | None,
        typer.Option(
            envvar="SIGAP_WEB_PROXY_SECRET_FILE",
            help="File with the secret the proxy sends in X-Sigap-Proxy-Secret; without it "
            "any local process may forge the proxy's headers.",
        ),
    ] = None,
    max_form_bytes: Annotated[
        int, typer.Option(envvar="SIGAP_WEB_MAX_FORM_BYTES", min=1024, help="Largest form body.")
    ] = FORM_LIMIT,
    max_webhook_bytes: Annotated[
        int,
        typer.Option(
            envvar="SIGAP_WEB_MAX_WEBHOOK_BYTES", min=1024, help="Largest WhatsApp webhook body."
        ),
    ] = WEBHOOK_LIMIT,
    max_connections: Annotated[
        int, typer.Option(envvar="SIGAP_WEB_MAX_CONNECTIONS", min=1, help="Then 503.")
    ] = 100,
    secure_cookie: Annotated[
        bool, typer.Option("--cookie-secure", help="Secure cookie flag (behind TLS).")
    ] = False,
    webhook: Annotated[
        bool,
        typer.Option(
            "--webhook/--no-webhook",
            help="Serve intake.whatsapp's webhook too (then: sigap intake --no-webhook).",
        ),
    ] = True,
    daemon_pid_file: Annotated[
        Path | None,
        typer.Option(
            envvar="SIGAP_PID_FILE",
            help="The daemon's pid file (sigap run --pid-file): reloaded after admin edits.",
        ),
    ] = None,
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Serve the web ticket board (foreground; stop with Ctrl-C)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn  # only when serving

    from agent.config.listen import parse_listen
    from agent.web.auth import AuthSettings
    from agent.web.limits import ServerLimits, server_options
    from agent.wiring import build_web_app, open_store

    try:
        address = parse_listen(listen)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--listen") from exc
    if address.wildcard and not all_interfaces:
        raise AgentError(
            f"{address} would open the board on every interface; use the TLS reverse proxy "
            "(deploy/web-proxy/) or add --semua-antarmuka"
        )
    inventory = load(inventory_path)
    auth = AuthSettings(
        proxy_header=proxy_header,
        https_only=secure_cookie,
        proxy_secret=read_proxy_secret(proxy_secret_file) if proxy_secret_file else "",
    )
    if (proxy_header or secure_cookie) and not auth.proxy_secret:
        logger.warning(
            "web: proxy headers are believed from any process on 127.0.0.1; "
            "set --proxy-secret-file (deploy/web-proxy/) so only the proxy is"
        )
    limits = ServerLimits(
        form_bytes=max_form_bytes, webhook_bytes=max_webhook_bytes, concurrency=max_connections
    )
    app = build_web_app(
        inventory,
        open_store(inventory, db),
        secret_key=read_secret(secret_file),
        auth=auth,
        webhook=webhook,
        limits=limits,
        daemon_pid_file=daemon_pid_file,
    )
    if webhook and inventory.intake is not None and inventory.intake.whatsapp is not None:
        logger.info("WhatsApp webhook served at %s", inventory.intake.whatsapp.path)
    if address.wildcard:
        logger.warning("web board listening on every interface (%s)", address)
    uvicorn.run(
        app,
        host=address.host,
        port=address.port,
        log_level="info",
        proxy_headers=False,
        **server_options(limits),
    )


def _on_accounts(inventory: Inventory, db: str | None, act: Callable[[AccountStore], T]) -> T:
    """``act`` on the web accounts of the inventory's database (migrated first)."""
    from agent.wiring import open_store
    from ticketing.accounts import AccountStore

    store = open_store(inventory, db, migrate=True)
    try:
        return act(AccountStore(store))
    finally:
        store.close()


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Kata sandi baru: ")
        if getpass.getpass("Ulangi: ") != first:
            raise AgentError("kata sandi tidak sama")
        return first
    return sys.stdin.readline().rstrip("\r\n")


@pengguna_app.command("set-password")
def set_password(
    name: Annotated[str, typer.Argument(help="Nama orang (people di inventory).")],
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Set a person's web password (read from the terminal or stdin, never from argv)."""
    from agent.web.auth import find_person, hash_password
    from collectors.model import utc_now

    inventory = load(inventory_path)
    person = find_person(inventory, name)
    if person is None:
        known = ", ".join(f"{p.name} ({p.role})" for p in inventory.people)
        raise AgentError(f"orang {name!r} tidak ada di people; yang dikenal: {known}")
    try:
        hashed = hash_password(_read_password())
    except ValueError as exc:
        raise AgentError(str(exc)) from exc
    _on_accounts(
        inventory, db, lambda accounts: accounts.set_hash(person.name, hashed, at=utc_now())
    )
    typer.echo(
        f"kata sandi web {person.name} ({person.role}) disimpan; semua sesi lama akun ini berakhir"
    )


@pengguna_app.command("nonaktifkan")
def disable(
    name: Annotated[str, typer.Argument(help="Nama orang (people di inventory).")],
    inventory_path: InventoryOpt = DEFAULT_INVENTORY,
    db: DbOpt = None,
) -> None:
    """Nonaktifkan akun web: semua sesinya berakhir, masuk ditolak sampai set-password lagi."""
    from agent.web.auth import find_person
    from collectors.model import utc_now

    inventory = load(inventory_path)
    person = find_person(inventory, name)
    account = person.name if person is not None else name.strip()
    done = _on_accounts(inventory, db, lambda accounts: accounts.disable(account, at=utc_now()))
    if not done:
        raise AgentError(f"{name!r} tidak punya akun web (lihat: sigap web pengguna list)")
    logger.info("web account disabled: %s", account)
    typer.echo(
        f"akun web {account} dinonaktifkan; semua sesinya berakhir "
        "(aktifkan lagi dengan: sigap web pengguna set-password)"
    )


@pengguna_app.command("list")
def list_accounts(inventory_path: InventoryOpt = DEFAULT_INVENTORY, db: DbOpt = None) -> None:
    """Daftar orang dan akun webnya (ada, belum, nonaktif)."""
    inventory = load(inventory_path)
    names, off = _on_accounts(
        inventory, db, lambda accounts: (set(accounts.names()), set(accounts.disabled_names()))
    )
    for p in inventory.people:
        mark = "nonaktif" if p.name in off else "ada" if p.name in names else "belum"
        typer.echo(f"{p.name:30} {p.role:8} {p.opd[:30]:30} sandi: {mark}")
