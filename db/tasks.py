"""The work plan's tasks (工作要点): what the committee set out to do in a year, who owns each,
how often it is due, and — where the bot's own records can tell — whether it is met.

A task's owner is the committee, a unit (its lead answers for it) or one person. Its cadence
is once (by a date), each quarter, each year, or ongoing. A countable target is read from the
records of the period (the quarter for a quarterly task, the year otherwise):
- `study ≥ n`: every unit held n study sessions;
- `meeting ≥ n`, `unity ≥ n`, `volunteer ≥ n`: that many such activities held;
- `needs ≤ n`: every need of the period answered within n working days.
Met: 已完成; still reachable with what is scheduled (or a need not yet late): 推进中; else 未开展.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import members as members_db
from db import rules
from db.errors import Refusal
from db.imports import Counted
from db.models import (
    TASK_CADENCES,
    TASK_TARGETS,
    Activity,
    Member,
    Need,
    NeedEvent,
    Unit,
    WorkTask,
)
from db.rules import Period

MAX_TITLE = 256
MAX_NUMBER = 16
ADDABLE = ("number", "owner", "cadence", "due", "target")
EDITABLE = ("title", *ADDABLE)
STATES = ("done", "in_progress", "open")
COMMITTEE_WORDS = ("青工委", "committee", "委员会")
CADENCE_WORDS: dict[str, str] = {
    "一次": "once",
    "一次性": "once",
    "每季度": "quarterly",
    "季度": "quarterly",
    "每年": "yearly",
    "年度": "yearly",
    "长期": "ongoing",
    "持续": "ongoing",
    "经常性": "ongoing",
} | {cadence: cadence for cadence in TASK_CADENCES}
TARGET_WORDS: dict[str, str] = {
    "学习": "study",
    "理论学习": "study",
    "会议": "meeting",
    "青工委会议": "meeting",
    "民族团结": "unity",
    "志愿": "volunteer",
    "志愿服务": "volunteer",
    "诉求": "needs",
    "办实事": "needs",
    "无": "none",
    "off": "none",
} | {target: target for target in TASK_TARGETS}
# `志愿≥4`, `volunteer>=4`, `诉求≤15`, `民族团结 1`: a target's kind and its number.
_TARGET = re.compile(r"^\s*([^\d\s<>=≥≤]+?)\s*(?:>=|≥|<=|≤|=)?\s*(\d{1,3})?\s*$")
_WORKDAY_LIMIT = 60  # `needs ≤ n`: at most this many working days


@dataclass(frozen=True)
class Owner:
    kind: str  # committee, unit, person
    unit: Unit | None = None
    member: Member | None = None


def parse_cadence(raw: str) -> str:
    cadence = CADENCE_WORDS.get(raw.strip().lower())
    if cadence is None:
        raise Refusal("task_cadence_invalid", text=raw[:20])
    return cadence


def parse_target(raw: str) -> tuple[str, int | None]:
    """`志愿≥4` → (volunteer, 4); `无` → (none, None). A number is needed for a target."""
    match = _TARGET.match(raw)
    target = TARGET_WORDS.get(match[1].strip().lower()) if match else None
    if match is None or target is None:
        raise Refusal("task_target_invalid", text=raw[:20])
    if target == "none":
        return target, None
    count = int(match[2]) if match[2] else 1
    limit = _WORKDAY_LIMIT if target == "needs" else 99
    if not 1 <= count <= limit:
        raise Refusal("task_target_invalid", text=raw[:20])
    return target, count


async def parse_owner(session: AsyncSession, raw: str, chosen: Member | None) -> Owner:
    """青工委, a unit's name, or a person (@username, ID or name; `chosen` among namesakes)."""
    if chosen is not None:
        return Owner("person", member=chosen)
    text = raw.strip()
    if text.lower() in COMMITTEE_WORDS:
        return Owner("committee")
    unit = await session.scalar(select(Unit).where(func.lower(Unit.name) == text.lower()))
    if unit is not None:
        return Owner("unit", unit=unit)
    try:
        return Owner("person", member=await members_db.find_member(session, text))
    except Refusal as refused:
        if refused.key != "member_unknown_name":
            raise
        raise Refusal("task_owner_unknown", text=text[:32]) from None


def _options(words: list[str], known: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    return rules.known_options(words, known, {"deadline": "due"})


def _title(raw: str) -> str:
    return rules.clean_text(raw, MAX_TITLE, "task_title_invalid")


def _number(raw: str) -> str | None:
    return rules.clean_text(raw, MAX_NUMBER, "task_number_invalid") if raw.strip() else None


def _set_owner(task: WorkTask, owner: Owner) -> None:
    task.owner_kind = owner.kind
    task.owner_unit_id = owner.unit.id if owner.unit is not None else None
    task.owner_member_id = owner.member.id if owner.member is not None else None


def _check(task: WorkTask) -> None:
    """A task due once needs its date, in its year; only a task due once has one."""
    if task.cadence == "once" and task.due is None:
        raise Refusal("task_due_missing")
    if task.cadence != "once":
        task.due = None
    if task.due is not None and task.due.year != task.year:
        raise Refusal("task_due_other_year", year=task.year)


async def _apply(
    session: AsyncSession,
    task: WorkTask,
    options: dict[str, str],
    today: dt.date,
    chosen: Member | None,
) -> None:
    if "title" in options:
        task.title = _title(options["title"])
    if "number" in options:
        task.number = _number(options["number"])
    if "owner" in options or chosen is not None:
        _set_owner(task, await parse_owner(session, options.get("owner", ""), chosen))
    if "cadence" in options:
        task.cadence = parse_cadence(options["cadence"])
    if "due" in options:
        task.due = rules.parse_date(options["due"], today)
        if "cadence" not in options:
            task.cadence = "once"
    if "target" in options:
        task.target, task.target_count = parse_target(options["target"])
    _check(task)


async def add(
    session: AsyncSession,
    words: list[str],
    creator: Member,
    today: dt.date,
    now: dt.datetime,
    chosen: Member | None = None,
) -> WorkTask:
    """`/task add YYYY 标题 负责=… [编号=…] [周期=…] [截止=日期] [目标=…]`."""
    if len(words) < 2:
        raise Refusal("task_usage")
    year = rules.parse_period(words[0], today)
    if year.quarter is not None:
        raise Refusal("task_year_invalid", text=words[0][:20])
    free, options = _options(words[1:], ADDABLE)
    if not free:
        raise Refusal("task_usage")
    if "owner" not in options and chosen is None:
        raise Refusal("task_owner_missing")
    task = WorkTask(
        year=year.year,
        title=_title(" ".join(free)),
        cadence="yearly",
        target="none",
        created_by=creator.id,
        created_at=now,
    )
    await _apply(session, task, options, today, chosen)
    session.add(task)
    await session.flush()
    return task


async def get(session: AsyncSession, task_id: int) -> WorkTask:
    task = await session.get(WorkTask, task_id)
    if task is None:
        raise Refusal("task_unknown", id=task_id)
    return task


async def edit(
    session: AsyncSession,
    task_id: int,
    words: list[str],
    today: dt.date,
    chosen: Member | None = None,
) -> WorkTask:
    free, options = _options(words, EDITABLE)
    if free or not options:
        raise Refusal("task_edit_usage")
    task = await get(session, task_id)
    await _apply(session, task, options, today, chosen)
    await session.flush()
    return task


async def delete_task(session: AsyncSession, task_id: int) -> WorkTask:
    task = await get(session, task_id)
    await session.delete(task)
    await session.flush()
    return task


async def tasks(session: AsyncSession, year: int) -> list[WorkTask]:
    return list(
        await session.scalars(select(WorkTask).where(WorkTask.year == year).order_by(WorkTask.id))
    )


def period_of(task: WorkTask, quarter: Period) -> Period:
    """The period a task's target is counted in: the quarter for a quarterly task, else the
    year so far."""
    return quarter if task.cadence == "quarterly" else Period(quarter.year)


@dataclass(frozen=True)
class Measured:
    """A countable target as the records show it: its state and the figure behind it."""

    state: str  # one of STATES
    value: int  # held so far (a count), or the needs answered late (needs)
    scheduled: int = 0  # still to come (a count), or the needs not answered yet (needs)


AddWorkdays = Callable[[dt.date, int], dt.date]  # a day and n → the n-th working day after


async def measure(
    session: AsyncSession,
    task: WorkTask,
    period: Period,
    zone: ZoneInfo,
    now: dt.datetime,
    add_workdays: AddWorkdays,
) -> Measured | None:
    """`task`'s countable target in `period`; None for a task without one."""
    if task.target == "none" or task.target_count is None:
        return None
    start, end = period.bounds(zone)
    goal = task.target_count
    if task.target == "needs":
        return await _needs(session, start, end, zone, now, goal, add_workdays)
    kind = task.target
    rows = await session.execute(
        select(Activity.unit_id, Activity.ends_at).where(
            Activity.kind == kind,
            Activity.status == "active",
            Activity.starts_at >= start,
            Activity.starts_at < end,
        )
    )
    found: Counter[tuple[int | None, bool]] = Counter(
        (unit_id, ends_at <= now) for unit_id, ends_at in rows.all()
    )
    counted = [(unit_id, held, n) for (unit_id, held), n in found.items()]
    if kind == "study":  # every unit: the one furthest behind decides
        units = await members_db.list_units(session)
        if not units:
            return Measured("open", 0)
        held = min(_count(counted, u.id, True) for u in units)
        reachable = min(_count(counted, u.id, True) + _count(counted, u.id, False) for u in units)
    else:
        held = sum(n for _, is_held, n in counted if is_held)
        reachable = sum(n for _, _, n in counted)
    state = "done" if held >= goal else "in_progress" if reachable >= goal else "open"
    return Measured(state, held, reachable - held)


async def measure_each(
    session: AsyncSession,
    tasks: list[WorkTask],
    quarter: Period,
    zone: ZoneInfo,
    now: dt.datetime,
    add_workdays: AddWorkdays,
) -> dict[int, Measured]:
    """Each countable task's target at `quarter` (in its period: the quarter, or the year so
    far), by task id; tasks without one are left out."""
    found = {}
    for task in tasks:
        period = period_of(task, quarter)
        measured = await measure(session, task, period, zone, now, add_workdays)
        if measured is not None:
            found[task.id] = measured
    return found


def _count(counted: list[tuple[int | None, bool, int]], unit_id: int, held: bool) -> int:
    """Study sessions of `unit_id` (its own, and those for every unit) held or to come."""
    return sum(n for u, h, n in counted if h == held and u in (None, unit_id))


async def _needs(
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    zone: ZoneInfo,
    now: dt.datetime,
    days: int,
    add_workdays: AddWorkdays,
) -> Measured:
    """Every need received in [start, end) answered (a reply or a status change) within
    `days` working days of its arrival: done; one not answered and not late yet: in progress;
    one late (answered late, or not answered by its day): open."""
    first = (
        select(NeedEvent.need_id, func.min(NeedEvent.at).label("at"))
        .where(NeedEvent.kind.in_(("reply", "status")))
        .group_by(NeedEvent.need_id)
        .subquery()
    )
    rows = await session.execute(
        select(Need.created_at, first.c.at)
        .outerjoin(first, first.c.need_id == Need.id)
        .where(Need.created_at >= start, Need.created_at < end)
    )
    late = waiting = 0
    today = now.astimezone(zone).date()
    for created, answered in rows.all():
        due = add_workdays(created.astimezone(zone).date(), days)
        if answered is None:
            if today > due:
                late += 1
            else:
                waiting += 1
        elif answered.astimezone(zone).date() > due:
            late += 1
    state = "open" if late else "in_progress" if waiting else "done"
    return Measured(state, late, waiting)


# ------------------------------------------------------------------------------ import
# What a row of an imported task list sets (its whole state, as /task add would).
_COPIED = (
    "year",
    "number",
    "title",
    "owner_kind",
    "owner_unit_id",
    "owner_member_id",
    "cadence",
    "due",
    "target",
    "target_count",
)


@dataclass(frozen=True)
class TaskRow:
    """A row of an imported task list, as written: its row number and each column's text."""

    row: int
    id: str = ""  # an existing task to update; empty: matched by year and title, else new
    year: str = ""
    number: str = ""
    title: str = ""
    owner: str = ""
    cadence: str = ""
    due: str = ""
    target: str = ""


async def _wanted(session: AsyncSession, row: TaskRow, today: dt.date) -> WorkTask:
    """The task a row describes, checked as /task add checks it; not in the session."""
    year = rules.parse_period(row.year, today) if row.year.strip() else None
    if year is None or year.quarter is not None:
        raise Refusal("task_year_invalid", text=row.year[:20])
    if not row.owner.strip():
        raise Refusal("task_owner_missing")
    options = {"title": row.title, "owner": row.owner, "number": row.number}
    options |= {"cadence": row.cadence or ("once" if row.due.strip() else "yearly")}
    if row.due.strip():
        options["due"] = row.due
    options["target"] = row.target or "none"
    wanted = WorkTask(year=year.year)
    try:
        await _apply(session, wanted, options, today, None)
    except members_db.Ambiguous as namesakes:  # no buttons to choose from in a file
        raise Refusal("task_import_namesakes", **namesakes.params) from None
    return wanted


async def import_tasks(
    session: AsyncSession,
    rows: list[TaskRow],
    creator: Member,
    today: dt.date,
    now: dt.datetime,
    *,
    write: bool,
) -> Counted:
    """Each row a task: the one its 编号 names, else the year's task of that title, else a
    new one. With `write` False only counts what would happen (the preview). A row that
    cannot be taken (no year or owner, an unknown unit, person, cadence, target or 编号, a
    repeat) is listed with why; the others are still taken."""
    done = Counted()
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        try:
            wanted = await _wanted(session, row, today)
            first = seen.setdefault((wanted.year, wanted.title.casefold()), row.row)
            if first != row.row:
                raise Refusal("task_import_repeated", first=first)
            task = await _match(session, row, wanted)
            if task is None:
                done.new += 1
                if write:
                    wanted.created_by, wanted.created_at = creator.id, now
                    session.add(wanted)
                continue
            if task.year != wanted.year:
                raise Refusal("task_import_other_year", id=task.id, year=task.year)
            if all(getattr(task, name) == getattr(wanted, name) for name in _COPIED):
                done.unchanged += 1
                continue
            if write:
                for name in _COPIED:
                    setattr(task, name, getattr(wanted, name))
            done.updated += 1
        except Refusal as refused:
            done.errors.append((row.row, refused))
    if write:
        await session.flush()
    return done


async def _match(session: AsyncSession, row: TaskRow, wanted: WorkTask) -> WorkTask | None:
    if row.id.strip():
        task = await session.get(WorkTask, rules.parse_id(row.id))
        if task is None:
            raise Refusal("task_import_unknown_id", id=row.id.strip()[:12])
        return task
    return await session.scalar(
        select(WorkTask)
        .where(WorkTask.year == wanted.year, func.lower(WorkTask.title) == wanted.title.lower())
        .order_by(WorkTask.id)
        .limit(1)
    )
