"""The composition root: every part sigap runs is built here and handed down.

Commands (``agent.cli``) call these builders; nothing else imports this module, and the parts
it builds never import it back (the layering test checks both). Imports of heavy libraries stay
inside the builders that need them, so a command pays only for what it opens.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from agent.config.sop import office_calendar, workflow_config
from ticketing.service import TicketService
from ticketing.store import TicketStore

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.config.model import Inventory
    from collectors.snmp import GeneralPath, SnmpCollector

DEFAULT_DB: Final = Path("/var/lib/sigap/sigap.db")


def database_url(inventory: Inventory, db: str | None = None) -> str:
    """The ticket database: ``--db``/``SIGAP_DB_URL``, else ``daemon.database``, else the file."""
    return db or inventory.database or TicketStore.sqlite_url(DEFAULT_DB)


def open_store(
    inventory: Inventory, db: str | None = None, *, hold_down: float | None = None
) -> TicketStore:
    """The ticket store as every command opens it: the inventory's settings, the outbox hook on.

    ``hold_down`` (seconds) overrides ``tickets.hold_down`` (``sigap run --hold-down``). The
    default SQLite file's folder is created when it is missing; the schema is not migrated here.
    """
    from agent.notify.wiring import install_outbox  # noqa: PLC0415 - routing only when opened

    url = database_url(inventory, db)
    if url == TicketStore.sqlite_url(DEFAULT_DB):
        DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    settings = inventory.tickets
    store = TicketStore(
        url,
        number_prefix=settings.number_prefix,
        hold_down=timedelta(seconds=hold_down) if hold_down is not None else settings.hold_down,
        reopen_window=settings.reopen_window,
        tz=inventory.tz.key,
    )
    install_outbox(store, inventory)  # ticket changes write their notifications (issue 7)
    return store


def snmp_collector(*, max_in_flight: int = 64, v3_fast: bool = True) -> SnmpCollector:
    """The SNMP collector with pysnmp as its general path, imported on the first v3 fallback."""
    from collectors.snmp import SnmpCollector  # noqa: PLC0415 - the SNMP stack on use

    return SnmpCollector(max_in_flight=max_in_flight, v3_fast=v3_fast, general=_pysnmp_engine)


def _pysnmp_engine() -> GeneralPath:
    from collectors._snmp.engine import open_engine  # noqa: PLC0415 - pysnmp on first need

    return open_engine()


def ticket_service(
    inventory: Inventory, store: TicketStore, now: Callable[[], datetime]
) -> TicketService:
    """The SOP workflow service over ``store`` for this inventory's people and settings."""
    return TicketService(
        store,
        people=inventory.people,
        calendar=office_calendar(inventory),
        now=now,
        config=workflow_config(inventory),
    )
