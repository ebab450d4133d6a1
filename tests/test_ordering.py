"""One person's updates in order, many people at once; first contact never races."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select
from telegram import Chat, Message, Update, User

from db import members as members_db
from db.database import Database
from db.models import Member
from scheduler.ordering import PerSenderUpdateProcessor
from tests.harness import BotHarness


def update_from(user_id: int, update_id: int) -> Update:
    user = User(user_id, "x", False)
    chat = Chat(user_id, "private")
    return Update(update_id, message=Message(update_id, None, chat, from_user=user))  # type: ignore[arg-type]


async def test_one_senders_updates_run_one_after_another_in_order() -> None:
    processor = PerSenderUpdateProcessor(max_running=8, max_waiting=64)
    log: list[tuple[str, int, int]] = []

    async def work(user: int, n: int, pause: float) -> None:
        log.append(("start", user, n))
        await asyncio.sleep(pause)
        log.append(("end", user, n))

    jobs = [
        processor.process_update(update_from(1, n), work(1, n, 0.02 * (5 - n))) for n in range(5)
    ]
    jobs += [processor.process_update(update_from(2, 10), work(2, 10, 0.0))]
    await asyncio.gather(*jobs)
    mine = [(kind, n) for kind, user, n in log if user == 1]
    assert mine == [(k, n) for n in range(5) for k in ("start", "end")]  # never overlapping
    # The other person did not wait behind the first one's five updates.
    assert log.index(("end", 2, 10)) < log.index(("end", 1, 1))
    assert processor.waiting_senders() == 0  # nothing left behind


async def test_one_busy_sender_does_not_starve_the_others() -> None:
    processor = PerSenderUpdateProcessor(max_running=2, max_waiting=256)
    release = asyncio.Event()
    done: list[int] = []

    async def slow() -> None:
        await release.wait()

    async def quick(user: int) -> None:
        done.append(user)

    # 100 updates of one person, stuck; they wait for their turn without taking a running slot.
    stuck = [
        asyncio.create_task(processor.process_update(update_from(1, n), slow())) for n in range(100)
    ]
    others = [processor.process_update(update_from(u, 1000 + u), quick(u)) for u in range(2, 12)]
    await asyncio.wait_for(asyncio.gather(*others), 5)
    assert sorted(done) == list(range(2, 12))
    release.set()
    await asyncio.gather(*stuck)


async def test_first_contact_from_many_sessions_at_once_makes_one_member(db: Database) -> None:
    user = members_db.TelegramUser(424242, "同时", None, "twice")

    async def touch() -> int:
        async with db.session() as session:
            member = await members_db.touch_member(session, user)
            await session.commit()
            return member.id

    ids = await asyncio.gather(*(touch() for _ in range(20)))
    assert len(set(ids)) == 1
    async with db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Member).where(Member.telegram_id == 424242)
        )
    assert count == 1


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    await bot.add_units("办公室")
    await bot.setup_main_group()  # people in it register at once
    return bot


async def test_new_people_starting_and_registering_back_to_back_all_register(
    world: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world
    people = [bot.user(700000 + i, f"新人{i}") for i in range(60)]
    for person in people:  # /start and /register straight after, everyone at once
        person.say("/start")
        person.say(f"/register 新人{person.id} 办公室")
    await bot.tg.wait_for(
        lambda: all(any("登记成功" in t for t in bot.tg.texts(p.id)) for p in people),
        60,
        "every registration answered",
    )
    async with bot.services.db.session() as session:
        registered = await session.scalar(
            select(func.count()).select_from(Member).where(Member.registered_at.is_not(None))
        )
    assert registered == 60
    for person in people:  # each person's answers came in the order they wrote
        texts = bot.tg.texts(person.id)
        assert "你好" in texts[0] and "登记成功" in texts[1], texts
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bot.tg.errors(429)
