"""One member cannot slow everyone down: the flood guard, quiet answers in groups, and the
limits on needs, ledgers and check-in codes."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from db.models import Member, Need
from tests.harness import BotHarness, clock, make_settings, seed_members
from tests.steps import card, create, post
from tests.tgserver import FakeTelegram

pytestmark = pytest.mark.clock("2026-12-07 14:00")
LIMIT = 5


@pytest.fixture
async def guarded(tg: FakeTelegram, database_url: str) -> AsyncIterator[BotHarness]:
    """The bot with the flood guard at 5 a minute (20 in production: a private chat takes
    about a message a second, so 20 answers would make a slow test), main group, two units."""
    harness = BotHarness(
        tg,
        build_application(make_settings(tg, database_url, flood_per_minute=LIMIT)),
        at="2026-12-07 14:00",
    )
    await harness.start()
    await harness.add_units("办公室", "康复中心")
    await harness.setup_main_group()
    yield harness
    await harness.stop()


def group_messages(bot: BotHarness) -> int:
    return len(bot.tg.bot_messages(bot.group.id))


async def test_forty_quick_commands_cost_the_group_almost_nothing(guarded: BotHarness) -> None:
    bot = guarded
    noisy = await bot.registered(9001, "刷屏者", "办公室")
    before = group_messages(bot)
    for _ in range(40):
        noisy.send(bot.group.id, "/events")
    # Answered privately (the bot may write to this person), never in the group; the first
    # LIMIT only, then one "slow down".
    await bot.tg.wait_for(
        lambda: sum("慢一点" in x for x in bot.tg.texts(noisy.id)) == 1, 30, "slow down"
    )
    await asyncio.sleep(1.0)
    private = bot.tg.texts(noisy.id)
    assert sum("慢一点" in x for x in private) == 1
    # (/register took one of the LIMIT, and the bucket refills a little meanwhile)
    assert LIMIT - 1 <= sum("近期没有活动" in x for x in private) <= LIMIT, private[-5:]
    assert group_messages(bot) == before
    # A notice posted right after reaches the group at once.
    began = time.monotonic()
    notice_id, _ = await post(bot, "刷屏之后的通知")
    assert card(bot, notice_id, bot.group.id) and time.monotonic() - began < 5
    # Button presses are not counted: the person can still press.
    toast = await noisy.toast(noisy.press(card(bot, notice_id, bot.group.id), "收到"))
    assert "已收到" in toast["text"]


async def test_someone_the_bot_cannot_write_to_gets_a_group_answer_once_a_minute(
    guarded: BotHarness,
) -> None:
    bot = guarded
    (quiet,) = await seed_members(bot, 1, "办公室")
    async with bot.services.db.session() as session:
        row = await session.scalar(select(Member).where(Member.telegram_id == quiet.id))
        assert row is not None
        row.can_dm = False
        await session.commit()
    before = group_messages(bot)
    for _ in range(5):
        quiet.send(bot.group.id, "/events")
    await bot.tg.wait_for(lambda: group_messages(bot) > before, 10, "one answer")
    await asyncio.sleep(1.5)
    assert group_messages(bot) == before + 1


async def test_the_committee_is_not_held_back(guarded: BotHarness) -> None:
    bot = guarded
    for n in range(LIMIT * 3):
        reply = await bot.admin.ask_private("/events")
        assert "慢一点" not in reply, n


async def test_at_most_five_needs_a_day(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    person = await bot.registered(9002, "多事者", "办公室")
    for n in range(5):
        assert "已收到" in await person.ask_private(f"/need 其他 第{n}条诉求"), n
    refused = await person.ask_private("/need 其他 第六条 匿名")
    assert "今天已提交 5 条诉求" in refused
    clock(bot).now += dt.timedelta(days=1, minutes=1)
    assert "已收到" in await person.ask_private("/need 其他 第二天的诉求")
    async with bot.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Need)) == 6


async def test_one_ledger_at_a_time_per_person(guarded: BotHarness) -> None:
    bot = guarded
    first = await bot.admin.ask_private("/export")
    assert "正在生成" in first or "生成" in first
    second = await bot.admin.ask_private("/export")
    assert "还在生成中" in second
    await bot.tg.wait_for(
        lambda: any(m.get("document") for m in bot.tg.bot_messages(bot.admin.id)), 60, "ledger"
    )
    await bot.tg.wait_for(lambda: not bot.services.builds.busy(1), 10, "done")
    third = await bot.admin.ask_private("/export")
    assert "还在生成中" not in third


async def test_wrong_codes_run_out_then_the_person_waits(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    person = await bot.registered(9003, "猜码者", "办公室")
    activity_id, _ = await create(bot, "学习 2026-12-07 14:00 需要签到码 code=482913")
    for _ in range(5):
        assert "签到码不对" in await person.ask_private(f"/checkin {activity_id} 000000")
    waiting = await person.ask_private(f"/checkin {activity_id} 482913")
    assert "10 分钟后再试" in waiting
    clock(bot).set_local("2026-12-07 14:10:01")
    assert "签到成功" in await person.ask_private(f"/checkin {activity_id} 482913")
