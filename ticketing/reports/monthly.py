"""Monthly recap of tickets and the SOP (``sigap laporan bulanan``): pure computations.

Input is what the views already carry (tickets, their steps and events, Program Kegiatan
entries); output is a frozen :class:`MonthlyReport`. No I/O, no clock: ``as_of`` is passed in.

Definitions (all times are instants; months and weeks are cut in the office zone, WITA):

* **Tickets of the month**: tickets whose ``opened_at`` (for complaints: when the surat/email/wa
  was received) falls in the local month. Every other figure is about this cohort, except
  Program Kegiatan, which counts entries *created* in the month.
* **Week**: days 1-7, 8-14, 15-21, 22-28 and 29-end of the local month (week 5 may be short).
* **MTTA** (mean time to acknowledge): ``opened_at`` -> completion of the first SOP step
  *after the intake step* (the step at position 2: the disposition of table 1 and of
  Pemeliharaan, the PJ's report to the Kasi in table 2). That is the first moment someone in
  the chain of command took the matter on: a person, or "sistem" under a standing disposition
  (disposisi tetap), which therefore counts as acknowledged within seconds. Recording the
  complaint (step 1) is not an acknowledgement. Tickets not yet acknowledged are counted
  apart (``pending``), not averaged.
* **MTTR** (mean time to resolve): ``opened_at`` -> ``resolved_at`` (an agent fault stayed
  cleared through the hold-down; a complaint's last SOP step was done), else ``sop_done_at``
  (SOP closed while the fault record is still open). Unresolved tickets are ``pending``.
  A reopened ticket counts with its latest resolution.
* **SOP compliance**: every step of the month's tickets, per SOP and step position: *tepat*
  (completed at or before its due time), *terlambat* (completed after it), *lewat* (still
  running at ``as_of`` and past due) and *berjalan* (running, not yet due). Compliance =
  tepat / (tepat + terlambat + lewat); steps not started are ignored.
* **Remediation outcomes**: events whose kind starts with ``remediation`` (automatic
  remediation does not exist yet, so this is empty: "belum ada").

Worked example: a WA complaint received Mon 2 Nov 09:00 WITA, disposed 09:30, resolved (last
step done) Tue 3 Nov 10:00 -> acknowledged after 30 min, resolved after 25 h; if its
disposition was due 09:10, step 2 counts as terlambat.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from statistics import mean, median
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from zoneinfo import ZoneInfo

    from ticketing.views import EventView, ProgramEntry, StepView, TicketView

ACK_POSITION: Final = 2  # first step after intake (see module docstring)
WEEK_DAYS: Final = 7
REMEDIATION_PREFIX: Final = "remediation"
NO_OPD: Final = "(tanpa OPD)"


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """One ticket with its SOP steps and event log: the report's input unit."""

    ticket: TicketView
    steps: Sequence[StepView] = ()
    events: Sequence[EventView] = ()


@dataclass(frozen=True, slots=True)
class Durations:
    """Mean and median of a set of durations; ``pending`` tickets have none yet."""

    count: int
    pending: int
    mean: timedelta | None
    median: timedelta | None


@dataclass(frozen=True, slots=True)
class StepCompliance:
    """On-time counts of one SOP step over the month's tickets."""

    sop: str
    position: int
    label: str
    kegiatan: str
    tepat: int = 0  # done on time
    terlambat: int = 0  # done late
    lewat: int = 0  # running, past due at as_of
    berjalan: int = 0  # running, not yet due
    late_total: timedelta = timedelta()  # sum of lateness of the late completions

    @property
    def judged(self) -> int:
        """Steps that have a verdict (done, or running past due)."""
        return self.tepat + self.terlambat + self.lewat

    @property
    def percent(self) -> float | None:
        """Share on time, 0-100 (None when nothing to judge)."""
        return 100.0 * self.tepat / self.judged if self.judged else None


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    """Everything ``sigap laporan bulanan`` prints for one month."""

    year: int
    month: int
    start: datetime  # first instant of the month (local midnight, as aware datetime)
    end: datetime  # first instant of the next month
    as_of: datetime
    total: int
    by_source: tuple[tuple[str, int], ...]
    by_opd: tuple[tuple[str, int], ...]  # most tickets first, then by name
    by_week: tuple[tuple[str, int], ...]  # ("1-7", n), ("8-14", n), ...
    resolved: int
    mtta: Durations
    mttr: Durations
    compliance: tuple[StepCompliance, ...]  # by SOP code, then position
    remediation: tuple[tuple[str, int], ...]  # empty: belum ada
    program: tuple[ProgramEntry, ...]  # entries created in the month
    tickets: tuple[TicketView, ...] = field(default=())  # the cohort, oldest first

    @property
    def label(self) -> str:
        """``2026-11``."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def program_cost(self) -> int:
        """Total estimated cost (Rp) of the month's Program Kegiatan entries."""
        return sum(e.estimated_cost for e in self.program)

    @property
    def compliance_percent(self) -> float | None:
        """On-time share over every judged step of the month."""
        judged = sum(c.judged for c in self.compliance)
        return 100.0 * sum(c.tepat for c in self.compliance) / judged if judged else None


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of the 1st of ``month`` and of the next month, as aware datetimes."""
    if not 1 <= month <= 12:  # noqa: PLR2004 - calendar months
        raise ValueError(f"bulan {month} tidak ada (1-12)")
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)  # noqa: PLR2004
    start = datetime(year, month, 1, tzinfo=tz)
    return start, datetime(nxt.year, nxt.month, 1, tzinfo=tz)


def parse_month(text: str) -> tuple[int, int]:
    """Parse ``YYYY-MM``; raise ValueError with the expected form."""
    try:
        year_s, month_s = text.strip().split("-")
        year, month = int(year_s), int(month_s)
    except ValueError as exc:
        raise ValueError(f"bulan {text!r} tidak terbaca (contoh: 2026-11)") from exc
    if not 1 <= month <= 12 or year < 2000:  # noqa: PLR2004
        raise ValueError(f"bulan {text!r} tidak terbaca (contoh: 2026-11)")
    return year, month


def week_labels(year: int, month: int, tz: ZoneInfo) -> list[str]:
    """``["1-7", "8-14", "15-21", "22-28", "29-30"]`` for a 30-day month."""
    _start, end = month_bounds(year, month, tz)
    last = (end.date() - timedelta(days=1)).day
    return [f"{d}-{min(d + WEEK_DAYS - 1, last)}" for d in range(1, last + 1, WEEK_DAYS)]


def acknowledged_at(record: TicketRecord) -> datetime | None:
    """When the ticket was first taken on: completion of the step after intake (see above)."""
    step = next((s for s in record.steps if s.position == ACK_POSITION), None)
    return step.completed_at if step is not None else None


def resolved_at(ticket: TicketView) -> datetime | None:
    """When the ticket counts as resolved: ``resolved_at``, else the SOP's end."""
    return ticket.resolved_at or ticket.sop_done_at


def durations(values: Iterable[timedelta | None]) -> Durations:
    """Mean and median of the known values; None counts as pending."""
    items = list(values)
    known = [v for v in items if v is not None]
    if not known:
        return Durations(0, len(items), None, None)
    seconds = [v.total_seconds() for v in known]
    return Durations(
        len(known),
        len(items) - len(known),
        timedelta(seconds=round(mean(seconds))),
        timedelta(seconds=round(median(seconds))),
    )


def _counts(keys: Iterable[str]) -> tuple[tuple[str, int], ...]:
    found: dict[str, int] = {}
    for key in keys:
        found[key] = found.get(key, 0) + 1
    return tuple(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))


def _compliance(records: Iterable[TicketRecord], as_of: datetime) -> tuple[StepCompliance, ...]:
    table: dict[tuple[str, int], StepCompliance] = {}
    for record in records:
        for s in record.steps:
            if s.started_at is None:
                continue
            key = (record.ticket.sop or "-", s.position)
            c = table.get(key) or StepCompliance(key[0], s.position, s.label, s.kegiatan)
            table[key] = _judge(c, s, as_of)
    return tuple(table[k] for k in sorted(table))


def _judge(c: StepCompliance, s: StepView, as_of: datetime) -> StepCompliance:
    """``c`` with step ``s`` counted in the right column."""
    if s.completed_at is not None:
        late = s.late_by or timedelta()
        if late > timedelta():
            return replace(c, terlambat=c.terlambat + 1, late_total=c.late_total + late)
        return replace(c, tepat=c.tepat + 1)
    if s.due_at is not None and as_of > s.due_at:
        return replace(c, lewat=c.lewat + 1)
    return replace(c, berjalan=c.berjalan + 1)


def _week_of(at: datetime, tz: ZoneInfo, labels: Sequence[str]) -> str:
    return labels[(at.astimezone(tz).day - 1) // WEEK_DAYS]


@dataclass(frozen=True, slots=True)
class CohortTicket:
    """What the recap reads of one ticket of the month besides its steps and events."""

    number: str
    opened_at: datetime
    source: str
    opd: str
    acknowledged_at: datetime | None  # see acknowledged_at()
    resolved_at: datetime | None  # see resolved_at()


def cohort_ticket(record: TicketRecord) -> CohortTicket:
    """The recap's facts of one ticket record."""
    t = record.ticket
    return CohortTicket(
        t.number, t.opened_at, t.source, t.opd, acknowledged_at(record), resolved_at(t)
    )


def monthly(
    records: Iterable[TicketRecord],
    program: Iterable[ProgramEntry],
    *,
    year: int,
    month: int,
    tz: ZoneInfo,
    as_of: datetime,
) -> MonthlyReport:
    """Compute the recap of ``year``-``month`` (see the module docstring for definitions)."""
    start, end = month_bounds(year, month, tz)
    cohort = sorted(
        (r for r in records if start <= r.ticket.opened_at < end),
        key=lambda r: (r.ticket.opened_at, r.ticket.number),
    )
    remediation = _counts(
        e.kind.value
        for r in cohort
        for e in r.events
        if e.kind.value.startswith(REMEDIATION_PREFIX)
    )
    return summarise(
        [cohort_ticket(r) for r in cohort],
        _compliance(cohort, as_of),
        remediation,
        program,
        year=year,
        month=month,
        tz=tz,
        as_of=as_of,
        tickets=tuple(r.ticket for r in cohort),
    )


def summarise(
    cohort: Sequence[CohortTicket],
    compliance: tuple[StepCompliance, ...],
    remediation: tuple[tuple[str, int], ...],
    program: Iterable[ProgramEntry],
    *,
    year: int,
    month: int,
    tz: ZoneInfo,
    as_of: datetime,
    tickets: tuple[TicketView, ...] = (),
) -> MonthlyReport:
    """The recap from the month's tickets, step compliance and remediation counts.

    ``monthly`` computes the inputs from full records; ``ticketing.board.month_report``
    from SQL aggregates (the web page: no step rows per ticket). Both share this function,
    so counts, weeks, MTTA and MTTR have one definition.
    """
    start, end = month_bounds(year, month, tz)
    labels = week_labels(year, month, tz)
    weeks = dict.fromkeys(labels, 0)
    for t in cohort:
        weeks[_week_of(t.opened_at, tz, labels)] += 1

    def since_open(t: CohortTicket, at: datetime | None) -> timedelta | None:
        return at - t.opened_at if at is not None else None

    return MonthlyReport(
        year=year,
        month=month,
        start=start,
        end=end,
        as_of=as_of,
        total=len(cohort),
        by_source=_counts(t.source for t in cohort),
        by_opd=_counts(t.opd or NO_OPD for t in cohort),
        by_week=tuple(weeks.items()),
        resolved=sum(1 for t in cohort if t.resolved_at is not None),
        mtta=durations(since_open(t, t.acknowledged_at) for t in cohort),
        mttr=durations(since_open(t, t.resolved_at) for t in cohort),
        compliance=compliance,
        remediation=remediation,
        program=tuple(
            sorted((e for e in program if start <= e.created_at < end), key=lambda e: e.created_at)
        ),
        tickets=tickets,
    )
