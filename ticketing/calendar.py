"""Office calendar (Asia/Makassar): working hours, holidays, cuti bersama, Ramadan hours.

Deadlines of SOP steps (mutu baku) count only office time unless the step runs 24x7:

* "N menit" / "N jam": that much working time, counted inside working hours only. Started
  Friday 11:20 with "15 menit" -> 10 minutes before the prayer break, 5 after: 13:35.
* "N hari": the same local clock time on the N-th next working day. A start outside working
  hours first moves to the next working instant; a target inside a break moves to the break's
  end, a target after that day's close moves to the close. Thursday 10:00 + "1 hari" ->
  Friday 10:00; Friday 14:00 + "1 hari" with Monday a holiday -> Tuesday 14:00.
* 24x7 (``all_hours=True``): plain elapsed time; "1 hari" = 24 hours.

Holidays and cuti bersama come from ``ticketing/calendar/holidays-YYYY.yaml`` (one per year);
a year's file may also set Ramadan hours (an override period). All times in and out are
tz-aware UTC; the arithmetic runs in local time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ticketing.errors import CalendarError
from ticketing.sop import TimeUnit

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ticketing.sop import TimeStandard

CALENDAR_DIR: Final = Path(__file__).with_name("calendar")
TZ: Final = "Asia/Makassar"
DAY_NAMES: Final = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
RANGE_RE: Final = re.compile(r"\A(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\Z")
HORIZON_DAYS: Final = 400  # a calendar without a working day in this span is an error
ZONE_ABBREVIATIONS: Final[Mapping[str, str]] = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}

Span = tuple[time, time]


def zone_abbreviation(zone: ZoneInfo) -> str | None:
    """Indonesian name of an office time zone (``WITA`` for Asia/Makassar), None if not one."""
    return ZONE_ABBREVIATIONS.get(zone.key)


@dataclass(frozen=True, slots=True)
class WorkWeek:
    """Working spans per weekday (0 = Monday); a day without spans is a day off."""

    days: Mapping[int, tuple[Span, ...]]

    def spans(self, weekday: int) -> tuple[Span, ...]:
        """Working spans of a weekday, in order."""
        return self.days.get(weekday, ())


def default_week(
    *,
    start: time = time(7, 30),
    close: time = time(16, 0),
    friday_close: time = time(16, 30),
    friday_break: Span | None = (time(11, 30), time(13, 30)),
) -> WorkWeek:
    """Mon-Thu 07:30-16:00, Fri 07:30-16:30 with the Friday prayer break (None: no break)."""
    friday: tuple[Span, ...] = ((start, friday_close),)
    if friday_break is not None:
        friday = ((start, friday_break[0]), (friday_break[1], friday_close))
    return WorkWeek(
        {
            0: ((start, close),),
            1: ((start, close),),
            2: ((start, close),),
            3: ((start, close),),
            4: friday,
        }
    )


@dataclass(frozen=True, slots=True)
class Override:
    """Other working hours for a period, inclusive (e.g. Ramadan)."""

    name: str
    first: date
    last: date
    week: WorkWeek


@dataclass(frozen=True)
class OfficeCalendar:
    """Working time of the office; see the module docstring for the deadline rules."""

    week: WorkWeek = field(default_factory=default_week)
    holidays: Mapping[date, str] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    tz: str = TZ

    @property
    def zone(self) -> ZoneInfo:
        """The office time zone."""
        return ZoneInfo(self.tz)

    def holiday(self, day: date) -> str | None:
        """Name of the holiday or cuti bersama on ``day``, if any."""
        return self.holidays.get(day)

    def spans(self, day: date) -> tuple[Span, ...]:
        """Working spans on a local date (none on weekends and holidays)."""
        if day in self.holidays:
            return ()
        for ov in self.overrides:
            if ov.first <= day <= ov.last:
                return ov.week.spans(day.weekday())
        return self.week.spans(day.weekday())

    def _local_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        zone = self.zone
        return [
            (datetime.combine(day, a, zone), datetime.combine(day, b, zone))
            for a, b in self.spans(day)
        ]

    def _days_from(self, day: date) -> Iterable[date]:
        for offset in range(HORIZON_DAYS):
            yield day + timedelta(days=offset)
        raise CalendarError(f"tidak ada hari kerja dalam {HORIZON_DAYS} hari sejak {day}")

    def is_working_time(self, at: datetime) -> bool:
        """Whether ``at`` falls inside working hours."""
        local = _aware(at).astimezone(self.zone)
        return any(a <= local < b for a, b in self._local_spans(local.date()))

    def next_working(self, at: datetime) -> datetime:
        """The first working instant at or after ``at`` (UTC)."""
        local = _aware(at).astimezone(self.zone)
        for day in self._days_from(local.date()):
            for a, b in self._local_spans(day):
                if local < b:
                    return max(a, local).astimezone(UTC)
        raise AssertionError("unreachable")  # pragma: no cover - _days_from raises

    def add_working(self, start: datetime, amount: timedelta) -> datetime:
        """``start`` plus ``amount`` of working time (UTC)."""
        local = _aware(start).astimezone(self.zone)
        left = amount
        for day in self._days_from(local.date()):
            for a, b in self._local_spans(day):
                if b <= local:
                    continue
                begin = max(a, local)
                if begin + left <= b:
                    return (begin + left).astimezone(UTC)
                left -= b - begin
        raise AssertionError("unreachable")  # pragma: no cover

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same clock time ``days`` working days after ``start`` (see module docstring)."""
        local = self.next_working(start).astimezone(self.zone)
        day, found = local.date(), 0
        for day in self._days_from(local.date() + timedelta(days=1)):
            if self.spans(day):
                found += 1
                if found == days:
                    break
        spans = self._local_spans(day)
        target = datetime.combine(day, local.time(), self.zone)
        for a, b in spans:
            if target < a:  # before opening, or inside a break: move to the span's start
                return a.astimezone(UTC)
            if target <= b:
                return target.astimezone(UTC)
        return spans[-1][1].astimezone(UTC)  # after the close: the close

    def due(self, start: datetime, standard: TimeStandard, *, all_hours: bool = False) -> datetime:
        """Deadline of a step started at ``start`` with mutu baku ``standard`` (UTC)."""
        _aware(start)
        if all_hours:
            return start.astimezone(UTC) + standard.clock
        if standard.unit is TimeUnit.HARI:
            return self.add_working_days(start, standard.amount)
        return self.add_working(start, standard.clock)

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero if ``end`` is not after ``start``)."""
        total = timedelta()
        a_local = _aware(start).astimezone(self.zone)
        b_local = _aware(end).astimezone(self.zone)
        day = a_local.date()
        while day <= b_local.date():
            for a, b in self._local_spans(day):
                lo, hi = max(a, a_local), min(b, b_local)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    @classmethod
    def load(
        cls, directory: Path = CALENDAR_DIR, *, week: WorkWeek | None = None, tz: str = TZ
    ) -> OfficeCalendar:
        """Build the calendar from every ``holidays-*.yaml`` in ``directory``."""
        holidays: dict[date, str] = {}
        overrides: list[Override] = []
        for path in sorted(directory.glob("holidays-*.yaml")):
            days, ramadan = parse_year_file(path)
            holidays.update(days)
            overrides.extend(ramadan)
        return cls(week or default_week(), holidays, tuple(overrides), tz)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} is naive; pass a tz-aware datetime")
    return value


def parse_week(raw: Any, where: str) -> WorkWeek:
    """Parse ``{senin: ["07:30-16:00"], jumat: ["07:30-11:30", "13:30-16:30"], ...}``."""
    if not isinstance(raw, dict):
        raise CalendarError(f"{where}: harus pemetaan hari -> daftar jam (didapat {raw!r})")
    days: dict[int, tuple[Span, ...]] = {}
    for name, ranges in raw.items():
        if name not in DAY_NAMES:
            raise CalendarError(f"{where}.{name}: hari tidak dikenal ({', '.join(DAY_NAMES)})")
        spans: list[Span] = []
        for text in ranges or []:
            m = RANGE_RE.match(str(text))
            if m is None:
                raise CalendarError(f"{where}.{name}: {text!r} bukan rentang HH:MM-HH:MM")
            a, b = time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
            if not a < b:
                raise CalendarError(f"{where}.{name}: {text!r} berakhir sebelum mulai")
            spans.append((a, b))
        days[DAY_NAMES.index(name)] = tuple(sorted(spans))
    return WorkWeek(days)


def _dated(items: Any, where: str) -> dict[date, str]:
    out: dict[date, str] = {}
    for i, item in enumerate(items or []):
        if not isinstance(item, dict) or not isinstance(item.get("tanggal"), date):
            raise CalendarError(f"{where}[{i}]: perlu 'tanggal: YYYY-MM-DD' dan 'nama'")
        out[item["tanggal"]] = str(item.get("nama", ""))
    return out


def parse_year_file(path: Path) -> tuple[dict[date, str], list[Override]]:
    """Read one ``holidays-YYYY.yaml``: national holidays, cuti bersama, Ramadan hours."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise CalendarError(f"{path.name}: tidak bisa dibaca: {exc}") from exc
    if not isinstance(data, dict):
        raise CalendarError(f"{path.name}: harus pemetaan")
    days = _dated(data.get("libur_nasional"), f"{path.name}: libur_nasional")
    for day, name in _dated(data.get("cuti_bersama"), f"{path.name}: cuti_bersama").items():
        days[day] = f"Cuti bersama {name}".strip()
    overrides = []
    ramadan = data.get("jam_kerja_ramadan")
    if ramadan:
        where = f"{path.name}: jam_kerja_ramadan"
        first, last = ramadan.get("mulai"), ramadan.get("selesai")
        if not isinstance(first, date) or not isinstance(last, date) or last < first:
            raise CalendarError(f"{where}: perlu 'mulai' dan 'selesai' (YYYY-MM-DD, urut)")
        overrides.append(Override("Ramadan", first, last, parse_week(ramadan.get("hari"), where)))
    return days, overrides
