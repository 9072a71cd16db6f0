"""Who wrote, and about which OPD: the inventory's people and devices as the directory.

A sender is known when the address (or WhatsApp number) is a person's ``email`` / ``phone``,
or the address is in an ``allowed_domains`` domain. The OPD is the person's own OPD when the
person belongs to one other than the office itself; otherwise an OPD named in the subject or
text (longest name first); otherwise ``OPD tidak dikenal`` for the Kasi to assign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.intake.phones import phone_key
from ticketing.intake import UNKNOWN_OPD
from ticketing.mailids import domain_of

if TYPE_CHECKING:
    from agent.config.model import Inventory, Person


@dataclass(frozen=True, slots=True)
class Sender:
    """A recognised sender."""

    name: str
    opd: str
    devices: tuple[str, ...]
    person: str | None  # the inventory person, if any
    own_opd: str = ""  # the inventory person's own OPD (never guessed from the text)


class Directory:
    """Senders and OPDs of one inventory."""

    def __init__(self, inventory: Inventory, allowed_domains: tuple[str, ...] = ()) -> None:
        """Index people by e-mail and phone; OPDs by name."""
        self._office = inventory.office_name.casefold()
        self._by_email = {p.email.casefold(): p for p in inventory.people if p.email}
        self._by_phone = {phone_key(p.phone): p for p in inventory.people if p.phone}
        self._domains = tuple(d.casefold() for d in allowed_domains)
        self._opds = sorted(inventory.opds(), key=len, reverse=True)
        self._devices: dict[str, tuple[str, ...]] = {}
        for device in inventory.devices.values():
            self._devices[device.opd] = (*self._devices.get(device.opd, ()), device.name)

    def by_email(self, address: str, text: str) -> Sender | None:
        """The sender of an e-mail, or None when unknown."""
        address = address.casefold()
        person = self._by_email.get(address)
        if person is not None:
            return self._sender(person.name, person, text)
        domain = domain_of(address)
        if domain and any(domain == d or domain.endswith("." + d) for d in self._domains):
            return self._sender(address, None, text)
        return None

    def by_phone(self, number: str, name: str, text: str) -> Sender | None:
        """The sender of a WhatsApp message, or None when the number is unknown."""
        person = self._by_phone.get(phone_key(number))
        return self._sender(person.name if person else name, person, text) if person else None

    def _sender(self, name: str, person: Person | None, text: str) -> Sender:
        opd = ""
        if person is not None and person.opd and person.opd.casefold() != self._office:
            opd = person.opd
        opd = opd or self.opd_in(text) or UNKNOWN_OPD
        own = person.opd if person is not None and person.opd else ""
        devices = self._devices.get(opd, ())
        return Sender(name, opd, devices, person.name if person else None, own)

    def opd_in(self, text: str) -> str:
        """The first OPD (longest name first) named in ``text``, or ''."""
        folded = text.casefold()
        return next((o for o in self._opds if o.casefold() in folded), "")
