"""Messages to the reporter of a complaint: the acknowledgement and the "selesai" message.

A complaint taken in by e-mail or WhatsApp (``agent.intake``) has the reporter's address or
number in ``tickets.reporter_contact``. The route tag ``pelapor`` (in the default routes of
``opened`` and ``resolved``) plans one outbox row to ``pelapor:<contact>`` on the channel the
complaint came in by, when that channel can answer: e-mail needs ``intake.imap.reply_url_env``
(an Apprise ``mailto``/``mailtos`` URL of the office's mailbox), WhatsApp needs
``intake.whatsapp.access_token_env``. Reporters have no quiet hours and no group window: they
just wrote. The text is ``pelapor_<kind>`` (see :mod:`agent.notify.templates`).

E-mail threading. Apprise gives every mail a Message-ID of its own (a custom ``Message-ID``
header would be a second one), so sigap names its acknowledgement in the headers the
reporter's client copies into a reply: ``References`` carries the reporter's complaint and
the ticket's acknowledgement id (random, stored once: :func:`ticketing.intake.ack_message_id`,
so nobody can guess it from the ticket number); the "selesai" mail is ``In-Reply-To`` that
id. A reply's References therefore name the acknowledgement, and the ledger joins it to the
ticket (the ticket number in the subject is the fallback; every path checks the sender).

Both mails carry ``Auto-Submitted: auto-replied`` (RFC 3834): vacation responders stay
silent, and our own mail coming back into the intake mailbox is screened out as an
auto-reply, so nothing loops.

One recipient, always: the contact must be one plain mailbox (``ticketing.mailids.mailbox``:
no quoted local part, no comma or space), or no mail is sent at all.

WhatsApp goes through :class:`agent.notify.whatsapp.WhatsAppSender` (the URL here is a
``sigap-wa:<number>`` marker, never a secret).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from agent.config.model import Person
from ticketing.mailids import mailbox, new_ack_message_id
from ticketing.outbox.types import EventFacts, Planned

if TYPE_CHECKING:
    from agent.intake.settings import IntakeSettings
    from ticketing.outbox.types import Delivery

REPORTER_TAG: Final = "pelapor"
REPORTER_PREFIX: Final = "pelapor:"
REPORTER_ROLE: Final = "pelapor"
REPORTER_KINDS: Final = frozenset({"opened", "resolved"})
WA_CHANNEL: Final = "whatsapp"
WA_SCHEME: Final = "sigap-wa:"
DROPPED_PARAMS: Final = frozenset({"to", "cc", "bcc"})
AUTO_SUBMITTED: Final = "auto-replied"

FirstMessage = Callable[[str], str | None]  # ticket number -> the complaint's Message-ID
AckId = Callable[[str], str | None]  # ticket number -> its acknowledgement's stored Message-ID


def is_reporter(recipient: str) -> bool:
    """True for a ``pelapor:<contact>`` recipient."""
    return recipient.startswith(REPORTER_PREFIX)


def reporter_key(channel: str, contact: str) -> str:
    """The address key of a reporter (hashed as routing.address_key; contact is on the ticket)."""
    text = f"{REPORTER_PREFIX}{channel}:{contact.casefold()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def reply_url(base: str, to: str, headers: dict[str, str]) -> str:
    """``base`` (an Apprise mailto URL) sending to ``to`` only, with extra mail headers.

    Recipients in the base URL's query (``to``, ``cc``, ``bcc``) are dropped, its other
    arguments kept as written; headers become Apprise's ``+Name=value`` arguments (``%2B``).
    ``to`` must be one plain mailbox (:func:`ticketing.mailids.mailbox`): ValueError if not.
    """
    if mailbox(to) is None:
        raise ValueError(f"not one plain mailbox: {to!r}")
    parts = urlsplit(base)
    kept = [
        item
        for item in parts.query.split("&")
        if item and unquote(item.split("=", 1)[0]).lower() not in DROPPED_PARAMS
    ]
    kept.append(f"to={quote(to, safe='@')}")
    kept += [f"{quote('+' + k, safe='')}={quote(v, safe='')}" for k, v in headers.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))


def mail_headers(kind: str, ack: str, first: str | None) -> dict[str, str]:
    """Threading headers of the acknowledgement (``opened``) or the ``resolved`` mail."""
    references = f"{first} {ack}" if first else ack
    headers = {"References": references, "Auto-Submitted": AUTO_SUBMITTED}
    if kind == "opened":
        if first:
            headers["In-Reply-To"] = first
    else:
        headers["In-Reply-To"] = ack
    return headers


@dataclass(frozen=True, slots=True)
class ReporterAddress:
    """Where a reporter message goes (same shape as :class:`agent.notify.routing.Address`)."""

    person: Person
    url: str
    channel: str
    key: str

    @property
    def is_email(self) -> bool:
        """True for e-mail (fuller template)."""
        return self.channel != WA_CHANNEL


class ReporterRoutes:
    """Plans and addresses messages to complaint reporters over the intake channels."""

    def __init__(
        self,
        intake: IntakeSettings | None,
        *,
        first_message: FirstMessage | None = None,
        ack_id: AckId | None = None,
    ) -> None:
        """Answer on the channels ``intake`` can reply on; ``first_message`` threads e-mail.

        ``ack_id`` gives a ticket's stored acknowledgement id; without it every mail gets a
        fresh random one (replies then thread by the ticket number in the subject).
        """
        imap = intake.imap if intake else None
        wa = intake.whatsapp if intake else None
        self._mail_base = imap.reply_url if imap else ""
        self._domain = imap.reply_domain if imap else "sigap.local"
        self._wa = bool(wa and wa.access_token and wa.phone_number_id)
        self.first_message = first_message
        self.ack_id = ack_id

    def channel_for(self, source: str) -> str | None:
        """The outbox channel replies to a complaint from ``source`` use (None: no reply)."""
        if source == "email" and self._mail_base:
            return self._mail_base.split("://", 1)[0].lower()
        if source == "wa" and self._wa:
            return WA_CHANNEL
        return None

    def plan(self, facts: EventFacts) -> list[Planned]:
        """One row to the reporter for ``opened``/``resolved`` of an answerable complaint."""
        contact = facts.reporter_contact.strip()
        channel = self.channel_for(facts.source)
        if facts.kind not in REPORTER_KINDS or not contact or channel is None:
            return []
        if channel != WA_CHANNEL and mailbox(contact) is None:
            return []  # never more than one recipient: see the module docstring
        key = reporter_key(channel, contact)
        return [Planned(f"{REPORTER_PREFIX}{contact}", channel, key, facts.at)]

    def address(self, d: Delivery) -> ReporterAddress | None:
        """The URL of a claimed reporter row (blocking: may read the ledger for threading)."""
        contact = d.recipient.removeprefix(REPORTER_PREFIX)
        person = Person(d.recipient, REPORTER_ROLE)
        if d.channel == WA_CHANNEL:
            if not self._wa or d.address_key != reporter_key(WA_CHANNEL, contact):
                return None
            return ReporterAddress(person, f"{WA_SCHEME}{contact}", WA_CHANNEL, d.address_key)
        to = mailbox(contact)
        if not self._mail_base or d.ticket is None or to is None:
            return None
        first = self.first_message(d.ticket) if self.first_message else None
        ack = self.ack_id(d.ticket) if self.ack_id else None
        headers = mail_headers(d.kind, ack or new_ack_message_id(self._domain), first)
        url = reply_url(self._mail_base, to, headers)
        return ReporterAddress(person, url, d.channel, d.address_key)
