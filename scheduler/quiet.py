"""Quiet hours (非工作时间不打扰): the window arithmetic, as plain functions.

Automatic private messages written during the window wait in the outbox (`quiet` rows) and
go when it ends. A window is two local times in the configured zone; it may wrap midnight
(21:00-08:00) or not (12:00-13:30). No Telegram, no database here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

OFF = "off"
_WINDOW_RE = re.compile(r"^([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})$")


@dataclass(frozen=True)
class QuietHours:
    """From `start` (inclusive) to `end` (exclusive), local times; start != end."""

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a quiet window cannot start and end at the same time")

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def wraps(self) -> bool:
        """Whether the window runs over midnight (21:00-08:00)."""
        return self.start > self.end

    def covers(self, local: dt.time) -> bool:
        """Whether the local time of day `local` is inside the window."""
        local = local.replace(tzinfo=None)
        if self.wraps:
            return local >= self.start or local < self.end
        return self.start <= local < self.end


DEFAULT = QuietHours(dt.time(21, 0), dt.time(8, 0))


def parse(raw: str) -> QuietHours | None:
    """`HH:MM-HH:MM` → a window, `off` → None; ValueError for anything else."""
    text = raw.strip()
    if text.lower() == OFF:
        return None
    match = _WINDOW_RE.match(text)
    if not match:
        raise ValueError(f"not HH:MM-HH:MM: {raw!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return QuietHours(dt.time(h1, m1), dt.time(h2, m2))  # dt.time refuses 24:00, 08:60


def is_quiet(window: QuietHours | None, now: dt.datetime, zone: ZoneInfo) -> bool:
    """Whether `now` (aware) falls inside the window in `zone`; never when there is none."""
    return window is not None and window.covers(now.astimezone(zone).time())


def quiet_until(window: QuietHours | None, now: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    """When the window `now` is in ends (UTC), or None when `now` is not quiet."""
    if window is None or not is_quiet(window, now, zone):
        return None
    local = now.astimezone(zone)
    day = local.date()
    if window.wraps and local.time().replace(tzinfo=None) >= window.start:
        day += dt.timedelta(days=1)  # 22:00 today: it ends tomorrow morning
    end = dt.datetime.combine(day, window.end, tzinfo=zone).astimezone(dt.UTC)
    return max(end, now)  # a DST change could move it; never into the past
