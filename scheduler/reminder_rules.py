"""The reminder rules as pure functions: when each occurrence falls, and its key.

An occurrence's key is (rule, period, target): the same occurrence always has the same key,
so it is handled once whatever restarts or timers happen. No Telegram, no database here.

A quiet group: an activity's group reminder that would fall on a day off moves to the previous
working day's afternoon (`on_a_working_day`); group reminders a few minutes apart are planned
for one moment (`gather`), so the outbox sends them into a group as one message; a volunteer
activity whose sign-up closes with its start says so in its 24-hour reminder, not separately.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
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
# 评估问效: the work plan's task owners are asked privately on the first of the quarter's last
# REVIEW_WORKDAYS working days; those who have not answered, once more REVIEW_NUDGE_WORKDAYS
# working days before its end.
TASK_REVIEW = "task_review"
TASK_REVIEW_NUDGE = "task_review_nudge"
CALENDAR_RULES = (
    QUARTER_KICKOFF,
    STUDY_QUOTA,
    MEETING_QUOTA,
    UNITY,
    LEIFENG,
    QUARTER_REPORT,
    TASK_REVIEW,
    TASK_REVIEW_NUDGE,
)

# Per-activity rules: follow the activity, never moved.
BEFORE_24H = "activity_24h"
BEFORE_1H = "activity_1h"
VOLUNTEER_24H = "volunteer_24h"
SIGNUP_CLOSING = "signup_closing"
CHECKIN_NUDGE = "checkin_nudge"
ACTIVITY_RULES = (BEFORE_24H, BEFORE_1H, VOLUNTEER_24H, SIGNUP_CLOSING, CHECKIN_NUDGE)

# Not a rule but a switch of the same table (/remind off|on|time group_workdays): group
# reminders of activities that would fall on a day off move to the previous working day at
# WORKDAY_AFTERNOON (retimable), unless that is before the activity was made or after the event.
GROUP_WORKDAYS = "group_workdays"
WORKDAY_AFTERNOON = dt.time(15, 0)
# The activity reminders that go to a group (and so move off days off).
GROUP_ACTIVITY_RULES = (BEFORE_24H, BEFORE_1H, SIGNUP_CLOSING)

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
SETTINGS = (GROUP_WORKDAYS,)  # switched and retimed like a rule; never an occurrence
TIMED = (*CALENDAR_RULES, GROUP_WORKDAYS)  # what `/remind time` may retime
ALL_RULES = (*SWITCHABLE, NOTICE_FOLLOWUP, ONE_OFF, *INTERNAL)
# What writes into a group: planned together when a few minutes apart (see `gather`).
GROUP_RULES = (*GROUP_ACTIVITY_RULES, ONE_OFF, QUARTER_KICKOFF, STUDY_QUOTA, UNITY, LEIFENG)
# Group reminders this close are sent as one message (planned for the earliest of them).
MERGE_WINDOW = dt.timedelta(minutes=5)
DEFAULT_TIME = dt.time(9, 0)
QUOTA_DAYS = (30, 10)  # days before the quarter's last day
UNITY_DAYS = ((9, 1), (12, 1))
LEIFENG_DAY = (3, 5)  # 学雷锋纪念日
REVIEW_WORKDAYS = 10
REVIEW_NUDGE_WORKDAYS = 3


@dataclass(frozen=True)
class Occurrence:
    key: str
    rule: str
    at: dt.datetime  # UTC
    ref: int | None = None  # the activity, notice or one-off it is about
    # Where the rule alone would have put it, when a day off (or a neighbour) moved it.
    moved_from: dt.datetime | None = None

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
    elif rule in (TASK_REVIEW, TASK_REVIEW_NUDGE):
        count = REVIEW_WORKDAYS if rule == TASK_REVIEW else REVIEW_NUDGE_WORKDAYS
        days = [
            (f"{rule}:{y}Q{q}", cal.workdays_before(end + dt.timedelta(days=1), count))
            for y, q, _, end in quarters
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


@dataclass(frozen=True)
class Workdays:
    """Group reminders keep to working days: moved to `afternoon` of the previous one."""

    calendar: WorkCalendar
    zone: ZoneInfo
    afternoon: dt.time = WORKDAY_AFTERNOON


def on_a_working_day(
    at: dt.datetime, planned: dt.datetime, event: dt.datetime, workdays: Workdays
) -> dt.datetime:
    """`at` (UTC) if it falls on a working day; else the previous working day's afternoon,
    unless that is no later than `planned` (when the reminder was set up: in its past) or
    no earlier than `event` (what it reminds of), when it stays where it was."""
    local = at.astimezone(workdays.zone)
    if workdays.calendar.is_workday(local.date()):
        return at
    day = workdays.calendar.last_before(local.date())
    moved = local_to_utc(day, workdays.afternoon, workdays.zone)
    return moved if planned < moved < event else at


def signup_folded(activity: ActivityTimes) -> bool:
    """A volunteer activity whose sign-up closes (about) when it starts: its 24-hour reminder
    says so, and no separate 报名即将截止 is sent."""
    return (
        activity.kind == "volunteer"
        and abs(activity.signup_deadline - activity.starts_at) <= MERGE_WINDOW
    )


def activity_occurrences(
    activity: ActivityTimes, enabled: set[str], workdays: Workdays | None = None
) -> list[Occurrence]:
    """The activity's reminders, except those that would fall before it was created.

    `workdays`: its group reminders keep to working days (see `on_a_working_day`).
    """
    times = {
        BEFORE_24H: activity.starts_at - dt.timedelta(hours=24),
        BEFORE_1H: activity.starts_at - dt.timedelta(hours=1),
        CHECKIN_NUDGE: activity.starts_at + dt.timedelta(minutes=10),
        ACTIVITY_ENDED: activity.ends_at,
    }
    if activity.kind == "volunteer":
        times[VOLUNTEER_24H] = activity.starts_at - dt.timedelta(hours=24)
        if not (signup_folded(activity) and BEFORE_24H in enabled):
            times[SIGNUP_CLOSING] = activity.signup_deadline - dt.timedelta(hours=24)
        if activity.checkout:
            times[CHECKOUT_DUE] = activity.ends_at + CHECKOUT_GRACE
    found = []
    for rule, at in times.items():
        if not (rule in enabled or rule in INTERNAL) or at <= activity.created_at:
            continue
        moved = at
        if workdays is not None and rule in GROUP_ACTIVITY_RULES:
            event = activity.signup_deadline if rule == SIGNUP_CLOSING else activity.starts_at
            moved = on_a_working_day(at, activity.created_at, event, workdays)
        key = f"activity:{activity.id}:{rule}"
        found.append(Occurrence(key, rule, moved, activity.id, at if moved != at else None))
    return found


def gather(occurrences: list[Occurrence], window: dt.timedelta = MERGE_WINDOW) -> list[Occurrence]:
    """Group reminders within `window` of the first of a run are planned for that first one's
    moment (so the outbox finds them together and sends a group one message). Others keep
    their time. The result does not depend on what lies more than a run before or after."""
    result: list[Occurrence] = []
    start: dt.datetime | None = None
    for occurrence in sorted(occurrences):
        if occurrence.rule not in GROUP_RULES:
            result.append(occurrence)
            continue
        if start is None or occurrence.at - start > window:
            start = occurrence.at
        if occurrence.at == start:
            result.append(occurrence)
        else:
            original = occurrence.moved_from or occurrence.at
            result.append(replace(occurrence, at=start, moved_from=original))
    return sorted(result)


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
