"""The ``notifications:`` block of the inventory: resolved settings, ``sigap check`` problems.

Also the people's Apprise addresses. URLs carry tokens and passwords, so they are referenced
like every secret: ``apprise_env`` names environment variables, ``apprise_file`` files
(relative to the inventory), each holding one or more URLs (whitespace- or line-separated;
``#`` starts a comment line). Inline ``apprise:`` URLs still work, and ``sigap check`` warns
about them. No message here ever contains a URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from agent.config.model import NotifySettings
from agent.config.secrets import readable
from agent.notify.routing import ROLE_TAGS, SPECIAL_TAGS
from agent.notify.templates import TemplateError, load_templates
from ticketing.display import shown
from ticketing.outbox.types import MONTHLY_REPORT, REMINDER
from ticketing.states import EventKind

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from agent.config import schema

ROUTABLE = frozenset({*(k.value for k in EventKind), REMINDER, MONTHLY_REPORT})
INLINE_WARNING: Final = (
    "{n} Apprise URL(s) written inline (they carry tokens); "
    "move them to apprise_env or apprise_file"
)
Where = tuple[str | int, ...]


def apprise_urls(text: str) -> list[str]:
    """The URLs in a variable's or file's text (whitespace-separated, ``#`` comment lines)."""
    lines = (line for line in text.splitlines() if not line.lstrip().startswith("#"))
    return [word for line in lines for word in line.split()]


def apprise_problems(
    people: list[Any], env: Mapping[str, str], base: Path
) -> list[tuple[Where, str]]:
    """Unset variables, unreadable files and values without ``scheme://`` (path below people)."""
    out: list[tuple[Where, str]] = []
    for index, person in enumerate(people):
        if not isinstance(person, dict):
            continue
        for n, name in enumerate(_names(person.get("apprise_env"))):
            where: Where = (index, "apprise_env", n)
            if name not in env:
                out.append((where, f"environment variable {name} is not set"))
            elif not _all_urls(env[name]):
                out.append((where, f"variable {name} does not hold Apprise URLs (scheme://...)"))
        for n, name in enumerate(_names(person.get("apprise_file"))):
            where = (index, "apprise_file", n)
            path = base / name
            if not readable(path):
                out.append((where, f"cannot read secret file {shown(str(path))}"))
            elif not _all_urls(path.read_text(encoding="utf-8", errors="replace")):
                out.append((where, f"file {path} does not hold Apprise URLs (scheme://...)"))
    return out


def apprise_warnings(people: list[Any]) -> list[tuple[Where, str]]:
    """One warning per person with inline ``apprise:`` URLs (path below people)."""
    out: list[tuple[Where, str]] = []
    for index, person in enumerate(people):
        inline = person.get("apprise") if isinstance(person, dict) else None
        if isinstance(inline, list) and inline:
            out.append(((index, "apprise"), INLINE_WARNING.format(n=len(inline))))
    return out


def resolve_apprise(
    person: schema.PersonBlock, env: Mapping[str, str], base: Path
) -> tuple[str, ...]:
    """Inline URLs, then those of the variables, then those of the files (problems checked)."""
    urls = list(person.apprise)
    for name in person.apprise_env:
        urls += apprise_urls(env.get(name, ""))
    for name in person.apprise_file:
        urls += apprise_urls((base / name).read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(urls))


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []


def _all_urls(text: str) -> bool:
    urls = apprise_urls(text)
    return bool(urls) and all("://" in u for u in urls)


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
