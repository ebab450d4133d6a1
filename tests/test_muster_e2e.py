"""End-to-end: the 青年突击队 rapid call (/muster), its answers, half-way re-call, close, squad."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app import build_application
from db import musters as musters_db
from db.members import set_can_dm
from db.models import Member, MusterAnswer, OutboxMessage
from scheduler import quiet, reminder_rules
from tests.harness import BotHarness, clock, make_settings, seed_members
from tests.steps import card_text, wait_card
from tests.tgserver import FakeTelegram, TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 10:00")

CONFIRMED = "✅ 已确认"
TASK = "防汛抢险：加固北岸堤坝\n18:00 到单位门口集合，带雨具"


async def call(
    bot: BotHarness, args: str, chat_id: int | None = None
) -> tuple[int, str, dict[str, Any]]:
    """Start a call as the committee; its number, the reply, its card in the group."""
    reply = await bot.admin.ask_private(f"/muster {args}")
    match = re.search(r"已发起紧急集结 #(\d+)", reply)
    assert match, reply
    muster_id = int(match[1])
    await bot.services.outbox.drain(30)
    card = await bot.tg.message_in(
        chat_id or bot.group.id,
        lambda m: f"紧急集结】#{muster_id}\n" in m["text"],
        what="the call's card",
    )
    return muster_id, reply, card


def calls(bot: BotHarness, user: TgUser, muster_id: int) -> list[dict[str, Any]]:
    """The private calls (and re-calls) `user` got for this call."""
    return [
        m
        for m in bot.tg.bot_messages(user.id)
        if re.search(rf"紧急集结】#{muster_id}\n|紧急集结】#{muster_id} ", m["text"])
    ]


def recalls(bot: BotHarness, user: TgUser, muster_id: int) -> list[str]:
    return [t for t in bot.tg.texts(user.id) if f"【再次呼叫 · 紧急集结】#{muster_id} " in t]


async def press(user: TgUser, message: dict[str, Any], label: str) -> str:
    return str((await user.toast(user.press(message, label), 30))["text"])


async def answers(bot: BotHarness, muster_id: int) -> list[tuple[int, str]]:
    """(telegram id, status) in arrival order."""
    async with bot.services.db.session() as session:
        rows = await session.execute(
            select(Member.telegram_id, MusterAnswer.status)
            .join(Member, Member.id == MusterAnswer.member_id)
            .where(MusterAnswer.muster_id == muster_id)
            .order_by(MusterAnswer.id)
        )
        return [(tid, status) for tid, status in rows.all() if tid is not None]


async def unreachable(bot: BotHarness, *users: TgUser) -> None:
    async with bot.services.db.session() as session:
        for user in users:
            await set_can_dm(session, user.id, False)
        await session.commit()


async def at(bot: BotHarness, local: str) -> None:
    """Move the clock, fire what the reminder engine finds due, let the outbox send."""
    clock(bot).set_local(local)
    await bot.services.reminders.fire_due()
    await bot.services.outbox.drain(30)


def buttons(message: dict[str, Any]) -> list[str]:
    return [
        b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row
    ]


# --- the call -------------------------------------------------------------------------------


async def test_a_call_reaches_every_reachable_member_and_counts_the_others(
    world: BotHarness,
) -> None:
    bot = world
    office = await seed_members(bot, 4, "办公室", name="办")
    rehab = await seed_members(bot, 2, "康复中心", first_id=600000, name="康")
    await unreachable(bot, office[3], rehab[1])
    stranger = bot.user(2901, "路人")
    await stranger.ask_private("/start")  # started the bot, never registered: not called

    muster_id, reply, card = await call(bot, f"need=3 within=30 {TASK}")
    assert "需要 3 人，12-07 10:30 截止（30 分钟）" in reply
    assert "已私信呼叫 4 人，2 人无法私信" in reply and "卡片发到主群" in reply
    assert "10:15 仍不足 3 人" in reply
    text = card_text(bot, card)
    assert "防汛抢险：加固北岸堤坝\n18:00 到单位门口集合，带雨具" in text
    assert "已响应 0/3：已确认 0 · 候补 0 · 去不了 0" in text and "全体成员" in text
    assert buttons(card) == ["我能去", "去不了"]
    for user in (*office[:3], rehab[0]):
        (private,) = calls(bot, user, muster_id)
        assert TASK in private["text"] and "12-07 10:30 前回复" in private["text"]
        assert buttons(private) == ["我能去", "去不了"]
    for user in (office[3], rehab[1], stranger):
        assert calls(bot, user, muster_id) == []
    async with bot.services.db.session() as session:
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == "muster_call")
            )
        )
    assert len(rows) == 4 and not any(r.quiet for r in rows)
    assert {r.key for r in rows} == {f"muster:{muster_id}:call:{r.member_id}" for r in rows}


async def test_group_and_private_presses_count_once_first_n_are_confirmed(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 5, "办公室")
    muster_id, _, card = await call(bot, f"need=2 {TASK}")
    private = [calls(bot, u, muster_id)[0] for u in users]

    first = await press(users[0], card, "我能去")
    assert first.startswith(CONFIRMED) and "12-07 10:30" in first
    assert "防汛抢险：加固北岸堤坝" in first  # the task and the deadline again
    again = await press(users[0], private[0], "我能去")  # the private button: the same answer
    assert "无需重复" in again and "已确认" in again
    assert (await press(users[1], private[1], "我能去")).startswith(CONFIRMED)
    full = await press(users[2], card, "我能去")
    assert "人数已满" in full and "候补第 1 位" in full
    assert "候补第 2 位" in await press(users[3], private[3], "我能去")
    assert "候补第 2 位" in await press(users[3], card, "我能去")
    # One person pressing on the card and on the private call at the same moment: once.
    both = [users[4].press(card, "去不了"), users[4].press(private[4], "去不了")]
    toasts = await asyncio.gather(*(users[4].toast(c, 30) for c in both))
    assert sorted("无需重复" in t["text"] for t in toasts) == [False, True]
    assert await answers(bot, muster_id) == [
        (users[0].id, "confirmed"),
        (users[1].id, "confirmed"),
        (users[2].id, "waitlisted"),
        (users[3].id, "waitlisted"),
        (users[4].id, "declined"),
    ]
    await wait_card(bot, card, "已响应 2/2：已确认 2 · 候补 2 · 去不了 1")
    # Only registered people answer; the group never hears of a press (a toast is the answer).
    stranger = bot.user(2902, "路人")
    assert "请先登记" in await press(stranger, card, "我能去")
    assert len(bot.tg.texts(bot.group.id)) == 2  # /setup's answer and the card


async def test_a_confirmed_persons_decline_promotes_the_first_waitlisted(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 4, "办公室", name="志")
    muster_id, _, card = await call(bot, f"need=1 {TASK}")
    for user in users[:3]:
        await press(user, card, "我能去")
    freed = await press(users[0], card, "去不了")
    assert "名额已让给候补" in freed
    await bot.services.outbox.drain(20)
    (told,) = [m for m in bot.tg.bot_messages(users[1].id) if "递补成功" in m["text"]]
    assert f"#{muster_id}" in told["text"] and TASK in told["text"]
    assert buttons(told) == ["我能去", "去不了"]
    assert not [t for t in bot.tg.texts(users[2].id) if "递补成功" in t]
    assert await answers(bot, muster_id) == [
        (users[0].id, "declined"),
        (users[1].id, "confirmed"),
        (users[2].id, "waitlisted"),
    ]
    # Switching back: the place is taken now, so at the back of the waitlist.
    assert "候补第 2 位" in await press(users[0], card, "我能去")
    # A waitlisted person's 去不了 promotes nobody.
    assert "退出" in await press(users[2], card, "去不了")
    assert [s for _, s in await answers(bot, muster_id)] == ["confirmed", "declined", "waitlisted"]
    # One who moves up but cannot be written to: the creator is told.
    await unreachable(bot, users[0])
    assert "名额已让给候补" in await press(users[1], told, "去不了")
    await bot.services.outbox.drain(20)
    notes = [t for t in bot.tg.texts(bot.admin.id) if "无法私信通知" in t]
    assert len(notes) == 1 and "志000（办公室）" in notes[0]
    await wait_card(bot, card, "已响应 1/1：已确认 1 · 候补 0 · 去不了 2")


async def test_two_presses_racing_for_the_last_place_confirm_exactly_one(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 3, "办公室")
    for _ in range(3):
        muster_id, _, card = await call(bot, f"need=2 {TASK}")
        await press(users[0], card, "我能去")
        racing = [
            users[1].press(card, "我能去"),
            users[2].press(calls(bot, users[2], muster_id)[0], "我能去"),
        ]
        toasts = await asyncio.gather(
            *(u.toast(c, 30) for u, c in zip(users[1:], racing, strict=True))
        )
        statuses = [s for _, s in await answers(bot, muster_id)]
        assert statuses == ["confirmed", "confirmed", "waitlisted"]
        assert sorted(t["text"].startswith(CONFIRMED) for t in toasts) == [False, True]
        assert sum("人数已满" in t["text"] for t in toasts) == 1


async def test_twenty_people_racing_for_three_places(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 20, "办公室")
    muster_id, _, card = await call(bot, f"need=3 {TASK}")
    private = {u.id: calls(bot, u, muster_id)[0] for u in users}
    # Half press on the group card, half on their private call, all at once.
    pressed = [
        (u, u.press(card if i % 2 else private[u.id], "我能去")) for i, u in enumerate(users)
    ]
    toasts = await asyncio.gather(*(u.toast(c, 30) for u, c in pressed))
    rows = await answers(bot, muster_id)
    assert [s for _, s in rows] == ["confirmed"] * 3 + ["waitlisted"] * 17
    by_user = {u.id: t["text"] for (u, _), t in zip(pressed, toasts, strict=True)}
    for place, (telegram_id, status) in enumerate(rows, 1):
        if status == "confirmed":
            assert by_user[telegram_id].startswith(CONFIRMED)
        else:
            assert f"候补第 {place - 3} 位" in by_user[telegram_id]
    await wait_card(bot, card, "已响应 3/3：已确认 3 · 候补 17 · 去不了 0")
    assert not bot.tg.errors(429)


# --- half-way and the end -------------------------------------------------------------------


async def test_half_way_calls_again_only_those_who_have_not_answered(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 6, "办公室")
    await unreachable(bot, users[5])
    muster_id, _, card = await call(bot, f"need=3 within=30 {TASK}")
    await press(users[0], card, "我能去")
    await press(users[1], card, "去不了")
    await at(bot, "2026-12-07 10:14")
    assert all(recalls(bot, u, muster_id) == [] for u in users)
    await at(bot, "2026-12-07 10:15")
    for user in users[2:5]:
        (text,) = recalls(bot, user, muster_id)
        assert "还差 2 人" in text and TASK in text
        assert buttons(calls(bot, user, muster_id)[-1]) == ["我能去", "去不了"]
    assert recalls(bot, users[0], muster_id) == recalls(bot, users[1], muster_id) == []
    assert recalls(bot, users[5], muster_id) == []
    # Once: another look, or a restart, sends nothing more.
    await at(bot, "2026-12-07 10:16")
    await bot.restart()
    await bot.services.outbox.drain(20)
    assert all(len(recalls(bot, u, muster_id)) == 1 for u in users[2:5])


async def test_no_re_call_once_enough_are_confirmed(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 4, "办公室")
    muster_id, _, card = await call(bot, f"need=2 within=20 {TASK}")
    await press(users[0], card, "我能去")
    await press(users[1], card, "我能去")
    await at(bot, "2026-12-07 10:10")
    assert all(recalls(bot, u, muster_id) == [] for u in users)


async def test_at_the_end_the_call_closes_and_the_creator_gets_the_roster(
    world: BotHarness,
) -> None:
    bot = world
    office = await seed_members(bot, 4, "办公室", name="办")
    rehab = await seed_members(bot, 2, "康复中心", first_id=600000, name="康")
    await unreachable(bot, rehab[1])
    muster_id, _, card = await call(bot, f"need=2 within=30 {TASK}")
    private = calls(bot, office[3], muster_id)[0]
    await press(office[0], card, "我能去")
    await press(rehab[0], card, "我能去")
    await press(office[1], card, "我能去")
    await press(office[2], card, "去不了")
    await at(bot, "2026-12-07 10:29")
    assert "已结束" not in card_text(bot, card)

    await at(bot, "2026-12-07 10:30")
    assert "已结束" in await press(office[3], private, "我能去")
    # The card may have lost its buttons already; a client showing the old ones still sends.
    late = await office[3].toast(office[3].press_data(card, f"ms:no:{muster_id}"))
    assert "已结束" in late["text"]
    text = await wait_card(bot, card, "已结束")
    assert "最终已确认 2/2 人" in text and "已响应 2/2：已确认 2 · 候补 1 · 去不了 1" in text
    assert "reply_markup" not in bot.tg.chats[bot.group.id].messages[card["message_id"]]
    (roster,) = [
        t
        for t in bot.tg.texts(bot.admin.id)
        if t.startswith(f"紧急集结 #{muster_id} ") and "未回复" in t
    ]
    assert "已结束" in roster
    assert "已确认 2/2 · 候补 1 · 去不了 1 · 未回复 2" in roster
    assert "【已确认】\n办公室（1）：办000\n康复中心（1）：康000" in roster
    assert "【候补】（按先后）\n办公室（1）：办001〔1〕" in roster
    assert "【去不了】\n办公室（1）：办002" in roster
    assert "【未回复】\n办公室（1）：办003\n康复中心（1）：康001（无法私信）" in roster
    assert await answers(bot, muster_id) == [
        (office[0].id, "confirmed"),
        (rehab[0].id, "confirmed"),
        (office[1].id, "waitlisted"),
        (office[2].id, "declined"),
    ]
    # Once, whatever restarts.
    await bot.restart()
    await at(bot, "2026-12-07 10:40")
    assert (
        len(
            [
                t
                for t in bot.tg.texts(bot.admin.id)
                if t.startswith(f"紧急集结 #{muster_id} ") and "未回复" in t
            ]
        )
        == 1
    )


async def test_a_close_missed_while_the_bot_was_down_still_happens(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 3, "办公室")
    muster_id, _, card = await call(bot, f"need=2 within=60 {TASK}")
    await press(users[0], card, "我能去")
    clock(bot).set_local("2026-12-07 18:00")  # long past the grace period: half-way is missed
    await bot.restart()
    await bot.services.outbox.drain(20)
    assert await wait_card(bot, card, "最终已确认 1/2 人")
    assert all(recalls(bot, u, muster_id) == [] for u in users)
    rosters = [
        t
        for t in bot.tg.texts(bot.admin.id)
        if t.startswith(f"紧急集结 #{muster_id} ") and "未回复" in t
    ]
    assert len(rosters) == 1 and "未回复 2" in rosters[0]


# --- the committee's views ------------------------------------------------------------------


async def test_muster_number_shows_the_roster_and_muster_alone_lists_open_calls(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 3, "办公室")
    assert "目前没有进行中的紧急集结" in await bot.admin.ask_private("/muster")
    first, _, card = await call(bot, f"need=3 within=30 {TASK}")
    second, _, _ = await call(bot, "need=5 within=90 送防疫物资到三个社区")
    await press(users[0], card, "我能去")
    await press(users[1], card, "去不了")

    listed = await bot.admin.ask_private("/muster")
    assert f"#{first} 防汛抢险：加固北岸堤坝 · 已确认 1/3 · 候补 0 · 12-07 10:30 截止" in listed
    assert f"#{second} 送防疫物资到三个社区 · 已确认 0/5 · 候补 0 · 12-07 11:30 截止" in listed
    roster = await bot.admin.ask_private(f"/muster {first}")
    assert f"紧急集结 #{first} 进行中，12-07 10:30 截止" in roster
    assert "已确认 1/3 · 候补 0 · 去不了 1 · 未回复 1" in roster
    assert "【已确认】\n办公室（1）：成员000" in roster and "【候补】（按先后）\n（无）" in roster
    # Asked in the group: the names go privately.
    since = len(bot.tg.texts(bot.admin.id))
    asked = bot.admin.send(bot.group.id, f"/muster #{first}")
    assert "已确认 1/3" in await bot.admin.reply_in(bot.admin.id, since)
    await bot.tg.wait_for(lambda: bot.tg.reactions(asked) == ["👌"], 10, "a 👌 on the command")
    # A closed call is no longer listed, and its roster says it ended.
    await at(bot, "2026-12-07 10:30")
    listed = await bot.admin.ask_private("/muster")
    assert f"#{first} " not in listed and f"#{second} " in listed
    assert "已结束" in await bot.admin.ask_private(f"/muster {first}")


async def test_a_long_roster_is_paged_without_losing_a_name(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 700, "办公室")
    async with bot.services.db.session() as session:  # nobody reachable: no 700 sends here
        await session.execute(update(Member).values(can_dm=False))
        await session.commit()
    muster_id, reply, _ = await call(bot, f"need=10 {TASK}")
    assert "已私信呼叫 0 人，700 人无法私信" in reply
    since = len(bot.tg.texts(bot.admin.id))
    bot.admin.say(f"/muster {muster_id}")

    def all_pages() -> list[str] | None:
        got = bot.tg.texts(bot.admin.id)[since:]
        last = re.search(r"（(\d+)/(\d+)）", got[-1]) if got else None
        return got if last and last[1] == last[2] else None

    pages = await bot.tg.wait_for(all_pages, what="every page")
    assert len(pages) == 3 and all(len(p) <= 4096 for p in pages)
    text = "\n".join(pages)
    assert all(f"成员{i:03d}（无法私信）" in text for i in range(len(users)))


async def test_a_unit_call_reaches_only_the_unit(world: BotHarness, tg: FakeTelegram) -> None:
    bot = world
    office = await seed_members(bot, 2, "办公室", name="办")
    rehab = await seed_members(bot, 2, "康复中心", first_id=600000, name="康")
    muster_id, reply, _ = await call(bot, f"@办公室 need=1 {TASK}")
    assert "卡片发到主群（办公室 没有分组群）" in reply and "已私信呼叫 2 人" in reply
    assert all(len(calls(bot, u, muster_id)) == 1 for u in office)
    assert all(calls(bot, u, muster_id) == [] for u in rehab)
    # A unit with its own group: the card goes there.
    unit_group = tg.add_group(-100200, "康复中心群")
    assert "康复中心" in await bot.admin.ask(unit_group.id, "/setup 康复中心")
    muster_id, reply, card = await call(bot, f"need=1 @康复中心 {TASK}", chat_id=unit_group.id)
    assert "卡片发到康复中心 分组群" in reply
    assert "👥 对象：康复中心" in card_text(bot, card)
    assert all(len(calls(bot, u, muster_id)) == 1 for u in rehab)
    assert all(calls(bot, u, muster_id) == [] for u in office)
    assert not [t for t in bot.tg.texts(bot.group.id) if f"#{muster_id}\n" in t]


# --- the squad ------------------------------------------------------------------------------


async def test_squad_join_leave_list_and_a_squad_call(world: BotHarness) -> None:
    bot = world
    office = await seed_members(bot, 3, "办公室", name="办")
    (rehab,) = await seed_members(bot, 1, "康复中心", first_id=600000, name="康")
    assert "还没有成员" in await bot.admin.ask_private(f"/muster squad need=1 {TASK}")
    assert "已加入青年突击队" in await office[0].ask_private("/squad join")
    assert "已在青年突击队中" in await office[0].ask_private("/squad join")
    assert "已加入" in await rehab.ask_private("/squad JOIN")
    assert "已加入" in await office[1].ask_private("/squad join")
    assert "已退出青年突击队" in await office[1].ask_private("/squad leave")
    assert "不在青年突击队中" in await office[1].ask_private("/squad leave")
    assert "请先登记" in await bot.user(2903, "路人").ask_private("/squad join")
    assert "/squad join" in await office[2].ask_private("/squad")  # the list: committee only
    listed = await bot.admin.ask_private("/squad")
    assert (
        "共 2 人" in listed and "办公室（1）：办000" in listed and "康复中心（1）：康000" in listed
    )

    muster_id, reply, card = await call(bot, f"squad need=1 {TASK}")
    assert "已私信呼叫 2 人" in reply and "卡片发到主群" in reply
    assert "👥 对象：青年突击队" in card_text(bot, card)
    assert len(calls(bot, office[0], muster_id)) == len(calls(bot, rehab, muster_id)) == 1
    assert calls(bot, office[1], muster_id) == calls(bot, office[2], muster_id) == []
    roster = await bot.admin.ask_private(f"/muster {muster_id}")
    assert "未回复 2" in roster


# --- quiet hours ----------------------------------------------------------------------------


@pytest.fixture
async def night(tg: FakeTelegram, database_url: str) -> AsyncIterator[BotHarness]:
    """Quiet hours 21:00-08:00 on, at 23:00."""
    harness = BotHarness(
        tg,
        build_application(make_settings(tg, database_url, quiet_hours=quiet.DEFAULT)),
        at="2026-12-07 23:00",
    )
    await harness.start()
    await harness.add_units("办公室")
    await harness.setup_main_group()
    yield harness
    await harness.stop()


async def test_quiet_hours_never_hold_a_call(night: BotHarness) -> None:
    bot = night
    assert bot.services.outbox.quiet_until() is not None
    users = await seed_members(bot, 4, "办公室")
    muster_id, _, card = await call(bot, f"need=1 within=30 {TASK}")
    assert all(len(calls(bot, u, muster_id)) == 1 for u in users)
    await press(users[0], card, "我能去")
    await press(users[1], card, "我能去")
    await at(bot, "2026-12-07 23:15")  # the half-way re-call goes at once too: none needed
    assert all(recalls(bot, u, muster_id) == [] for u in users)
    await press(users[0], card, "去不了")
    await bot.services.outbox.drain(20)
    assert [t for t in bot.tg.texts(users[1].id) if "递补成功" in t]
    await at(bot, "2026-12-07 23:30")
    assert [
        t
        for t in bot.tg.texts(bot.admin.id)
        if t.startswith(f"紧急集结 #{muster_id} ") and "未回复" in t
    ]


async def test_the_half_way_re_call_goes_at_night(night: BotHarness) -> None:
    bot = night
    users = await seed_members(bot, 2, "办公室")
    muster_id, _, _ = await call(bot, f"need=2 within=30 {TASK}")
    await at(bot, "2026-12-07 23:15")
    assert all(len(recalls(bot, u, muster_id)) == 1 for u in users)


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("need=0 内容", "need= 请写 1–10000 的整数"),
        ("need=abc 内容", "need= 请写 1–10000 的整数"),
        ("need=10001 内容", "need= 请写 1–10000 的整数"),
        ("need=5 within=0 内容", "within= 请写 1–1440 的分钟数"),
        ("need=5 within=2000 内容", "within= 请写 1–1440 的分钟数"),
        ("need=5 within=abc 内容", "within= 请写 1–1440 的分钟数"),
        ("need=5", "请写出集结内容"),
        ("need=5 within=10   ", "请写出集结内容"),
        ("need=5 " + "字" * 1001, "内容太长（最多 1000 字）"),
        ("@不存在 need=5 内容", "没有名为“不存在”的单位"),
        ("内容 need=5", "用法：/muster"),
        ("abc", "用法：/muster"),
        ("999", "没有编号为 #999 的紧急集结"),
    ],
)
async def test_refusals(world: BotHarness, args: str, expected: str) -> None:
    assert expected in await world.admin.ask_private(f"/muster {args}")


async def test_only_the_committee_calls_and_forged_buttons_are_refused(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    assert "仅限青工委" in await user.ask_private(f"/muster need=1 {TASK}")
    assert "仅限青工委" in await user.ask_private("/muster")
    assert "1000 字" in await bot.admin.ask_private("/muster need=1 " + "字" * 1000 + "多")
    muster_id, _, card = await call(bot, f"need=1 {TASK}")
    for data, expected in [
        ("ms:go:999999", "没有编号为 #999999 的紧急集结"),
        ("ms:xx:1", "按钮无效"),
        (f"ms:go:{muster_id}:1", "按钮无效"),
        ("ms:go:abc", "按钮无效"),
    ]:
        toast = await user.toast(user.press_data(card, data))
        assert expected in toast["text"] and toast["show_alert"]
    assert await answers(bot, muster_id) == []


async def test_no_main_group_no_call(bot: BotHarness) -> None:
    await bot.add_units("办公室")
    assert "还没有设置主群" in await bot.admin.ask_private(f"/muster need=1 {TASK}")


# --- the rules, without a bot ---------------------------------------------------------------


def test_options_come_first_in_any_order_and_the_text_keeps_its_lines() -> None:
    request = musters_db.parse_words("within=45 @办公室 need=12 第一行\n  第二行 need=3")
    assert (request.need, request.within, request.unit_name, request.squad) == (
        12,
        45,
        "办公室",
        False,
    )
    assert request.text == "第一行\n  第二行 need=3"
    squad = musters_db.parse_words("突击队 need=1 内容")
    assert squad.squad and squad.within == musters_db.DEFAULT_WITHIN
    # An option given twice begins the text.
    assert musters_db.parse_words("need=1 need=2 内容").text == "need=2 内容"


def test_a_call_has_a_half_way_and_a_close_keyed_by_its_number() -> None:
    created = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
    call = reminder_rules.MusterTimes(7, created, created + dt.timedelta(minutes=45))
    half, close = reminder_rules.muster_occurrences(call)
    assert (half.key, half.rule, half.at) == (
        "muster:7:half",
        reminder_rules.MUSTER_HALF,
        created + dt.timedelta(minutes=22, seconds=30),
    )
    assert (close.key, close.rule, close.ref) == ("muster:7:close", reminder_rules.MUSTER_CLOSE, 7)
    assert (
        reminder_rules.MUSTER_CLOSE in reminder_rules.CATCH_UP
        and reminder_rules.MUSTER_HALF not in reminder_rules.CATCH_UP
    )
    assert set(reminder_rules.MUSTER_RULES) <= set(
        reminder_rules.INTERNAL
    )  # never listed by /remind
