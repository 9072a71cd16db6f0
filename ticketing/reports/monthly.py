"""Monthly recap of tickets and the SOP: its definitions, its data and the final summary.

``sigap laporan bulanan``, the web board's report page and the monthly message all build the
recap the same way: ``ticketing.reports.query.month_report`` reads the month's facts with SQL
aggregates and :func:`summarise` (here, no I/O, no clock: ``as_of`` is passed in) turns them
into a frozen :class:`MonthlyReport`. ``tests/report_oracle.py`` computes the same report from
whole ticket records, as the definitions below read, and the tests check both agree.

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
* **Availability** (when the caller passes the inventory's ``ticketing.availability.Scope``):
  per OPD and ISP link over the month up to ``as_of``, as ``ticketing.availability`` defines.
* **Remediation outcomes**: events of the month's tickets whose kind starts with
  ``remediation`` (one per finished automatic remediation run, ``ticketing.remediation``),
  counted per kind; none: "belum ada".

Worked example: a WA complaint received Mon 2 Nov 09:00 WITA, disposed 09:30, resolved (last
step done) Tue 3 Nov 10:00 -> acknowledged after 30 min, resolved after 25 h; if its
disposition was due 09:10, step 2 counts as terlambat.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import mean, median
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from zoneinfo import ZoneInfo

    from ticketing.availability import AvailabilityReport
    from ticketing.rollups import Busy
    from ticketing.views import ProgramEntry

ACK_POSITION: Final = 2  # first step after intake (see module docstring)
WEEK_DAYS: Final = 7
REMEDIATION_PREFIX: Final = "remediation"
NO_OPD: Final = "(tanpa OPD)"


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
    availability: AvailabilityReport | None = None  # when the caller passed the inventory's scope
    busiest: tuple[Busy, ...] = ()  # uplinks by p95 against their contract (with the scope)

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


def ranked(found: Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    """(name, count) pairs, most first, then by name."""
    return tuple(sorted(found, key=lambda kv: (-kv[1], kv[0])))


def _counts(keys: Iterable[str]) -> tuple[tuple[str, int], ...]:
    return ranked(Counter(keys).items())


def _week_of(at: datetime, tz: ZoneInfo, labels: Sequence[str]) -> str:
    return labels[(at.astimezone(tz).day - 1) // WEEK_DAYS]


@dataclass(frozen=True, slots=True)
class CohortTicket:
    """What the recap reads of one ticket of the month besides its steps and events."""

    number: str
    opened_at: datetime
    source: str
    opd: str
    acknowledged_at: datetime | None  # step 2 done (MTTA, see the module docstring)
    resolved_at: datetime | None  # resolved_at, else sop_done_at (MTTR)


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
) -> MonthlyReport:
    """The recap from the month's tickets, step compliance and remediation counts.

    ``ticketing.reports.query.month_report`` computes the inputs with SQL aggregates (the
    test oracle from whole records); both share this function, so counts, weeks, MTTA and
    MTTR have one definition.
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
    )
