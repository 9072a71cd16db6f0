"""Who gets the chat message of a step that became active (the outbox side of the prompts).

A ``step_done`` event names the next step's number and roles (``next_position``,
``next_roles``). One outbox row goes to every person with a phone holding one of those roles
(a technician's step: only the assigned technician, when there is one), recipient
``aksi:<step>:<name>`` on channel ``whatsapp-aksi``; it waits ``group_window`` like the
"opened" messages, so that steps a standing order completes in the same breath are checked
at send time and skipped (:meth:`agent.chat.prompts.Prompter.send_blocking`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from agent.intake.phones import phone_key
from ticketing.outbox.types import EventFacts, Planned

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import timedelta

    from agent.config.model import Person
    from ticketing.outbox.types import Delivery

PREFIX: Final = "aksi:"
CHANNEL: Final = "whatsapp-aksi"
SCHEME: Final = "sigap-wa-aksi:"
KINDS: Final = frozenset({"step_done"})


def prompt_url(phone: str, number: str, step: int) -> str:
    """The outbox address of a prompt (a marker; the ticket is read again at send time)."""
    return f"{SCHEME}{phone_key(phone)}|{number}|{step}"


def is_prompt(recipient: str) -> bool:
    """True for an ``aksi:<step>:<name>`` recipient."""
    return recipient.startswith(PREFIX)


def prompt_key(phone: str) -> str:
    """The address key of a phone (hashed: the outbox never holds the number)."""
    return hashlib.sha256(f"{PREFIX}{phone_key(phone)}".encode()).hexdigest()[:16]


def recipient_name(recipient: str) -> str:
    """The person's name of an ``aksi:<step>:<name>`` recipient."""
    return recipient.removeprefix(PREFIX).partition(":")[2]


@dataclass(frozen=True, slots=True)
class PromptAddress:
    """Where a prompt goes (same shape as :class:`agent.notify.routing.Address`)."""

    person: Person
    url: str
    channel: str
    key: str

    @property
    def is_email(self) -> bool:
        """Never: chat style."""
        return False


class PromptRoutes:
    """Plans and addresses the step prompts of the people who have a phone."""

    def __init__(self, people: Iterable[Person], group_window: timedelta) -> None:
        """Index ``people`` with a phone by name."""
        self.people = tuple(p for p in people if p.phone)
        self._by_name = {p.name: p for p in self.people}
        self.group_window = group_window

    def plan(self, facts: EventFacts) -> list[Planned]:
        """One row per performer (with a phone) of the step that follows a ``step_done``."""
        roles = facts.data.get("next_roles")
        position = facts.data.get("next_position")
        if facts.kind not in KINDS or not isinstance(roles, list) or not isinstance(position, int):
            return []
        wanted = {str(r) for r in roles}
        due = facts.at + self.group_window
        out = []
        for p in self.people:
            if p.role not in wanted:
                continue
            if p.role == "teknisi" and facts.assignee and facts.assignee != p.name:
                continue
            recipient = f"{PREFIX}{position}:{p.name}"
            out.append(Planned(recipient, CHANNEL, prompt_key(p.phone), due))
        return out

    def address(self, d: Delivery) -> PromptAddress | None:
        """The ``sigap-wa-aksi:`` URL of a claimed row; None if the person or phone is gone."""
        person = self._by_name.get(recipient_name(d.recipient))
        step = d.recipient.removeprefix(PREFIX).partition(":")[0]
        if person is None or d.ticket is None or not step.isdigit():
            return None
        if prompt_key(person.phone) != d.address_key:
            return None
        return PromptAddress(
            person, prompt_url(person.phone, d.ticket, int(step)), CHANNEL, d.address_key
        )
