"""Faults: a struggling Bot API, killed database connections, a database outage, a locked file.

What a person was told must be true: recorded when they saw success, "busy" when not, never
the generic error; nothing acknowledged is lost, and everything resumes by itself.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import build_application
from db.models import OutboxMessage
from scheduler.leader import Leadership
from tests.harness import BotHarness, _asyncpg_dsn, make_settings, seed_members
from tests.steps import attendance, create
from tests.tcpproxy import TcpProxy
from tests.tgserver import ApiError, FakeTelegram, Faults, TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
START = "2026-12-07 14:00"
pytestmark = pytest.mark.clock(START)

BUSY = "系统繁忙，请稍后再试。"
GENERIC = "出错"


async def prepare(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    await bot.setup_main_group()


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    await prepare(bot)
    return bot


async def press_all(
    people: list[TgUser], card: dict[str, Any], label: str = "签到", timeout: float = 30
) -> list[str]:
    callbacks = [person.press(card, label) for person in people]
    answers = await asyncio.gather(
        *(p.toast(c, timeout) for p, c in zip(people, callbacks, strict=True))
    )
    return [a["text"] or "" for a in answers]


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_presses_through_bot_api_502s_are_recorded_once_and_answered_truly(
    world: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world
    people = await seed_members(bot, 30, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:10 故障中的签到")
    bot.tg.faults = Faults(every=4)  # every 4th Bot API call fails, getUpdates included
    answers = await press_all(people, card)
    assert all(a.startswith("签到成功") for a in answers), answers
    assert len(await attendance(bot, activity_id)) == 30
    assert bot.tg.faults.injected >= 10
    assert bot.tg.count_calls("answerCallbackQuery") == 30  # each answered exactly once

    reply = await bot.admin.ask_private("/notice remind=off 故障中的通知", timeout=20)
    notice_id = int(reply.split("#")[1].split("：")[0])
    await bot.services.outbox.drain(30)
    await bot.admin.ask_private(f"/chase {notice_id}", timeout=20)
    await bot.services.outbox.drain(60)
    for person in people:
        followups = [t for t in bot.tg.texts(person.id) if f"通知 #{notice_id}" in t]
        assert len(followups) == 1, (person.id, followups)
    assert not errors_logged(caplog)


async def test_lost_answers_and_slow_answers_still_end_in_the_real_answer(
    world: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world
    people = await seed_members(bot, 12, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:10 丢包")
    # Every 3rd call is processed but its answer never arrives; every call takes 0.2 s.
    bot.tg.faults = Faults(drop_every=3, latency=0.2, methods=frozenset({"answerCallbackQuery"}))
    answers = await press_all(people, card)
    assert all(a.startswith("签到成功") for a in answers), answers
    assert len(await attendance(bot, activity_id)) == 12
    assert bot.tg.faults.dropped >= 3
    assert not errors_logged(caplog)
    assert not any(GENERIC in t for p in people for t in bot.tg.texts(p.id))


async def test_polling_survives_get_updates_failures(
    world: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world
    bot.tg.fail_next["getUpdates"].extend([ApiError(502, "Bad Gateway")] * 3)
    bot.tg.wake()  # end the poll in progress: the next three fail
    await bot.tg.wait_for(lambda: not bot.tg.fail_next["getUpdates"], 20, "three failed polls")
    user = bot.user(3001, "小李")
    assert "登记成功" in await user.ask_private("/register 李 办公室", timeout=20)
    failures = [
        r
        for r in caplog.records
        if r.name == "handlers.fallbacks" and "Bad Gateway" in r.getMessage()
    ]
    assert len(failures) == 3 and all(r.levelname == "WARNING" and not r.exc_info for r in failures)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_database_connections_killed_mid_burst(
    world: BotHarness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world
    people = await seed_members(bot, 40, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:10 断开连接")
    callbacks = [person.press(card, "签到") for person in people[:20]]
    killer = await asyncpg.connect(_asyncpg_dsn(database_url))
    try:
        killed = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            make_url(database_url).database,
        )
    finally:
        await killer.close()
    callbacks += [person.press(card, "签到") for person in people[20:]]
    answers = [(await p.toast(c, 30))["text"] or "" for p, c in zip(people, callbacks, strict=True)]
    recorded = await attendance(bot, activity_id)
    for person, answer in zip(people, answers, strict=True):
        assert answer.startswith("签到成功") or answer == BUSY, answer
        assert (person.id in recorded) == answer.startswith("签到成功")  # never a false success
    assert killed >= 1 and len(recorded) >= 20  # the pool replaced the dead connections
    assert not errors_logged(caplog)
    leadership = bot.app.bot_data["leadership"]
    assert isinstance(leadership, Leadership)
    await bot.tg.wait_for(lambda: leadership.is_leader, 20, "the leader lock taken again")


@pytest.fixture
async def proxied(
    tg: FakeTelegram, database_url: str
) -> AsyncIterator[tuple[BotHarness, TcpProxy]]:
    """The bot talking to PostgreSQL through a proxy the test can take away."""
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    via_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    harness = BotHarness(tg, build_application(make_settings(tg, via_proxy)), at=START)
    await harness.start()
    yield harness, proxy
    if not proxy.listening:
        await proxy.come_back()
    await harness.stop()
    await proxy.stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_database_outage_answers_busy_then_everything_resumes(
    proxied: tuple[BotHarness, TcpProxy], caplog: pytest.LogCaptureFixture
) -> None:
    bot, proxy = proxied
    await prepare(bot)
    people = await seed_members(bot, 10, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:10 数据库重启")
    await proxy.go_down()
    answers = await press_all(people[:5], card)
    assert answers == [BUSY] * 5
    reply = await bot.admin.ask_private("/notice remind=off 停机时的通知", timeout=30)
    assert reply == BUSY
    await proxy.come_back()
    answers = await press_all(people[5:], card)
    assert all(a.startswith("签到成功") for a in answers), answers
    recorded = await attendance(bot, activity_id)
    assert set(recorded) == {p.id for p in people[5:]}
    # The outbox and the leader resume without a restart.
    reply = await bot.admin.ask_private("/notice remind=off 恢复后的通知", timeout=30)
    assert "已发布通知" in reply
    await bot.tg.wait_for(
        lambda: any("恢复后的通知" in t for t in bot.tg.texts(bot.group.id)), 30, "the notice"
    )
    leadership = bot.app.bot_data["leadership"]
    assert isinstance(leadership, Leadership)
    await bot.tg.wait_for(lambda: leadership.is_leader, 30, "the leader lock taken again")
    await bot.services.outbox.drain(30)
    async with bot.services.db.session() as session:
        pending = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        )
    assert [(r.key, r.next_attempt_at, r.error) for r in pending] == []
    assert not errors_logged(caplog)
    assert not any(GENERIC in t for p in people for t in bot.tg.texts(p.id))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_locked_by_another_process_is_waited_for_then_busy(
    world: BotHarness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world
    people = await seed_members(bot, 2, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 14:10 锁")
    path = make_url(database_url).database
    assert path

    async def hold_lock(seconds: float, held: asyncio.Event) -> None:
        # Taken off the event loop: the bot may be between BEGIN and COMMIT of
        # its own write (a reminder, the outbox), and a blocking wait here
        # would keep it from ever committing.
        other = sqlite3.connect(path, timeout=10, check_same_thread=False)
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")
        held.set()
        await asyncio.sleep(seconds)
        await asyncio.to_thread(other.rollback)
        other.close()

    async def while_locked(seconds: float, person: TgUser) -> str:
        held = asyncio.Event()
        holder = asyncio.create_task(hold_lock(seconds, held))
        await held.wait()
        (answer,) = await press_all([person], card)
        await holder
        return answer

    answer = await while_locked(2.0, people[0])
    assert answer.startswith("签到成功")  # waited for the lock, then recorded
    assert await while_locked(14.0, people[1]) == BUSY
    assert set(await attendance(bot, activity_id)) == {people[0].id}
    assert not errors_logged(caplog)
