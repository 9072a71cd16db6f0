"""Office calendar: working hours, Friday prayer break, holidays, Ramadan, "1 hari"."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ticketing.calendar import OfficeCalendar, Override, default_week, parse_year_file
from ticketing.errors import CalendarError
from ticketing.sop import TimeStandard

pytestmark = pytest.mark.unit

WITA = ZoneInfo("Asia/Makassar")
# Fixture calendar (not the library's data): Monday 2026-11-30 is a holiday.
CAL = OfficeCalendar(holidays={date(2026, 11, 30): "Libur uji"})


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=WITA).astimezone(UTC)


def due(start: datetime, text: str, **kw: bool) -> datetime:
    return CAL.due(start, TimeStandard.parse(text), **kw)


def test_minutes_inside_working_hours():
    assert due(local(2026, 11, 26, 9, 0), "10 menit") == local(2026, 11, 26, 9, 10)
    assert due(local(2026, 11, 26, 15, 55), "10 menit") == local(2026, 11, 27, 7, 35)


def test_friday_prayer_break_is_skipped():
    assert due(local(2026, 11, 27, 11, 20), "15 menit") == local(2026, 11, 27, 13, 35)
    assert due(local(2026, 11, 27, 12, 0), "5 menit") == local(2026, 11, 27, 13, 35)
    assert not CAL.is_working_time(local(2026, 11, 27, 12, 0))


def test_friday_afternoon_runs_over_weekend_and_holiday():
    # Friday 16:20 + 1 jam: 10 min Friday; Sat, Sun off, Monday holiday; 50 min Tuesday.
    assert due(local(2026, 11, 27, 16, 20), "1 jam") == local(2026, 12, 1, 8, 20)


def test_one_day_is_same_time_next_working_day():
    assert due(local(2026, 11, 26, 10, 0), "1 hari") == local(2026, 11, 27, 10, 0)
    assert due(local(2026, 11, 27, 14, 0), "1 hari") == local(2026, 12, 1, 14, 0)
    # Thursday 12:00 -> Friday 12:00 is in the prayer break -> its end
    assert due(local(2026, 11, 26, 12, 0), "1 hari") == local(2026, 11, 27, 13, 30)
    # Friday 16:15 -> Tuesday 16:15 is after Tuesday's 16:00 close -> the close
    assert due(local(2026, 11, 27, 16, 15), "1 hari") == local(2026, 12, 1, 16, 0)
    # started on Saturday: counts from Tuesday 07:30 (next working instant)
    assert due(local(2026, 11, 28, 9, 0), "1 hari") == local(2026, 12, 2, 7, 30)


def test_all_hours_is_elapsed_time():
    start = local(2026, 11, 28, 2, 0)
    assert due(start, "2 jam", all_hours=True) == start + timedelta(hours=2)
    assert due(start, "1 hari", all_hours=True) == start + timedelta(days=1)


def test_configurable_friday_break_and_ramadan_override():
    no_break = OfficeCalendar(week=default_week(friday_break=None))
    assert no_break.is_working_time(local(2026, 11, 27, 12, 0))
    ramadan_week = default_week(start=time(8, 0), close=time(15, 0), friday_close=time(15, 30))
    ramadan = OfficeCalendar(
        overrides=(Override("Ramadan", date(2026, 11, 23), date(2026, 11, 27), ramadan_week),)
    )
    assert ramadan.due(local(2026, 11, 26, 14, 55), TimeStandard.parse("10 menit")) == local(
        2026, 11, 27, 8, 5
    )


def test_working_between():
    assert CAL.working_between(local(2026, 11, 27, 11, 0), local(2026, 11, 27, 14, 0)) == (
        timedelta(minutes=60)
    )


def test_naive_rejected():
    with pytest.raises(ValueError, match="naive"):
        CAL.next_working(datetime(2026, 11, 27, 9, 0))  # noqa: DTZ001 - the point of the test


def test_no_working_day_is_an_error():
    empty = OfficeCalendar(week=default_week().__class__({}))
    with pytest.raises(CalendarError, match="tidak ada hari kerja"):
        empty.next_working(local(2026, 11, 27, 9, 0))


def test_year_file_parse(tmp_path):
    path = tmp_path / "holidays-2030.yaml"
    path.write_text(
        "tahun: 2030\n"
        "libur_nasional:\n  - {tanggal: 2030-01-01, nama: Tahun Baru}\n"
        "cuti_bersama:\n  - {tanggal: 2030-01-02, nama: Tahun Baru}\n"
        "jam_kerja_ramadan:\n  mulai: 2030-01-05\n  selesai: 2030-02-03\n"
        '  hari:\n    senin: ["08:00-15:00"]\n    jumat: ["08:00-11:30", "13:00-15:30"]\n',
        encoding="utf-8",
    )
    days, overrides = parse_year_file(path)
    assert days == {date(2030, 1, 1): "Tahun Baru", date(2030, 1, 2): "Cuti bersama Tahun Baru"}
    assert overrides[0].week.spans(4) == ((time(8, 0), time(11, 30)), (time(13, 0), time(15, 30)))
    cal = OfficeCalendar.load(tmp_path)
    assert cal.holiday(date(2030, 1, 2)) == "Cuti bersama Tahun Baru"


def test_bad_year_file(tmp_path):
    path = tmp_path / "holidays-2030.yaml"
    path.write_text(
        "jam_kerja_ramadan: {mulai: 2030-01-05, selesai: 2030-02-03,"
        ' hari: {senen: ["08:00-15:00"]}}\n',
        encoding="utf-8",
    )
    with pytest.raises(CalendarError, match="senen: hari tidak dikenal"):
        parse_year_file(path)


def test_bundled_files_load():
    cal = OfficeCalendar.load()
    assert cal.holiday(date(2026, 8, 17)) is not None
    assert cal.holiday(date(2026, 12, 24)) is not None  # cuti bersama (to be verified)
