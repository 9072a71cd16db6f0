"""Who hears about which ticket event, on which addresses, and when.

Routes map an event kind (``opened``, ``escalated``, ... and ``reminder``) to **tags**:

=============  ==============================================================
``kasi``       everyone with that role (also ``kabid``, ``kadis``, ``teknisi``, ``pj_opd``)
``opd``        the penanggung jawab of the ticket's own OPD
``opd:NAME``   the penanggung jawab of OPD ``NAME``
``escalation`` the role an escalation event names (level 2 -> the Kabid)
``assignee``   the technician assigned to the ticket
``pelapor``    the reporter of a complaint taken in by e-mail or WhatsApp, on that
               channel (:mod:`agent.notify.reporter`; ``opened`` and ``resolved`` only)
any other      a person's name from ``people``
=============  ==============================================================

Defaults (the issue's): the Kasi hears about opened/escalated/resolved/remediation, Kabid and
Kadis about the escalations that reach them, the OPD contact about opened and resolved of
their OPD, the assigned technician about the assignment, the reporter of an e-mail or WhatsApp
complaint gets the acknowledgement and the "selesai" message. ``opened`` and ``attached`` wait
``group_window`` so that a storm becomes one message; everything except escalations waits for
the end of the person's quiet hours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from agent.chat.routes import PromptAddress, PromptRoutes, is_prompt
from agent.notify.reporter import REPORTER_TAG, ReporterAddress, ReporterRoutes, is_reporter
from ticketing.outbox.types import Delivery, EventFacts, Planned

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from zoneinfo import ZoneInfo

    from agent.config.model import NotifySettings, Person, QuietHours

ROLE_TAGS: Final = frozenset({"kadis", "kabid", "kasi", "teknisi", "pj_opd"})
SPECIAL_TAGS: Final = frozenset({"opd", "escalation", "assignee", REPORTER_TAG})
DEFAULT_ROUTES: Final[Mapping[str, tuple[str, ...]]] = {
    "opened": ("kasi", "opd", REPORTER_TAG),
    "reopened": ("kasi", "opd"),
    "attached": ("kasi",),
    "resolved": ("kasi", "opd", REPORTER_TAG),
    "escalated": ("kasi", "escalation"),
    "remediation": ("kasi",),
    "assigned": ("assignee",),
    "reminder": ("kasi",),
    "laporan_bulanan": ("kabid", "kadis"),  # sigap notifikasi laporan-bulanan
}
GROUPED: Final = frozenset({"opened", "reopened", "attached"})
URGENT: Final = frozenset({"escalated"})
EMAIL_SCHEMES: Final = frozenset({"mailto", "mailtos", "email"})


def address_key(url: str) -> str:
    """A stable, non-reversible name of an Apprise URL (the database never holds the URL)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def channel_of(url: str) -> str:
    """The Apprise scheme of ``url`` (``json``, ``mailto``, ``tgram``...)."""
    return url.split("://", 1)[0].lower() if "://" in url else "?"


def routes_of(settings: NotifySettings) -> dict[str, tuple[str, ...]]:
    """Default routes with the inventory's overrides applied (an empty list silences a kind)."""
    return {**DEFAULT_ROUTES, **settings.routes}


# ---------------------------------------------------------------- quiet hours


def in_quiet(local: time, quiet: QuietHours) -> bool:
    """True when the office-local time ``local`` falls in ``[start, end)``."""
    if quiet.start == quiet.end:
        return False
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def after_quiet(at: datetime, quiet: QuietHours | None, tz: ZoneInfo) -> datetime:
    """``at`` itself, or the end of the quiet hours it falls in (UTC)."""
    if quiet is None:
        return at
    local = at.astimezone(tz)
    if not in_quiet(local.timetz().replace(tzinfo=None), quiet):
        return at
    end = datetime.combine(local.date(), quiet.end, tzinfo=tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=tz)
    return end.astimezone(UTC)


# ---------------------------------------------------------------- people and addresses


@dataclass(frozen=True, slots=True)
class Address:
    """One Apprise URL of one person."""

    person: Person
    url: str
    channel: str
    key: str

    @property
    def is_email(self) -> bool:
        """True for e-mail (fuller template)."""
        return self.channel in EMAIL_SCHEMES


class Recipients:
    """The inventory's people, selected by tag, with their addresses."""

    def __init__(self, people: Iterable[Person]) -> None:
        """Index ``people`` by name (case-insensitive) and their URLs by key."""
        self.people = tuple(people)
        self._by_name = {p.name.casefold(): p for p in self.people}
        self._by_key = {
            (p.name, address_key(url)): Address(p, url, channel_of(url), address_key(url))
            for p in self.people
            for url in p.apprise
        }

    def select(self, tag: str, facts: EventFacts | None = None) -> list[Person]:
        """People a tag names (see the module docstring); unknown tags select nobody."""
        if tag in ROLE_TAGS:
            return [p for p in self.people if p.role == tag]
        if tag == "opd" or tag.startswith("opd:"):
            opd = tag[4:] if tag.startswith("opd:") else (facts.opd if facts else "")
            return [p for p in self.people if p.role == "pj_opd" and opd and p.opd == opd]
        if tag == "escalation":
            role = str(facts.data.get("role", "")) if facts else ""
            return [p for p in self.people if role and p.role == role]
        if tag == "assignee":
            name = (facts.data.get("technician") or facts.assignee) if facts else None
            person = self._by_name.get(str(name).casefold()) if name else None
            return [person] if person else []
        person = self._by_name.get(tag.casefold())
        return [person] if person else []

    def addresses(self, person: Person) -> list[Address]:
        """Every address of ``person`` (none: the person gets nothing)."""
        return [a for (name, _), a in self._by_key.items() if name == person.name]

    def address(self, recipient: str, key: str) -> Address | None:
        """The address a queued row names; None if the inventory no longer has it."""
        return self._by_key.get((recipient, key))


class InventoryRouter:
    """:class:`ticketing.outbox.Router` over the inventory's people and ``notifications:``."""

    def __init__(
        self,
        recipients: Recipients,
        settings: NotifySettings,
        tz: ZoneInfo,
        *,
        reporters: ReporterRoutes | None = None,
        prompts: PromptRoutes | None = None,
    ) -> None:
        """Route with ``settings.routes`` over the defaults; times in office zone ``tz``.

        ``prompts``: the WhatsApp messages of a step that became active (issue 24).
        """
        self.recipients = recipients
        self.settings = settings
        self.tz = tz
        self.routes = routes_of(settings)
        self.reporters = reporters
        self.prompts = prompts

    def people_for(self, facts: EventFacts) -> list[Person]:
        """Everyone the route of ``facts.kind`` names, each once, in route order."""
        out: dict[str, Person] = {}
        for tag in self.routes.get(facts.kind, ()):
            for person in self.recipients.select(tag, facts):
                out.setdefault(person.name, person)
        return list(out.values())

    def plan(self, facts: EventFacts) -> Sequence[Planned]:
        """One :class:`Planned` per address of every routed person."""
        if not self.settings.enabled:
            return []
        urgent = facts.kind in URGENT
        due = facts.at + (self.settings.group_window if facts.kind in GROUPED else timedelta(0))
        out: list[Planned] = []
        for person in self.people_for(facts):
            when = due if urgent else after_quiet(due, person.quiet_hours, self.tz)
            out.extend(
                Planned(person.name, a.channel, a.key, when, urgent)
                for a in self.recipients.addresses(person)
            )
        if self.reporters is not None and REPORTER_TAG in self.routes.get(facts.kind, ()):
            out.extend(self.reporters.plan(facts))
        if self.prompts is not None:
            out.extend(self.prompts.plan(facts))
        return out

    def address_of(self, d: Delivery) -> Address | ReporterAddress | PromptAddress | None:
        """Where a claimed row goes now; None if the inventory no longer has the address.

        Blocking (a reporter's e-mail address reads the ledger for threading headers).
        """
        if is_reporter(d.recipient):
            return self.reporters.address(d) if self.reporters is not None else None
        if is_prompt(d.recipient):
            return self.prompts.address(d) if self.prompts is not None else None
        return self.recipients.address(d.recipient, d.address_key)
