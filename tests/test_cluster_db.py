"""The shared budget and the stored updates, straight on the database."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from db import chats as chats_db
from db import cluster as cluster_db
from db.database import Database
from db.models import Chat, Unit, UnitTopic, utcnow


def test_lock_ids_fit_a_signed_int4() -> None:
    for value in (0, 1, -1, 2**31, -(10**13) - 123, 7_000_000_001, 2**52 + 5):
        assert -(2**31) <= cluster_db.lock_id(value) < 2**31
    assert cluster_db.lock_id(-1001234567890) == cluster_db.lock_id(-1001234567890)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_instances_never_take_more_than_a_chat_allows(db: Database) -> None:
    now = utcnow()
    period = dt.timedelta(seconds=61)

    async def take() -> int | float:
        async with db.session() as session:
            slot = await cluster_db.take_slot(session, -100_5, 20, period, now)
            await session.commit()
            return slot

    results = await asyncio.gather(*(take() for _ in range(30)))
    taken = [r for r in results if isinstance(r, int)]
    waits = [r for r in results if isinstance(r, float)]
    assert len(taken) == 20 and len(waits) == 10
    assert all(0 < w <= 61 for w in waits)


async def test_an_update_is_stored_once_and_adopted_only_from_the_dead(db: Database) -> None:
    now = utcnow()
    async with db.session() as session:
        assert await cluster_db.store_update(session, 5, "{}", owner=1, now=now)
        assert not await cluster_db.store_update(session, 5, "{}", owner=2, now=now)
        assert await cluster_db.store_update(session, 6, '{"a": 1}', owner=2, now=now)
        await session.commit()
    async with db.session() as session:
        # Instance 1 is alive: only instance 2's update is adopted.
        assert await cluster_db.adopt_orphans(session, me=3, live=[1, 3]) == [(6, '{"a": 1}')]
        await session.commit()
    async with db.session() as session:
        await cluster_db.mark_done(session, [5, 6], now)
        await session.commit()
    async with db.session() as session:
        assert await cluster_db.adopt_orphans(session, me=3, live=[3]) == []
        assert await cluster_db.pending_updates(session) == (0, None)
        assert await cluster_db.prune(session, now + dt.timedelta(days=3)) == 2
        await session.commit()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_units_bound_to_one_topic_at_once_leave_exactly_one(db: Database) -> None:
    async with db.session() as session:
        units = [Unit(name=f"单位{i}") for i in range(8)]
        session.add_all(units)
        session.add(Chat(id=-100_7, title="论坛", purpose="main", chat_type="supergroup"))
        await session.commit()
        unit_ids = [u.id for u in units]

    async def bind(unit_id: int) -> bool:
        async with db.session() as session:
            unit = await session.get(Unit, unit_id)
            assert unit is not None
            changed = await chats_db.bind_topic(session, -100_7, 42, "话题", unit)
            await session.commit()
            return changed

    assert all(await asyncio.gather(*(bind(i) for i in unit_ids)))
    async with db.session() as session:
        bound = list(await session.scalars(select(UnitTopic)))
    assert len(bound) == 1 and (bound[0].chat_id, bound[0].thread_id) == (-100_7, 42)
