"""OPD self-service in WhatsApp: "status" and "lapor <teks>" (issue 24).

``status`` from an OPD's penanggung jawab answers with the OPD's devices (those with an open
ticket marked) and its open tickets, each with the active SOP step and its deadline.
``lapor <teks>`` is a complaint: the text without the word goes to intake as any WhatsApp
complaint does (sender check, threading, the acknowledgement). Officials and technicians
get the whole office's open tickets for ``status``. Read-only here; blocking.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from ticketing.chat import open_tickets
from ticketing.people import ROLE_TITLES, Role

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from zoneinfo import ZoneInfo

    from agent.config.model import Person
    from agent.intake.handler import WaMessage
    from ticketing.chat import OpenTicket
    from ticketing.store import TicketStore

COMMAND: Final = re.compile(r"\s*(status|lapor|selesai)\b[\s:,-]*(.*)", re.IGNORECASE | re.DOTALL)
DEVICES_MAX: Final = 30
TICKETS_MAX: Final = 10
_ROLES: Final = frozenset(r.value for r in Role)


def command(text: str) -> tuple[str, str] | None:
    """(verb, rest) of a command message: ``status``, ``lapor ...``, ``selesai ...``."""
    match = COMMAND.fullmatch(text[:5000]) if text else None
    if match is None:
        return None
    return match.group(1).casefold(), match.group(2).strip()


def as_complaint(wa: WaMessage) -> WaMessage:
    """``lapor <teks>`` -> the same message with only ``<teks>`` (other messages unchanged)."""
    found = command(wa.text)
    if found is None or found[0] != "lapor" or not found[1]:
        return wa
    return replace(wa, text=found[1])


class OpdDesk:
    """Answers ``status`` from the database and the inventory's devices."""

    def __init__(
        self,
        store: TicketStore,
        devices: Mapping[str, Sequence[str]],
        *,
        office: str,
        zone: ZoneInfo,
    ) -> None:
        """``devices``: OPD name -> its device names; ``office``: the office's own OPD name."""
        self.store = store
        self.devices = devices
        self.office = office
        self.zone = zone

    def status(self, person: Person) -> str:
        """The ``status`` reply for ``person``."""
        own = person.opd if person.role == "pj_opd" and person.opd else ""
        if person.role == "pj_opd" and not own:
            return "Nomor Anda belum terdaftar pada OPD mana pun; hubungi Kasi Jaringan."
        opds = [own] if own else sorted(self.devices)
        lines: list[str] = []
        for opd in opds:
            tickets = open_tickets(self.store, opd, TICKETS_MAX)
            if own or tickets:
                lines += self._opd_lines(opd, tickets, with_devices=bool(own))
        if not lines:
            return "Tidak ada tiket terbuka."
        return "\n".join(lines)

    def _opd_lines(self, opd: str, rows: list[OpenTicket], *, with_devices: bool) -> list[str]:
        lines = [f"Status {opd}:"]
        if with_devices:
            broken = {t.device for t in rows if t.device}
            names = list(self.devices.get(opd, ()))[:DEVICES_MAX]
            marks = [f"{n} ({'gangguan' if n in broken else 'tidak ada tiket'})" for n in names]
            lines.append("Perangkat: " + (", ".join(marks) if marks else "-"))
        if not rows:
            lines.append("Tidak ada tiket terbuka.")
        for t in rows:
            due = f"{t.due_at.astimezone(self.zone):%d/%m %H:%M}" if t.due_at else "-"
            who = ROLE_TITLES.get(Role(t.role), t.role) if t.role in _ROLES else t.role
            step = f"langkah {t.step} oleh {who}, tenggat {due}" if t.step else "SOP selesai"
            device = f" {t.device}" if t.device else ""
            lines.append(f"- {t.number}{device}: {t.summary} ({step})")
        return lines
