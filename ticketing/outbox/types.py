"""What flows into and out of the notification outbox: facts, plans, messages, deliveries.

The router (``agent.notify``) turns :class:`EventFacts` into :class:`Planned` messages; the
outbox (``ticketing.outbox``) stores them, and hands each due one back as a :class:`Delivery`
whose text was rendered from a :class:`MessageContext`. No SQLAlchemy here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ticketing.states import DeliveryStatus

# notification kinds besides the ticket events (EventKind values)
REMINDER: Final = "reminder"  # an SOP step still waiting
MONTHLY_REPORT: Final = "laporan_bulanan"  # the month's report to the Kabid and Kadis


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What the router needs to know about a ticket event (or a reminder, ``event_id=None``)."""

    kind: str
    at: datetime
    ticket_id: int
    number: str
    device: str
    opd: str
    assignee: str | None
    data: Mapping[str, Any]
    event_id: int | None = None
    source: str = ""  # the ticket's: agent, surat, email, wa
    reporter: str = ""  # complaints: who reported, and their address or number
    reporter_contact: str = ""


@dataclass(frozen=True, slots=True)
class Planned:
    """One message the router wants sent: to one address of one person, not before ``due_at``."""

    recipient: str
    channel: str
    address_key: str
    due_at: datetime
    urgent: bool = False


class Router(Protocol):
    """Decides who hears about an event, on which addresses, and when (quiet hours, window)."""

    def plan(self, facts: EventFacts) -> Sequence[Planned]:
        """Return the messages to enqueue for ``facts`` (empty: nobody)."""
        ...


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Everything a template may show, read in the claim transaction."""

    ref: str
    kind: str
    recipient: str
    channel: str
    at: datetime  # when the causing event happened (or the reminder was due)
    number: str | None = None
    device: str = ""
    opd: str = ""
    summary: str = ""
    status: str = ""
    source: str = ""
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    affected: tuple[str, ...] = ()
    assignee: str | None = None
    remediation: str | None = None
    step_label: str | None = None
    step_role: str | None = None
    step_due: datetime | None = None
    sop: str | None = None
    detail: str = ""
    data: Mapping[str, Any] | None = None
    reporter: str = ""  # complaints: who reported (the name, not the contact)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message's frozen text."""

    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed row: send ``title``/``body`` to the address, then ``Outbox.mark`` the result."""

    id: int
    ref: str
    kind: str
    recipient: str
    channel: str
    address_key: str
    attempt: int
    title: str
    body: str
    ticket: str | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff between attempts; give up (``failed``) when a row is this old."""

    initial: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    maximum: timedelta = timedelta(minutes=30)
    give_up_after: timedelta = timedelta(days=3)

    def delay(self, attempt: int) -> timedelta:
        """Wait after failed attempt number ``attempt`` (1-based): initial * factor^(n-1)."""
        seconds = self.initial.total_seconds() * self.factor ** max(attempt - 1, 0)
        return min(timedelta(seconds=seconds), self.maximum)


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One row as ``sigap notifikasi antrian`` shows it."""

    id: int
    ref: str
    kind: str
    ticket: str | None
    recipient: str
    channel: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None
    leased: bool
    last_error: str


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    """Rows per status of one channel (for ``sigap_notifications_*`` metrics)."""

    sent: int = 0
    failed: int = 0
    pending: int = 0


def ref_of(row_id: int) -> str:
    """The dedup reference a message carries and a receiver may key on."""
    return f"sigap-{row_id}"
