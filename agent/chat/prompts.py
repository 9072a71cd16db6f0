"""One message to the performer of a step that became active: the outbox's ``aksi`` rows.

Every ``step_done`` event plans (``agent.notify.routing``) one outbox row per performer of the
step that follows it who has a phone: the assigned technician for a technician's step, else
everyone holding one of the step's roles. The row is rendered with the editable Indonesian
template ``aksi_langkah`` (summary, step, deadline, board link) like every notification and
delivered here: the ticket is read again at send time, and nothing is sent when the step has
moved on meanwhile (a standing order completed it in the same breath, or someone was faster),
so a person gets one message per step they really have to act on. Inside the 24-hour window
the text carries the step's signed buttons (:mod:`agent.chat.buttons`); outside it the
approved template does, with one button that asks for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from agent.chat.buttons import Choice, choices, interactive, template
from agent.chat.routes import SCHEME
from agent.chat.signing import Action, ActionPayload, sign
from agent.intake.phones import phone_key
from agent.notify.whatsapp import WINDOW_CLOSED
from agent.notify.worker import SendResult
from ticketing.errors import TicketingError
from ticketing.people import Role
from ticketing.workflow import Sifat

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from agent.config.model import Person
    from ticketing.service import TicketService
    from ticketing.sop import SopStep
    from ticketing.views import TicketView

logger = logging.getLogger(__name__)

TTL: Final = timedelta(days=3)
ACTING_ROLES: Final = frozenset({"kadis", "kabid", "kasi", "teknisi", "pj_opd"})


@dataclass(frozen=True, slots=True)
class Active:
    """The active step of a ticket, as the chat sees it."""

    ticket: TicketView
    step: SopStep
    due: datetime | None


def parse_url(url: str) -> tuple[str, str, int] | None:
    """(phone, number, step) of :func:`prompt_url`, or None."""
    parts = url.removeprefix(SCHEME).split("|")
    if not url.startswith(SCHEME) or len(parts) != 3 or not parts[2].isdigit():  # noqa: PLR2004
        return None
    return parts[0], parts[1], int(parts[2])


class Prompter:
    """Builds and sends the step messages (also the reply to the template's one button)."""

    def __init__(
        self,
        service: TicketService,
        people: Sequence[Person],
        *,
        secret: str,
        post: Callable[[dict[str, Any]], SendResult],
        in_window: Callable[[str], bool],
        now: Callable[[], datetime],
        template_name: str = "sigap_aksi",
        language: str = "id",
        link: str = "",
        sifat: Sifat = Sifat.BIASA,
        zone: Any = None,
    ) -> None:
        """Sign with ``secret``; ``post`` sends one Cloud API message (blocking)."""
        self.service = service
        self.people = tuple(people)
        self.by_phone = {phone_key(p.phone): p for p in self.people if p.phone}
        self.secret = secret.encode()
        self.post = post
        self.in_window = in_window
        self.now = now
        self.template_name = template_name
        self.language = language
        self.link = link
        self.sifat = sifat
        self.zone = zone

    def technicians(self) -> list[str]:
        """Names of the technicians, in inventory order."""
        return [p.name for p in self.people if p.role == Role.TEKNISI.value]

    def active(self, number: str) -> Active | None:
        """The active step of ticket ``number`` (None: unknown ticket or SOP finished)."""
        try:
            ticket = self.service.ticket(number)
            if ticket.sop is None or ticket.sop_step is None:
                return None
            step = self.service.sops.get(ticket.sop).step(ticket.sop_step)
            due = self.service.steps(number)[ticket.sop_step - 1].due_at
        except (TicketingError, LookupError):
            return None
        return Active(ticket, step, due)

    def may_act(self, person: Person, a: Active) -> bool:
        """True when ``person`` performs ``a``'s step (a technician's step: the assigned one)."""
        if person.role not in {r.value for r in a.step.performers}:
            return False
        assigned = a.ticket.assignee
        return not (person.role == Role.TEKNISI.value and assigned and assigned != person.name)

    def signed(self, a: Active, phone: str, choice: Choice) -> str:
        """The button id of ``choice`` on ``a`` for ``phone``."""
        payload = ActionPayload(
            a.ticket.number,
            a.step.position,
            choice.action,
            a.ticket.version,
            self.now() + TTL,
            choice.argument,
        )
        return sign(self.secret, payload, phone_key(phone))

    def summary(self, a: Active) -> str:
        """The short text above the buttons (when no rendered template text is given)."""
        due = "-"
        if a.due is not None:
            local = a.due.astimezone(self.zone) if self.zone is not None else a.due
            due = f"{local:%d/%m/%Y %H:%M}"
        lines = [
            f"Tiket {a.ticket.number} ({a.ticket.opd}): {a.ticket.summary}",
            f"Langkah: {a.step.title}",
            f"Tenggat: {due}",
        ]
        if self.link:
            lines.append("Lihat detail: " + self.link.replace("{nomor}", a.ticket.number))
        return "\n".join(lines)

    def buttons(self, a: Active, phone: str) -> list[tuple[Choice, str]]:
        """The signed buttons of ``a``'s step for ``phone``."""
        return [
            (c, self.signed(a, phone, c)) for c in choices(a.step, self.technicians(), self.sifat)
        ]

    def message(
        self, a: Active, phone: str, body: str = "", *, window: bool | None = None
    ) -> dict[str, Any]:
        """Interactive inside the window, else the template with the menu button."""
        to = phone_key(phone)
        if self.in_window(to) if window is None else window:
            return interactive(to, body or self.summary(a), self.buttons(a, phone))
        menu = self.signed(a, phone, Choice("Buka tindakan", Action.MENU))
        due = self.summary(a).splitlines()[2].removeprefix("Tenggat: ")
        params = [a.ticket.number, a.ticket.summary or "-", a.step.title, due]
        return template(to, self.template_name, self.language, params, menu)

    def send_blocking(self, url: str, _title: str, body: str) -> SendResult:
        """Deliver an outbox prompt (``sigap-wa-aksi:`` address); the step is read again."""
        parsed = parse_url(url)
        if parsed is None:
            return SendResult(False, "alamat aksi WhatsApp rusak", permanent=True)
        phone, number, position = parsed
        person = self.by_phone.get(phone)
        a = self.active(number)
        stale = a is None or a.step.position != position
        if person is None or a is None or stale or not self.may_act(person, a):
            logger.info("WhatsApp prompt for %s step %d: no longer due, not sent", number, position)
            return SendResult(True)
        result = self.post(self.message(a, phone, body))
        if not result.ok and f"({WINDOW_CLOSED})" in result.error:  # the API knows better
            return self.post(self.message(a, phone, body, window=False))
        return result
