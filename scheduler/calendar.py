"""China's working days: weekends and official holidays off, make-up working days (调休) on.

The `holidays` package computes every statutory holiday of any year (the lunar ones included:
Spring Festival, Qingming, Dragon Boat, Mid-Autumn) and carries the State Council's make-up
working days for each year it has published. For a year whose make-up days are not published
yet, the holidays still hold and only the make-up Saturdays and Sundays are unknown; a warning
is logged once for that year.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache

import holidays

log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(days off, make-up working days) of `year`."""
    china = holidays.country_holidays("CN", years=year)
    off = frozenset(d for d in china if d.year == year)
    worked = frozenset(d for d in china.weekend_workdays if d.year == year)
    return off, worked


class WorkCalendar:
    def __init__(self) -> None:
        self._warned: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        off, worked = _year(day.year)
        if not worked and day.year not in self._warned:
            self._warned.add(day.year)
            log.warning(
                "the make-up working days (调休) of %s are not published yet: holidays are "
                "known, weekends are assumed off (upgrade the holidays package once the State "
                "Council publishes them)",
                day.year,
            )
        if day in worked:
            return True
        return day.weekday() < 5 and day not in off

    def on_or_after(self, day: dt.date) -> dt.date:
        """`day` if it is a working day, else the next working day."""
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def add_workdays(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `day` (答复 within 15 working days: by this day)."""
        for _ in range(count):
            day = self.on_or_after(day + dt.timedelta(days=1))
        return day

    def workdays_before(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day before `day` (a quarter's last 10 working days begin on
        `workdays_before(the next quarter's first day, 10)`)."""
        for _ in range(count):
            day = self.last_before(day)
        return day

    def last_before(self, day: dt.date) -> dt.date:
        """The last working day strictly before `day`."""
        day -= dt.timedelta(days=1)
        while not self.is_workday(day):
            day -= dt.timedelta(days=1)
        return day
