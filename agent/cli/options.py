"""What every command group shares: consoles, common options, the inventory, the ticket session.

Start-up time is part of the CLI (a technician types these commands all day): this module and
the command modules import only typer, rich and light enums at the top; everything a command
opens (the inventory's validation stack, SQLAlchemy, netmiko, pysnmp, Apprise, Starlette) is
imported inside the command that needs it, mostly through :mod:`agent.wiring`.
"""

from __future__ import annotations

import contextlib
import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final, NamedTuple

import typer

from agent.errors import AgentError
from agent.present.terminal import safe_console
from ticketing.errors import UnknownPersonError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from agent.config.model import Inventory
    from ticketing.service import TicketService
    from ticketing.store import TicketStore

# outside text is shown, never sent (agent.present.terminal); markup only where a line asks
console = safe_console()
err_console = safe_console(stderr=True, soft_wrap=True)  # errors: never re-wrap

DEFAULT_INVENTORY: Final = Path("inventory.yaml")
CLOSE_CUTOFF: Final = 0.5

InventoryOpt = Annotated[
    Path,
    typer.Option(
        "--inventory", "-i", envvar="SIGAP_INVENTORY", help="Inventory file (inventory.yaml)."
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SIGAP_DB_URL",
        help="Database URL (sqlite:///path or postgresql+psycopg://...). "
        "Default: inventory daemon.database, else sqlite:////var/lib/sigap/sigap.db.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON for scripts.")]
OlehOpt = Annotated[
    str, typer.Option("--oleh", help="Nama yang bertindak (people di inventory) / who acts.")
]
NumberArg = Annotated[str, typer.Argument(help="Nomor tiket, mis. GJ/2026/0001.")]


def load(path: Path) -> Inventory:
    """The validated inventory at ``path`` (a ConfigError lists every problem: exit 2)."""
    from agent.config.load import load_inventory  # pydantic on use

    return load_inventory(path)


class Session(NamedTuple):
    """What a ticket command works with: the inventory, the store and the workflow service."""

    inventory: Inventory
    store: TicketStore
    svc: TicketService


@contextlib.contextmanager
def session(inventory_path: Path, db: str | None, *, write: bool = True) -> Iterator[Session]:
    """Load the inventory, open the store, build the service; close the store.

    A command that writes migrates first (idempotent: the office may record a complaint before
    the daemon ever ran); one that only reads (``write=False``) does not load Alembic. An
    unknown person (``--oleh``) is re-raised naming the closest people of the inventory.
    """
    from agent.wiring import open_store, ticket_service  # SQLAlchemy on use
    from collectors.model import utc_now

    inventory = load(inventory_path)
    with open_store(inventory, db, migrate=write) as store, _known_people(inventory):
        yield Session(inventory, store, ticket_service(inventory, store, utc_now))


@contextlib.contextmanager
def _known_people(inventory: Inventory) -> Iterator[None]:
    try:
        yield
    except UnknownPersonError as exc:
        raise AgentError(unknown_person_message(exc.name, inventory)) from exc


def unknown_person_message(name: str, inventory: Inventory) -> str:
    """``orang 'X' tidak ada di people inventory; mungkin: A (kasi), B (kasi)``."""
    roles = {p.name: p.role for p in inventory.people}
    folded = {n.casefold(): n for n in roles}
    needle = name.casefold()
    close = [folded[n] for n in difflib.get_close_matches(needle, folded, n=3, cutoff=CLOSE_CUTOFF)]
    close += [n for k, n in folded.items() if needle in k and n not in close]
    shown = close or sorted(roles)
    label = "mungkin" if close else "yang dikenal"
    names = ", ".join(f"{n} ({roles[n]})" for n in shown)
    return f"orang {name!r} tidak ada di people {inventory.path.name}; {label}: {names}"


def write_inventory(
    inventory: Inventory, db: str | None, before: str, after: str, *, summary: str
) -> str:
    """Write ``after`` over the inventory file as the board's admin pages do (issue 21).

    One writer for the CLI's ``--apply`` and the board: checked as ``sigap check``, refused when
    the file no longer holds ``before`` (``EditConflictError``: changed by someone else since),
    backed up, audited in the database as ``cli:<user>`` and followed by a reload request to
    the daemon whose pid file ``SIGAP_PID_FILE`` names. Returns the reload outcome (Indonesian).
    """
    import getpass
    import os

    from agent.admin.edits import version_of
    from agent.wiring import inventory_editor, open_store

    pid_file = os.environ.get("SIGAP_PID_FILE")
    store = open_store(inventory, db, migrate=True)
    try:
        editor = inventory_editor(inventory, store, Path(pid_file) if pid_file else None)
        result = editor.apply_text(
            lambda _text: after,
            by=f"cli:{getpass.getuser()}",
            base_version=version_of(before),
            summary=summary,
        )
    finally:
        store.close()
    return result.reload
