"""End-to-end: people named as office staff name them (issue 23) — by the real name they
registered with, buttons when two share a name, ids in /members for the committee."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import BotHarness


def button_labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def test_a_unique_name_is_enough(world: BotHarness) -> None:
    bot = world
    await bot.registered(3101, "李明", "办公室")
    assert "李明 已成为青工委成员" in await bot.admin.ask_private("/promote 李明")
    assert "李明 已成为 康复中心 的分组组长" in await bot.admin.ask_private("/lead 康复中心 李明")
    assert "李明 已不再是青工委成员" in await bot.admin.ask_private("/demote 李明")
    assert "李明" in await bot.admin.ask_private("/history 李明")
    reply = await bot.admin.ask_private("/history 王五")
    assert "没有登记名为“王五”的人" in reply and "/members" in reply, reply
    reply = await bot.admin.ask_private("/members")
    assert "李明 · ID 3101" in reply, reply


async def test_namesakes_are_told_apart_by_button(world: BotHarness) -> None:
    bot = world
    await bot.registered(3101, "陈静", "办公室")
    await bot.registered(3102, "陈静", "康复中心", username="chenjing2")
    since = len(bot.tg.bot_messages(bot.admin.id))
    reply = await bot.admin.ask_private("/promote 陈静")
    assert "有 2 位“陈静”" in reply, reply
    question = bot.tg.bot_messages(bot.admin.id)[since]
    labels = button_labels(question)
    assert labels == ["陈静（办公室 · ID 3101）", "陈静（康复中心 · @chenjing2）"], labels

    # Forged: someone not offered.
    toast = await bot.admin.toast(bot.admin.press_data(question, "pick:999999"))
    assert "按钮无效" in toast["text"], toast

    since = len(bot.tg.texts(bot.admin.id))
    toast = await bot.admin.toast(bot.admin.press(question, "康复中心"))
    assert "已选择：陈静（康复中心 · @chenjing2）" in toast["text"], toast
    reply = await bot.admin.reply_in(bot.admin.id, since)
    assert "陈静 已成为青工委成员" in reply, reply
    # The question now says what was chosen, without buttons; a second press does nothing.
    await bot.settled()
    edited = bot.tg.chats[bot.admin.id].messages[question["message_id"]]
    assert "已选择" in edited["text"] and not edited.get("reply_markup"), edited
    toast = await bot.admin.toast(bot.admin.press_data(question, f"pick:{0}"))
    assert "过期" in toast["text"], toast
    # Only the one chosen was promoted.
    assert "陈静 已经是青工委成员" in await bot.admin.ask_private("/promote @chenjing2")
    reply = await bot.admin.ask_private("/promote 3101")
    assert "陈静 已成为青工委成员" in reply, reply


async def test_hours_and_member_remove_by_name(world: BotHarness) -> None:
    bot = world
    await bot.registered(3101, "赵敏", "办公室")
    reply = await bot.admin.ask_private("/member remove 赵敏")
    assert "已将 赵敏 标为已离开" in reply, reply
    reply = await bot.admin.ask_private("/member restore 赵敏")
    assert "已恢复 赵敏" in reply, reply
    reply = await bot.admin.ask_private("/hours 1 赵敏")
    assert "用法：/hours 编号 姓名|@用户名|ID 小时数" in reply, reply


@pytest.mark.parametrize("ref", ["@", "@bad-name", "x" * 40])
async def test_what_is_no_name_is_refused(world: BotHarness, ref: str) -> None:
    reply = await world.admin.ask_private(f"/history {ref}")
    assert "不是有效的姓名、@用户名 或数字 ID" in reply, reply


async def test_namesakes_in_english(world: BotHarness) -> None:
    bot = world
    await bot.registered(3101, "陈静", "办公室")
    await bot.registered(3102, "陈静", "康复中心", username="chenjing2")
    assert "English" in await bot.admin.ask_private("/lang en")
    since = len(bot.tg.bot_messages(bot.admin.id))
    reply = await bot.admin.ask_private("/history 陈静")
    assert 'More than one person is named "陈静" (2)' in reply, reply
    question = bot.tg.bot_messages(bot.admin.id)[since]
    labels = button_labels(question)
    assert labels == ["陈静 (办公室 · ID 3101)", "陈静 (康复中心 · @chenjing2)"], labels
    since = len(bot.tg.texts(bot.admin.id))
    toast = await bot.admin.toast(bot.admin.press(question, "办公室"))
    assert toast["text"] == "Chosen: 陈静 (办公室 · ID 3101)", toast
    assert "attendance by quarter" in await bot.admin.reply_in(bot.admin.id, since)
    reply = await bot.admin.ask_private("/history Nobody")
    assert 'Nobody is registered as "Nobody"' in reply, reply
