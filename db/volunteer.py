"""Volunteer sign-up (报名) with capacity, waitlist (候补) and promotion; service hours."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import rules
from db.errors import Refusal
from db.models import Activity, Attendance, HoursOverride, Member, Signup, utcnow
from db.sql import insert_row, upsert


def require_volunteer(activity: Activity) -> None:
    if activity.kind != "volunteer":
        raise Refusal("signup_not_volunteer", id=activity.id)


def planned_hours(activity: Activity) -> float:
    """The hours a volunteer activity credits by plan: as stated, else its length."""
    if activity.hours is not None:
        return activity.hours
    return rules.default_hours(activity.starts_at, activity.ends_at)


def deadline(activity: Activity) -> dt.datetime:
    """Sign-up closes at its deadline, or when the activity starts."""
    if activity.signup_deadline is None:
        return activity.starts_at
    return min(activity.signup_deadline, activity.starts_at)


@dataclass
class Queue:
    confirmed: list[Signup] = field(default_factory=list)  # arrival order
    waitlisted: list[Signup] = field(default_factory=list)  # arrival order


async def queue(session: AsyncSession, activity_id: int) -> Queue:
    rows = await session.scalars(
        select(Signup).where(Signup.activity_id == activity_id).order_by(Signup.id)
    )
    result = Queue()
    for row in rows:
        (result.confirmed if row.status == "confirmed" else result.waitlisted).append(row)
    return result


async def _confirmed_count(session: AsyncSession, activity_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Signup)
        .where(Signup.activity_id == activity_id, Signup.status == "confirmed")
    )
    return int(count or 0)


@dataclass(frozen=True)
class Mine:
    id: int
    status: str


async def _mine(session: AsyncSession, activity_id: int, member_id: int) -> Mine | None:
    """This person's sign-up, as columns (the hot path loads no ORM rows)."""
    row = (
        await session.execute(
            select(Signup.id, Signup.status).where(
                Signup.activity_id == activity_id, Signup.member_id == member_id
            )
        )
    ).first()
    return Mine(row.id, row.status) if row else None


async def waitlist_position(session: AsyncSession, activity_id: int, signup_id: int) -> int:
    """1-based place on the waitlist: those waitlisted who arrived no later."""
    count = await session.scalar(
        select(func.count())
        .select_from(Signup)
        .where(
            Signup.activity_id == activity_id,
            Signup.status == "waitlisted",
            Signup.id <= signup_id,
        )
    )
    return int(count or 0)


@dataclass
class SignupResult:
    activity: Activity
    status: str  # confirmed | waitlisted
    already: bool
    position: int | None = None


async def sign_up(
    session: AsyncSession, activity_id: int, member: Member, now: dt.datetime
) -> SignupResult:
    """Confirmed while places remain, else waitlisted, in arrival order (under the row lock)."""
    activity = await activities_db.get_active(session, activity_id, lock=True)
    require_volunteer(activity)
    if member.registered_at is None:
        raise Refusal("register_first")
    existing = await _mine(session, activity.id, member.id)
    if existing is not None:
        position = None
        if existing.status == "waitlisted":
            position = await waitlist_position(session, activity.id, existing.id)
        return SignupResult(activity, existing.status, True, position)
    if now >= deadline(activity):
        raise Refusal("signup_closed", id=activity.id)
    status = rules.signup_status(activity.capacity, await _confirmed_count(session, activity.id))
    signup_id = await insert_row(
        session, Signup, activity_id=activity.id, member_id=member.id, status=status, created_at=now
    )
    position = None
    if status == "waitlisted":
        position = await waitlist_position(session, activity.id, signup_id)
    return SignupResult(activity, status, False, position)


async def promote(session: AsyncSession, activity: Activity, now: dt.datetime) -> list[Signup]:
    """Move the head of the waitlist up into free places; the caller holds the activity lock."""
    current = await queue(session, activity.id)
    count = rules.places_to_fill(activity.capacity, len(current.confirmed), len(current.waitlisted))
    promoted = current.waitlisted[:count]
    for signup in promoted:
        signup.status, signup.promoted_at = "confirmed", now
    await session.flush()
    return promoted


@dataclass
class WithdrawResult:
    activity: Activity
    was: str
    promoted: list[Signup]


async def withdraw(
    session: AsyncSession, activity_id: int, member: Member, now: dt.datetime
) -> WithdrawResult:
    """Cancel a sign-up; a freed place goes to the first on the waitlist, in this transaction."""
    activity = await activities_db.get_active(session, activity_id, lock=True)
    require_volunteer(activity)
    mine = await _mine(session, activity.id, member.id)
    if mine is None:
        raise Refusal("not_signed_up", id=activity.id)
    if now >= activity.starts_at:
        raise Refusal("withdraw_closed", id=activity.id)
    was = mine.status
    await session.execute(delete(Signup).where(Signup.id == mine.id))
    promoted = await promote(session, activity, now) if was == "confirmed" else []
    return WithdrawResult(activity, was, promoted)


async def set_capacity(
    session: AsyncSession, activity: Activity, capacity: int, now: dt.datetime
) -> list[Signup]:
    """Change the places; raising promotes at once, lowering below the confirmed is refused."""
    require_volunteer(activity)
    confirmed = await _confirmed_count(session, activity.id)
    if capacity < confirmed:
        raise Refusal("cap_below_confirmed", cap=capacity, confirmed=confirmed)
    activity.capacity = capacity
    return await promote(session, activity, now)


async def edit_activity(
    session: AsyncSession, activity_id: int, words: list[str], zone: ZoneInfo, now: dt.datetime
) -> tuple[Activity, list[Signup]]:
    """/event edit: every change, and a capacity change's promotions, in one transaction."""
    options = activities_db.parse_edit(words)
    activity = await activities_db.edit(session, activity_id, options, zone, now)
    promoted: list[Signup] = []
    if "cap" in options:
        capacity = rules.parse_capacity(options["cap"])
        promoted = await set_capacity(session, activity, capacity, now)
    return activity, promoted


@dataclass
class VolunteerCounts:
    confirmed: int
    waitlisted: int
    checked_in: int


async def counts(session: AsyncSession, activity: Activity) -> VolunteerCounts:
    rows = await session.execute(
        select(Signup.status, func.count())
        .where(Signup.activity_id == activity.id)
        .group_by(Signup.status)
    )
    by_status = {status: int(n) for status, n in rows.all()}
    checked_in = await session.scalar(
        select(func.count())
        .select_from(Attendance)
        .where(Attendance.activity_id == activity.id, Attendance.status != "leave")
    )
    return VolunteerCounts(
        by_status.get("confirmed", 0), by_status.get("waitlisted", 0), int(checked_in or 0)
    )


# --- service hours -------------------------------------------------------------------------


async def set_hours(
    session: AsyncSession, activity_id: int, member: Member, hours: float, by: Member
) -> Activity:
    """The committee's correction of one person's hours for one activity."""
    activity = await activities_db.get(session, activity_id)
    require_volunteer(activity)
    await upsert(
        session,
        HoursOverride,
        ("activity_id", "member_id"),
        activity_id=activity.id,
        member_id=member.id,
        hours=hours,
        set_by=by.id,
        at=utcnow(),
    )
    return activity


async def credits(
    session: AsyncSession,
    now: dt.datetime,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    member_id: int | None = None,
) -> dict[tuple[int, int], float]:
    """Service hours per (member id, activity id) for volunteer activities that ended, in
    [since, until) when given (of one person, when `member_id` is).

    Everyone confirmed who checked in is credited the activity's hours once it has ended;
    a committee correction replaces that figure (and can credit someone who was not).
    """
    ended = [
        Activity.kind == "volunteer",
        Activity.status == "active",
        Activity.ends_at <= now,
    ]
    if since is not None:
        ended.append(Activity.ends_at >= since)
    if until is not None:
        ended.append(Activity.ends_at < until)
    planned: dict[int, float] = {
        activity_id: hours if hours is not None else rules.default_hours(starts_at, ends_at)
        for activity_id, hours, starts_at, ends_at in await session.execute(
            select(Activity.id, Activity.hours, Activity.starts_at, Activity.ends_at).where(*ended)
        )
    }
    credited = (
        select(Signup.member_id, Signup.activity_id)
        .join(Activity, Activity.id == Signup.activity_id)
        .join(
            Attendance,
            (Attendance.activity_id == Signup.activity_id)
            & (Attendance.member_id == Signup.member_id),
        )
        .where(Signup.status == "confirmed", Attendance.status != "leave", *ended)
    )
    if member_id is not None:
        credited = credited.where(Signup.member_id == member_id)
    checked_out = Activity.checkout.is_(True) & Attendance.checked_out_at.is_not(None)
    # Most are credited the planned hours: two integers a row, read fast.
    per_pair: dict[tuple[int, int], float] = {
        (person, activity_id): planned[activity_id]
        for person, activity_id in await session.execute(credited.where(~checked_out))
    }
    # 签退: the real time, not the plan.
    timed = credited.add_columns(
        Activity.starts_at, Activity.ends_at, Attendance.at, Attendance.checked_out_at
    ).where(checked_out)
    for person, activity_id, starts_at, ends_at, at, out in await session.execute(timed):
        per_pair[(person, activity_id)] = rules.worked_hours(at, out, starts_at, ends_at)
    corrected = (
        select(HoursOverride.member_id, HoursOverride.activity_id, HoursOverride.hours)
        .join(Activity, Activity.id == HoursOverride.activity_id)
        .where(*ended)
    )
    if member_id is not None:
        corrected = corrected.where(HoursOverride.member_id == member_id)
    overrides = await session.execute(corrected)
    for person, activity_id, hours in overrides.all():
        per_pair[(person, activity_id)] = hours
    return per_pair


@dataclass
class Checkout:
    activity: Activity
    at: dt.datetime
    hours: float
    already: bool


async def check_out(
    session: AsyncSession, activity_id: int, member: Member, now: dt.datetime
) -> Checkout:
    """签退 on a volunteer activity with checkout=on: once, after checking in, until two
    hours after the end. The hours are the real time, rounded down to the half hour."""
    activity = await activities_db.get_active(session, activity_id)
    require_volunteer(activity)
    if not activity.checkout:
        raise Refusal("checkout_off", id=activity.id)
    answer = (
        await session.execute(
            select(Attendance.status, Attendance.at, Attendance.checked_out_at).where(
                Attendance.activity_id == activity.id, Attendance.member_id == member.id
            )
        )
    ).first()
    if answer is None or answer.status == "leave":
        raise Refusal("checkout_not_checked_in", id=activity.id)
    if answer.checked_out_at is not None:
        hours = rules.worked_hours(
            answer.at, answer.checked_out_at, activity.starts_at, activity.ends_at
        )
        return Checkout(activity, answer.checked_out_at, hours, already=True)
    if now < activity.starts_at:  # a press by mistake must not end the service before it began
        raise Refusal("checkout_too_early", id=activity.id)
    if now > activity.ends_at + rules.CHECKOUT_GRACE:
        raise Refusal("checkout_closed", id=activity.id)
    moved = await session.execute(
        update(Attendance)
        .where(
            Attendance.activity_id == activity.id,
            Attendance.member_id == member.id,
            Attendance.checked_out_at.is_(None),
        )
        .values(checked_out_at=now)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # a double press, decided first
        return await check_out(session, activity_id, member, now)
    hours = rules.worked_hours(answer.at, now, activity.starts_at, activity.ends_at)
    return Checkout(activity, now, hours, already=False)


async def not_checked_out(session: AsyncSession, activity: Activity) -> list[Member]:
    """Who checked in but never checked out (credited the planned hours)."""
    return list(
        await session.scalars(
            select(Member)
            .join(Attendance, Attendance.member_id == Member.id)
            .join(
                Signup,
                (Signup.activity_id == Attendance.activity_id)
                & (Signup.member_id == Attendance.member_id),
            )
            .where(
                Attendance.activity_id == activity.id,
                Attendance.status != "leave",
                Attendance.checked_out_at.is_(None),
                Signup.status == "confirmed",
            )
            .order_by(Member.id)
        )
    )


async def hours_by_member(
    session: AsyncSession, now: dt.datetime, since: dt.datetime | None = None
) -> dict[int, float]:
    """Service hours per member id for volunteer activities that ended (from `since`)."""
    totals: dict[int, float] = defaultdict(float)
    for (member_id, _), hours in (await credits(session, now, since)).items():
        totals[member_id] += hours
    return dict(totals)


async def leaderboard(
    session: AsyncSession, now: dt.datetime, since: dt.datetime, limit: int = 10
) -> list[tuple[Member, float]]:
    totals = await hours_by_member(session, now, since)
    ranked = sorted(((h, m) for m, h in totals.items() if h > 0), key=lambda x: (-x[0], x[1]))
    top = ranked[:limit]
    if not top:
        return []
    people = {
        m.id: m
        for m in await session.scalars(select(Member).where(Member.id.in_([m for _, m in top])))
    }
    return [(people[member_id], hours) for hours, member_id in top]


async def my_signups(
    session: AsyncSession, member: Member, now: dt.datetime
) -> list[tuple[Activity, str, int | None]]:
    """This person's sign-ups for activities not yet over: (activity, status, waitlist place)."""
    rows = await session.execute(
        select(Signup, Activity)
        .join(Activity, Activity.id == Signup.activity_id)
        .where(Signup.member_id == member.id, Activity.status == "active", Activity.ends_at > now)
        .order_by(Activity.starts_at)
    )
    result = []
    for signup, activity in rows.all():
        position = None
        if signup.status == "waitlisted":
            position = await waitlist_position(session, activity.id, signup.id)
        result.append((activity, signup.status, position))
    return result
