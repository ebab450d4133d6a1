"""What goes into the ledger (台账), streamed in chunks so a year of data stays small in memory.

Each function yields lists of plain tuples (no ORM rows, no texts): codes such as `present` or
`confirmed` are turned into words by the caller (render.ledger), which writes the workbook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db import members as members_db
from db import reports as reports_db
from db.models import (
    Acknowledgement,
    Activity,
    ActivityPhoto,
    Approval,
    Attendance,
    Member,
    Notice,
    Signup,
    Unit,
)

CHUNK = 2000
Rows = AsyncIterator[list[tuple[Any, ...]]]
Query = Select[*tuple[Any, ...]]


def person_at_activity(member_unit: type[Unit]) -> tuple[Any, ...]:
    """The first columns of a row per person per activity (render.ledger reads them so)."""
    return (
        Activity.id,
        Activity.title,
        Activity.starts_at,
        member_unit.name,
        Member.real_name,
        Member.first_name,
    )


PERSON_AT_ACTIVITY = len(person_at_activity(Unit))


def _of_unit(stmt: Query, unit_id: int | None) -> Query:
    """Only the people of one unit (a unit lead's ledger), or everyone's."""
    return stmt if unit_id is None else stmt.where(Member.unit_id == unit_id)


def _in_period(start: dt.datetime, end: dt.datetime, unit_id: int | None) -> list[Any]:
    """Activities that started in the period (for one unit: its own and everyone's)."""
    where = [Activity.starts_at >= start, Activity.starts_at < end]
    if unit_id is not None:
        where.append(or_(Activity.unit_id.is_(None), Activity.unit_id == unit_id))
    return where


def activities(start: dt.datetime, end: dt.datetime, unit_id: int | None) -> Query:
    """活动: each activity that started in the period, with its unit's name and photo count."""
    photos = (
        select(func.count())
        .select_from(ActivityPhoto)
        .where(ActivityPhoto.activity_id == Activity.id)
        .scalar_subquery()
    )
    return (
        select(
            Activity.id,
            Activity.kind,
            Activity.title,
            Unit.name,
            Activity.starts_at,
            Activity.ends_at,
            Activity.place,
            Activity.status,
            Activity.minutes,
            photos,
        )
        .outerjoin(Unit, Unit.id == Activity.unit_id)
        .where(*_in_period(start, end, unit_id))
        .order_by(Activity.starts_at, Activity.id)
    )


def ended_in_period(
    start: dt.datetime, end: dt.datetime, now: dt.datetime, unit_id: int | None
) -> list[Any]:
    """Activities whose answers the ledger lists: not volunteering, not cancelled, ended."""
    return [
        *_in_period(start, end, unit_id),
        Activity.kind != "volunteer",
        Activity.status == "active",
        Activity.ends_at <= now,
    ]


def attendance(
    start: dt.datetime, end: dt.datetime, now: dt.datetime, unit_id: int | None
) -> Query:
    """签到明细: one row per expected person per activity that ended (not volunteering)."""
    member_unit = aliased(Unit)
    stmt: Query = (
        select(
            *person_at_activity(member_unit),
            Member.registered_at.is_not(None),
            Attendance.status,
            Attendance.at,
            Attendance.reason,
            Attendance.makeup,
        )
        .select_from(Activity)
        .join(Member, reports_db.expected())
        .outerjoin(member_unit, member_unit.id == Member.unit_id)
        .outerjoin(
            Attendance,
            and_(Attendance.activity_id == Activity.id, Attendance.member_id == Member.id),
        )
        .where(*ended_in_period(start, end, now, unit_id))
        .order_by(Activity.starts_at, Activity.id, member_unit.id, Member.real_name, Member.id)
    )
    return _of_unit(stmt, unit_id)


def approvals(start: dt.datetime, end: dt.datetime, unit_id: int | None) -> Query:
    """审批记录: every leave or 补签 request for an activity of the period, and its decision."""
    member_unit = aliased(Unit)
    decider = aliased(Member)
    stmt: Query = (
        select(
            *person_at_activity(member_unit),
            Approval.kind,
            Approval.reason,
            Approval.status,
            Approval.created_at,
            decider.real_name,
            decider.first_name,
            Approval.decided_at,
        )
        .select_from(Approval)
        .join(Activity, Activity.id == Approval.activity_id)
        .join(Member, Member.id == Approval.member_id)
        .outerjoin(member_unit, member_unit.id == Member.unit_id)
        .outerjoin(decider, decider.id == Approval.decided_by)
        .where(*_in_period(start, end, unit_id))
        .order_by(Activity.starts_at, Activity.id, Approval.created_at, Approval.id)
    )
    return _of_unit(stmt, unit_id)


def volunteering(start: dt.datetime, end: dt.datetime, unit_id: int | None) -> Query:
    """志愿服务: one row per sign-up to a volunteer activity that started in the period."""
    member_unit = aliased(Unit)
    checked_in = (
        select(func.count())
        .select_from(Attendance)
        .where(
            Attendance.activity_id == Signup.activity_id,
            Attendance.member_id == Signup.member_id,
            Attendance.status != "leave",
        )
        .scalar_subquery()
    )
    stmt: Query = (
        select(
            *person_at_activity(member_unit),
            Signup.status,
            checked_in,
            Member.id,
        )
        .join(Signup, Signup.activity_id == Activity.id)
        .join(Member, Member.id == Signup.member_id)
        .outerjoin(member_unit, member_unit.id == Member.unit_id)
        .where(Activity.kind == "volunteer", Activity.status == "active")
        .where(Activity.starts_at >= start, Activity.starts_at < end)
        .order_by(Activity.starts_at, Activity.id, Signup.id)
    )
    return _of_unit(stmt, unit_id)


def receipts(start: dt.datetime, end: dt.datetime, unit_id: int | None) -> Query:
    """通知回执: one row per person each notice of the period was meant for."""
    member_unit = aliased(Unit)
    meant = and_(
        members_db.on_roster(),
        members_db.not_gone_by(Notice.created_at),
        or_(Notice.target != "unit", Member.unit_id == Notice.unit_id),
    )
    stmt: Query = (
        select(
            Notice.id,
            Notice.created_at,
            Notice.text,
            member_unit.name,
            Member.real_name,
            Member.first_name,
            Member.registered_at.is_not(None),
            Acknowledgement.at,
        )
        .select_from(Notice)
        .join(Member, meant)
        .outerjoin(member_unit, member_unit.id == Member.unit_id)
        .outerjoin(
            Acknowledgement,
            and_(Acknowledgement.notice_id == Notice.id, Acknowledgement.member_id == Member.id),
        )
        .where(Notice.status == "active", Notice.created_at >= start, Notice.created_at < end)
        .order_by(Notice.created_at, Notice.id, member_unit.id, Member.real_name, Member.id)
    )
    return _of_unit(stmt, unit_id)


def roster(unit_id: int | None) -> Query:
    """成员: the roster, registered and imported, by unit then name."""
    stmt: Query = (
        select(
            Member.id,
            Member.real_name,
            Member.first_name,
            Unit.name,
            Member.title,
            Member.username,
            Member.registered_at,
            Member.imported_at,
        )
        .outerjoin(Unit, Unit.id == Member.unit_id)
        .where(members_db.on_roster(), Member.erased_at.is_(None))
        .order_by(Unit.id, Member.real_name, Member.id)
    )
    return _of_unit(stmt, unit_id)


async def stream(session: AsyncSession, stmt: Query) -> Rows:
    """The rows of `stmt`, CHUNK at a time (a server-side cursor on PostgreSQL)."""
    result = await session.stream(stmt.execution_options(yield_per=CHUNK))
    async for partition in result.partitions(CHUNK):
        yield [tuple(row) for row in partition]


def first_line(text: str, limit: int = 60) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"
