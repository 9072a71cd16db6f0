"""Remediation runs on tickets: the durable guard rows and their record on the ticket.

A run is a row of ``remediation_runs``. ``begin`` inserts it as ``running``; the partial
unique index allows one running row per device, so two processes (the daemon and a
technician's ``sigap remediasi jalankan``) can never hold a session to the same device at
once. Refusals and dry runs are rows too (with their reason or planned commands), so the
ticket shows why nothing ran. Rate limits count rows, so they survive restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ticketing.errors import TicketingError, TicketNotFoundError
from ticketing.models import RemediationRun, Ticket, TicketEvent
from ticketing.people import SYSTEM
from ticketing.states import EventKind, RunStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from ticketing.store import TicketStore

COUNTED: Final = (RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.ABORTED)
WORDS: Final[dict[RunStatus, str]] = {
    RunStatus.RUNNING: "sedang berjalan",
    RunStatus.SUCCEEDED: "berhasil",
    RunStatus.FAILED: "gagal",
    RunStatus.REFUSED: "tidak dijalankan",
    RunStatus.DRY_RUN: "uji kering (tidak ada yang dikirim)",
    RunStatus.ABORTED: "terhenti (proses berakhir)",
}


class DeviceBusyError(TicketingError):
    """Another remediation session to the same device is running."""


@dataclass(frozen=True, slots=True)
class RunView:
    """One remediation run as the CLI and the agent see it."""

    id: int
    ticket: str
    device: str
    fault_key: str
    playbook: str
    interface: str
    actor: str
    status: RunStatus
    reason: str
    started_at: datetime
    finished_at: datetime | None
    transcript: tuple[dict[str, Any], ...]


def _view(run: RemediationRun, number: str) -> RunView:
    return RunView(
        id=run.id,
        ticket=number,
        device=run.device,
        fault_key=run.fault_key,
        playbook=run.playbook,
        interface=run.interface,
        actor=run.actor,
        status=run.status,
        reason=run.reason,
        started_at=run.started_at,
        finished_at=run.finished_at,
        transcript=tuple(run.transcript or ()),
    )


def _ticket(session: Session, number: str) -> Ticket:
    ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one_or_none()
    if ticket is None:
        raise TicketNotFoundError(number)
    return ticket


def record_event(session: Session, ticket: Ticket, run: RemediationRun, at: datetime) -> None:
    """Add the ticket event of a finished (or refused) run and mark the ticket."""
    ticket.remediation = run.status.value
    detail = f"Perbaikan otomatis {run.playbook} {WORDS[run.status]}"
    if run.interface:
        detail += f" ({run.interface})"
    if run.reason:
        detail += f": {run.reason}"
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=at,
            kind=EventKind.REMEDIATION,
            actor=run.actor if run.actor else SYSTEM,
            detail=detail,
            data={"run": run.id, "playbook": run.playbook, "status": run.status.value},
        )
    )


class RemediationLog:
    """Run rows of the ticket store."""

    def __init__(self, store: TicketStore) -> None:
        """Use ``store``'s engine and transactions."""
        self._store = store

    def begin(
        self,
        number: str,
        *,
        playbook: str,
        interface: str,
        actor: str,
        at: datetime,
        status: RunStatus = RunStatus.RUNNING,
        reason: str = "",
        transcript: Sequence[dict[str, Any]] | None = None,
    ) -> RunView:
        """Insert a run; ``running`` raises DeviceBusyError if the device already has one.

        Any other status (refused, dry run) is final at once and recorded on the ticket.
        """
        try:
            with self._store.transaction() as session:
                ticket = _ticket(session, number)
                run = RemediationRun(
                    ticket_id=ticket.id,
                    device=ticket.device,
                    fault_key=ticket.fault_key or "",
                    playbook=playbook,
                    interface=interface,
                    actor=actor,
                    status=status,
                    reason=reason,
                    started_at=at,
                    finished_at=None if status is RunStatus.RUNNING else at,
                    transcript=list(transcript or ()) or None,
                )
                session.add(run)
                session.flush()
                if status is not RunStatus.RUNNING:
                    record_event(session, ticket, run, at)
                return _view(run, number)
        except IntegrityError as exc:
            raise DeviceBusyError(
                f"{number}: sesi perbaikan lain ke perangkat ini sedang berjalan"
            ) from exc

    def recent(self, device: str, fault_key: str, since: datetime) -> int:
        """Count runs that reached the device (or may have) for this fault since ``since``."""
        with self._store.transaction(write=False) as session:
            query = select(func.count(RemediationRun.id)).where(
                RemediationRun.device == device,
                RemediationRun.fault_key == fault_key,
                RemediationRun.started_at >= since,
                RemediationRun.status.in_(COUNTED),
            )
            return int(session.scalar(query) or 0)

    def running_on(self, device: str) -> bool:
        """True when a run on ``device`` is running (in this or another process)."""
        with self._store.transaction(write=False) as session:
            stmt = select(RemediationRun.id).where(
                RemediationRun.device == device, RemediationRun.status == RunStatus.RUNNING
            )
            return session.scalars(stmt.limit(1)).first() is not None

    def abort_stale(self, at: datetime, older_than: timedelta = timedelta(0)) -> int:
        """Mark ``running`` rows left by a process that ended as ``aborted``; return how many."""
        with self._store.transaction() as session:
            result = session.execute(
                update(RemediationRun)
                .where(
                    RemediationRun.status == RunStatus.RUNNING,
                    RemediationRun.started_at <= at - older_than,
                )
                .values(status=RunStatus.ABORTED, finished_at=at, reason="proses berakhir")
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def runs(self, number: str) -> list[RunView]:
        """Every run of a ticket, oldest first."""
        with self._store.transaction(write=False) as session:
            ticket = _ticket(session, number)
            rows = session.scalars(
                select(RemediationRun)
                .where(RemediationRun.ticket_id == ticket.id)
                .order_by(RemediationRun.id)
            ).all()
            return [_view(r, number) for r in rows]

    def get(self, run_id: int) -> RunView:
        """One run by id."""
        with self._store.transaction(write=False) as session:
            run = session.get(RemediationRun, run_id)
            if run is None:
                raise TicketingError(f"remediation run {run_id} not found")
            ticket = session.get(Ticket, run.ticket_id)
            return _view(run, ticket.number if ticket else "")
