"""The committee's proof for the evaluation (评估问效): what was held, who came, what was served.

Everything is computed from the records the bot keeps, for a quarter or a year in the
configured time zone. Attendance counts the expected people of every study session, meeting
and other activity (volunteering has its own figures) that ended in the period: the roster of
its unit (or of every unit) as it was at its end — imported people who never registered count
as expected and absent (未登记). The attendance rate is `rules.attendance_rate`: approved
leave is excused, not absent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import members as members_db
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
    stmt = answers(Activity.id).where(*where)
    if unit_id is not None:
        stmt = stmt.where(Member.unit_id == unit_id)
    return await _tallies(session, stmt)


async def build(
    session: AsyncSession,
    period: Period,
    zone: ZoneInfo,
    now: dt.datetime,
    *,
    unit: Unit | None = None,
    low_below: float | None = None,
) -> Report:
    """The report of `period`, for every unit (the committee) or one unit (its lead).

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
    unit_id = unit.id if unit is not None else None
    by_answer = answers(Activity.ends_at, Member.unit_id).where(*counted(year_start, year_end, now))
    if unit_id is not None:
        by_answer = by_answer.where(Member.unit_id == unit_id)
    for ends_at, member_unit, registered, status, count in await session.execute(by_answer):
        quarter = rules.quarter_of(ends_at.astimezone(zone).date()).quarter or 1
        quarters[quarter - 1][1].add(status, registered, count)
        if start <= ends_at < end:
            report.total.add(status, registered, count)
            if member_unit in lines:
                lines[member_unit].tally.add(status, registered, count)
    await _volunteering(session, report, now, start, end, unit_id)
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
