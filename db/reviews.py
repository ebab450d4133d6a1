"""评估问效: each quarter the owners of the work plan's tasks say where each stands.

In the quarter's last working days every task due for review goes to whoever answers for it
(`answerers`): its person; a unit's lead(s); the committee for its own tasks, and for a unit
without a lead or a person who left. One tap records 已完成 / 推进中 / 未开展; a note and
photos or files may follow as evidence. A task with a countable target is not asked for a
state (the records tell it, see db.tasks.measure): its owner only adds a note. The latest
answer stands, with who gave it and when; the committee may answer for any task.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import members as members_db
from db import rules
from db import tasks as tasks_db
from db.errors import Refusal
from db.models import REVIEW_STATES, Member, TaskEvidence, TaskReview, WorkTask
from db.rules import Period
from db.sql import insert_ignore, upsert

MAX_NOTE = 2000
MAX_EVIDENCE = 20


def counted(task: WorkTask) -> bool:
    """The records tell this task's state: its owner only adds a note."""
    return task.target != "none" and task.target_count is not None


async def due(
    session: AsyncSession, quarter: Period, listed: list[WorkTask] | None = None
) -> list[WorkTask]:
    """The tasks of the quarter's year (or of `listed`) to review in it: each quarterly or
    ongoing one every quarter; one due once or yearly until it was reported 已完成 in an
    earlier quarter."""
    assert quarter.quarter is not None
    finished = set(
        await session.scalars(
            select(TaskReview.task_id).where(
                TaskReview.year == quarter.year,
                TaskReview.quarter < quarter.quarter,
                TaskReview.state == "done",
            )
        )
    )
    if listed is None:
        listed = await tasks_db.tasks(session, quarter.year)
    return [
        task
        for task in listed
        if task.cadence in ("quarterly", "ongoing") or task.id not in finished
    ]


def _present(member: Member | None) -> bool:
    return member is not None and member.left_at is None and member.erased_at is None


async def answerers(session: AsyncSession, task: WorkTask, committee: list[Member]) -> list[Member]:
    """Who is asked about `task`: its person, its unit's lead(s), else the committee."""
    if task.owner_kind == "person" and task.owner_member_id is not None:
        person = await session.get(Member, task.owner_member_id)
        if person is not None and _present(person):
            return [person]
    if task.owner_kind == "unit" and task.owner_unit_id is not None:
        leads = list(
            await session.scalars(
                select(Member)
                .where(
                    Member.lead_unit_id == task.owner_unit_id,
                    Member.left_at.is_(None),
                    Member.erased_at.is_(None),
                )
                .order_by(Member.id)
            )
        )
        if leads:
            return leads
    return committee


def may_answer(member: Member, task: WorkTask, is_admin: bool) -> bool:
    """Checked on every press: the committee, the task's person, or its unit's lead."""
    if is_admin:
        return True
    if task.owner_kind == "person":
        return task.owner_member_id == member.id
    if task.owner_kind == "unit":
        return task.owner_unit_id is not None and member.lead_unit_id == task.owner_unit_id
    return False


async def _open(
    session: AsyncSession,
    task_id: int,
    quarter: Period,
    member: Member,
    is_admin: bool,
    today: dt.date,
) -> WorkTask:
    """The task, if `member` may answer for it in `quarter` (one of its year, begun)."""
    task = await tasks_db.get(session, task_id)
    if not may_answer(member, task, is_admin):
        raise Refusal("review_not_owner", id=task.id)
    if quarter.quarter is None or quarter.year != task.year:
        raise Refusal("review_other_year", id=task.id, year=task.year)
    if quarter.days()[0] > today:
        raise Refusal("review_not_yet", quarter=quarter.key)
    return task


async def _review(
    session: AsyncSession, task_id: int, quarter: Period, *, lock: bool = False
) -> TaskReview | None:
    """The task's review in `quarter`; `lock`: held until the commit (a note or a file added
    by two people at once, on PostgreSQL, must not lose one)."""
    stmt = (
        select(TaskReview)
        .where(
            TaskReview.task_id == task_id,
            TaskReview.year == quarter.year,
            TaskReview.quarter == quarter.quarter,
        )
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt.with_for_update() if lock else stmt)


async def _record(
    session: AsyncSession,
    task: WorkTask,
    quarter: Period,
    state: str | None,
    member: Member,
    now: dt.datetime,
) -> None:
    await upsert(
        session,
        TaskReview,
        ["task_id", "year", "quarter"],
        task_id=task.id,
        year=quarter.year,
        quarter=quarter.quarter,
        state=state,
        reported_by=member.id,
        reported_at=now,
    )


async def answer(
    session: AsyncSession,
    task_id: int,
    quarter: Period,
    state: str,
    member: Member,
    is_admin: bool,
    now: dt.datetime,
    today: dt.date,
) -> WorkTask:
    """Record `state` for the task in `quarter`; a second answer replaces the first, and the
    note and evidence stay. A counted task takes no state (the records tell it)."""
    task = await _open(session, task_id, quarter, member, is_admin, today)
    if counted(task) or state not in REVIEW_STATES:
        raise Refusal("button_invalid")
    await _record(session, task, quarter, state, member, now)
    return task


async def begin_note(
    session: AsyncSession,
    task_id: int,
    quarter: Period,
    member: Member,
    is_admin: bool,
    now: dt.datetime,
    today: dt.date,
) -> tuple[WorkTask, TaskReview]:
    """补充说明: the note and evidence may follow. A counted task's review is recorded here
    (its state comes from the records); any other task needs its state first."""
    task = await _open(session, task_id, quarter, member, is_admin, today)
    review = await _review(session, task.id, quarter)
    if review is None and not counted(task):
        raise Refusal("review_unknown")
    if review is None:
        await _record(session, task, quarter, None, member, now)
        review = await _review(session, task.id, quarter)
        assert review is not None
    return task, review


def standing(
    found: Mapping[tuple[int, int], Reviewed],
    task: WorkTask,
    quarter: int,
    *,
    carried: bool | None = None,
) -> TaskReview | None:
    """The owner's answer that stands for `task` at `quarter`: the latest with a state up to
    it (a yearly task reported 已完成 in Q2 is not asked again, and stays so); for a task due
    each quarter, that quarter's only, unless `carried` (the year-end summary: its latest)."""
    if carried is None:
        carried = task.cadence != "quarterly"
    quarters = range(quarter, 0, -1) if carried else [quarter]
    for number in quarters:
        reviewed = found.get((task.id, number))
        if reviewed is not None and reviewed.review.state is not None:
            return reviewed.review
    return None


async def add_note(
    session: AsyncSession,
    task_id: int,
    quarter: Period,
    text: str,
    member: Member,
    is_admin: bool,
    now: dt.datetime,
    today: dt.date,
) -> TaskReview:
    """A note for the review (each message adds a paragraph); its author becomes the
    reporter."""
    task = await _open(session, task_id, quarter, member, is_admin, today)
    review = await _review(session, task.id, quarter, lock=True)
    if review is None:
        raise Refusal("review_unknown")
    paragraph = rules.clean_multiline(text, MAX_NOTE, "review_note_empty")
    note = f"{review.note}\n{paragraph}" if review.note else paragraph
    if len(note) > MAX_NOTE:
        raise Refusal("review_note_too_long", limit=MAX_NOTE)
    review.note, review.reported_by, review.reported_at = note, member.id, now
    await session.flush()
    return review


async def add_evidence(
    session: AsyncSession,
    task_id: int,
    quarter: Period,
    kind: str,
    file: tuple[str, str, str | None],
    member: Member,
    is_admin: bool,
    now: dt.datetime,
    today: dt.date,
) -> int:
    """Keep a photo or file (`file`: its id, unique id and name) for the review; how many
    it has now (the same file twice is kept once)."""
    task = await _open(session, task_id, quarter, member, is_admin, today)
    review = await _review(session, task.id, quarter, lock=True)
    if review is None:
        raise Refusal("review_unknown")
    count = await _evidence_count(session, review.id)
    if count >= MAX_EVIDENCE:
        raise Refusal("review_too_many_files", limit=MAX_EVIDENCE)
    file_id, unique_id, name = file
    added = await insert_ignore(
        session,
        TaskEvidence,
        review_id=review.id,
        kind=kind,
        file_id=file_id,
        file_unique_id=unique_id,
        file_name=(name or "")[:256] or None,
        added_by=member.id,
        at=now,
    )
    return count + int(added)


async def _evidence_count(session: AsyncSession, review_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(TaskEvidence).where(TaskEvidence.review_id == review_id)
    )
    return int(found or 0)


@dataclass(frozen=True)
class Reviewed:
    """A task's review in a quarter, as the committee reads it."""

    review: TaskReview
    reporter: Member | None
    evidence: int


async def reviews(
    session: AsyncSession, year: int, quarters: Iterable[int] = (1, 2, 3, 4)
) -> dict[tuple[int, int], Reviewed]:
    """(task id, quarter) → its review, for the year's tasks in `quarters`."""
    evidence = (
        select(TaskEvidence.review_id, func.count().label("n"))
        .group_by(TaskEvidence.review_id)
        .subquery()
    )
    rows = await session.execute(
        select(TaskReview, Member, evidence.c.n)
        .outerjoin(Member, Member.id == TaskReview.reported_by)
        .outerjoin(evidence, evidence.c.review_id == TaskReview.id)
        .where(TaskReview.year == year, TaskReview.quarter.in_(list(quarters)))
    )
    return {
        (review.task_id, review.quarter): Reviewed(review, reporter, int(n or 0))
        for review, reporter, n in rows.all()
    }


@dataclass(frozen=True)
class Line:
    """A task in a quarter's review: the records' state of a counted task, and the owner's
    answer if any."""

    task: WorkTask
    quarter: Period
    measured: tasks_db.Measured | None
    reviewed: Reviewed | None


async def table(
    session: AsyncSession,
    year: int,
    quarters: list[int],
    zone: ZoneInfo,
    now: dt.datetime,
    add_workdays: tasks_db.AddWorkdays,
    *,
    task_id: int | None = None,
    unit_id: int | None = None,
) -> list[Line]:
    """The review of `year`'s `quarters`, quarter by quarter: each task due for review in a
    quarter or reviewed in it (only `task_id`; only the tasks `unit_id` owns)."""
    listed = await tasks_db.tasks(session, year)
    if task_id is not None:
        listed = [x for x in listed if x.id == task_id]
    if unit_id is not None:
        listed = [x for x in listed if x.owner_kind == "unit" and x.owner_unit_id == unit_id]
    found = await reviews(session, year, quarters)
    lines = []
    for number in quarters:
        quarter = Period(year, number)
        asked = {x.id for x in await due(session, quarter, listed)}
        for task in listed:
            reviewed = found.get((task.id, number))
            if task.id not in asked and reviewed is None:
                continue
            period = tasks_db.period_of(task, quarter)
            measured = await tasks_db.measure(session, task, period, zone, now, add_workdays)
            lines.append(Line(task, quarter, measured, reviewed))
    return lines


async def evidence_files(
    session: AsyncSession, task_id: int, quarter: Period
) -> list[TaskEvidence]:
    review = await _review(session, task_id, quarter)
    if review is None:
        return []
    return list(
        await session.scalars(
            select(TaskEvidence)
            .where(TaskEvidence.review_id == review.id)
            .order_by(TaskEvidence.id)
        )
    )


async def committee_and_owners(
    session: AsyncSession, tasks: list[WorkTask], bootstrap: frozenset[int]
) -> dict[int, tuple[Member, list[WorkTask]]]:
    """Each person asked, with the tasks they are asked about (in the tasks' order)."""
    committee = await members_db.committee(session, bootstrap)
    asked: dict[int, tuple[Member, list[WorkTask]]] = {}
    for task in tasks:
        for person in await answerers(session, task, committee):
            asked.setdefault(person.id, (person, []))[1].append(task)
    return asked
