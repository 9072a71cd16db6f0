"""``sigap`` command line: the only place that prints and turns exceptions into exit codes.

Exit codes: 0 ok, 1 operational error (``AgentError``, ticketing, lab, database), 2 configuration
or usage error (``ConfigError``), 130 interrupted. Tracebacks only with ``--debug``. One module
per command group; each adds itself with ``register(app)`` and imports what its commands open
inside them (see :mod:`agent.cli.options`), so ``sigap --help`` loads none of it. A command line
imports and builds only the module that adds its command (``COMMANDS``); one that names none
gets the command list alone (:func:`listing_app`).
"""

from __future__ import annotations

import copy
import gc
import importlib
import logging
import sys
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from typer.exceptions import TyperException

from agent.cli.options import console, err_console
from agent.errors import AgentError, ConfigError
from agent.runtime import logfmt
from collectors.errors import CollectorError
from ticketing.display import shown
from ticketing.errors import TicketingError

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger("agent.cli")

# Commands (and bare ``sigap``/``--help``) that read or write a few rows, print and exit.
# Their start-up builds ~1M objects that live until exit (modules, classes, the ORM mapping,
# the inventory's pydantic schema), and the cyclic collector walking them again and again was
# ~10 % of `sigap tiket list` (docs/decisions.md). Long-running commands (run, web, intake,
# notifikasi antar, demo, lab) keep the collector: they are not listed, and a command missing
# here is only slower.
SHORT_LIVED: Final = frozenset({"tiket", "check"})
# options of the root callback that take a value (``--log-level DEBUG tiket list``)
_VALUED_ROOT_OPTIONS: Final = frozenset({"--log-level", "--log-format"})

# Each top-level command or group and the module that adds it (``register(app)``), in the order
# of `sigap --help` (typer lists the commands, then the groups). `sigap tiket list` imports and
# builds only `agent.cli.tiket`: typer turns every command's signature into options when the app
# is built, ~0.1 s for all of them (docs/decisions.md, 'CLI start-up'). A test checks this table
# against what each module registers.
COMMANDS: Final = {
    "discover": "topology", "peta": "topology", "diagnose": "diagnose", "poll-once": "diagnose",
    "check": "run", "run": "run", "status": "status", "demo": "demo", "log": "log",
    "tiket": "tiket", "lab": "lab", "program-kegiatan": "program", "laporan": "laporan",
    "notifikasi": "notifikasi", "remediasi": "remediasi", "konfigurasi": "konfigurasi",
    "intake": "intake", "web": "web",
}  # fmt: skip


def build_app(command: str | None = None) -> typer.Typer:
    """The ``sigap`` app: only the module that adds ``command`` if it is one, else every one."""
    app = typer.Typer(
        help="sigap: pemantauan jaringan OPD dan tiket gangguan (Diskominfo Lombok Tengah).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_main)
    modules = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for module in modules:
        importlib.import_module(f"{__name__}.{module}").register(app)
    return app


def listing_app() -> typer.Typer:
    """The app for a command line that names no command of the table (``sigap --help``, a typo).

    All it can show is the list of commands with their help, or the usage error that names them:
    every command keeps its name and help but no parameters, every group its help but none of its
    commands, so typer reads no signature (a test compares the help with :func:`build_app`'s).
    """
    app = build_app()
    for command in app.registered_commands:
        command.callback = _bare(command.callback)
    for group in app.registered_groups:
        group.typer_instance = _empty(group.typer_instance)
    return app


def _bare(callback: Callable[..., Any] | None) -> Callable[[], None] | None:
    """A callback without parameters that typer names and describes as it would ``callback``."""
    if callback is None:
        return None

    def bare() -> None:
        raise AssertionError(f"{callback.__name__}: built for the command list only")

    bare.__name__, bare.__qualname__ = callback.__name__, callback.__qualname__
    bare.__doc__ = callback.__doc__
    return bare


def _empty(group: typer.Typer | None) -> typer.Typer | None:
    """A copy of ``group`` without its commands (its own help and callback stay)."""
    if group is None:
        return None
    empty = copy.copy(group)
    empty.registered_commands, empty.registered_groups = [], []
    empty.registered_callback = copy.copy(group.registered_callback)
    if empty.registered_callback is not None:
        empty.registered_callback.callback = _bare(empty.registered_callback.callback)
    return empty


@cache
def _full_app() -> typer.Typer:
    return build_app()


def __getattr__(name: str) -> typer.Typer:
    """``agent.cli.app``: the app with every command (built on first use, for tests and tools)."""
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _State:
    debug: bool = False


def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    log_level: Annotated[str, typer.Option("--log-level", envvar="SIGAP_LOG_LEVEL")] = "INFO",
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            envvar="SIGAP_LOG_FORMAT",
            help="auto (journal under systemd, else text), text, journal or json.",
        ),
    ] = "auto",
) -> None:
    _State.debug = debug
    if log_format not in logfmt.FORMATS:
        raise typer.BadParameter(
            f"expected one of {', '.join(logfmt.FORMATS)}", param_hint="--log-format"
        )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logfmt.formatter(log_format))
    logging.basicConfig(
        level=logging.DEBUG if debug else getattr(logging, log_level.upper(), logging.INFO),
        handlers=[handler],
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _loaded(module: str, name: str) -> tuple[type[Exception], ...]:
    """The exception class ``module.name`` if that module was loaded, else nothing to match.

    A command that never opened the database (or the lab) cannot fail with its errors, and
    importing SQLAlchemy only to catch nothing would cost every command ~0.3 s.
    """
    loaded = sys.modules.get(module)
    return (getattr(loaded, name),) if loaded is not None else ()


def undecodable(argv: list[str]) -> str | None:
    """The first argument that is not valid UTF-8, shown with its bytes escaped, or None.

    Python hands such bytes over as lone surrogates (PEP 383); they would fail only later,
    when the text reaches the database or the terminal (UnicodeEncodeError).
    """
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raw = arg.encode("utf-8", "surrogateescape")
            return shown(raw.decode("utf-8", "backslashreplace"), one_line=True)
    return None


def main() -> None:
    """Entry point of the ``sigap`` console script."""
    bad = undecodable(sys.argv[1:])
    if bad is not None:
        err_console.print(f"error: argumen bukan teks UTF-8 yang sah: {bad}", markup=False)
        sys.exit(2)
    command = command_of(sys.argv[1:])
    if command is None or command in SHORT_LIVED:  # None: ``sigap --help``
        gc.disable()  # the process ends with the command; refcounting still frees the rest
    _run(build_app(command) if command in COMMANDS else listing_app())


def command_of(argv: list[str]) -> str | None:
    """The command or group ``argv`` names (``tiket`` in ``--debug tiket list``), or None."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUED_ROOT_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _run(app: typer.Typer) -> None:
    try:
        code = app(standalone_mode=False)
    except ConfigError as exc:
        err_console.print(str(exc), markup=False)
        code = 2
    except typer.Exit as exc:
        code = exc.exit_code
    except TyperException as exc:  # usage errors (bad option, missing argument)
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {exc.format_message()}", markup=False)
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        code = 130
    except (AgentError, CollectorError, TicketingError) as exc:
        code = _failed(exc, "failed", f"error: {exc}")
    except Exception as exc:
        if isinstance(exc, _loaded("labnet.errors", "LabError")):
            code = _failed(exc, "failed", f"error: {exc}")
        elif isinstance(exc, _loaded("sqlalchemy.exc", "SQLAlchemyError")):
            # e.g. the database is unreachable: say where, no traceback
            code = _failed(exc, "database error", f"error: database: {type(exc).__name__}: {exc}")
        else:
            raise
    sys.exit(code if isinstance(code, int) else 0)


def _failed(exc: Exception, what: str, message: str) -> int:
    if _State.debug:
        logger.error(what, exc_info=exc)
    err_console.print(message, markup=False)
    return 1


__all__ = ["app", "build_app", "command_of", "console", "err_console", "listing_app", "main"]
