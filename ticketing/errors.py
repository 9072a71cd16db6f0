"""Ticketing exceptions: one root, a few leaves with structured fields."""

from __future__ import annotations


class TicketingError(Exception):
    """Raised for any ticketing failure that the caller may want to report."""


class TicketNotFoundError(TicketingError, LookupError):
    """Raised when a ticket number or id does not exist."""

    def __init__(self, ref: str) -> None:
        """Remember which reference was not found."""
        super().__init__(f"ticket {ref!r} not found")
        self.ref = ref


class InvalidTransitionError(TicketingError):
    """Raised when a ticket is asked to move to a state its current state does not allow."""

    def __init__(self, ticket: str, current: str, requested: str) -> None:
        """Keep the ticket and both states for the caller."""
        super().__init__(f"ticket {ticket}: cannot go from {current!r} to {requested!r}")
        self.ticket = ticket
        self.current = current
        self.requested = requested


class ConcurrentUpdateError(TicketingError):
    """Raised when another writer changed a ticket between our read and our write."""

    def __init__(self, detail: str) -> None:
        """Keep the database layer's description of the conflict."""
        super().__init__(f"ticket changed concurrently, retry: {detail}")
        self.detail = detail


class StoreAbortedError(TicketingError, ConnectionError):
    """Raised for a new database connection once the store was aborted (it is shutting down)."""

    def __init__(self, database: str) -> None:
        """Keep which database (URL without its password) the store refused to connect to."""
        super().__init__(f"ticket store aborted at shutdown: no new connection to {database}")
        self.database = database


class UnknownPersonError(TicketingError, LookupError):
    """Raised when an action names someone who is not in the people directory."""

    def __init__(self, name: str, known: list[str]) -> None:
        """Keep the unknown name and the known ones."""
        super().__init__(f"orang {name!r} tidak dikenal (yang dikenal: {', '.join(known)})")
        self.name = name
        self.known = known


class InvalidRoleError(TicketingError):
    """Raised when a person acts on a SOP step their role may not perform."""

    def __init__(
        self, ticket: str, step: str, person: str, role: str, allowed: tuple[str, ...]
    ) -> None:
        """Keep who tried what, and which roles may."""
        super().__init__(
            f"tiket {ticket}: langkah {step} hanya boleh dilakukan oleh "
            f"{' / '.join(allowed)}; {person} ({role}) tidak berwenang"
        )
        self.ticket = ticket
        self.step = step
        self.person = person
        self.role = role
        self.allowed = allowed


class StepStateError(TicketingError):
    """Raised when an action does not fit the ticket's SOP progress (wrong or finished step)."""

    def __init__(self, ticket: str, detail: str) -> None:
        """Keep the ticket and what does not fit."""
        super().__init__(f"tiket {ticket}: {detail}")
        self.ticket = ticket
        self.detail = detail


class SopError(TicketingError):
    """Raised when a SOP file is invalid; ``problems`` lists (file, step, field, message)."""

    def __init__(self, problems: list[tuple[str, str, str, str]]) -> None:
        """Keep every problem; the message lists them one per line."""
        lines = [f"{f}: {s}: {fld}: {m}" if s else f"{f}: {fld}: {m}" for f, s, fld, m in problems]
        super().__init__(f"{len(problems)} masalah di berkas SOP\n  " + "\n  ".join(lines))
        self.problems = problems


class CalendarError(TicketingError):
    """Raised when an office calendar file or setting is invalid."""


class DeviceOpdError(TicketingError, ValueError):
    """Raised when a complaint or entry names a device that is not one of its OPD's."""

    def __init__(self, device: str, opd: str, owner: str) -> None:
        """Keep the device, the OPD named with it and the device's own OPD."""
        super().__init__(f"perangkat {device!r} milik {owner}, bukan perangkat OPD {opd!r}")
        self.device = device
        self.opd = opd
        self.owner = owner
