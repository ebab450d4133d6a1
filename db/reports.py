"""The committee's proof for the evaluation (评估问效): what was held, who came, what was served.

Everything is computed from the records the bot keeps, for a quarter or a year in the
configured time zone. Attendance counts the expected people of every study session, meeting
and other activity (volunteering has its own figures) that ended in the period: the roster of
its unit (or of every unit) as it was at its end — imported people who never registered count
as expected and absent (未登记). The attendance rate is `rules.attendance_rate`: approved
leave is excused, not absent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import members as members_db
from db import plans as plans_db
from db import rules
from db import volunteer as volunteer_db
from db.models import (
    Acknowledgement,
    Activity,
    ActivityPhoto,
    Attendance,
    Member,
    Notice,
    Unit,
)
from db.rules import Period

DUTY_KINDS = ("study", "meeting", "unity")


@dataclass
class Tally:
    """Answers of expected people: present includes late; absent includes the unregistered."""

    expected: int = 0
    present: int = 0
    late: int = 0
    leave: int = 0
    absent: int = 0
    unregistered: int = 0
    makeup: int = 0  # present by an approved 补签 (counted in `present` too)

    def add(self, status: str | None, registered: bool, count: int = 1) -> None:
        self.expected += count
        if status in ("present", "late", "makeup"):
            self.present += count
            self.makeup += count if status == "makeup" else 0
            self.late += count if status == "late" else 0
        elif status == "leave":
            self.leave += count
        else:
            self.absent += count
            self.unregistered += 0 if registered else count

    def merge(self, other: Tally) -> None:
        for name in ("expected", "present", "late", "leave", "absent", "unregistered", "makeup"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def rate(self) -> float | None:
        """出勤率: present (late and 补签 included) over the expected less approved leave."""
        return rules.attendance_rate(self.present, self.leave, self.expected)


@dataclass
class UnitLine:
    unit: Unit
    study_held: int = 0
    study_scheduled: int = 0
    study_quarters: set[int] = field(default_factory=set)  # quarters with a study session held
    tally: Tally = field(default_factory=Tally)
    plan: plans_db.Execution = field(default_factory=plans_db.Execution)  # the study plan

    @property
    def study(self) -> str:
        return rules.quota_status(self.study_held, self.study_scheduled)


@dataclass
class Lacking:
    """An activity that ended without its minutes or without photos."""

    activity: Activity
    minutes: bool
    photos: bool


@dataclass
class Report:
    period: Period
    units: list[UnitLine]
    total: Tally
    quarters: list[tuple[Period, Tally]]
    quarters_due: int  # quarters of the period that have started (a year: up to 4)
    meetings_held: int = 0
    meetings_scheduled: int = 0
    meeting_quarters: set[int] = field(default_factory=set)
    unity_held: int = 0
    unity_scheduled: int = 0
    volunteers: int = 0
    volunteer_times: int = 0
    volunteer_hours: float = 0.0
    notices: int = 0
    notice_acks: int = 0
    notice_expected: int = 0
    lacking: list[Lacking] = field(default_factory=list)
    low: list[tuple[Member, Tally]] = field(default_factory=list)

    @property
    def meetings(self) -> str:
        return rules.quota_status(self.meetings_held, self.meetings_scheduled)

    @property
    def unity(self) -> str:
        return rules.quota_status(self.unity_held, self.unity_scheduled)

    @property
    def ack_rate(self) -> float | None:
        return rules.rate(self.notice_acks, self.notice_expected)


def expected() -> ColumnElement[bool]:
    """Joins an activity to its expected people (see the module docstring)."""
    return and_(
        members_db.expected_between(Activity.starts_at, Activity.ends_at),
        or_(Activity.unit_id.is_(None), Activity.unit_id == Member.unit_id),
    )


def answers(*keys: Any) -> Select[Any]:
    """Expected answers grouped by `keys`: rows of (*keys, registered, status, how many);
    a present made by 补签 has the status `makeup`."""
    registered = Member.registered_at.is_not(None)
    status = case((Attendance.makeup.is_(True), "makeup"), else_=Attendance.status)
    return (
        select(*keys, registered, status, func.count())
        .select_from(Activity)
        .join(Member, expected())
        .outerjoin(
            Attendance,
            and_(Attendance.activity_id == Activity.id, Attendance.member_id == Member.id),
        )
        .group_by(*keys, registered, status)
    )


def counted(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[ColumnElement[bool]]:
    """Activities whose attendance counts: not volunteering, not cancelled, ended in the span."""
    return [
        Activity.kind != "volunteer",
        Activity.status == "active",
        Activity.ends_at >= start,
        Activity.ends_at < end,
        Activity.ends_at <= now,
    ]


async def _tallies(session: AsyncSession, stmt: Select[Any]) -> dict[Any, Tally]:
    """Rows of `answers(key)` summed into one Tally per key."""
    found: dict[Any, Tally] = defaultdict(Tally)
    for key, registered, status, count in (await session.execute(stmt)).all():
        found[key].add(status, registered, count)
    return dict(found)


async def tallies_by_member(
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    *,
    unit_id: int | None = None,
    member_id: int | None = None,
) -> dict[int, Tally]:
    """Each expected person's answers in [start, end)."""
    stmt = answers(Member.id).where(*counted(start, end, now))
    if unit_id is not None:
        stmt = stmt.where(Member.unit_id == unit_id)
    if member_id is not None:
        stmt = stmt.where(Member.id == member_id)
    return await _tallies(session, stmt)


async def tallies_by_activity(
    session: AsyncSession, where: list[ColumnElement[bool]], unit_id: int | None
) -> dict[int, Tally]:
    """Each activity's answers (its expected people of `unit_id`, or all)."""
    found: dict[int, Tally] = defaultdict(Tally)
    for (activity_id, _unit), tally in (await activity_tallies(session, where, unit_id)).items():
        found[activity_id].merge(tally)
    return dict(found)


@dataclass
class _Roll:
    """When the people of one unit (registered or not) came onto the roster and left it."""

    joined: list[dt.datetime] = field(default_factory=list)  # sorted
    left: list[dt.datetime] = field(default_factory=list)  # sorted; left at or after joining
    odd: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)  # left before

    def expected(self, starts: dt.datetime, ends: dt.datetime) -> int:
        """How many of them were expected at something held from `starts` to `ends`
        (`members.expected_between`): on the roster by its end, not gone before it began.
        Someone who left by `starts` had joined by then, so by `ends` too."""
        count = bisect_right(self.joined, ends) - bisect_right(self.left, starts)
        return count + sum(1 for joined, left in self.odd if joined <= ends and left > starts)


async def _rolls(
    session: AsyncSession, unit_id: int | None
) -> dict[tuple[int | None, bool], _Roll]:
    stmt = select(
        Member.unit_id, Member.registered_at.is_not(None), members_db.joined_at(), Member.left_at
    ).where(members_db.on_roster())
    if unit_id is not None:
        stmt = stmt.where(Member.unit_id == unit_id)
    rolls: dict[tuple[int | None, bool], _Roll] = defaultdict(_Roll)
    for unit, registered, joined, left in (await session.execute(stmt)).all():
        roll = rolls[(unit, bool(registered))]
        if left is not None and left < joined:
            roll.odd.append((joined, left))
            continue
        roll.joined.append(joined)
        if left is not None:
            roll.left.append(left)
    for roll in rolls.values():
        roll.joined.sort()
        roll.left.sort()
    return dict(rolls)


async def activity_tallies(
    session: AsyncSession, where: list[ColumnElement[bool]], unit_id: int | None = None
) -> dict[tuple[int, int | None], Tally]:
    """The answers of each activity matching `where`, per unit of its expected people (of
    `unit_id` only, when given): the same figures as `answers()` grouped by activity and unit,
    without pairing every activity with every person. The expected are counted from when
    people joined and left (`_Roll`), the answers read once; the rest are absent."""
    activities = (
        await session.execute(
            select(Activity.id, Activity.starts_at, Activity.ends_at, Activity.unit_id).where(
                *where
            )
        )
    ).all()
    if not activities:
        return {}
    rolls = await _rolls(session, unit_id)
    registered = Member.registered_at.is_not(None)
    status = case((Attendance.makeup.is_(True), "makeup"), else_=Attendance.status)
    stmt = (
        select(Attendance.activity_id, Member.unit_id, registered, status, func.count())
        .select_from(Attendance)
        .join(Activity, Activity.id == Attendance.activity_id)
        .join(Member, and_(Member.id == Attendance.member_id, expected()))
        .where(*where)
        .group_by(Attendance.activity_id, Member.unit_id, registered, status)
    )
    if unit_id is not None:
        stmt = stmt.where(Member.unit_id == unit_id)
    answered: dict[tuple[int, int | None, bool], list[tuple[str, int]]] = defaultdict(list)
    for activity_id, unit, is_registered, answer, count in (await session.execute(stmt)).all():
        answered[(activity_id, unit, bool(is_registered))].append((answer, int(count)))
    found: dict[tuple[int, int | None], Tally] = {}
    for activity_id, starts, ends, for_unit in activities:
        for (unit, is_registered), roll in rolls.items():
            if for_unit is not None and unit != for_unit:
                continue
            expected_here = roll.expected(starts, ends)
            given = answered.get((activity_id, unit, is_registered), [])
            if not expected_here and not given:
                continue
            tally = found.setdefault((activity_id, unit), Tally())
            for answer, count in given:
                tally.add(answer, is_registered, count)
            absent = expected_here - sum(count for _, count in given)
            if absent > 0:
                tally.add(None, is_registered, absent)
    return found


async def build(
    session: AsyncSession,
    period: Period,
    zone: ZoneInfo,
    now: dt.datetime,
    *,
    unit: Unit | None = None,
    low_below: float | None = None,
    aside: Callable[[], AbstractAsyncContextManager[AsyncSession]] | None = None,
) -> Report:
    """The report of `period`, for every unit (the committee) or one unit (its lead).

    `aside`: another read session, to read the volunteering while the attendance is counted
    (a page waits for both).

    `low_below`: list the people whose attendance rate is below this fraction (the committee's
    copy only; nothing is ever ranked in a group).
    """
    start, end = period.bounds(zone)
    year = Period(period.year)
    year_start, year_end = year.bounds(zone)
    units = [unit] if unit is not None else await members_db.list_units(session)
    lines = {u.id: UnitLine(u) for u in units}
    quarters = [(q, Tally()) for q in period.quarters()]
    started = [q for q, _ in quarters if q.bounds(zone)[0] <= now]
    report = Report(
        period,
        list(lines.values()),
        Tally(),
        quarters,
        quarters_due=len(started) if period.quarter is None else 1,
    )
    await _duties(session, report, lines, zone, now, (start, end), (year_start, year_end))
    for planned, execution in (await plans_db.execution(session, period, units, now)).items():
        lines[planned].plan = execution
    unit_id = unit.id if unit is not None else None
    year_counted = counted(year_start, year_end, now)
    ends = dict(
        (await session.execute(select(Activity.id, Activity.ends_at).where(*year_counted))).all()
    )
    if aside is None:
        by_activity = await activity_tallies(session, year_counted, unit_id)
        await _volunteering(session, report, now, start, end, unit_id)
    else:  # the two biggest reads side by side, each on its own connection

        async def volunteering() -> None:
            async with aside() as other:
                await _volunteering(other, report, now, start, end, unit_id)

        counting = asyncio.ensure_future(activity_tallies(session, year_counted, unit_id))
        reading = asyncio.ensure_future(volunteering())
        try:
            by_activity, _ = await asyncio.gather(counting, reading)
        except BaseException:  # neither goes on alone once the report is given up
            for task in (counting, reading):
                task.cancel()
            raise
    for (activity_id, member_unit), tally in by_activity.items():
        ends_at = ends[activity_id]
        quarter = rules.quarter_of(ends_at.astimezone(zone).date()).quarter or 1
        quarters[quarter - 1][1].merge(tally)
        if start <= ends_at < end:
            report.total.merge(tally)
            if member_unit in lines:
                lines[member_unit].tally.merge(tally)
    await _notices(session, report, start, end, unit_id)
    report.lacking = await lacking_records(session, start, end, now, unit_id)
    if low_below is not None:
        tallies = await tallies_by_member(session, start, end, now, unit_id=unit_id)
        # Someone whose every activity was excused has no rate, and is not low.
        low = [m for m, t in tallies.items() if t.rate is not None and t.rate < low_below]
        people = {m.id: m for m in await _members(session, low)}
        report.low = sorted(
            ((people[m], tallies[m]) for m in low if m in people),
            key=lambda pair: (pair[0].unit_id or 0, pair[0].real_name or ""),
        )
    return report


async def _duties(
    session: AsyncSession,
    report: Report,
    lines: dict[int, UnitLine],
    zone: ZoneInfo,
    now: dt.datetime,
    period: tuple[dt.datetime, dt.datetime],
    year: tuple[dt.datetime, dt.datetime],
) -> None:
    """Study sessions per unit, committee meetings, the ethnic-unity activity."""
    rows = await session.execute(
        select(Activity.kind, Activity.unit_id, Activity.starts_at, Activity.ends_at).where(
            Activity.kind.in_(DUTY_KINDS),
            Activity.status == "active",
            Activity.starts_at >= year[0],
            Activity.starts_at < year[1],
        )
    )
    for kind, unit_id, starts_at, ends_at in rows.all():
        held = ends_at <= now
        quarter = rules.quarter_of(starts_at.astimezone(zone).date()).quarter or 1
        if kind == "unity":
            report.unity_held += held
            report.unity_scheduled += not held
            continue
        if not period[0] <= starts_at < period[1]:
            continue
        if kind == "meeting":
            report.meetings_held += held
            report.meetings_scheduled += not held
            if held:
                report.meeting_quarters.add(quarter)
            continue
        # A study session for everyone counts for every unit's quota.
        for line in lines.values() if unit_id is None else [lines.get(unit_id)]:
            if line is None:
                continue
            line.study_held += held
            line.study_scheduled += not held
            if held:
                line.study_quarters.add(quarter)


async def _members(session: AsyncSession, ids: list[int]) -> list[Member]:
    if not ids:
        return []
    return list(await session.scalars(select(Member).where(Member.id.in_(ids))))


async def _volunteering(
    session: AsyncSession,
    report: Report,
    now: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    unit_id: int | None,
) -> None:
    credited = await volunteer_db.credits(session, now, start, end)
    if unit_id is not None:
        ours = set(
            await session.scalars(
                select(Member.id).where(
                    Member.unit_id == unit_id, Member.id.in_({m for m, _ in credited})
                )
            )
        )
        credited = {pair: hours for pair, hours in credited.items() if pair[0] in ours}
    report.volunteers = len({member for member, _ in credited})
    report.volunteer_times = len(credited)
    report.volunteer_hours = sum(credited.values())


async def _notices(
    session: AsyncSession, report: Report, start: dt.datetime, end: dt.datetime, unit_id: int | None
) -> None:
    """How many notices went out, and what share of the expected acknowledgements came."""
    notices = list(
        await session.execute(
            select(Notice.id, Notice.target, Notice.unit_id).where(
                Notice.status == "active", Notice.created_at >= start, Notice.created_at < end
            )
        )
    )
    if unit_id is not None:  # a lead sees the notices meant for their unit
        notices = [n for n in notices if n.target != "unit" or n.unit_id == unit_id]
    report.notices = len(notices)
    if not notices:
        return
    on_roster = select(Member.unit_id, func.count()).where(members_db.on_roster())
    if unit_id is not None:
        on_roster = on_roster.where(Member.unit_id == unit_id)
    per_unit = dict((await session.execute(on_roster.group_by(Member.unit_id))).all())
    everyone = sum(per_unit.values())
    acks = select(Acknowledgement.notice_id, func.count()).join(
        Member, Member.id == Acknowledgement.member_id
    )
    acks = acks.where(
        members_db.on_roster(),
        Acknowledgement.notice_id.in_([n.id for n in notices]),
        or_(Notice.target != "unit", Member.unit_id == Notice.unit_id),
    ).join(Notice, Notice.id == Acknowledgement.notice_id)
    if unit_id is not None:
        acks = acks.where(Member.unit_id == unit_id)
    acked = dict((await session.execute(acks.group_by(Acknowledgement.notice_id))).all())
    for notice in notices:
        report.notice_expected += (
            per_unit.get(notice.unit_id, 0) if notice.target == "unit" else everyone
        )
        report.notice_acks += acked.get(notice.id, 0)


async def lacking_records(
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    unit_id: int | None,
) -> list[Lacking]:
    """Activities that ended in [start, end) without minutes or without photos."""
    photos = (
        select(func.count())
        .select_from(ActivityPhoto)
        .where(ActivityPhoto.activity_id == Activity.id)
        .scalar_subquery()
    )
    stmt = (
        select(Activity, photos)
        .where(
            Activity.status == "active",
            Activity.ends_at >= start,
            Activity.ends_at < end,
            Activity.ends_at <= now,
            or_(Activity.minutes.is_(None), photos == 0),
        )
        .order_by(Activity.starts_at, Activity.id)
    )
    if unit_id is not None:
        stmt = stmt.where(Activity.unit_id == unit_id)
    return [
        Lacking(activity, minutes=activity.minutes is None, photos=count == 0)
        for activity, count in (await session.execute(stmt)).all()
    ]
