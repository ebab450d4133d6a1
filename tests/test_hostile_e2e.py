"""Hostile and odd input through the Bot API server: a reason in Chinese, nothing changed.

The generic "出错" answer is for our bugs only; none of these may reach it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import Activity, Member, Notice, OneOffReminder, Unit
from tests.harness import GROUP_ID, BotHarness
from tests.steps import create
from tests.tgserver import TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")

GENERIC = "出错"

# (command sent privately by the committee member, a fragment the reply must contain)
HOSTILE_COMMANDS = [
    ("/newevent study 9999-12-31 23:59 远得离谱", "超出范围"),
    ("/newevent study 1970-01-01 08:00 太早", "超出范围"),
    ("/newevent study 2026-12-31 25:00 没有这个钟点", "时间"),
    ("/newevent study ٢٠٢٦-١٢-٠٥ 15:00 别的数字", "日期"),
    ("/newevent volunteer 2026-12-20 09:00 名额 cap=²", "名额"),
    ("/newevent volunteer 2026-12-20 09:00 名额 cap=99999999999999999999", "名额"),
    ("/newevent volunteer 2026-12-20 09:00 时长 hours=nan", "服务时长"),
    ("/newevent volunteer 2026-12-20 09:00 时长 hours=1e309", "服务时长"),
    ("/newevent volunteer 2026-12-20 09:00 截止 deadline=9999-12-31T23:59", "超出范围"),
    ("/newevent study 2026-12-20 09:00 " + "长" * 500, "最多"),
    ("/newevent study 2026-12-20 09:00 标题 frob=1", "不认识的选项"),
    ("/event edit 1 date=9999-12-31", "超出范围"),
    ("/event edit 1 cap=5", "只适用于志愿服务"),
    ("/event cancel 99999999999", "9 位"),
    ("/event cancel ²", "9 位"),
    ("/event cancel 123456789", "不存在"),
    ("/checkin 1234567890123", "9 位"),
    ("/leave 1 " + "原因" * 200, "最多"),
    ("/notice remind=1e999 内容", "remind="),
    ("/notice remind=nan 内容", "remind="),
    ("/notice @不存在的单位 内容", "没有名为"),
    ("/notice delete 99999999999", "9 位"),
    ("/notice " + "通" * 3500, "最多"),
    ("/acks ١٢", "9 位"),
    ("/hours 1 99999999999999999999999 2", "不是有效的"),
    ("/hours 1 @boss inf", "服务时长"),
    ("/promote 99999999999999999999", "不是有效的"),
    ("/promote @" + "x" * 50, "不是有效的"),
    ("/remind add 9999-12-31 10:00 内容", "超出范围"),
    ("/remind add 2026-12-31 10:00 \u0007铃", "内容无效"),
    ("/remind del -5", "9 位"),
    ("/register 王 " + "单" * 5000, "没有名为"),
    ("/register \u202e\u202e 办公室", "名称无效"),
    ("/unit add " + "名" * 100, "名称无效"),
    ("/start leave_" + "9" * 20, "你好"),
    ("/start " + "x" * 300, "你好"),
    ("/start leave_99999999", "不存在"),
    ("/roster 1 2 3", "用法"),
]


async def counts(bot: BotHarness) -> dict[str, int]:
    async with bot.services.db.session() as session:
        result = {}
        for model in (Activity, Notice, Unit, OneOffReminder):
            result[model.__name__] = int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
        result["registered"] = int(
            await session.scalar(
                select(func.count()).select_from(Member).where(Member.registered_at.is_not(None))
            )
            or 0
        )
        return result


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    await bot.add_units("办公室")
    await bot.setup_main_group()
    await bot.admin.ask_private("/register 管理员 办公室")
    await create(bot, "学习 2026-12-07 15:00 正常的活动")
    return bot


async def test_hostile_commands_get_a_reason_and_change_nothing(
    world: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world
    before = await counts(bot)
    for command, fragment in HOSTILE_COMMANDS:
        reply = await bot.admin.ask_private(command, timeout=15)
        assert fragment in reply, (command[:60], reply)
        assert GENERIC not in reply and len(reply) <= 4096, command[:60]
    assert await counts(bot) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def raw_message(bot: BotHarness, chat_id: int, **fields: Any) -> dict[str, Any]:
    chat = bot.tg.chats[chat_id]
    message: dict[str, Any] = {
        "message_id": next(chat.next_message_id),
        "chat": chat.as_json(bot.tg.users),
        "date": int(time.time()),
        **fields,
    }
    chat.messages[message["message_id"]] = message
    return message


def command_entity(text: str) -> list[dict[str, Any]]:
    return [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]


async def test_odd_update_shapes_are_ignored_quietly(
    world: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot = world
    before = await counts(bot)
    admin = bot.tg.users[bot.admin.id]
    since_group = len(bot.tg.texts(GROUP_ID))
    text = "/notice 编辑后的命令不应再发一次"
    # An edited command, a sticker, a service message and a channel post: no answer, no change.
    edited = raw_message(bot, GROUP_ID, text=text, entities=command_entity(text))
    edited["from"], edited["edit_date"] = admin, int(time.time())
    bot.tg.push_update({"edited_message": edited})
    sticker = {"file_id": "s1", "file_unique_id": "s1", "width": 512, "height": 512}
    sticker |= {"is_animated": False, "is_video": False, "type": "regular"}
    bot.tg.push_update({"message": raw_message(bot, GROUP_ID, sticker=sticker, **{"from": admin})})
    pinned = raw_message(bot, GROUP_ID, text="x", **{"from": admin})
    bot.tg.push_update(
        {"message": raw_message(bot, GROUP_ID, pinned_message=pinned, **{"from": admin})}
    )
    channel = {"id": -100999, "type": "channel", "title": "频道"}
    post = {"message_id": 1, "chat": channel, "date": int(time.time()), "text": "/notice 频道"}
    bot.tg.push_update({"channel_post": post})
    # A command from an anonymous admin (sent as the group): one reply saying what to do.
    group = bot.tg.chats[GROUP_ID].as_json(bot.tg.users)
    anonymous_bot: dict[str, Any] = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    bot.tg.users[1087968824] = anonymous_bot
    anonymous = raw_message(
        bot,
        GROUP_ID,
        text="/notice 匿名发的通知",
        entities=command_entity("/notice"),
        sender_chat=group,
        **{"from": anonymous_bot},
    )
    bot.tg.push_update({"message": anonymous})
    reply = await TgUser(bot.tg, bot.admin.id).reply_in(GROUP_ID, since_group)
    assert "匿名" in reply and "私聊" in reply
    # The bot has caught up with every update, answered only the anonymous command.
    await bot.settled()
    assert len(bot.tg.texts(GROUP_ID)) == since_group + 1
    assert await counts(bot) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_forged_and_oversized_button_data_is_refused(world: BotHarness) -> None:
    bot = world
    member = bot.user(3100, "按钮")
    await member.ask_private("/register 按钮 办公室")
    card = next(m for m in bot.tg.bot_messages(GROUP_ID) if "正常的活动" in m.get("text", ""))
    for data in ("act:ci:99999999999", "act:ci:1" + "x" * 60, "act:ci:²", "nt:ack:-1", "\ud800"):
        answer = await member.toast(member.press_data(card, data))
        assert answer["text"] == "按钮无效或已过期。", data
