"""Incoming update de-duplication: Telegram may deliver an update again after a crash."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ProcessedUpdate
from db.sql import insert_ignore

KEEP = dt.timedelta(days=2)


async def claim(session: AsyncSession, update_id: int, now: dt.datetime) -> bool:
    """True the first time `update_id` is seen; commits with the update's own changes."""
    return await insert_ignore(session, ProcessedUpdate, update_id=update_id, at=now)


async def prune(session: AsyncSession, now: dt.datetime) -> int:
    """Forget updates older than Telegram would ever redeliver."""
    result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < now - KEEP))
    return int(result.rowcount)  # type: ignore[attr-defined]
