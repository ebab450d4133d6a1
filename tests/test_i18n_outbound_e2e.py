"""End-to-end: what the bot sends someone other than the person it is answering, and what it
sends by itself, is in the reader's language: each person's privately, a group's in the group.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from db.models import Member
from tests.harness import BotHarness, clock, seed_members
from tests.steps import body, chinese, create, current, post, sent_to
from tests.steps import english as english_without
from tests.tgserver import TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 10:00")

DATA = ("办公室", "康复中心", "成员", "管理员", "孙明")  # names and units people typed


def english(text: str) -> str:
    return english_without(text, DATA)


def labels(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button["text"] for row in rows for button in row]


async def set_language(bot: BotHarness, user: TgUser, lang: str) -> None:
    async with bot.services.db.session() as session:
        await session.execute(update(Member).where(Member.telegram_id == user.id).values(lang=lang))
        await session.commit()


async def fire(bot: BotHarness) -> dict[str, str]:
    handled = dict(await bot.services.reminders.fire_due())
    await bot.services.outbox.drain(20)
    return handled


async def test_a_notice_follow_up_speaks_each_members_language(world: BotHarness) -> None:
    bot = world
    alice, wang = await seed_members(bot, 2, "办公室")
    await set_language(bot, alice, "en")
    notice_id, _ = await post(bot, "remind=off Quarterly report due Friday")
    assert "已开始提醒" in await bot.admin.ask_private(f"/chase {notice_id}")
    to_alice = await sent_to(bot, alice, "Quarterly report")
    assert "Reminder" in english(body(to_alice)) and labels(to_alice) == ["Got it"]
    to_wang = await sent_to(bot, wang, "Quarterly report")
    assert "提醒" in chinese(body(to_wang)) and labels(to_wang) == ["收到"]
    # The button on the English follow-up works, answered in English.
    answer = await alice.toast(alice.press(to_alice, "Got it"))
    assert "Acknowledged" in english(answer["text"])


async def test_reminders_speak_the_groups_and_each_members_language(world: BotHarness) -> None:
    bot = world
    english(await bot.admin.ask(bot.group.id, "/lang en"))
    alice, wang = await seed_members(bot, 2, "办公室")
    await set_language(bot, alice, "en")
    activity_id, _card = await create(bot, "学习 2026-12-07 12:00 Theory study")
    clock(bot).set_local("2026-12-07 11:00")
    assert (await fire(bot))[f"activity:{activity_id}:activity_1h"] == "sent"
    posted = [t for t in bot.tg.texts(bot.group.id) if f"#{activity_id} starts at" in t]
    assert len(posted) == 1 and "Reminder" in english(posted[0])
    clock(bot).set_local("2026-12-07 12:10")
    assert (await fire(bot))[f"activity:{activity_id}:checkin_nudge"] == "sent"
    nudge = await sent_to(bot, alice, "Theory study")
    assert "haven't checked in" in english(body(nudge))
    assert "还没有签到或请假" in body(await sent_to(bot, wang, "Theory study"))


async def test_an_approval_request_goes_to_each_approver_in_their_language(
    world: BotHarness,
) -> None:
    bot = world
    zhao = bot.user(3010, "Zhao", "zhaowei", language_code="en-US")
    english(await zhao.ask_private("/start"))
    await bot.admin.ask_private("/promote @zhaowei")
    member = await bot.registered(3011, "孙明", "康复中心")  # a unit without a lead
    await set_language(bot, member, "en")
    activity_id, _card = await create(bot, "会议 2026-12-07 15:00 Quarterly meeting leave=approve")
    english(await member.ask_private(f"/leave {activity_id} business trip"))

    to_zhao = await sent_to(bot, zhao, "business trip")
    assert "Leave request" in english(body(to_zhao))
    assert labels(to_zhao) == ["Approve", "Reject"]
    to_admin = await sent_to(bot, bot.admin, "business trip")
    assert "请假申请" in chinese(body(to_admin)) and labels(to_admin) == ["批准", "驳回"]

    toast = await zhao.toast(zhao.press(to_zhao, "Approve"))
    english(toast["text"])
    # Each approver's message says who decided, in that approver's language.
    await bot.tg.wait_for(
        lambda: "Decision: Approved" in body(current(bot, to_zhao)),
        what="the English request says who decided",
    )
    await bot.tg.wait_for(
        lambda: "已批准（Zhao" in body(current(bot, to_admin)),
        what="the Chinese request says who decided",
    )
    told = await sent_to(bot, member, "was approved")
    english(body(told))


async def test_an_english_groups_cards_are_english_while_a_chinese_toast_stays_chinese(
    world: BotHarness,
) -> None:
    bot = world
    english(await bot.admin.ask(bot.group.id, "/lang en"))
    (wang,) = await seed_members(bot, 1, "办公室")
    # Created privately by a Chinese admin: the card is the group's, in English.
    _id, activity_card = await create(bot, "学习 2026-12-07 10:05 Theory study")
    assert "Checked in: 0" in english(body(activity_card))
    assert labels(activity_card) == ["Check in", "Ask for leave"]
    chinese((await wang.toast(wang.press(activity_card, "Check in")))["text"])
    # The card re-rendered after the press stays English.
    await bot.tg.wait_for(
        lambda: "Checked in: 1" in body(current(bot, activity_card)),
        what="the English card counts the check-in",
    )
    english(body(current(bot, activity_card)))

    notice_id, _ = await post(bot, "Flag-raising on Monday")
    notice_card = card_in_english(bot, notice_id)
    assert "Acknowledged: 0 of 1" in english(body(notice_card))
    assert labels(notice_card) == ["Got it"]
    assert "已收到" in chinese((await wang.toast(wang.press(notice_card, "Got it")))["text"])
    await bot.tg.wait_for(
        lambda: "Acknowledged: 1 of 1" in body(current(bot, notice_card)),
        what="the English notice card counts the acknowledgement",
    )


def card_in_english(bot: BotHarness, notice_id: int) -> dict[str, Any]:
    found = next(
        (m for m in bot.tg.bot_messages(bot.group.id) if f"Notice #{notice_id}\n" in body(m)),
        None,
    )
    assert found is not None, f"no English card for notice {notice_id}"
    return found
