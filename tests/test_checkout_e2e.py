"""End-to-end: 签退 (check-out) and real service hours on volunteer activities with checkout=on."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from db import rules
from db import volunteer as volunteer_db
from db.models import Member
from tests.harness import BotHarness, clock
from tests.steps import create

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")

UTC = dt.UTC


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, 7, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("checked_in", "checked_out", "hours"),
    [
        (at(7, 50), at(10, 10), 2.0),  # 2 h 20 → rounded down to the half hour
        (at(8, 0), at(9, 29), 1.0),
        (at(8, 0), at(9, 30), 1.5),
        (at(7, 30), at(12, 0), 3.0),  # capped at the activity's length (08:00–11:00)
        (at(9, 0), at(9, 10), 0.0),
        (at(9, 0), at(8, 0), 0.0),  # a clock gone backwards never credits negative hours
    ],
)
def test_worked_hours_round_down_and_cap(
    checked_in: dt.datetime, checked_out: dt.datetime, hours: float
) -> None:
    assert rules.worked_hours(checked_in, checked_out, at(8), at(11)) == hours


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    await bot.add_units("办公室")
    await bot.setup_main_group()
    return bot


async def credited(bot: BotHarness) -> dict[int, float]:
    """Service hours by Telegram id, as /me and the ledger count them."""
    async with bot.services.db.session() as session:
        totals = await volunteer_db.hours_by_member(session, bot.services.now())
        rows = (await session.execute(select(Member.id, Member.telegram_id))).all()
    ids = {member_id: telegram_id for member_id, telegram_id in rows if telegram_id is not None}
    return {ids[member_id]: hours for member_id, hours in totals.items()}


async def test_check_out_credits_the_real_hours_and_the_plan_otherwise(world: BotHarness) -> None:
    bot = world
    early = await bot.registered(4001, "早退者", "办公室")
    stayer = await bot.registered(4002, "坚守者", "办公室")
    activity_id, card = await create(
        bot, "志愿 2026-12-07 15:00 助残服务 cap=5 end=18:00 checkout=on"
    )
    assert "签退" in str(card["reply_markup"]) and "服务时长按实际计时" in card["text"]
    for person in (early, stayer):
        assert "报名成功" in (await person.toast(person.press(card, "报名")))["text"]

    refused = await early.toast(early.press(card, "签退"))
    assert "请先签到" in refused["text"]
    clock(bot).set_local("2026-12-07 14:50")
    for person in (early, stayer):
        assert "签到成功" in (await person.toast(person.press(card, "签到")))["text"]
    too_early = await early.toast(early.press(card, "签退"))
    assert "还没有开始" in too_early["text"]
    clock(bot).set_local("2026-12-07 17:10")
    done = await early.toast(early.press(card, "签退"))
    assert "已签退" in done["text"] and "2 小时" in done["text"], done
    again = await early.toast(early.press(card, "签退"))
    assert "已于 17:10 签退" in again["text"]

    # Two hours after the end: who never checked out is credited the plan, and told.
    clock(bot).set_local("2026-12-07 20:01")
    assert "不能再签退" in await stayer.ask_private(f"/checkout {activity_id}")
    await bot.services.reminders.fire_due()
    await bot.services.reminders.fire_due()
    await bot.services.outbox.drain(20)
    told = await bot.tg.wait_for(
        lambda: [x for x in bot.tg.texts(stayer.id) if "没有在活动" in x], what="the notice"
    )
    assert len(told) == 1 and "3 小时" in told[0]
    assert not [x for x in bot.tg.texts(early.id) if "没有在活动" in x]
    assert await credited(bot) == {early.id: 2.0, stayer.id: 3.0}
    # The committee's correction still wins.
    assert "已" in await bot.admin.ask_private(f"/hours {activity_id} {early.id} 2.5")
    assert (await credited(bot))[early.id] == 2.5


async def test_check_out_refusals(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(4011, "志愿者", "办公室")
    plain, card = await create(bot, "志愿 2026-12-07 15:00 普通志愿 cap=5")
    assert "签退" not in str(card["reply_markup"])
    assert "无需签退" in await member.ask_private(f"/checkout {plain}")
    study, _ = await create(bot, "学习 2026-12-07 15:00 学习")
    assert "志愿服务" in await member.ask_private(f"/checkout {study}")
    assert "编号无效" in await member.ask_private("/checkout abc")
    assert "用法" in await member.ask_private("/checkout")
    assert "不存在" in await member.ask_private("/checkout 99999")
    reply = await bot.admin.ask_private("/newevent 学习 2026-12-08 15:00 学习 checkout=on")
    assert "只适用于志愿服务" in reply
    reply = await bot.admin.ask_private("/newevent 志愿 2026-12-08 15:00 志愿 checkout=maybe")
    assert "开/on 关/off" in reply
