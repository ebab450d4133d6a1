"""What the dashboard (the committee's Mini App) reads that the commands do not already: who
may see which page, activities filtered with their counts, notices with their
acknowledgements, the needs by status, and one person's own year.

The overview is `db.reports.build`, one activity's roster `db.attendance.roster`, a need's
history `db.needs.history`: the same operations as /report, /roster and /needs, so a page and a
command never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import attendance as attendance_db
from db import members as members_db
from db import notices as notices_db
from db import reports as reports_db
from db.attendance import Roster
from db.errors import Refusal
from db.models import Activity, ActivityPhoto, Member, Notice, Unit
from db.reports import Tally

# The pages, in the tab bar's order, and who may open them.
PAGES = ("overview", "activities", "notices", "needs", "tasks", "me", "ledger")
_LEAD_PAGES = ("overview", "activities", "notices", "tasks", "me", "ledger")
ACTIVITY_STATES = ("upcoming", "ongoing", "ended", "cancelled")
MAX_ROWS = 200  # a page lists at most this many activities or notices (the newest)


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as the database says now (read on every request)."""

    member: Member
    committee: bool
    lead_unit: Unit | None

    @property
    def scope(self) -> Unit | None:
        """Whose data: every unit (None) for the committee, their unit for a lead."""
        return None if self.committee else self.lead_unit

    @property
    def pages(self) -> tuple[str, ...]:
        if self.committee:
            return PAGES
        if self.lead_unit is not None:
            return _LEAD_PAGES
        return ("me",)

    def require(self, page: str) -> None:
        if page not in self.pages:
            raise Refusal("not_admin_or_lead")


async def viewer(session: AsyncSession, telegram_id: int, admins: frozenset[int]) -> Viewer | None:
    """The person behind a Telegram id if they belong (registered, not left), else None."""
    member = await members_db.by_telegram_id(session, telegram_id)
    if member is None:
        return None
    committee = members_db.is_admin(member, admins)
    if not committee and (member.registered_at is None or not members_db.belongs(member, admins)):
        return None
    return Viewer(member, committee, None if committee else member.lead_unit)


# ----------------------------------------------------------------------- activities


@dataclass
class ActivityLine:
    activity: Activity
    tally: Tally
    photos: int
    state: str  # one of ACTIVITY_STATES


def state_of(activity: Activity, now: dt.datetime) -> str:
    if activity.status == "cancelled":
        return "cancelled"
    if now < activity.starts_at:
        return "upcoming"
    return "ongoing" if now < activity.ends_at else "ended"


def _state_filter(state: str, now: dt.datetime) -> list[ColumnElement[bool]]:
    if state == "cancelled":
        return [Activity.status == "cancelled"]
    active = Activity.status == "active"
    if state == "upcoming":
        return [active, Activity.starts_at > now]
    if state == "ongoing":
        return [active, Activity.starts_at <= now, Activity.ends_at > now]
    return [active, Activity.ends_at <= now]


def _photos() -> Any:
    return (
        select(func.count())
        .select_from(ActivityPhoto)
        .where(ActivityPhoto.activity_id == Activity.id)
        .scalar_subquery()
    )


async def activities(
    session: AsyncSession,
    now: dt.datetime,
    bounds: tuple[dt.datetime, dt.datetime],
    *,
    scope: Unit | None,
    kind: str | None = None,
    unit_id: int | None = None,
    state: str | None = None,
    counts: bool = True,
) -> list[ActivityLine]:
    """Activities starting in `bounds`, newest first, each with its expected people's answers
    (of the viewer's unit when `scope` is one; `counts=False`: not counted) and its photos."""
    where: list[ColumnElement[bool]] = [
        Activity.starts_at >= bounds[0],
        Activity.starts_at < bounds[1],
    ]
    if scope is not None:  # a lead: their unit's activities, and those for every unit
        where.append(or_(Activity.unit_id == scope.id, Activity.unit_id.is_(None)))
    if kind is not None:
        where.append(Activity.kind == kind)
    if unit_id is not None:
        where.append(Activity.unit_id == unit_id)
    if state is not None:
        where += _state_filter(state, now)
    rows = (
        await session.execute(
            select(Activity, _photos())
            .where(*where)
            .order_by(Activity.starts_at.desc(), Activity.id.desc())
            .limit(MAX_ROWS)
        )
    ).all()
    ids = [activity.id for activity, _ in rows]
    tallies = (
        await reports_db.tallies_by_activity(
            session, [Activity.id.in_(ids)], scope.id if scope is not None else None
        )
        if ids and counts
        else {}
    )
    return [
        ActivityLine(
            activity, tallies.get(activity.id, Tally()), int(photos or 0), state_of(activity, now)
        )
        for activity, photos in rows
    ]


async def roster(session: AsyncSession, activity_id: int, viewer: Viewer) -> Roster:
    """One activity's roster, as `/roster` gives it; a unit's lead also sees their own
    unit's part of an activity meant for every unit."""
    activity = await activities_db.get(session, activity_id)
    lead = viewer.lead_unit
    if viewer.committee or lead is None or activity.unit_id is not None:
        return await attendance_db.roster(session, activity_id, viewer.member, viewer.committee)
    found = await attendance_db.roster(session, activity_id, viewer.member, True)
    ours = lead.id
    ids = _ids(found, ours)

    def mine(member: Member) -> bool:
        return member.unit_id == ours

    return replace(
        found,
        present=[a for a in found.present if mine(a.member)],
        leave=[a for a in found.leave if mine(a.member)],
        absent=[m for m in found.absent if mine(m)],
        pending=[r for r in found.pending if r.member_id in ids],
        makeups={k: v for k, v in found.makeups.items() if k in ids},
    )


def _ids(found: Roster, unit_id: int) -> set[int]:
    people = [a.member for a in (*found.present, *found.leave)] + found.absent
    return {m.id for m in people if m.unit_id == unit_id}


async def photos(session: AsyncSession, activity_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ActivityPhoto)
            .where(ActivityPhoto.activity_id == activity_id)
        )
        or 0
    )


# ----------------------------------------------------------------------- notices


@dataclass
class NoticeLine:
    notice: Notice
    acknowledged: int
    expected: int


@dataclass
class Unacknowledged:
    notice: Notice
    by_unit: list[tuple[str | None, list[Member]]] = field(default_factory=list)


def _visible(scope: Unit | None) -> list[ColumnElement[bool]]:
    """Notices a lead may see: those for everyone and those for their unit."""
    if scope is None:
        return []
    return [or_(Notice.target != "unit", Notice.unit_id == scope.id)]


async def notices(
    session: AsyncSession, bounds: tuple[dt.datetime, dt.datetime], scope: Unit | None
) -> list[NoticeLine]:
    """The notices sent in `bounds`, newest first, with their acknowledgements (of the
    lead's unit only, for a lead)."""
    found = list(
        await session.scalars(
            select(Notice)
            .where(
                Notice.status == "active",
                Notice.created_at >= bounds[0],
                Notice.created_at < bounds[1],
                *_visible(scope),
            )
            .order_by(Notice.created_at.desc(), Notice.id.desc())
            .limit(MAX_ROWS)
        )
    )
    lines = []
    for notice in found:
        counts = await notices_db.counts(session, notice, scope.id if scope is not None else None)
        lines.append(NoticeLine(notice, counts.acknowledged, counts.expected))
    return lines


async def unacknowledged(
    session: AsyncSession, notice_id: int, scope: Unit | None
) -> Unacknowledged:
    """Who has not acknowledged a notice, by unit (the lead's unit only, for a lead)."""
    notice = await session.scalar(
        select(Notice).where(Notice.id == notice_id, Notice.status == "active", *_visible(scope))
    )
    if notice is None:
        raise Refusal("notice_unknown", id=notice_id)
    missing = await notices_db.missing(session, notice)
    if scope is not None:
        missing = [m for m in missing if m.unit_id == scope.id]
    result = Unacknowledged(notice)
    for member in missing:
        unit = member.unit.name if member.unit is not None else None
        if not result.by_unit or result.by_unit[-1][0] != unit:
            result.by_unit.append((unit, []))
        result.by_unit[-1][1].append(member)
    return result
