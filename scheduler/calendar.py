"""China's working days: weekends and official holidays off, make-up working days (调休) on.

Uses the maintained `chinese-calendar` package (the State Council's yearly notice). For a year
it does not cover yet, Monday–Friday is assumed and a warning is logged once per year.
"""

from __future__ import annotations

import datetime as dt
import logging

import chinese_calendar

log = logging.getLogger(__name__)


class WorkCalendar:
    def __init__(self) -> None:
        self._warned: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "the holiday calendar does not cover %s yet: assuming Monday-Friday "
                    "(upgrade the chinesecalendar package once the State Council publishes it)",
                    day.year,
                )
            return day.weekday() < 5

    def on_or_after(self, day: dt.date) -> dt.date:
        """`day` if it is a working day, else the next working day."""
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def last_before(self, day: dt.date) -> dt.date:
        """The last working day strictly before `day`."""
        day -= dt.timedelta(days=1)
        while not self.is_workday(day):
            day -= dt.timedelta(days=1)
        return day
