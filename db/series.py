"""Series of activities (repeat=… count=…), cancelling the rest of one, and clones.

A series is N ordinary activities that share `series_id` (the first one's id): each has the
same local start time, duration and options; only the dates differ. Reminders, check-in and
reports see ordinary activities; nothing else needs to know about series.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import rules
from db.errors import Refusal
from db.models import Activity, Member

STEP_DAYS = {"weekly": 7, "biweekly": 14}
_MINUTE = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Occurrence:
    day: dt.date
    # Monthly: the first date's day is missing in this month (e.g. the 31st), so it falls on
    # the month's last day.
    moved: bool = False


def add_months(day: dt.date, months: int, wanted_day: int) -> tuple[dt.date, bool]:
    """`wanted_day` of the month `months` after `day`'s, or that month's last day (True)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(wanted_day, last)), wanted_day > last


def occurrences(first: dt.date, repeat: str, count: int) -> list[Occurrence]:
    """The dates of a series: every 7 or 14 days, or the same day of every month."""
    if repeat == "monthly":
        return [Occurrence(*add_months(first, i, first.day)) for i in range(count)]
    step = dt.timedelta(days=STEP_DAYS[repeat])
    return [Occurrence(first + i * step) for i in range(count)]


@dataclass
class Series:
    repeat: str
    activities: list[Activity]
    occurrences: list[Occurrence]

    @property
    def moved(self) -> list[tuple[Activity, Occurrence]]:
        """The activities that fell on a month's last day instead."""
        return [(a, o) for a, o in zip(self.activities, self.occurrences, strict=True) if o.moved]


def series_dates(
    spec: activities_db.ActivitySpec, zone: ZoneInfo, now: dt.datetime
) -> list[Occurrence]:
    """The dates of `spec`'s series; refused whole if the last is beyond the allowed range."""
    assert spec.repeat is not None and spec.count is not None
    dates = occurrences(spec.starts_at.astimezone(zone).date(), spec.repeat, spec.count)
    last_allowed = rules.date_range(rules.local_today(now, zone))[1]
    if dates[-1].day > last_allowed:
        raise Refusal("series_out_of_range", last=dates[-1].day, limit=last_allowed)
    return dates


async def create_series(
    session: AsyncSession,
    creator: Member,
    is_admin: bool,
    spec: activities_db.ActivitySpec,
    zone: ZoneInfo,
    now: dt.datetime,
) -> Series:
    """Create every activity of `spec`'s series (spec.repeat and spec.count set), or none."""
    local_start = spec.starts_at.astimezone(zone)
    at = local_start.time().replace(tzinfo=None)
    duration = spec.ends_at - spec.starts_at
    deadline_before = (
        spec.starts_at - spec.signup_deadline if spec.signup_deadline is not None else None
    )
    dates = series_dates(spec, zone, now)
    assert spec.repeat is not None
    created: list[Activity] = []
    for occurrence in dates:
        starts_at = rules.local_to_utc(occurrence.day, at, zone)
        one = replace(
            spec,
            starts_at=starts_at,
            ends_at=starts_at + duration,
            signup_deadline=starts_at - deadline_before if deadline_before is not None else None,
        )
        created.append(await activities_db.create(session, creator, is_admin, one, now))
    for activity in created:
        activity.series_id = created[0].id
    await session.flush()
    return Series(spec.repeat, created, dates)


async def cancel_rest(session: AsyncSession, activity_id: int, now: dt.datetime) -> list[Activity]:
    """Cancel `activity_id` and the later activities of its series that are still to come.

    Already cancelled or ended ones are left as they are. An activity outside any series is
    refused (a single cancel is `/event cancel 编号`); so is a series with nothing left to cancel.
    """
    activity = await activities_db.get(session, activity_id)
    if activity.series_id is None:
        raise Refusal("series_not_a_series", id=activity.id)
    rest = list(
        await session.scalars(
            select(Activity)
            .where(
                Activity.series_id == activity.series_id,
                Activity.starts_at >= activity.starts_at,
                Activity.status == "active",
                Activity.ends_at > now,
            )
            .order_by(Activity.starts_at, Activity.id)
            .with_for_update(of=Activity)
        )
    )
    if not rest:
        raise Refusal("series_nothing_to_cancel", id=activity.id)
    for one in rest:
        one.status = "cancelled"
    return rest


async def clone(
    session: AsyncSession,
    creator: Member,
    is_admin: bool,
    source_id: int,
    day: dt.date,
    at: dt.time | None,
    zone: ZoneInfo,
    now: dt.datetime,
) -> tuple[Activity, Activity]:
    """A new activity like `source_id` on `day` (at `at`, else the source's local time).

    Kind, title, place, unit and options are copied, and so is the duration; a sign-up
    deadline keeps its distance from the start. The copy belongs to no series. A cancelled
    activity may be cloned (held again); returns (source, copy).
    """
    source = await activities_db.get(session, source_id)
    local_start = source.starts_at.astimezone(zone)
    starts_at = rules.local_to_utc(day, at or local_start.time().replace(tzinfo=None), zone)
    deadline = (
        starts_at - (source.starts_at - source.signup_deadline)
        if source.signup_deadline is not None
        else None
    )
    ends_at = starts_at + (source.ends_at - source.starts_at)
    if deadline is not None and deadline <= now < ends_at:  # (a past copy: refused as such)
        raise Refusal(
            "series_clone_deadline_past", deadline=deadline.astimezone(zone).strftime(_MINUTE)
        )
    spec = activities_db.ActivitySpec(
        kind=source.kind,
        title=source.title,
        starts_at=starts_at,
        ends_at=ends_at,
        place=source.place,
        unit=source.unit,
        code=source.code,
        hours=source.hours,
        capacity=source.capacity,
        signup_deadline=deadline,
        leave_mode=source.leave_mode,
        qr=source.qr,
        checkout=source.checkout,
    )
    return source, await activities_db.create(session, creator, is_admin, spec, now)


async def positions(
    session: AsyncSession, activities: list[Activity]
) -> dict[int, tuple[int, int]]:
    """For each series member among `activities`: (its place k, the series' size N).

    Places count every member of the series, cancelled ones too, in order of start.
    """
    series_ids = {a.series_id for a in activities if a.series_id is not None}
    if not series_ids:
        return {}
    rows = await session.execute(
        select(
            Activity.id,
            func.row_number()
            .over(partition_by=Activity.series_id, order_by=(Activity.starts_at, Activity.id))
            .label("k"),
            func.count().over(partition_by=Activity.series_id).label("n"),
        ).where(Activity.series_id.in_(series_ids))
    )
    wanted = {a.id for a in activities}
    return {row.id: (int(row.k), int(row.n)) for row in rows if row.id in wanted}


async def duplicate_of(
    session: AsyncSession,
    creator: Member,
    is_admin: bool,
    spec: activities_db.ActivitySpec,
    zone: ZoneInfo,
    now: dt.datetime,
) -> Activity | None:
    """The existing activity that creating `spec` (one activity, or a series whose first
    occurrence it is) would duplicate; asked only of what may be created (else refused)."""
    await activities_db.refuse_uncreatable(session, creator, is_admin, spec, now)
    if spec.repeat is not None:
        series_dates(spec, zone, now)
    return await activities_db.duplicate_of(session, spec)
