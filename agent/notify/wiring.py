"""Builds the notification parts from the inventory (the composition root of this package)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.notify.routing import InventoryRouter, Recipients
from agent.notify.templates import Renderer, load_templates
from agent.notify.worker import Notifier, utc_now
from ticketing import outbox

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from agent.inventory import Inventory
    from agent.notify.worker import Sender
    from ticketing.store import TicketStore


def router_for(inventory: Inventory) -> InventoryRouter:
    """The router over the inventory's people and ``notifications:`` settings."""
    return InventoryRouter(Recipients(inventory.people), inventory.notifications, inventory.tz)


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
    router = router_for(inventory)
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
        sender=sender,
        now=now,
        run_blocking=run_blocking,
        poll=poll,
    )
