"""The reminder rules as pure functions: when each occurrence falls, and its key.

An occurrence's key is (rule, period, target): the same occurrence always has the same key,
so it is handled once whatever restarts or timers happen. No Telegram, no database here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from db.rules import CHECKOUT_GRACE, local_to_utc, quarter_bounds
from scheduler.calendar import WorkCalendar

# Calendar rules: land on working days at a time of day (default 09:00, retimable).
QUARTER_KICKOFF = "quarter_kickoff"
STUDY_QUOTA = "study_quota"
MEETING_QUOTA = "meeting_quota"
UNITY = "unity"
LEIFENG = "leifeng"
QUARTER_REPORT = "quarter_report"  # the quarter that ended: report and ledger, privately
CALENDAR_RULES = (QUARTER_KICKOFF, STUDY_QUOTA, MEETING_QUOTA, UNITY, LEIFENG, QUARTER_REPORT)

# Per-activity rules: follow the activity, never moved.
BEFORE_24H = "activity_24h"
BEFORE_1H = "activity_1h"
VOLUNTEER_24H = "volunteer_24h"
SIGNUP_CLOSING = "signup_closing"
CHECKIN_NUDGE = "checkin_nudge"
ACTIVITY_RULES = (BEFORE_24H, BEFORE_1H, VOLUNTEER_24H, SIGNUP_CLOSING, CHECKIN_NUDGE)

# Not switchable: asked for one by one.
NOTICE_FOLLOWUP = "notice_followup"
ONE_OFF = "one_off"

# Internal: not switchable, not listed by /remind. At the end the card is edited to say the
# activity ended (and approvers of leave still pending are reminded); two hours later, those
# who never checked out (签退) of a checkout=on activity learn that the plan was credited.
ACTIVITY_ENDED = "activity_ended"
CHECKOUT_DUE = "checkout_due"
# A rapid call (/muster): half-way, one more private call to those who have not answered
# (unless enough are confirmed); at its end it closes and its creator gets the roster.
MUSTER_HALF = "muster_half"
MUSTER_CLOSE = "muster_close"
MUSTER_RULES = (MUSTER_HALF, MUSTER_CLOSE)
INTERNAL = (ACTIVITY_ENDED, CHECKOUT_DUE, *MUSTER_RULES)
# Still worth doing however late (a card that says "ended" is right whenever it is edited).
CATCH_UP = (ACTIVITY_ENDED, MUSTER_CLOSE)

SWITCHABLE = CALENDAR_RULES + ACTIVITY_RULES
ALL_RULES = (*SWITCHABLE, NOTICE_FOLLOWUP, ONE_OFF, *INTERNAL)
DEFAULT_TIME = dt.time(9, 0)
QUOTA_DAYS = (30, 10)  # days before the quarter's last day
UNITY_DAYS = ((9, 1), (12, 1))
LEIFENG_DAY = (3, 5)  # 学雷锋纪念日


@dataclass(frozen=True)
class Occurrence:
    key: str
    rule: str
    at: dt.datetime  # UTC
    ref: int | None = None  # the activity, notice or one-off it is about

    def __lt__(self, other: Occurrence) -> bool:
        return (self.at, self.key) < (other.at, other.key)


def _quarters(first: dt.date, last: dt.date) -> list[tuple[int, int, dt.date, dt.date]]:
    """(year, quarter, first day, last day) of every quarter touching [first, last]."""
    result = []
    start, _ = quarter_bounds(first)
    while start <= last:
        _, following = quarter_bounds(start)
        result.append((start.year, (start.month - 1) // 3 + 1, start, following - dt.timedelta(1)))
        start = following
    return result


def calendar_days(
    rule: str, first: dt.date, last: dt.date, cal: WorkCalendar
) -> list[tuple[str, dt.date]]:
    """(key, working day) for `rule`'s occurrences whose period touches [first, last]."""
    days: list[tuple[str, dt.date]] = []
    quarters = _quarters(first - dt.timedelta(days=120), last)
    years = range(first.year - 1, last.year + 2)
    if rule == QUARTER_KICKOFF:
        days = [(f"{rule}:{y}Q{q}", cal.on_or_after(start)) for y, q, start, _ in quarters]
    elif rule == QUARTER_REPORT:  # on the new quarter's first working day, for the one before
        days = [
            (f"{rule}:{y - (q == 1)}Q{4 if q == 1 else q - 1}", cal.on_or_after(start))
            for y, q, start, _ in quarters
        ]
    elif rule in (STUDY_QUOTA, MEETING_QUOTA):
        days = [
            (f"{rule}:{y}Q{q}:d{before}", cal.on_or_after(end - dt.timedelta(days=before)))
            for y, q, _, end in quarters
            for before in QUOTA_DAYS
        ]
    elif rule == UNITY:
        days = [
            (f"{rule}:{y}:{month:02d}", cal.on_or_after(dt.date(y, month, day)))
            for y in years
            for month, day in UNITY_DAYS
        ]
    elif rule == LEIFENG:
        days = [(f"{rule}:{y}", cal.last_before(dt.date(y, *LEIFENG_DAY))) for y in years]
    return [(key, day) for key, day in days if first <= day <= last]


def calendar_occurrences(
    rule: str,
    start: dt.datetime,
    end: dt.datetime,
    cal: WorkCalendar,
    zone: ZoneInfo,
    at_time: dt.time = DEFAULT_TIME,
) -> list[Occurrence]:
    """Occurrences of a calendar rule due in [start, end] (UTC)."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    found = []
    for key, day in calendar_days(rule, first, last, cal):
        at = local_to_utc(day, at_time, zone)
        if start <= at <= end:
            found.append(Occurrence(key, rule, at))
    return found


@dataclass(frozen=True)
class ActivityTimes:
    """What the per-activity rules need to know of an activity."""

    id: int
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_at: dt.datetime
    signup_deadline: dt.datetime
    checkout: bool = False


def activity_occurrences(activity: ActivityTimes, enabled: set[str]) -> list[Occurrence]:
    """The activity's reminders, except those that would fall before it was created."""
    times = {
        BEFORE_24H: activity.starts_at - dt.timedelta(hours=24),
        BEFORE_1H: activity.starts_at - dt.timedelta(hours=1),
        CHECKIN_NUDGE: activity.starts_at + dt.timedelta(minutes=10),
        ACTIVITY_ENDED: activity.ends_at,
    }
    if activity.kind == "volunteer":
        times[VOLUNTEER_24H] = activity.starts_at - dt.timedelta(hours=24)
        times[SIGNUP_CLOSING] = activity.signup_deadline - dt.timedelta(hours=24)
        if activity.checkout:
            times[CHECKOUT_DUE] = activity.ends_at + CHECKOUT_GRACE
    return [
        Occurrence(f"activity:{activity.id}:{rule}", rule, at, activity.id)
        for rule, at in times.items()
        if (rule in enabled or rule in INTERNAL) and at > activity.created_at
    ]


@dataclass(frozen=True)
class MusterTimes:
    """What the rapid-call rules need to know of a call."""

    id: int
    created_at: dt.datetime
    closes_at: dt.datetime

    @property
    def half_way(self) -> dt.datetime:
        return self.created_at + (self.closes_at - self.created_at) / 2


def muster_occurrences(muster: MusterTimes) -> list[Occurrence]:
    """A call's half-way re-call and its close."""
    return [
        Occurrence(f"muster:{muster.id}:half", MUSTER_HALF, muster.half_way, muster.id),
        Occurrence(f"muster:{muster.id}:close", MUSTER_CLOSE, muster.closes_at, muster.id),
    ]
