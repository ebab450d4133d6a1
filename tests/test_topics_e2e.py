"""End-to-end: a forum supergroup as the main group, units bound to its topics.

`/setup` in the General topic binds the main group; `/setup 单位` inside a topic binds that
unit to the topic, and the unit's cards, notices and reminders go into it.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from db.models import Chat, UnitTopic
from tests.harness import BotHarness, clock, seed_members
from tests.steps import card, create, post

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 09:00")


@pytest.fixture
async def forum(bot: BotHarness) -> tuple[BotHarness, int, int]:
    """The main group is a forum with topics 办公室 and 康复中心; /setup in General."""
    await bot.add_units("办公室", "康复中心")
    office = bot.tg.add_topic(bot.group.id, "办公室", by=bot.admin.id)
    rehab = bot.tg.add_topic(bot.group.id, "康复中心", by=bot.admin.id)
    await bot.setup_main_group()  # sent in General: no thread
    return bot, office, rehab


async def topics(bot: BotHarness) -> dict[int, tuple[int, int]]:
    async with bot.services.db.session() as session:
        rows = await session.scalars(select(UnitTopic))
        return {row.unit_id: (row.chat_id, row.thread_id) for row in rows}


def in_topic(message: dict[str, Any], thread_id: int | None) -> bool:
    return message.get("message_thread_id") == thread_id


async def test_setup_inside_a_topic_binds_the_unit_to_it(
    forum: tuple[BotHarness, int, int],
) -> None:
    bot, office, rehab = forum
    reply = await bot.admin.ask_in_topic(bot.group.id, office, "/setup 办公室")
    assert "办公室" in reply["text"] and "话题" in reply["text"] and in_topic(reply, office)
    again = await bot.admin.ask_in_topic(bot.group.id, office, "/setup 办公室")
    assert "已经" in again["text"]
    assert list((await topics(bot)).values()) == [(bot.group.id, office)]
    # The topic is the unit's: a second unit bound to it replaces the first.
    await bot.admin.ask_in_topic(bot.group.id, office, "/setup 康复中心")
    assert list((await topics(bot)).values()) == [(bot.group.id, office)]
    await bot.admin.ask_in_topic(bot.group.id, rehab, "/setup 康复中心")
    await bot.admin.ask_in_topic(bot.group.id, office, "/setup 办公室")
    assert sorted((await topics(bot)).values()) == [(bot.group.id, office), (bot.group.id, rehab)]
    # /setup in General keeps the main group (and its topics).
    general = await bot.admin.ask(bot.group.id, "/setup")
    assert "主群" in general
    assert len(await topics(bot)) == 2
    listing = await bot.admin.ask_private("/chats")
    assert "话题 · 办公室 · 主群里的“办公室”话题" in listing  # the topic's own name


async def test_a_units_card_notice_and_reminder_go_into_its_topic(
    forum: tuple[BotHarness, int, int],
) -> None:
    bot, office, _ = forum
    await seed_members(bot, 2, "办公室")
    await bot.admin.ask_in_topic(bot.group.id, office, "/setup 办公室")
    activity_id, activity_card = await create(bot, "学习 2026-12-07 14:00 本组学习 unit=办公室")
    assert in_topic(activity_card, office)
    main_id, main_card = await create(bot, "学习 2026-12-08 14:00 全体学习")
    assert in_topic(main_card, None)  # the main group's: General

    notice_id, reply = await post(bot, "@办公室 remind=off 本组周五交心得")
    assert "办公室 话题" in reply, reply
    assert in_topic(card(bot, notice_id, bot.group.id), office)
    all_id, _ = await post(bot, "all remind=off 全体注意")
    assert in_topic(card(bot, all_id, bot.group.id), None)  # the topics are in this group

    reminder = await bot.admin.ask_private("/remind add 2026-12-07 10:00 @办公室 记得带材料")
    assert "办公室" in reminder and "话题" in reminder, reminder
    clock(bot).set_local("2026-12-07 10:00:30")
    await bot.services.reminders.fire_due()
    await bot.services.outbox.drain(20)
    sent = await bot.tg.message_in(
        bot.group.id, lambda m: "记得带材料" in m["text"], what="the unit's reminder"
    )
    assert in_topic(sent, office)

    # The card's buttons work in the topic like anywhere.
    member = await bot.registered(2401, "组员", "办公室")
    clock(bot).set_local("2026-12-07 13:50")
    answer = await member.toast(member.press(activity_card, "签到"))
    assert "签到成功" in answer["text"], answer
    assert main_id != activity_id


async def test_a_topic_binding_replaces_the_units_own_group_and_the_reverse(
    forum: tuple[BotHarness, int, int],
) -> None:
    bot, office, _ = forum
    own = bot.tg.add_group(-100800, "办公室群")
    await bot.admin.ask(own.id, "/setup 办公室")
    await bot.admin.ask_in_topic(bot.group.id, office, "/setup 办公室")
    async with bot.services.db.session() as session:
        assert await session.get(Chat, own.id) is None  # the topic is its place now
    _, unit_card = await create(bot, "学习 2026-12-07 14:00 本组学习 unit=办公室")
    assert unit_card["chat"]["id"] == bot.group.id and in_topic(unit_card, office)
    # Binding a group of its own again takes the unit out of the topic.
    await bot.admin.ask(own.id, "/setup 办公室")
    assert await topics(bot) == {}
    _, unit_card = await create(bot, "学习 2026-12-08 14:00 本组学习二 unit=办公室", chat_id=own.id)
    assert in_topic(unit_card, None)


async def test_topics_belong_to_the_main_group(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    other = bot.tg.add_group(-100900, "别的论坛群")
    thread = bot.tg.add_topic(other.id, "办公室", by=bot.admin.id)
    since = len(bot.tg.texts(bot.admin.id))
    bot.admin.send(other.id, "/setup 办公室", thread_id=thread)
    refused = await bot.admin.reply_in(bot.admin.id, since)  # a refusal goes privately
    assert "General" in refused and await topics(bot) == {}
    # Members may not bind, in a topic either.
    member = await bot.registered(2301, "普通成员", "办公室")
    await bot.setup_main_group()
    main_thread = bot.tg.add_topic(bot.group.id, "办公室", by=bot.admin.id)
    since = len(bot.tg.texts(member.id))
    member.send(bot.group.id, "/setup 办公室", thread_id=main_thread)
    refused = await member.reply_in(member.id, since)  # a member is answered privately
    assert "仅限青工委" in refused and await topics(bot) == {}
    since = len(bot.tg.texts(bot.admin.id))
    bot.admin.send(bot.group.id, "/setup 火星", thread_id=main_thread)
    unknown = await bot.admin.reply_in(bot.admin.id, since)
    assert "火星" in unknown and await topics(bot) == {}
