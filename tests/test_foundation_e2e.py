"""End-to-end: the foundation's commands through the real Application and local Bot API server."""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy import func, select
from telegram.ext import CommandHandler

from bot.app import build_application
from db.models import Chat, Member, Unit
from handlers.menus import COMMITTEE_COMMANDS, MEMBER_COMMANDS, OTHER_COMMANDS
from scheduler.settings import Settings
from tests.harness import ADMIN_ID, TOKEN, BotHarness
from tests.tgserver import ApiError


async def count(bot: BotHarness, model: type) -> int:
    async with bot.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def member(bot: BotHarness, telegram_id: int) -> Member | None:
    async with bot.services.db.session() as session:
        return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))


async def test_start_in_private_allows_direct_messages_and_hints_registration(
    bot: BotHarness,
) -> None:
    user = bot.user(2001, "小王", "xiaowang")
    reply = await user.ask_private("/start")
    assert "青工委还没有设置单位" in reply, reply
    await bot.add_units("办公室", "康复中心")
    reply = await user.ask_private("/start")
    assert "选择你所在的单位" in reply and "/register 姓名 单位" in reply, reply
    buttons = bot.tg.bot_messages(user.id)[-1]["reply_markup"]["inline_keyboard"]
    assert [b["text"] for row in buttons for b in row] == ["办公室", "康复中心"]
    recorded = await member(bot, 2001)
    assert recorded is not None and recorded.can_dm and recorded.username == "xiaowang"


async def test_start_in_group_asks_to_start_privately(bot: BotHarness) -> None:
    user = bot.user(2002, "小李")
    reply = await user.ask(bot.group.id, "/start")
    assert "私聊" in reply
    recorded = await member(bot, 2002)
    assert recorded is not None and not recorded.can_dm


async def test_anyone_who_interacts_is_recorded_before_registering(bot: BotHarness) -> None:
    user = bot.user(2003, "路人", "passer")
    await user.ask(bot.group.id, "/help")
    recorded = await member(bot, 2003)
    assert recorded is not None
    assert (recorded.first_name, recorded.username, recorded.registered_at) == (
        "路人",
        "passer",
        None,
    )


async def test_help_is_role_aware(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    plain = await bot.registered(2004, "张三", "办公室", username="zhangsan")
    member_help = await plain.ask_private("/help")
    assert "/register" in member_help and "/promote" not in member_help
    admin_help = await bot.admin.ask_private("/help")
    assert "/promote" in admin_help and "/setup" in admin_help
    await bot.admin.ask_private("/lead 办公室 @zhangsan")
    lead_help = await plain.ask_private("/help")
    assert "办公室 的组长" in lead_help and "/promote" not in lead_help


async def test_register_validates_and_records_name_and_unit(bot: BotHarness) -> None:
    await bot.add_units("办公室", "康复中心")
    await bot.setup_main_group()
    user = bot.user(2005, "Wang")
    assert "选择你所在的单位" in await user.ask_private("/register")
    assert "用法" in await user.ask_private("/register 王五")
    refused = await user.ask_private("/register 王五 不存在的单位")
    assert "不存在的单位" in refused and "办公室" in refused and "康复中心" in refused
    assert (await member(bot, 2005)).registered_at is None  # type: ignore[union-attr]
    too_long = await user.ask_private("/register " + "长" * 500 + " 办公室")
    assert "名称无效" in too_long
    ok = await user.ask_private("/register 阿依 古丽 康复中心")
    assert "阿依 古丽（康复中心）" in ok
    recorded = await member(bot, 2005)
    assert recorded is not None and recorded.real_name == "阿依 古丽"
    assert recorded.unit is not None and recorded.unit.name == "康复中心"
    # Units match case-insensitively; moving to another unit waits for the committee.
    await bot.admin.ask_private("/unit add IT组")
    moving = await user.ask_private("/register 阿依古丽 it组")
    assert "it组" not in moving and "IT组 需要青工委批准" in moving
    recorded = await member(bot, 2005)
    assert recorded is not None and recorded.real_name == "阿依古丽"
    assert recorded.unit is not None and recorded.unit.name == "康复中心"


async def test_register_without_units_says_none_exist(bot: BotHarness) -> None:
    user = bot.user(2006, "早到的人")
    reply = await user.ask_private("/register 李四 办公室")
    assert "暂无单位" in reply


async def test_unit_management_and_refusals(bot: BotHarness) -> None:
    await bot.admin.ask_private("/start")
    assert "用法" in await bot.admin.ask_private("/unit")
    assert "用法" in await bot.admin.ask_private("/unit frobnicate x")
    assert "已新增单位：办公室" in await bot.admin.ask_private("/unit add 办公室")
    assert "已存在" in await bot.admin.ask_private("/unit add 办公室")
    assert "名称无效" in await bot.admin.ask_private("/unit add " + "x" * 100)
    renamed = await bot.admin.ask_private("/unit rename 办公室 综合办公室")
    assert "综合办公室" in renamed
    assert "没有名为“不存在”" in await bot.admin.ask_private("/unit rename 不存在 新名")
    listing = await bot.admin.ask_private("/units")
    assert "综合办公室" in listing and "共 1 个" in listing
    # A non-admin is refused and nothing changes.
    user = bot.user(2007, "普通人")
    assert "仅限青工委" in await user.ask_private("/unit add 黑客组")
    assert "仅限青工委" in await user.ask_private("/unit rename 综合办公室 被改")
    assert await count(bot, Unit) == 1
    assert "请先登记" in await user.ask_private("/units")  # not one of the organisation's yet


async def test_setup_main_and_unit_groups_and_rights(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    user = bot.user(2008, "普通人")
    assert "仅限青工委" in await user.ask(bot.group.id, "/setup")
    assert await count(bot, Chat) == 0
    assert "请在群组中" in await bot.admin.ask_private("/setup")
    reply = await bot.admin.ask(bot.group.id, "/setup")
    assert "已将本群设为主群" in reply and "置顶消息 可以 ✅ · 删除消息 可以 ✅" in reply
    # Again in the main group: the binding and the rights, nothing changed.
    reply = await bot.admin.ask(bot.group.id, "/setup")
    assert reply.startswith("本群是主群") and "置顶消息 可以 ✅" in reply
    # A group where the bot is a plain member: told what is missing.
    weak = bot.tg.add_group(-100200, "办公室群", bot_admin=False)
    reply = await bot.admin.ask(weak.id, "/setup 办公室")
    assert "办公室 的分组群" in reply and "不是本群管理员" in reply
    no_pin = bot.tg.add_group(-100300, "另一个群", bot_admin=True, can_pin=False)
    assert "置顶消息”权限" in await bot.admin.ask(no_pin.id, "/setup 办公室")
    assert "没有名为“外星”" in await bot.admin.ask_anywhere(no_pin.id, "/setup 外星")
    async with bot.services.db.session() as session:
        chats = {c.id: c for c in await session.scalars(select(Chat))}
    # The unit's group moved to the last chat set up for it; the main group stayed.
    assert chats[bot.group.id].purpose == "main"
    assert chats[no_pin.id].purpose == "unit" and not chats[no_pin.id].bot_can_pin
    assert weak.id not in chats
    # Moving the main group replaces the old one.
    await bot.admin.ask(weak.id, "/setup")
    async with bot.services.db.session() as session:
        mains = list(await session.scalars(select(Chat.id).where(Chat.purpose == "main")))
    assert mains == [weak.id]


async def test_promote_demote_by_reply_username_and_id(bot: BotHarness) -> None:
    await bot.admin.ask_private("/start")
    target = bot.user(2009, "小赵", "zhao")
    said = target.send(bot.group.id, "大家好")
    plain = bot.user(2010, "小钱", "qian")
    await plain.ask_private("/start")
    # Refusals first: nobody has changed.
    assert "仅限青工委" in await plain.ask_anywhere(bot.group.id, "/promote @zhao")
    assert "回复此人的消息" in await bot.admin.ask_private("/promote")
    assert "找不到 @nobody" in await bot.admin.ask_private("/promote @nobody")
    assert "没有登记名为“zhao!”的人" in await bot.admin.ask_private("/promote zhao!")
    # By reply (the person never talked to the bot before: recorded from the reply).
    since = len(bot.tg.texts(bot.admin.id))
    bot.admin.send(bot.group.id, "/promote", reply_to=said)
    # The committee's confirmation goes privately; the group sees nothing of it.
    assert "小赵 已成为青工委成员" in await bot.admin.reply_in(bot.admin.id, since)
    assert "已经是" in await bot.admin.ask_private("/promote @zhao")
    # The promoted person can now use admin commands.
    await target.ask_private("/start")
    assert "已新增单位" in await target.ask_private("/unit add 新单位")
    assert "小钱 已成为" in await bot.admin.ask_private("/promote 2010")
    # Their private menu now lists the committee's commands (they started the bot).
    scope = json.dumps([{"chat_id": 2010, "type": "chat"}, ""], sort_keys=True)
    menu = await bot.tg.wait_for(lambda: bot.tg.commands.get(scope), what="admin menu")
    assert "newevent" in {c["command"] for c in menu}
    assert "已不再是" in await bot.admin.ask_private("/demote @qian")
    await bot.tg.wait_for(lambda: scope not in bot.tg.commands, what="menu removed")
    assert "不是通过 /promote" in await bot.admin.ask_private("/demote @qian")
    assert "仅限青工委" in await plain.ask_private("/unit add 不行")
    bootstrap = await target.ask_private(f"/demote {ADMIN_ID}")
    assert "ADMIN_IDS" in bootstrap


async def test_lead_set_and_cleared(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    await bot.registered(2011, "孙组长", "办公室", username="sun")
    assert "用法" in await bot.admin.ask_private("/lead")
    assert "没有名为“外星”" in await bot.admin.ask_private("/lead 外星 @sun")
    assert "回复此人的消息" in await bot.admin.ask_private("/lead 办公室")
    assert "孙组长 已成为 办公室 的分组组长" in await bot.admin.ask_private("/lead 办公室 @sun")
    assert (await member(bot, 2011)).lead_unit.name == "办公室"  # type: ignore[union-attr]
    assert "已不再是分组组长" in await bot.admin.ask_private("/lead off @sun")
    assert (await member(bot, 2011)).lead_unit_id is None  # type: ignore[union-attr]


async def test_members_list_is_private_paginated_and_within_limits(bot: BotHarness) -> None:
    await bot.add_units("办公室", "康复中心")
    assert "还没有人登记" in await bot.admin.ask_private("/members")
    assert "私聊" in await bot.admin.ask_anywhere(bot.group.id, "/members")
    # 300 members with long names: the list must span several messages, none over 4096.
    async with bot.services.db.session() as session:
        units = list(await session.scalars(select(Unit).order_by(Unit.id)))
        for i in range(300):
            session.add(
                Member(
                    telegram_id=900000 + i,
                    first_name="x",
                    real_name=f"成员{i:03d}" + "名" * 20,
                    unit_id=units[i % 2].id,
                    username=f"user{i}",
                    registered_at=func.now(),
                )
            )
        await session.commit()
    since = len(bot.tg.texts(ADMIN_ID))
    bot.admin.say("/members")
    last_page = re.compile(r"（(\d+)/\1）")
    pages = await bot.tg.wait_for(
        lambda: (
            [t for t in bot.tg.texts(ADMIN_ID)[since:] if "成员名单共 300 人，已登记 300 人" in t]
            if any(last_page.search(t) for t in bot.tg.texts(ADMIN_ID)[since:])
            else None
        ),
        what="the last page",
    )
    assert len(pages) >= 3 and all(len(p) <= 4096 for p in pages)
    assert f"（{len(pages)}/{len(pages)}）" in pages[-1]
    body = "\n".join(pages)
    assert all(f"成员{i:03d}" in body for i in range(300))
    assert "【办公室】150 人" in body and "【康复中心】150 人" in body
    plain = bot.user(2012, "普通人")
    assert "仅限青工委" in await plain.ask_private("/members")


async def test_command_menus_registered_with_admin_scope(bot: BotHarness) -> None:
    chinese, english = bot.tg.menu(), bot.tg.menu(language="en")
    assert "register 登记：姓名 单位" in chinese and "lang 界面语言：en 英文 / zh 中文" in chinese
    assert "register Register: name unit" in english
    names = {line.split()[0] for line in chinese}
    assert {"help", "register", "lang"} <= names and "promote" not in names and len(names) <= 10
    assert names == {line.split()[0] for line in english}
    # The committee's private menu, in its language.
    await bot.admin.ask_private("/start")
    scope = {"chat_id": bot.admin.id, "type": "chat"}
    committee = await bot.tg.wait_for(lambda: bot.tg.menu(scope), what="the committee menu")
    assert "newevent 新建活动" in committee and "register 登记：姓名 单位" in committee


async def test_unknown_command_gets_a_hint_in_private(bot: BotHarness) -> None:
    assert "/help" in await bot.admin.ask_private("/frobnicate")


async def test_odd_input_is_handled(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    user = bot.user(2013, "奇怪的人")
    assert "名称无效" in await user.ask_private("/register \u200b\u0007 办公室")
    huge = "字" * 4000
    reply = await user.ask_private(f"/register 王 {huge}")
    assert len(reply) <= 4096 and "可选单位" in reply
    assert (await member(bot, 2013)).registered_at is None  # type: ignore[union-attr]


async def test_a_telegram_hiccup_is_retried_and_an_outage_answers_busy(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.tg.fail_next["getChatMember"].append(ApiError(500, "Internal Server Error"))
    assert "主群" in await bot.admin.ask(bot.group.id, "/setup")  # tried again: it worked
    bot.tg.fail_next["getChatMember"].extend([ApiError(502, "Bad Gateway")] * 20)
    caplog.clear()
    reply = await bot.admin.ask(bot.group.id, "/setup", timeout=20)
    assert reply == "系统繁忙，请稍后再试。"
    assert "Traceback" not in caplog.text and not [
        r for r in caplog.records if r.levelname == "ERROR"
    ]


async def test_our_bugs_are_reported_politely_and_logged_without_token(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)

    async def broken(*_args: object) -> None:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr("handlers.members.members_db.roster_by_unit", broken)
    reply = await bot.admin.ask(bot.group.id, "/units")
    assert "出错了" in reply and "bug" not in reply
    await bot.tg.wait_for(lambda: "error while handling update" in caplog.text, what="log")
    assert "/units" in caplog.text and "Traceback" in caplog.text
    assert TOKEN not in caplog.text and TOKEN.replace(":", "%3A") not in caplog.text
    assert "<redacted>" in caplog.text  # Bot API calls were logged with their URLs, redacted


def test_every_command_is_in_a_menu_or_named_off_it() -> None:
    """The command menus (setMyCommands) and the commands kept off them name exactly the
    registered commands: a new command is placed on purpose."""
    application = build_application(
        Settings(
            bot_token=TOKEN,
            telegram_api_url="http://127.0.0.1:9",
            database_url="sqlite+aiosqlite://",
        )
    )
    registered = {
        command
        for group in application.handlers.values()
        for handler_ in group
        if isinstance(handler_, CommandHandler)
        for command in handler_.commands
    }
    assert registered == set(MEMBER_COMMANDS) | set(COMMITTEE_COMMANDS) | set(OTHER_COMMANDS)
    assert len(MEMBER_COMMANDS) <= 10  # a member's menu stays short
