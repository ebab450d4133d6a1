"""End-to-end: a person's language (from Telegram's, then /lang) and a group's (/lang there).

An English user's whole path is English while a Chinese user beside them stays Chinese; the
group's cards keep the group's language while each person's toast is their own.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from db.models import Chat, Member
from tests.harness import BotHarness
from tests.steps import card, chinese, create, post
from tests.steps import english as english_without
from tests.tgserver import TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")

# Chinese characters and full-width punctuation: none may be left in an English text once
# the data (names, units, titles, which are what people typed) is taken out.
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
DATA = ("办公室", "王伟", "中文")  # and a language's own name


def english(text: str) -> str:
    """`text` is English once what people typed is taken out."""
    return english_without(text, DATA)


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    await bot.add_units("办公室")
    await bot.setup_main_group()
    return bot


async def language(bot: BotHarness, telegram_id: int) -> str | None:
    async with bot.services.db.session() as session:
        return await session.scalar(select(Member.lang).where(Member.telegram_id == telegram_id))


async def toast(user: TgUser, message: dict[str, Any], label: str) -> str:
    answer = await user.toast(user.press(message, label))
    return str(answer["text"])


async def test_an_english_users_whole_path_is_english_beside_a_chinese_user(
    world: BotHarness,
) -> None:
    bot = world
    alice = bot.user(3001, "Alice", "alice", language_code="en-US")
    wang = bot.user(3002, "王伟", "wangwei", language_code="zh-hans")
    assert "Hello" in english(await alice.ask_private("/start"))
    assert "你好" in chinese(await wang.ask_private("/start"))
    assert await language(bot, alice.id) == "en" and await language(bot, wang.id) == "zh"
    english(await alice.ask_private("/register Alice 办公室"))
    assert "登记成功" in await wang.ask_private("/register 王伟 办公室")
    english(await alice.ask_private("/help"))

    study, study_card = await create(bot, "学习 2026-12-07 14:20 Theory study")
    meeting, _ = await create(bot, "会议 2026-12-07 16:00 Committee meeting")
    volunteer, _ = await create(bot, "志愿 2026-12-08 09:00 Park cleanup cap=5")
    english(await alice.ask_private("/events"))
    # Check in by command and by the group card's button: the card is the group's (Chinese),
    # each person's toast their own.
    english(await alice.ask_private(f"/checkin {study}"))
    english(await toast(alice, study_card, "签到"))  # already checked in, in English
    chinese(await toast(wang, study_card, "签到"))
    english(await alice.ask_private(f"/leave {meeting} family matters"))
    english(await alice.ask_private(f"/signup {volunteer}"))
    chinese(await wang.ask_private(f"/signup {volunteer}"))
    english(await alice.ask_private(f"/withdraw {volunteer}"))

    notice_id, _ = await post(bot, "请于周五前提交季度学习心得")
    notice_card = card(bot, notice_id, bot.group.id)
    english(await toast(alice, notice_card, "收到"))
    chinese(await toast(wang, notice_card, "收到"))
    me = english(await alice.ask_private("/me"))
    assert "Alice" in me
    # The needs inbox: categories by their English names, "anonymous" at the end.
    receipt = english(await alice.ask_private("/need jobs I would like career advice anonymous"))
    assert "Jobs" in receipt
    refused = english(await alice.ask_private("/need mars something"))
    assert "Jobs, Education, Housing" in refused
    since = len(bot.tg.bot_messages(alice.id))
    alice.say("/need")
    choose = await bot.tg.message_in(
        alice.id, lambda m: m.get("reply_markup"), what="the category buttons", since=since
    )
    labels = [b["text"] for row in choose["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[0] == "Jobs" and all(english(label) for label in labels)
    english(await alice.ask_private("/cancel"))
    # Bad input is refused in English too.
    english(await alice.ask_private("/checkin 999999"))
    english(await alice.ask_private("/frobnicate"))

    # /lang switches: Chinese from now on, and back.
    chinese(await alice.ask_private("/lang zh"))
    chinese(await alice.ask_private("/me"))
    english(await alice.ask_private("/lang en"))
    english(await alice.ask_private("/lang fr"))  # unknown, said in English
    chinese(await wang.ask_private("/lang"))


async def test_a_persons_menu_follows_their_language(world: BotHarness) -> None:
    bot = world
    wang = bot.user(3002, "王伟", "wangwei", language_code="zh-hans")
    await wang.ask_private("/start")
    scope = {"chat_id": wang.id, "type": "chat"}
    assert bot.tg.menu(scope) == []  # the default (Chinese) menu fits
    await wang.ask_private("/lang en")
    menu = await bot.tg.wait_for(lambda: bot.tg.menu(scope), what="an English menu")
    assert "lang Language: en English / zh Chinese" in menu and "promote" not in str(menu)
    await wang.ask_private("/lang zh")
    await bot.tg.wait_for(lambda: bot.tg.menu(scope) == [], what="the menu given back")
    # A committee member's menu has the committee's commands in their language.
    await bot.admin.ask_private("/lang en")
    admin_scope = {"chat_id": bot.admin.id, "type": "chat"}
    await bot.tg.wait_for(
        lambda: "newevent New activity" in bot.tg.menu(admin_scope),
        what="the committee's English menu",
    )


async def test_a_groups_language_is_set_by_the_committee_only(world: BotHarness) -> None:
    bot = world
    wang = await bot.registered(3002, "王伟", "办公室", username="wangwei")
    assert "仅限青工委" in await wang.ask_anywhere(bot.group.id, "/lang en")
    assert "没有“fr”这种语言" in await bot.admin.ask_anywhere(bot.group.id, "/lang fr")
    english(await bot.admin.ask(bot.group.id, "/lang en"))
    async with bot.services.db.session() as session:
        group = await session.get(Chat, bot.group.id)
        assert group is not None and group.lang == "en"
    # A member asking in the group is answered privately, in their own language, about the
    # group's; the committee is answered in the group, in the group's language.
    asked = chinese(await wang.ask_anywhere(bot.group.id, "/lang"))
    assert "英文" in asked or "English" in asked
    chinese(await wang.ask_private("/lang"))
    # A group the bot is not bound to has no language to set.
    stray = bot.tg.add_group(-100777, "别的群")
    assert "还没有绑定" in await bot.admin.ask_anywhere(stray.id, "/lang en")
    chinese(await bot.admin.ask(bot.group.id, "/lang zh"))
