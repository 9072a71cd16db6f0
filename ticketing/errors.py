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
