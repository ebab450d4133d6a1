"""Reminders: rule settings, one-off reminders, handled occurrences, and the rules' conditions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import chats as chats_db
from db import members as members_db
from db import rules
from db.errors import Refusal
from db.models import (
    Activity,
    Attendance,
    Member,
    Notice,
    OneOffReminder,
    ReminderOccurrence,
    ReminderSetting,
    Signup,
    Unit,
)
from db.sql import insert_ignore, upsert

MAX_TEXT = 1000
# The longest run of days off a group reminder may be moved back over (Spring Festival is 9).
DAYS_OFF_IN_A_ROW = dt.timedelta(days=14)


# --- settings -------------------------------------------------------------------------------


async def settings(session: AsyncSession) -> dict[str, ReminderSetting]:
    return {s.rule: s for s in await session.scalars(select(ReminderSetting))}


async def set_enabled(session: AsyncSession, rule: str, enabled: bool) -> None:
    await upsert(session, ReminderSetting, ("rule",), rule=rule, enabled=enabled)


async def set_time(session: AsyncSession, rule: str, at: dt.time) -> None:
    await upsert(session, ReminderSetting, ("rule",), rule=rule, at_time=at.strftime("%H:%M"))


# --- one-off reminders ----------------------------------------------------------------------


async def add_one_off(
    session: AsyncSession,
    at: dt.datetime,
    text: str,
    unit: Unit | None,
    by: Member,
    now: dt.datetime,
) -> OneOffReminder:
    if at <= now:
        raise Refusal("remind_in_past")
    text = rules.clean_multiline(text, MAX_TEXT, "remind_usage")
    if unit is not None and await chats_db.unit_destination(session, unit.id) is None:
        raise Refusal("unit_no_chat", unit=unit.name)
    reminder = OneOffReminder(at=at, text=text, unit_id=unit.id if unit else None, created_by=by.id)
    session.add(reminder)
    await session.flush()
    reminder.unit = unit
    return reminder


async def delete_one_off(session: AsyncSession, reminder_id: int) -> OneOffReminder:
    reminder = await session.get(OneOffReminder, reminder_id)
    if reminder is None or reminder.deleted:
        raise Refusal("remind_unknown", id=reminder_id)
    reminder.deleted = True
    return reminder


async def get_one_off(session: AsyncSession, reminder_id: int | None) -> OneOffReminder | None:
    return await session.get(OneOffReminder, reminder_id) if reminder_id is not None else None


async def one_offs(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[OneOffReminder]:
    return list(
        await session.scalars(
            select(OneOffReminder).where(
                OneOffReminder.deleted.is_(False),
                OneOffReminder.at >= start,
                OneOffReminder.at <= end,
            )
        )
    )


# --- occurrences ----------------------------------------------------------------------------


async def handled(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of `keys` were already handled (sent, skipped or missed)."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        found |= set(
            await session.scalars(
                select(ReminderOccurrence.key).where(ReminderOccurrence.key.in_(chunk))
            )
        )
    return found


async def claim(
    session: AsyncSession,
    key: str,
    rule: str,
    due_at: dt.datetime,
    outcome: str,
    now: dt.datetime,
    detail: str | None = None,
) -> bool:
    """Record an occurrence as handled; False if another firing got there first."""
    return await insert_ignore(
        session,
        ReminderOccurrence,
        key=key,
        rule=rule,
        due_at=due_at,
        handled_at=now,
        outcome=outcome,
        detail=detail[:300] if detail else None,
    )


async def set_outcome(session: AsyncSession, key: str, outcome: str, detail: str) -> None:
    occurrence = await session.scalar(
        select(ReminderOccurrence).where(ReminderOccurrence.key == key)
    )
    if occurrence is not None:
        occurrence.outcome, occurrence.detail = outcome, detail[:300]


# --- what the rules look at -----------------------------------------------------------------


async def activities_with_reminders(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[Activity]:
    """Active activities that may have a reminder in [start, end].

    Reminders fall from 24 h before the start (or before a sign-up deadline, which may be days
    earlier) to 10 minutes after it, and at the end (the card then says it ended); a group
    reminder that would fall on a day off moves back to the last working day before it
    (at most DAYS_OFF_IN_A_ROW earlier).
    """
    lead = dt.timedelta(hours=25) + DAYS_OFF_IN_A_ROW
    return list(
        await session.scalars(
            select(Activity).where(
                Activity.status == "active",
                Activity.ends_at >= start - dt.timedelta(hours=1),
                or_(Activity.starts_at <= end + lead, Activity.signup_deadline <= end + lead),
            )
        )
    )


async def notices_due(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[Notice]:
    return list(
        await session.scalars(
            select(Notice).where(
                Notice.status == "active",
                Notice.remind_at.is_not(None),
                Notice.remind_at >= start,
                Notice.remind_at <= end,
            )
        )
    )


async def kinds_held(
    session: AsyncSession, kind: str, start: dt.datetime, end: dt.datetime
) -> list[Activity]:
    """Activities of `kind` held or scheduled in [start, end)."""
    return list(
        await session.scalars(
            select(Activity)
            .where(
                Activity.kind == kind,
                Activity.status == "active",
                Activity.starts_at >= start,
                Activity.starts_at < end,
            )
            .order_by(Activity.starts_at)
        )
    )


async def units_without_study(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> list[Unit]:
    """Units with no study activity of their own, nor one for everyone, in [start, end)."""
    held = await kinds_held(session, "study", start, end)
    if any(a.unit_id is None for a in held):
        return []
    covered = {a.unit_id for a in held}
    return [u for u in await members_db.list_units(session) if u.id not in covered]


async def open_volunteering(session: AsyncSession, now: dt.datetime) -> list[Activity]:
    """Volunteer activities still taking sign-ups."""
    deadline = func.coalesce(Activity.signup_deadline, Activity.starts_at)
    return list(
        await session.scalars(
            select(Activity)
            .where(
                Activity.kind == "volunteer",
                Activity.status == "active",
                Activity.starts_at > now,
                deadline > now,
            )
            .order_by(Activity.starts_at)
        )
    )


async def confirmed_volunteers(session: AsyncSession, activity_id: int) -> list[Member]:
    return list(
        await session.scalars(
            select(Member)
            .join(Signup, Signup.member_id == Member.id)
            .where(Signup.activity_id == activity_id, Signup.status == "confirmed")
            .order_by(Signup.id)
        )
    )


async def places_left(session: AsyncSession, activity: Activity) -> bool:
    if activity.capacity is None:
        return True
    confirmed = await session.scalar(
        select(func.count())
        .select_from(Signup)
        .where(Signup.activity_id == activity.id, Signup.status == "confirmed")
    )
    return int(confirmed or 0) < activity.capacity


async def not_answered(session: AsyncSession, activity: Activity) -> list[Member]:
    """Those expected who neither checked in nor asked for leave (volunteers: the confirmed)."""
    answered = select(Attendance.member_id).where(Attendance.activity_id == activity.id)
    if activity.kind == "volunteer":
        expected = (
            select(Member)
            .join(Signup, Signup.member_id == Member.id)
            .where(Signup.activity_id == activity.id, Signup.status == "confirmed")
        )
    else:
        expected = select(Member).where(members_db.in_audience(), Member.telegram_id.is_not(None))
        if activity.unit_id is not None:
            expected = expected.where(Member.unit_id == activity.unit_id)
    return list(await session.scalars(expected.where(Member.id.not_in(answered))))
