"""The ``notifications:`` block of the inventory: resolved settings, ``sigap check`` problems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.inventory import NotifySettings
from agent.notify.routing import ROLE_TAGS, SPECIAL_TAGS
from agent.notify.templates import TemplateError, load_templates
from ticketing.outbox import REMINDER
from ticketing.states import EventKind

if TYPE_CHECKING:
    from pathlib import Path

    from agent import schema

ROUTABLE = frozenset({*(k.value for k in EventKind), REMINDER})


def notify_settings(block: schema.NotificationsBlock, base: Path) -> NotifySettings:
    """Resolve the block (template folder relative to the inventory's folder)."""
    return NotifySettings(
        enabled=block.enabled,
        routes={kind: tuple(tags) for kind, tags in block.routes.items()},
        group_window=block.group_window,
        reminder_interval=block.reminder_interval,
        templates_dir=base / block.templates_dir if block.templates_dir else None,
        link=block.link,
        lease=block.lease,
        retry_initial=block.retry.initial,
        retry_maximum=block.retry.maximum,
        give_up_after=block.retry.give_up_after,
    )


def notify_problems(raw: dict[str, Any], base: Path) -> list[tuple[tuple[str | int, ...], str]]:
    """Unknown event kinds and tags in ``routes``, invalid templates (path below the block)."""
    block = raw.get("notifications")
    if not isinstance(block, dict):
        return []
    people = raw.get("people")
    names = {
        str(p.get("name")).casefold()
        for p in (people if isinstance(people, list) else [])
        if isinstance(p, dict)
    }
    out: list[tuple[tuple[str | int, ...], str]] = []
    routes = block.get("routes")
    for kind, tags in (routes if isinstance(routes, dict) else {}).items():
        if kind not in ROUTABLE:
            out.append((("routes", kind), f"unknown event {kind!r} (known: {sorted(ROUTABLE)})"))
        for index, tag in enumerate(tags if isinstance(tags, list) else []):
            if not _known_tag(str(tag), names):
                known = ", ".join(sorted(ROLE_TAGS | SPECIAL_TAGS))
                message = f"unknown recipient {tag!r} (tags: {known}, opd:NAME, or a person)"
                out.append((("routes", kind, index), message))
    folder = block.get("templates_dir")
    if isinstance(folder, str) and folder:
        try:
            load_templates(base / folder)
        except TemplateError as exc:
            out.extend((("templates_dir",), str(p)) for p in exc.problems)
    return out


def _known_tag(tag: str, names: set[str]) -> bool:
    return (
        tag in ROLE_TAGS
        or tag in SPECIAL_TAGS
        or (tag.startswith("opd:") and len(tag) > len("opd:"))
        or tag.casefold() in names
    )
