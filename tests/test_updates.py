"""Update de-duplication: each update id is claimed once; old ones are forgotten."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from db import updates as updates_db
from db.database import Database
from db.models import ProcessedUpdate


async def test_claim_once_and_forget_only_old_ids(db: Database) -> None:
    now = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
    async with db.session() as session:
        assert await updates_db.claim(session, 1, now - dt.timedelta(days=3))
        assert await updates_db.claim(session, 2, now - dt.timedelta(hours=1))
        assert not await updates_db.claim(session, 2, now)
        await session.commit()
    async with db.session() as session:
        assert await updates_db.prune(session, now) == 1
        await session.commit()
    async with db.session() as session:
        assert list(await session.scalars(select(ProcessedUpdate.update_id))) == [2]
