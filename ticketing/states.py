"""State enums of ticketing's rows and the ticket transitions (data, walked by the store).

Tickets, Program Kegiatan entries, remediation runs and notifications: plain StrEnums without
SQLAlchemy, so that the CLI may use them as option types without importing the ORM
(``ticketing.models`` maps them to columns and re-exports them).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping


class TicketState(StrEnum):
    """Lifecycle of a ticket's fault; SOP progress is tracked separately, per step.

    OPEN: the fault is present. RECOVERING: the fault cleared and the hold-down runs.
    RESOLVED: the device stayed good for the hold-down; a new failure within the reopen
    window brings the same ticket back to OPEN.
    """

    OPEN = "open"
    RECOVERING = "recovering"
    RESOLVED = "resolved"


ACTIVE_STATES: Final[frozenset[TicketState]] = frozenset({TicketState.OPEN, TicketState.RECOVERING})

TRANSITIONS: Final[Mapping[TicketState, frozenset[TicketState]]] = {
    TicketState.OPEN: frozenset({TicketState.RECOVERING, TicketState.RESOLVED}),
    TicketState.RECOVERING: frozenset({TicketState.OPEN, TicketState.RESOLVED}),
    TicketState.RESOLVED: frozenset({TicketState.OPEN}),
}


class EventKind(StrEnum):
    """Kinds of entries in a ticket's append-only event log."""

    OPENED = "opened"
    CLEARED = "cleared"
    RECURRED = "recurred"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    ATTACHED = "attached"
    DETACHED = "detached"
    NOTE = "note"
    # SOP workflow (migration 0002)
    SOP_STARTED = "sop_started"
    STEP_DONE = "step_done"
    ASSIGNED = "assigned"
    DECIDED = "decided"
    ESCALATED = "escalated"
    PROGRAM_ADDED = "program_added"
    # remediation (migration 0003)
    REMEDIATION = "remediation"


class ProgramStatus(StrEnum):
    """Status of a Program Kegiatan entry."""

    USULAN = "usulan"
    DISETUJUI = "disetujui"
    DIANGGARKAN = "dianggarkan"
    SELESAI = "selesai"


class RunStatus(StrEnum):
    """Outcome of one remediation run."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"  # a guard said no: nothing was sent to the device
    DRY_RUN = "dry_run"  # what would have run, recorded; nothing sent
    ABORTED = "aborted"  # the process ended while running (found at the next start)


class DeliveryStatus(StrEnum):
    """State of one outbox row (one message to one address of one person)."""

    PENDING = "pending"  # waiting for its time, being sent, or retrying after a failure
    SENT = "sent"
    FAILED = "failed"  # given up (too old, or no such address any more); kept for the record
