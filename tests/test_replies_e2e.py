"""End-to-end: 收到 and 到 typed in chat, as people answer in their work groups."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from db.models import Acknowledgement, Member
from tests.harness import BotHarness, clock, seed_members
from tests.steps import acks, attendance, card, create, post, wait_card
from tests.tgserver import TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")


def typed(
    user: TgUser, bot: BotHarness, text: str, to: dict[str, Any] | None = None
) -> dict[str, Any]:
    return user.send(bot.group.id, text, reply_to=to)


def reactions(bot: BotHarness, message: dict[str, Any]) -> list[str]:
    return bot.tg.reactions(message)


async def reacted(bot: BotHarness, message: dict[str, Any], emoji: str) -> None:
    await bot.tg.wait_for(lambda: emoji in reactions(bot, message), 10, f"{emoji} on the message")


def group_messages(bot: BotHarness) -> int:
    return len(bot.tg.texts(bot.group.id))


async def test_a_reply_to_the_notice_acknowledges_it_with_a_reaction_only(
    world: BotHarness,
) -> None:
    bot = world
    people = await seed_members(bot, 3, "办公室")
    notice_id, _ = await post(bot, "remind=off 周五交材料")
    notice = card(bot, notice_id, bot.group.id)
    before = group_messages(bot)
    words = ["收到", "收到！", "好的，收到~"]
    answers = [typed(p, bot, word, notice) for p, word in zip(people, words, strict=True)]
    for answer in answers:
        await reacted(bot, answer, "👌")
    assert await acks(bot, notice_id) == 3
    await bot.tg.wait_for(lambda: "已收到 3 / 3" in card(bot, notice_id, bot.group.id)["text"])
    assert group_messages(bot) == before  # the card was edited; nothing was said
    # Again, as a reply to the same card: already recorded, said privately.
    typed(people[0], bot, "收到", notice)
    await bot.tg.wait_for(
        lambda: any("你已回复过“收到”" in t for t in bot.tg.texts(people[0].id)), 10, "a DM"
    )
    assert group_messages(bot) == before


async def test_a_bare_word_answers_the_newest_notice_not_yet_acknowledged(
    world: BotHarness,
) -> None:
    bot = world
    (person,) = await seed_members(bot, 1, "办公室")
    older, _ = await post(bot, "remind=off 旧通知")
    newer, _ = await post(bot, "remind=off 新通知")
    first = typed(person, bot, "收到")
    await reacted(bot, first, "👌")
    assert (await acks(bot, newer), await acks(bot, older)) == (1, 0)
    second = typed(person, bot, "1")
    await reacted(bot, second, "👌")
    assert await acks(bot, older) == 1
    third = typed(person, bot, "👍")  # nothing left to answer: nothing happens
    await bot.settled()
    assert reactions(bot, third) == [] and not bot.tg.texts(person.id)


async def test_a_bare_word_does_not_answer_a_notice_older_than_a_week(world: BotHarness) -> None:
    bot = world
    (person,) = await seed_members(bot, 1, "办公室")
    notice_id, _ = await post(bot, "remind=off 上个月的通知")
    clock(bot).set_local("2026-12-15 09:00")
    answer = typed(person, bot, "收到")
    await bot.settled()
    assert reactions(bot, answer) == [] and await acks(bot, notice_id) == 0


@pytest.mark.parametrize(
    "text",
    ["收到通知了吗？", "我收到了吗", "收到，但是附件打不开", "到底是哪天", "签到在哪里", "好的"],
)
async def test_ordinary_chat_is_never_answered(world: BotHarness, text: str) -> None:
    bot = world
    (person,) = await seed_members(bot, 1, "办公室")
    notice_id, _ = await post(bot, "remind=off 一条通知")
    before = group_messages(bot)
    message = typed(person, bot, text, card(bot, notice_id, bot.group.id))
    await bot.settled()
    assert reactions(bot, message) == [] and await acks(bot, notice_id) == 0
    assert group_messages(bot) == before and not bot.tg.texts(person.id)


async def test_roll_call_by_reply_and_bare_with_the_check_in_rules(world: BotHarness) -> None:
    bot = world
    people = await seed_members(bot, 3, "办公室")
    activity_id, activity = await create(bot, "学习 2026-12-07 14:10 点名")
    clock(bot).set_local("2026-12-07 14:05")
    answer = typed(people[0], bot, "到", activity)
    await reacted(bot, answer, "👍")
    clock(bot).set_local("2026-12-07 14:40")  # past start + 15 minutes: late
    answer = typed(people[1], bot, "签到！")  # bare: the only activity open here
    await reacted(bot, answer, "👍")
    assert await attendance(bot, activity_id) == {people[0].id: "present", people[1].id: "late"}
    await wait_card(bot, activity, "已签到 2 · 迟到 1")
    # A second activity open in the same chat: a bare 到 is ambiguous and left alone.
    await create(bot, "学习 2026-12-07 15:00 第二场")
    await bot.services.outbox.drain(10)  # its card's place is recorded
    answer = typed(people[2], bot, "到")
    await bot.settled()
    assert reactions(bot, answer) == [] and people[2].id not in await attendance(bot, activity_id)
    # Closed: said privately.
    clock(bot).set_local("2026-12-07 17:00")
    typed(people[2], bot, "到", activity)
    await bot.tg.wait_for(lambda: any("签到已结束" in t for t in bot.tg.texts(people[2].id)))


async def test_an_activity_with_a_code_is_not_checked_in_by_typing(world: BotHarness) -> None:
    bot = world
    (person,) = await seed_members(bot, 1, "办公室")
    activity_id, activity = await create(bot, "学习 2026-12-07 14:10 有码 code=A1B2")
    answer = typed(person, bot, "到", activity)
    await bot.tg.wait_for(lambda: any("需要签到码" in t for t in bot.tg.texts(person.id)))
    assert reactions(bot, answer) == [] and await attendance(bot, activity_id) == {}


async def test_refusals_go_privately_or_once_a_day_in_the_group(world: BotHarness) -> None:
    bot = world
    notice_id, _ = await post(bot, "remind=off 需要登记")
    notice = card(bot, notice_id, bot.group.id)
    started = bot.user(3500, "已私聊未登记")
    await started.ask_private("/start")
    typed(started, bot, "收到", notice)
    await bot.tg.wait_for(lambda: any("请先登记" in t for t in bot.tg.texts(started.id)))
    stranger = bot.user(3501, "从未私聊")
    before = group_messages(bot)
    typed(stranger, bot, "收到", notice)
    hint = await stranger.reply_in(bot.group.id, before)
    assert "请先登记" in hint and "/start" in hint
    typed(stranger, bot, "收到了", notice)  # the same day: no second group reply
    await bot.settled()
    assert group_messages(bot) == before + 1
    clock(bot).set_local("2026-12-08 09:00")
    typed(stranger, bot, "收到", notice)
    await stranger.reply_in(bot.group.id, before + 1)
    assert await acks(bot, notice_id) == 0


async def test_in_a_private_chat_a_reply_to_the_follow_up_or_the_only_notice(
    world: BotHarness,
) -> None:
    bot = world
    person = await bot.registered(3600, "小吴", "办公室")
    first, _ = await post(bot, "remind=off 第一条")
    await bot.admin.ask_private(f"/chase {first}")
    await bot.services.outbox.drain(20)
    followup = next(m for m in bot.tg.bot_messages(person.id) if f"通知 #{first}" in m["text"])
    second, _ = await post(bot, "remind=off 第二条")
    assert "有 2 条通知等你回复" in await person.ask_private("收到")
    since = len(bot.tg.texts(person.id))
    person.send(person.id, "收到", reply_to=followup)
    assert f"已收到 ✅ 通知 #{first}" in await person.reply_in(person.id, since)
    assert f"已收到 ✅ 通知 #{second}" in await person.ask_private("收到了")
    assert "没有等你回复" in await person.ask_private("收到")
    assert (await acks(bot, first), await acks(bot, second)) == (1, 1)


async def test_sign_in_typed_privately_is_a_check_in(world: BotHarness) -> None:
    bot = world
    person = await bot.registered(3700, "小郑", "办公室")
    activity_id, _ = await create(bot, "学习 2026-12-07 14:10 私聊签到")
    assert "签到成功" in await person.ask_private("签到")
    assert await attendance(bot, activity_id) == {person.id: "present"}


async def test_setup_says_when_the_bot_cannot_read_the_group(world: BotHarness) -> None:
    bot = world
    plain = bot.tg.add_group(-100555, "看不见的群", bot_admin=False)
    reply = await bot.admin.ask(plain.id, "/setup 办公室")
    assert "看不到群里的普通消息" in reply and "/setprivacy" in reply
    assert "看不到" not in await bot.admin.ask(bot.group.id, "/setup")  # an admin sees all


HANDLED_TABLES = ("members", "notices", "notice_posts", "acknowledgements", "processed_updates")


@contextmanager
def statements(bot: BotHarness) -> Iterator[list[str]]:
    """The SQL statements the bot runs while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The update's own statements; not the outbox's polling or the leader's lock check,
        # which run on their own schedule.
        if any(table in statement for table in HANDLED_TABLES):
            seen.append(statement)

    engine = bot.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_typed_answer_costs_no_more_database_round_trips_than_a_button(
    world: BotHarness,
) -> None:
    bot = world
    people = await seed_members(bot, 3, "办公室")
    notice_id, _ = await post(bot, "remind=off 数一数")
    notice = card(bot, notice_id, bot.group.id)
    await bot.services.cards.stop()  # card edits read the database too: keep them out
    with statements(bot) as button:
        await people[0].toast(people[0].press(notice, "收到"))
    with statements(bot) as reply:
        await reacted(bot, typed(people[1], bot, "收到", notice), "👌")
    with statements(bot) as bare:
        await reacted(bot, typed(people[2], bot, "收到"), "👌")
    assert len(reply) <= len(button) and len(bare) <= len(button), (button, reply, bare)
    async with bot.services.db.session() as session:
        total = await session.scalar(select(func.count()).select_from(Acknowledgement).join(Member))
    assert total == 3
    bot.services.cards.start()
