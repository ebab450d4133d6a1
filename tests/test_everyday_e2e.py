"""End-to-end: the everyday path as office staff write it (issue 23) — dates, times and option
keys in Chinese, the reply echoing what was understood, unknown keys refused."""

from __future__ import annotations

import pytest

from tests.harness import BotHarness
from tests.steps import activities_count, create

pytestmark = pytest.mark.clock("2026-12-04 10:00")  # a Friday


async def test_an_activity_written_the_chinese_way(world: BotHarness) -> None:
    bot = world
    _, card = await create(bot, "学习 12月7日 下午3点 专题学习 地点=五楼 结束=17点半")
    reply = bot.tg.texts(bot.admin.id)[-1]
    # The reply shows the card as understood: title, date, time, place.
    assert "「专题学习」" in reply and "地点：五楼" in reply, reply
    assert "12-07" in reply and "15:00" in reply and "17:30" in reply, reply
    assert "地点：五楼" in card["text"] and "地点=" not in card["text"]

    _, card = await create(bot, "会议 下周一 9点 季度会议 单位＝办公室")
    assert "季度会议" in card["text"] and "12-07" in card["text"], card["text"]


async def test_an_unknown_option_changes_nothing_and_lists_the_keys(world: BotHarness) -> None:
    bot = world
    reply = await bot.admin.ask_private("/newevent 学习 明天 15点 专题学习 房间=五楼")
    assert "不认识的选项“房间=”" in reply and "地点/place" in reply, reply
    reply = await bot.admin.ask_private("/newevent 学习 明天见 15点 专题学习")
    assert "日期“明天见”无效" in reply and "12月7日" in reply, reply
    reply = await bot.admin.ask_private("/newevent 学习 明天 下午 专题学习")
    assert "时间“下午”无效" in reply and "下午3点" in reply, reply
    assert await activities_count(bot) == 0


async def test_the_english_way(world: BotHarness) -> None:
    bot = world
    assert "English" in await bot.admin.ask_private("/lang en")
    reply = await bot.admin.ask_private("/newevent study mon 3pm Weekly study place=Room 5")
    assert "created" in reply and "Room 5" in reply and "15:00" in reply, reply
    reply = await bot.admin.ask_private("/newevent study fri 25:00 Late study")
    assert 'Invalid time "25:00"' in reply and "3pm" in reply, reply


async def test_units_added_several_at_once_removed_and_merged(world: BotHarness) -> None:
    bot = world
    reply = await bot.admin.ask_private("/unit add 团委、工会，“康复 中心” 办公室")
    assert "已新增单位：团委、工会、康复 中心" in reply, reply
    assert "“办公室”已存在" in reply and "下一步" in reply, reply
    assert "康复 中心" in await bot.admin.ask_private("/units")
    # A unit nobody belongs to goes; one with people or records says what it holds.
    assert "已删除单位“康复 中心”" in await bot.admin.ask_private("/unit del 康复 中心")
    assert "康复 中心" not in await bot.admin.ask_private("/units")
    member = await bot.registered(3101, "李工", "工会")
    await create(bot, "学习 12月7日 15点 工会学习 单位=工会")
    reply = await bot.admin.ask_private("/unit del 工会")
    assert "还有 1 人、1 条记录" in reply and "/unit merge" in reply, reply
    assert "仅限青工委" in await member.ask_private("/unit merge 工会 办公室")
    reply = await bot.admin.ask_private("/unit merge 工会 办公室")
    assert "已将单位“工会”并入“办公室”：1 人" in reply, reply
    assert "工会" not in await bot.admin.ask_private("/units")
    assert "办公室" in await member.ask_private("/me")
    assert "办公室" in await bot.admin.ask_private("/events")
    assert "同一个单位" in await bot.admin.ask_private("/unit merge 办公室 办公室")
    assert "没有名为“工会”的单位" in await bot.admin.ask_private("/unit del 工会")
