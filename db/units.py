"""Units (分组 / 单位): adding several at once, removing one nobody belongs to, merging one
into another with its people and history."""

from __future__ import annotations

import re

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.errors import Refusal
from db.members import MAX_UNIT, clean_name, unit_by_name
from db.models import (
    Activity,
    Chat,
    JoinRequest,
    Member,
    Muster,
    Notice,
    OneOffReminder,
    PlanItemUnit,
    Unit,
    UnitTopic,
    WorkTask,
    utcnow,
)
from db.sql import insert_ignore

# What a unit's history is written in: these rows move with a merge and keep a unit from being
# removed.
HISTORY: tuple[InstrumentedAttribute[int | None], ...] = (
    Activity.unit_id,
    Notice.unit_id,
    OneOffReminder.unit_id,
    Muster.unit_id,
    JoinRequest.unit_id,
    WorkTask.owner_unit_id,
)
PEOPLE: tuple[InstrumentedAttribute[int | None], ...] = (Member.unit_id, Member.lead_unit_id)
MAX_AT_ONCE = 30

# “康复 中心”, "康复 中心" or 「康复 中心」 keep their space; otherwise spaces, 、，,;； separate.
_NAMES = re.compile(r"[“\"「『]([^”\"」』]*)[”\"」』]|([^\s、，,;；“\"「『]+)")


def split_names(text: str) -> list[str]:
    """`/unit add`'s words → the unit names, in order, without repeats."""
    names: list[str] = []
    for quoted, plain in _NAMES.findall(text):
        name = " ".join((quoted or plain).split())
        if name and name.lower() not in (n.lower() for n in names):
            names.append(name)
    return names


async def add_units(session: AsyncSession, text: str) -> tuple[list[str], list[str]]:
    """Each name in `text` its own unit: (added, already there). Every name is checked before
    any is added, so a wrong one changes nothing."""
    names = [clean_name(name, MAX_UNIT) for name in split_names(text)]
    if not names or len(names) > MAX_AT_ONCE:
        raise Refusal("unit_usage")
    added: list[str] = []
    existing: list[str] = []
    for name in names:
        there = await session.scalar(select(Unit.name).where(func.lower(Unit.name) == name.lower()))
        # Two committee members adding the same unit at once: the second finds it taken.
        if there is None and await insert_ignore(session, Unit, name=name, created_at=utcnow()):
            added.append(name)
        else:
            existing.append(there or name)
    return added, existing


async def _locked(session: AsyncSession, name: str) -> Unit:
    unit = await unit_by_name(session, name)
    await session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    return unit


async def _count(
    session: AsyncSession, columns: tuple[InstrumentedAttribute[int | None], ...], unit_id: int
) -> int:
    total = 0
    for column in columns:
        total += (
            await session.scalar(
                select(func.count()).select_from(column.class_).where(column == unit_id)
            )
            or 0
        )
    return total


async def delete_unit(session: AsyncSession, name: str) -> str:
    """Remove a unit nobody belongs to and no record names; its group or topic is unbound."""
    unit = await _locked(session, name)
    people = (
        await session.scalar(
            select(func.count()).where(
                or_(Member.unit_id == unit.id, Member.lead_unit_id == unit.id)
            )
        )
        or 0
    )
    records = await _count(session, HISTORY, unit.id)
    records += (
        await session.scalar(
            select(func.count()).select_from(PlanItemUnit).where(PlanItemUnit.unit_id == unit.id)
        )
        or 0
    )
    if people or records:
        raise Refusal("unit_in_use", name=unit.name, people=people, records=records)
    await _unbind(session, unit.id)
    await session.execute(delete(Unit).where(Unit.id == unit.id))
    return unit.name


async def _unbind(session: AsyncSession, unit_id: int) -> None:
    await session.execute(delete(UnitTopic).where(UnitTopic.unit_id == unit_id))
    await session.execute(delete(Chat).where(Chat.unit_id == unit_id))


async def merge_units(session: AsyncSession, old: str, new: str) -> tuple[str, Unit, int]:
    """Move `old`'s people, leads, activities, notices, reminders, rapid calls, requests and plan
    items to
    `new`, then remove `old`: (old's name, the unit kept, how many people moved). `old`'s group
    or topic passes to `new` when `new` has none; otherwise it is unbound."""
    source = await unit_by_name(session, old)
    target = await unit_by_name(session, new)
    if source.id == target.id:
        raise Refusal("unit_merge_same", name=source.name)
    for unit in sorted((source, target), key=lambda u: u.id):  # one lock order: no deadlock
        await session.execute(select(Unit.id).where(Unit.id == unit.id).with_for_update())
    moved = (
        await session.scalar(
            select(func.count()).select_from(Member).where(Member.unit_id == source.id)
        )
        or 0
    )
    # The plan items listing both keep one line; the others now list the unit kept.
    both = select(PlanItemUnit.plan_item_id).where(PlanItemUnit.unit_id == target.id)
    await session.execute(
        delete(PlanItemUnit).where(
            PlanItemUnit.unit_id == source.id, PlanItemUnit.plan_item_id.in_(both)
        )
    )
    await session.execute(
        update(PlanItemUnit).where(PlanItemUnit.unit_id == source.id).values(unit_id=target.id)
    )
    for column in (*PEOPLE, *HISTORY):
        await session.execute(
            update(column.class_).where(column == source.id).values({column.key: target.id})
        )
    for model in (Chat, UnitTopic):
        has = await session.scalar(
            select(func.count()).select_from(model).where(model.unit_id == target.id)
        )
        if not has:
            await session.execute(
                update(model).where(model.unit_id == source.id).values(unit_id=target.id)
            )
    await _unbind(session, source.id)
    name = source.name
    await session.execute(delete(Unit).where(Unit.id == source.id))
    return name, target, moved
