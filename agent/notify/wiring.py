"""Builds the notification parts from the inventory (the composition root of this package)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from agent.notify.reporter import ReporterRoutes
from agent.notify.routing import InventoryRouter, Recipients
from agent.notify.templates import Renderer, load_templates
from agent.notify.whatsapp import ReplySender, WhatsAppSender
from agent.notify.worker import AppriseSender, Notifier
from collectors.model import utc_now
from ticketing import intake, outbox
from ticketing.workflow import Source

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.config.model import Inventory
    from agent.notify.worker import Sender
    from ticketing.store import TicketStore


def router_for(inventory: Inventory, store: TicketStore | None = None) -> InventoryRouter:
    """The router over the inventory's people, ``notifications:`` and intake reply settings.

    With ``store``, replies to e-mail reporters thread under their complaint's Message-ID.
    """
    first = partial(intake.first_message_id, store) if store is not None else None
    reporters = ReporterRoutes(inventory.intake, first_message=first)
    return InventoryRouter(
        Recipients(inventory.people), inventory.notifications, inventory.tz, reporters=reporters
    )


def sender_for(
    inventory: Inventory, store: TicketStore, sender: Sender | None, now: Callable[[], datetime]
) -> Sender:
    """Apprise (or ``sender``) for people and e-mail; the Cloud API for WhatsApp reporters."""
    wa = inventory.intake.whatsapp if inventory.intake else None
    if wa is None or not wa.access_token:
        return sender or AppriseSender()
    whatsapp = WhatsAppSender(
        wa, last_inbound=partial(intake.last_inbound, store, Source.WA), now=now
    )
    return ReplySender(sender or AppriseSender(), whatsapp)


def renderer_for(inventory: Inventory, *, now: datetime | None = None) -> Renderer:
    """The renderer with the bundled templates and the inventory's overrides."""
    templates = load_templates(inventory.notifications.templates_dir)
    return Renderer(
        templates,
        tz=inventory.tz,
        office=inventory.office_short,
        link=inventory.notifications.link,
        now=now,
    )


def install_outbox(store: TicketStore, inventory: Inventory) -> InventoryRouter:
    """From now on every ticket event of ``store`` writes its outbox rows in its transaction."""
    router = router_for(inventory, store)
    outbox.install(store, router)
    return router


def notifier_for(
    inventory: Inventory,
    store: TicketStore,
    *,
    sender: Sender | None = None,
    now: Callable[[], datetime] = utc_now,
    run_blocking: Any = None,
    poll: float = 1.0,
) -> Notifier:
    """The delivery worker for ``store`` (also installs the outbox hook on it)."""
    router = install_outbox(store, inventory)
    return Notifier(
        store,
        router,
        renderer_for(inventory),
        sender=sender_for(inventory, store, sender, now),
        now=now,
        run_blocking=run_blocking,
        poll=poll,
    )
