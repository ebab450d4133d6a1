"""Activity records an evaluation asks for: the minutes (纪要) and the photos (影像)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import activities as activities_db
from db import rules
from db.errors import Refusal
from db.models import Activity, ActivityPhoto, Member, utcnow
from db.sql import insert_ignore

MAX_MINUTES = 3000
MAX_PHOTOS = 100
_COMMAND = re.compile(r"^/record(?:@\w+)?(?:\s+(\S+))?(?:\s+(.*))?$", re.DOTALL | re.IGNORECASE)


def split_command(text: str) -> tuple[int, str] | None:
    """`/record 12 纪要…` → (12, the minutes, line breaks kept; "" when none); None: no id."""
    match = _COMMAND.match(text.strip())
    if match is None or match[1] is None:
        return None
    minutes = (match[2] or "").strip()
    if minutes:
        minutes = rules.clean_multiline(minutes, MAX_MINUTES, "record_usage")
    return rules.parse_id(match[1]), minutes


def set_minutes(activity: Activity, minutes: str) -> None:
    """Store (or replace) the activity's minutes."""
    activity.minutes = minutes


async def add_photo(
    session: AsyncSession, activity: Activity, file_id: str, unique_id: str, by: Member
) -> int:
    """Keep a photo of the activity (the same photo twice is kept once); how many it has."""
    count = await _count(session, activity.id)
    if count >= MAX_PHOTOS:
        raise Refusal("record_too_many_photos", limit=MAX_PHOTOS)
    added = await insert_ignore(
        session,
        ActivityPhoto,
        activity_id=activity.id,
        file_id=file_id,
        file_unique_id=unique_id,
        added_by=by.id,
        at=utcnow(),
    )
    return count + int(added)


async def _count(session: AsyncSession, activity_id: int) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(ActivityPhoto)
        .where(ActivityPhoto.activity_id == activity_id)
    )
    return int(found or 0)


async def show(session: AsyncSession, activity_id: int) -> tuple[Activity, list[str]]:
    """The activity and its photos' file ids, in the order they came."""
    activity = await activities_db.get(session, activity_id)
    photos = await session.scalars(
        select(ActivityPhoto.file_id)
        .where(ActivityPhoto.activity_id == activity_id)
        .order_by(ActivityPhoto.id)
    )
    return activity, list(photos)
