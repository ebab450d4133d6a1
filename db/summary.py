"""The year's facts for the year-end summary draft (年度工作总结初稿): what the records say.

The year's report (`db.reports.build` of `Period(year)`: study sessions and the study plan per
unit, meetings, the ethnic-unity activity, attendance, volunteering, notices), the needs
(我为青年办实事), the rapid calls (青年突击队), and how many units, people and activities
there were. Every number the draft states comes from here; words are render.summary's.

The work plan's tasks (工作要点) come with the state their countable targets show in the
records (db.tasks); the owners' quarterly reviews will add theirs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import members as members_db
from db import needs as needs_db
from db import reports as reports_db
from db import reviews as reviews_db
from db import rules
from db import tasks as tasks_db
from db.errors import Refusal
from db.models import KINDS, Activity, Member, Muster, MusterAnswer
from db.rules import FIRST_DATE, Period

_YEAR = re.compile(r"^[0-9]{4}$")


def parse_year(raw: str | None, today: dt.date) -> int:
    """`/summary [YYYY]`: this year when not given; a year from the first date on to this one
    (a summary of a year to come has nothing to say)."""
    if raw is None:
        return today.year
    text = raw.strip()
    if not _YEAR.match(text) or not FIRST_DATE.year <= int(text) <= today.year:
        raise Refusal(
            "summary_year_invalid", text=text[:20], first=FIRST_DATE.year, last=today.year
        )
    return int(text)


@dataclass(frozen=True)
class WorkTask:
    """One task of the year's work plan (工作要点) and how far it was carried out."""

    title: str
    state: str  # done / in_progress / open, or unreviewed (no target, no review yet)
    note: str = ""
    target: str = "none"  # what the figure below counts (db.tasks)
    measured: tasks_db.Measured | None = None


@dataclass
class Musters:
    """The year's rapid calls: how many, how many people they wanted, who answered."""

    calls: int = 0
    wanted: int = 0
    confirmed: int = 0  # 我能去 that were confirmed (person-times)
    people: int = 0  # different people confirmed at least once


@dataclass
class YearFacts:
    year: int
    as_of: dt.datetime  # the records as they were then
    report: reports_db.Report
    needs: needs_db.Summary
    musters: Musters
    units: int = 0
    people: int = 0  # on a unit's roster at the year's end (registered or imported, not left)
    registered: int = 0  # of them, registered with the bot by then
    held: dict[str, int] = field(default_factory=dict)  # activities held, by kind
    tasks: list[WorkTask] = field(default_factory=list)
    # Quarters of the year over by `as_of` (a duty missed in the running one is not yet missed).
    quarters_ended: int = 4

    @property
    def activities_held(self) -> int:
        return sum(self.held.values())


async def work_plan_tasks(
    session: AsyncSession,
    year: int,
    zone: ZoneInfo,
    now: dt.datetime,
    add_workdays: tasks_db.AddWorkdays,
) -> list[WorkTask]:
    """The year's work plan tasks (工作要点), each in the state its countable target shows in
    the records (the year so far; a quarterly task, its last quarter so far). A task without
    one is as its owner last reviewed it (评估问效), with their note; unreviewed before."""
    today = now.astimezone(zone).date()
    last = rules.quarter_of(today) if today.year == year else Period(year, 4)
    reviewed = await reviews_db.reviews(session, year)
    found: list[WorkTask] = []
    for task in await tasks_db.tasks(session, year):
        period = tasks_db.period_of(task, last)
        measured = await tasks_db.measure(session, task, period, zone, now, add_workdays)
        title = (task.number or "") + task.title
        if measured is not None:
            found.append(WorkTask(title, measured.state, target=task.target, measured=measured))
            continue
        latest = reviews_db.standing(reviewed, task, last.quarter or 4, carried=True)
        if latest is None:
            found.append(WorkTask(title, "unreviewed"))
        else:
            found.append(WorkTask(title, latest.state or "", note=latest.note or ""))
    return found


async def gather(
    session: AsyncSession,
    year: int,
    zone: ZoneInfo,
    now: dt.datetime,
    add_workdays: tasks_db.AddWorkdays,
) -> YearFacts:
    """Everything the draft of `year` states, as the records are at `now` (`add_workdays`:
    the working-day calendar, for targets counted in working days)."""
    period = Period(year)
    start, end = period.bounds(zone)
    report = await reports_db.build(session, period, zone, now)
    facts = YearFacts(
        year=year,
        as_of=now,
        report=report,
        needs=await needs_db.summary(session, start, end),
        musters=await _musters(session, start, end),
        units=len(report.units),
        tasks=await work_plan_tasks(session, year, zone, now, add_workdays),
        quarters_ended=sum(q.bounds(zone)[1] <= now for q in Period(year).quarters()),
    )
    # The roster as it stood at the year's end (or now, during the year).
    at = min(end, now)
    registered = case((Member.registered_at <= at, 1))
    people = await session.execute(
        select(func.count(), func.count(registered)).where(
            members_db.expected_between(at, at), Member.unit_id.is_not(None)
        )
    )
    facts.people, facts.registered = (int(n) for n in people.one())
    held = await session.execute(
        select(Activity.kind, func.count())
        .where(
            Activity.status == "active",
            Activity.starts_at >= start,
            Activity.starts_at < end,
            Activity.ends_at <= now,
        )
        .group_by(Activity.kind)
    )
    counts = {kind: int(n) for kind, n in held.all()}
    facts.held = {kind: counts.get(kind, 0) for kind in KINDS}
    return facts


async def _musters(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> Musters:
    in_year = (Muster.created_at >= start, Muster.created_at < end)
    calls, wanted = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Muster.need), 0)).where(*in_year)
        )
    ).one()
    confirmed, people = (
        await session.execute(
            select(func.count(), func.count(func.distinct(MusterAnswer.member_id)))
            .select_from(MusterAnswer)
            .join(Muster, Muster.id == MusterAnswer.muster_id)
            .where(*in_year, MusterAnswer.status == "confirmed")
        )
    ).one()
    return Musters(int(calls), int(wanted), int(confirmed), int(people))
