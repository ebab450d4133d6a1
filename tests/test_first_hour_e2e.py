"""End-to-end: the first hour (issue 23) — the committee's setup checklist and its next steps,
links instead of instructions, registering by buttons, an imported person's one button."""

from __future__ import annotations

from typing import Any

from tests.harness import BotHarness
from tests.steps import import_preview, imported, workbook

LINK = "https://t.me/qgw_test_bot"


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def test_the_secretary_is_led_through_setup(bot: BotHarness) -> None:
    reply = await bot.admin.ask_private("/start")
    assert "开始使用" in reply and "请先登记" not in reply, reply
    assert "1. 绑定主群：待办" in reply and "5. 建第一个活动：待办" in reply, reply
    assert "下一步：把我加进青工委的群，在群里发送 /setup" in reply, reply

    # Said in the group (it is about the group), with the committee's next step.
    setup = await bot.admin.ask(bot.group.id, "/setup")
    assert "主群" in setup and "下一步：私聊我发送 /unit add" in setup, setup
    bot.main_bound = True

    added = await bot.admin.ask_private("/unit add 办公室、康复中心")
    assert "已新增单位：办公室、康复中心" in added, added
    assert "下一步：发送 /import template" in added and f"{LINK}?start=register" in added

    preview = await import_preview(
        bot, "名单.xlsx", workbook([["姓名", "单位", "用户名"], ["王涛", "办公室", "taowang"]])
    )
    since = len(bot.tg.texts(bot.admin.id))
    await bot.admin.toast(bot.admin.press(preview, "确认导入"))
    await bot.tg.wait_for(lambda: len(bot.tg.texts(bot.admin.id)) >= since + 2, what="2 replies")
    done, invitation = bot.tg.texts(bot.admin.id)[since : since + 2]
    assert "已导入：新增 1" in done and "将新建" not in done, done
    assert "下一步：在主群发送 /notice" in done and "转发" in done, done
    assert invitation.endswith(f"{LINK}?start=register"), invitation

    reply = await bot.admin.ask_private("/start")
    assert "1. 绑定主群：已完成" in reply and "3. 导入或邀请成员：已完成" in reply, reply
    assert "4. 发第一条通知：待办" in reply, reply


async def test_an_imported_person_confirms_with_one_button(world: BotHarness) -> None:
    bot = world
    await imported(bot, "王涛", "办公室", username="taowang")
    tao = bot.user(4101, "Tao", "taowang")
    since = len(bot.tg.bot_messages(tao.id))
    reply = await tao.ask_private("/start")
    assert "名单上有你：王涛（办公室）" in reply, reply
    greeting = bot.tg.bot_messages(tao.id)[since]
    assert [b["text"] for b in buttons(greeting)] == ["是我：王涛（办公室）", "不是我"]
    since = len(bot.tg.texts(tao.id))
    toast = await tao.toast(tao.press(greeting, "是我"))
    assert "是我" in toast["text"], toast
    assert "登记成功：王涛（办公室）" in await tao.reply_in(tao.id, since)
    assert "已登记为：王涛（办公室）" in await tao.ask_private("/start")
    # The button was settled: pressing it again is refused and changes nothing.
    toast = await tao.toast(tao.press_data(greeting, "reg:me"))
    assert "按钮无效" in toast["text"], toast


async def test_registering_by_unit_buttons_in_english(world: BotHarness) -> None:
    bot = world
    anna = bot.user(4102, "Anna", language_code="en")
    since = len(bot.tg.bot_messages(anna.id))
    reply = await anna.ask_private("/register")
    assert "choose your unit" in reply, reply
    question = bot.tg.bot_messages(anna.id)[since]
    assert [b["text"] for b in buttons(question)] == ["办公室", "康复中心"]
    since = len(bot.tg.texts(anna.id))
    await anna.toast(anna.press(question, "康复中心"))
    assert "send your real name" in await anna.reply_in(anna.id, since)
    assert "Unit: 康复中心" in bot.tg.chats[anna.id].messages[question["message_id"]]["text"]
    reply = await anna.ask_private("Anna Li")
    assert "Anna Li" in reply and "康复中心" in reply, reply
    assert "registered as: Anna Li (康复中心)" in await anna.ask_private("/start")
    # A forged unit is refused; nothing changes.
    toast = await anna.toast(anna.press_data(question, "reg:u:999999"))
    assert "invalid" in toast["text"].lower(), toast


async def test_register_first_carries_the_link(world: BotHarness) -> None:
    bot = world
    stranger = bot.stranger(4103, "路人")
    since = len(bot.tg.bot_messages(stranger.id))
    reply = await stranger.ask_private("/me")
    assert "请先登记" in reply, reply
    refusal = bot.tg.bot_messages(stranger.id)[since]
    assert [b.get("url") for b in buttons(refusal)] == [f"{LINK}?start=register"]
    # The link's /start opens at registering: the units to choose from, no greeting.
    since = len(bot.tg.bot_messages(stranger.id))
    reply = await stranger.ask_private("/start register")
    assert reply.startswith("请先登记：选择你所在的单位"), reply
    # In a group, /start and /register point to the private chat with a button.
    member = bot.user(4104, "群友")
    since = len(bot.tg.bot_messages(bot.group.id))
    reply = await member.ask(bot.group.id, "/start")
    assert "点下面的按钮私聊我" in reply, reply
    assert [b.get("url") for b in buttons(bot.tg.bot_messages(bot.group.id)[since])] == [LINK]


async def test_free_text_in_private_gets_a_hint(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(4105, "小周", "办公室")
    reply = await member.ask_private("你好，请问怎么用？")
    assert "这句话我没有看懂" in reply and "/help" in reply, reply
    # What it understands still works: nothing waits for 收到, and it says so.
    assert "现在没有等你回复“收到”的通知" in await member.ask_private("收到")


async def test_the_first_hour_in_english(bot: BotHarness) -> None:
    assert "English" in await bot.admin.ask_private("/lang en")
    reply = await bot.admin.ask_private("/start")
    assert "Getting started" in reply and "1. Bind the main group: to do" in reply, reply
    assert "Next: Add me to the committee's group and send /setup there." in reply, reply
    await bot.add_units("办公室")
    # In a group, someone the bot cannot write to yet gets five lines and a button.
    anna = bot.user(4106, "Anna", language_code="en")
    since = len(bot.tg.bot_messages(bot.group.id))
    reply = await anna.ask(bot.group.id, "/help")
    assert len(reply.splitlines()) <= 5 and "Tap the button below" in reply, reply
    (button,) = buttons(bot.tg.bot_messages(bot.group.id)[since])
    assert button == {"text": "All commands", "url": f"{LINK}?start=help"}, button
    reply = await anna.ask_private("/start help")
    assert "/register" in reply and "/help" in reply and "，" not in reply, reply
