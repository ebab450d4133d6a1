"""The reminder rules and the working-day calendar, without a bot or a database."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import pytest

from db.rules import quarter_bounds
from scheduler import reminder_rules
from scheduler.calendar import WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date


def days(rule: str, first: dt.date, last: dt.date) -> dict[str, dt.date]:
    return dict(reminder_rules.calendar_days(rule, first, last, WorkCalendar()))


def test_2026_holidays_and_make_up_working_days() -> None:
    cal = WorkCalendar()
    assert not cal.is_workday(D(2026, 2, 16))  # Spring Festival
    assert cal.is_workday(D(2026, 2, 14)) and cal.is_workday(D(2026, 2, 28))  # make-up Saturdays
    assert cal.on_or_after(D(2026, 2, 15)) == D(2026, 2, 24)
    assert cal.on_or_after(D(2026, 10, 1)) == D(2026, 10, 8)  # National Day week
    assert cal.is_workday(D(2026, 9, 20))  # a make-up Sunday
    assert cal.last_before(D(2026, 10, 8)) == D(2026, 9, 30)


def test_quarter_kick_off_lands_on_the_first_working_day() -> None:
    found = days(reminder_rules.QUARTER_KICKOFF, D(2026, 1, 1), D(2026, 12, 31))
    assert found == {
        "quarter_kickoff:2026Q1": D(2026, 1, 4),  # Jan 1-3 off; Sunday the 4th is worked
        "quarter_kickoff:2026Q2": D(2026, 4, 1),
        "quarter_kickoff:2026Q3": D(2026, 7, 1),
        "quarter_kickoff:2026Q4": D(2026, 10, 8),  # after the National Day week
    }


def test_quota_reminders_30_and_10_days_before_the_quarter_ends() -> None:
    found = days(reminder_rules.STUDY_QUOTA, D(2026, 1, 1), D(2026, 12, 31))
    assert found["study_quota:2026Q1:d30"] == D(2026, 3, 2)  # Mar 1 is a Sunday
    assert found["study_quota:2026Q1:d10"] == D(2026, 3, 23)  # Mar 21 is a Saturday
    assert found["study_quota:2026Q3:d10"] == D(2026, 9, 20)  # a make-up working Sunday
    assert found["study_quota:2026Q4:d30"] == D(2026, 12, 1)
    assert len(found) == 8
    assert days(reminder_rules.MEETING_QUOTA, D(2026, 12, 1), D(2026, 12, 1)) == {
        "meeting_quota:2026Q4:d30": D(2026, 12, 1)
    }


def test_unity_and_lei_feng_day() -> None:
    assert days(reminder_rules.UNITY, D(2026, 1, 1), D(2026, 12, 31)) == {
        "unity:2026:09": D(2026, 9, 1),
        "unity:2026:12": D(2026, 12, 1),
    }
    assert days(reminder_rules.LEIFENG, D(2026, 1, 1), D(2026, 12, 31)) == {
        "leifeng:2026": D(2026, 3, 4)
    }


def test_every_calendar_occurrence_is_on_a_working_day_and_at_its_local_time() -> None:
    cal = WorkCalendar()
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)
    for rule in reminder_rules.CALENDAR_RULES:
        for occurrence in reminder_rules.calendar_occurrences(
            rule, start, end, cal, SHANGHAI, dt.time(8, 30)
        ):
            local = occurrence.at.astimezone(SHANGHAI)
            assert cal.is_workday(local.date()), occurrence
            assert local.time() == dt.time(8, 30)


def test_the_holidays_package_agrees_with_chinesecalendar_on_2020_to_2026() -> None:
    cal = WorkCalendar()
    day, disagree = D(2020, 1, 1), []
    while day.year <= 2026:
        if cal.is_workday(day) != chinese_calendar.is_workday(day):
            disagree.append(day)
        day += dt.timedelta(days=1)
    assert disagree == []


# Spring Festival (春节) by year, from the published lunar calendar: an independent check of
# the lunar holidays the package computes for years no State Council notice covers yet.
SPRING_FESTIVAL = {
    2027: D(2027, 2, 6),
    2028: D(2028, 1, 26),
    2029: D(2029, 2, 13),
    2030: D(2030, 2, 3),
    2031: D(2031, 1, 23),
    2032: D(2032, 2, 11),
    2033: D(2033, 1, 31),
}


def test_statutory_holidays_of_years_not_yet_published_are_known() -> None:
    cal = WorkCalendar()
    for year, day in SPRING_FESTIVAL.items():
        assert not cal.is_workday(day) and not cal.is_workday(day + dt.timedelta(days=1)), year
    assert not cal.is_workday(D(2027, 1, 1))  # New Year's Day, a Friday
    assert not cal.is_workday(D(2027, 4, 5))  # Qingming
    assert not cal.is_workday(D(2027, 6, 9))  # Dragon Boat
    assert not cal.is_workday(D(2027, 9, 15))  # Mid-Autumn
    assert not cal.is_workday(D(2027, 10, 1)) and not cal.is_workday(D(2027, 10, 4))
    kickoff = days(reminder_rules.QUARTER_KICKOFF, D(2027, 1, 1), D(2027, 1, 31))
    assert kickoff == {"quarter_kickoff:2027Q1": D(2027, 1, 4)}  # not New Year's Day


def test_no_calendar_reminder_lands_on_a_statutory_holiday_in_any_year() -> None:
    cal = WorkCalendar()
    festivals = (
        "New Year",
        "Spring Festival",
        "Tomb-Sweeping",
        "Labor",
        "Dragon Boat",
        "Mid-Autumn",
        "National Day",
    )
    for year in range(2020, 2061):
        named = holidays.country_holidays("CN", years=year)
        for rule in reminder_rules.CALENDAR_RULES:
            for key, day in reminder_rules.calendar_days(rule, D(year, 1, 1), D(year, 12, 31), cal):
                name = named.get(day) or ""
                assert not any(f in name for f in festivals), (key, day, name)
                assert day.weekday() < 5 or cal.is_workday(day), (key, day)


def test_a_year_without_published_make_up_days_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cal = WorkCalendar()
    with caplog.at_level(logging.WARNING):
        assert cal.on_or_after(D(2031, 1, 4)) == D(2031, 1, 6)  # Sat → Mon
        assert not cal.is_workday(D(2031, 1, 1))  # New Year's Day is known anyway
        assert not cal.is_workday(D(2031, 1, 5))
    warnings = [r for r in caplog.records if "2031" in r.getMessage()]
    assert len(warnings) == 1  # once per year, not per call


def test_quarter_boundaries() -> None:
    assert quarter_bounds(D(2026, 3, 31)) == (D(2026, 1, 1), D(2026, 4, 1))
    assert quarter_bounds(D(2026, 4, 1)) == (D(2026, 4, 1), D(2026, 7, 1))
    assert quarter_bounds(D(2026, 12, 31)) == (D(2026, 10, 1), D(2027, 1, 1))
    # The 09:00 Shanghai kick-off of Q2 is 01:00 UTC on April 1, not March 31.
    (occurrence,) = reminder_rules.calendar_occurrences(
        reminder_rules.QUARTER_KICKOFF,
        dt.datetime(2026, 3, 31, tzinfo=dt.UTC),
        dt.datetime(2026, 4, 2, tzinfo=dt.UTC),
        WorkCalendar(),
        SHANGHAI,
    )
    assert occurrence.at == dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC)


def test_activity_reminders_and_those_before_creation_are_dropped() -> None:
    start = dt.datetime(2026, 12, 12, 1, 0, tzinfo=dt.UTC)
    end = start + dt.timedelta(hours=2)
    volunteer = reminder_rules.ActivityTimes(
        7, "volunteer", start, end, start - dt.timedelta(days=5), start - dt.timedelta(hours=15)
    )
    found = {
        o.rule: o.at
        for o in reminder_rules.activity_occurrences(volunteer, set(reminder_rules.SWITCHABLE))
    }
    assert found == {
        reminder_rules.BEFORE_24H: start - dt.timedelta(hours=24),
        reminder_rules.BEFORE_1H: start - dt.timedelta(hours=1),
        reminder_rules.CHECKIN_NUDGE: start + dt.timedelta(minutes=10),
        reminder_rules.VOLUNTEER_24H: start - dt.timedelta(hours=24),
        reminder_rules.SIGNUP_CLOSING: start - dt.timedelta(hours=39),
        reminder_rules.ACTIVITY_ENDED: end,
    }
    late = reminder_rules.ActivityTimes(
        8, "study", start, end, start - dt.timedelta(hours=3), start
    )
    assert {
        o.rule for o in reminder_rules.activity_occurrences(late, set(reminder_rules.SWITCHABLE))
    } == {
        reminder_rules.BEFORE_1H,
        reminder_rules.CHECKIN_NUDGE,
        reminder_rules.ACTIVITY_ENDED,
    }
    # Switched-off rules are dropped; the card edit at the end is not a reminder to switch off.
    assert [
        o.rule for o in reminder_rules.activity_occurrences(late, {reminder_rules.BEFORE_24H})
    ] == [reminder_rules.ACTIVITY_ENDED]


def test_every_rule_has_its_writer() -> None:
    """A rule the engine cannot write would be claimed and never sent."""
    from scheduler.engine import WRITERS

    assert set(WRITERS) == set(reminder_rules.ALL_RULES)


def test_working_days_are_counted_past_weekends_and_holidays() -> None:
    calendar = WorkCalendar()
    assert calendar.add_workdays(dt.date(2026, 12, 4), 1) == dt.date(2026, 12, 7)  # Fri → Mon
    assert calendar.add_workdays(dt.date(2026, 12, 7), 15) == dt.date(2026, 12, 28)
    assert calendar.add_workdays(dt.date(2026, 12, 7), 0) == dt.date(2026, 12, 7)
    # Across the National Day holiday, a working day at a time, as chinesecalendar counts.
    day, expected = dt.date(2026, 9, 25), dt.date(2026, 9, 25)
    for _ in range(10):
        day = calendar.add_workdays(day, 1)
        expected += dt.timedelta(days=1)
        while not chinese_calendar.is_workday(expected):
            expected += dt.timedelta(days=1)
        assert day == expected
