"""End-to-end: volunteer sign-up, waitlist, promotion, hours, /me, /top, and concurrency."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from sqlalchemy import select

from db.models import Member, Signup
from tests.harness import BotHarness, clock, seed_members
from tests.steps import card_text, create, wait_card
from tests.tgserver import TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 10:00")


async def queue(bot: BotHarness, activity_id: int) -> list[tuple[int, str]]:
    """(telegram id, status) in arrival order."""
    async with bot.services.db.session() as session:
        rows = await session.execute(
            select(Member.telegram_id, Signup.status)
            .join(Member, Member.id == Signup.member_id)
            .where(Signup.activity_id == activity_id)
            .order_by(Signup.id)
        )
        return [(tid, status) for tid, status in rows.all() if tid is not None]


async def press(user: TgUser, card: dict[str, Any], label: str) -> str:
    return str((await user.toast(user.press(card, label)))["text"])


VOLUNTEER = "志愿 2026-12-12 09:00 学雷锋进社区 place=新华社区 cap={cap} hours=3"


async def test_volunteer_card_and_sign_up_with_waitlist(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 4, "办公室")
    activity_id, card = await create(bot, VOLUNTEER.format(cap=2))
    text = card_text(bot, card)
    assert "【志愿服务】" in text and "名额 0/2 · 候补 0" in text
    assert "报名截止 12-12 09:00" in text and "服务时长 3 小时" in text
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["报名", "取消报名", "签到"]
    assert "报名成功" in await press(users[0], card, "报名")
    assert "已报名" in await press(users[0], card, "报名")
    assert "报名成功" in (await users[1].ask_private(f"/signup {activity_id}"))
    assert "候补第 1 位" in await press(users[2], card, "报名")
    assert "候补第 2 位" in await press(users[3], card, "报名")
    assert "候补第 2 位" in await press(users[3], card, "报名")
    await wait_card(bot, card, "名额 2/2 · 候补 2")
    assert await queue(bot, activity_id) == [
        (users[0].id, "confirmed"),
        (users[1].id, "confirmed"),
        (users[2].id, "waitlisted"),
        (users[3].id, "waitlisted"),
    ]


async def test_withdraw_promotes_the_first_waitlisted_and_tells_them(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 4, "办公室", name="志")
    unreachable = users[3]
    async with bot.services.db.session() as session:
        from db.members import set_can_dm

        await set_can_dm(session, unreachable.id, False)
        await session.commit()
    activity_id, card = await create(bot, VOLUNTEER.format(cap=1))
    for user in users:
        await press(user, card, "报名")
    # A waitlisted person leaving does not promote anyone.
    assert "已退出" in await press(users[2], card, "取消报名")
    assert "没有报名" in await press(users[2], card, "取消报名")
    assert "已取消报名" in await users[0].ask_private(f"/withdraw {activity_id}")
    await bot.services.outbox.drain(20)
    told = bot.tg.bot_messages(users[1].id)[-1]
    assert "递补为正式报名" in told["text"] and f"#{activity_id}" in told["text"]
    assert await queue(bot, activity_id) == [
        (users[1].id, "confirmed"),
        (unreachable.id, "waitlisted"),
    ]
    # The promoted person can cancel from the private message; the next one cannot be
    # written to privately, so the group is told (one message).
    assert "已取消报名" in await press(users[1], told, "取消报名")
    await bot.services.outbox.drain(20)
    mention = [t for t in bot.tg.texts(bot.group.id) if "候补递补" in t]
    assert len(mention) == 1 and "志003" in mention[0]
    await wait_card(bot, card, "名额 1/1 · 候补 0")
    roster = await bot.admin.ask_private(f"/roster {activity_id}")
    assert "已报名 1/1 · 候补 0 · 已签到 0" in roster and "志003（办公室）（无法私信）" in roster


async def test_capacity_raise_promotes_and_lowering_below_confirmed_is_refused(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 5, "办公室")
    activity_id, card = await create(bot, VOLUNTEER.format(cap=2))
    for user in users:
        await press(user, card, "报名")
    assert "不能把名额改为 1" in await bot.admin.ask_private(f"/event edit {activity_id} cap=1")
    assert "1–10000" in await bot.admin.ask_private(f"/event edit {activity_id} cap=0")
    assert "名额 4/4" not in await bot.admin.ask_private(f"/event edit {activity_id} cap=abc")
    edited = await bot.admin.ask_private(f"/event edit {activity_id} cap=4")
    assert "名额 4/4 · 候补 1" in edited
    assert [s for _, s in await queue(bot, activity_id)] == ["confirmed"] * 4 + ["waitlisted"]
    await bot.services.outbox.drain(20)
    assert all("递补" in bot.tg.texts(u.id)[-1] for u in users[2:4])
    await wait_card(bot, card, "名额 4/4 · 候补 1")


async def test_deadline_and_start_close_sign_up(world: BotHarness) -> None:
    bot = world
    (user, other, keen) = await seed_members(bot, 3, "办公室")
    bad = await bot.admin.ask_private(
        "/newevent 志愿 2026-12-12 09:00 标题 cap=5 deadline=2026-12-13T09:00"
    )
    assert "不能晚于" in bad
    assert "无效" in await bot.admin.ask_private(
        "/newevent 志愿 2026-12-12 09:00 标题 deadline=明天"
    )
    activity_id, card = await create(
        bot, "志愿 2026-12-12 09:00 助残阳光行动 cap=5 deadline=2026-12-10T18:00"
    )
    assert "报名截止 12-10 18:00" in card_text(bot, card)
    await press(user, card, "报名")
    await press(keen, card, "报名")
    clock(bot).set_local("2026-12-10 18:00")
    assert "报名已截止" in await press(other, card, "报名")
    assert "已取消报名" in await press(user, card, "取消报名")  # cancelling is allowed until start
    assert "报名成功" not in await press(user, card, "报名")
    clock(bot).set_local("2026-12-12 09:00")
    assert "已开始" in await keen.ask_private(f"/withdraw {activity_id}")
    assert "没有报名" in await other.ask_private(f"/withdraw {activity_id}")
    assert await queue(bot, activity_id) == [(keen.id, "confirmed")]


async def test_forged_and_wrong_kind_buttons(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    study_id, study = await create(bot, "学习 2026-12-07 14:00 学习会")
    volunteer_id, volunteer = await create(bot, VOLUNTEER.format(cap=3))
    cases = [
        (study, f"act:su:{study_id}", "不是志愿服务活动"),
        (study, f"act:wd:{study_id}", "不是志愿服务活动"),
        (volunteer, f"act:lv:{volunteer_id}", "不支持"),
        (volunteer, "act:su:424242", "不存在"),
        (volunteer, "act:su:x", "无效"),
        (volunteer, f"act:su:{volunteer_id}:1", "无效"),
    ]
    for message, data, expected in cases:
        answer = await user.toast(user.press_data(message, data))
        assert expected in answer["text"], (data, answer)
    assert await queue(bot, volunteer_id) == [] and await queue(bot, study_id) == []
    assert "用法" in await user.ask_private("/signup")
    assert "编号" in await user.ask_private("/signup abc")


async def test_hours_are_credited_after_the_end_and_can_be_corrected(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 4, "办公室", name="义")
    first, card1 = await create(bot, VOLUNTEER.format(cap=3))
    _, card2 = await create(bot, "志愿 2026-12-19 09:00 大爱北疆 cap=5 end=10:30")
    for user in users:
        await press(user, card1, "报名")  # users[3] waitlisted
    await press(users[0], card2, "报名")
    clock(bot).set_local("2026-12-12 09:05")
    for user in users:
        await press(user, card1, "签到")
    clock(bot).set_local("2026-12-12 10:00")  # not over yet: nothing credited
    assert "累计 0 小时" in await users[0].ask_private("/me")
    clock(bot).set_local("2026-12-19 09:10")
    await press(users[0], card2, "签到")
    clock(bot).set_local("2026-12-20 10:00")
    me = await users[0].ask_private("/me")
    assert "本年 4.5 小时 · 累计 4.5 小时" in me  # 3 + 1.5 (the second's length)
    assert "累计 0 小时" in await users[3].ask_private("/me")  # waitlisted: no credit
    plain = users[1]
    assert "仅限青工委" in await plain.ask_private(f"/hours {first} {users[1].id} 8")
    assert "用法" in await bot.admin.ask_private(f"/hours {first}")
    assert "0–24" in await bot.admin.ask_private(f"/hours {first} {users[1].id} 99")
    set_reply = await bot.admin.ask_private(f"/hours {first} {users[1].id} 5")
    assert "义001" in set_reply and "5 小时" in set_reply
    assert "0–24" not in await bot.admin.ask_private(f"/hours {first} {users[3].id} 1")
    top = await plain.ask_anywhere(bot.group.id, "/top")
    assert top.index("义001（办公室）5 小时") < top.index("义000（办公室）4.5 小时")
    assert (
        top.index("义000") < top.index("义002（办公室）3 小时") < top.index("义003（办公室）1 小时")
    )
    roster = await bot.admin.ask_private(f"/roster {first}")
    assert "已报名 3/3 · 候补 1 · 已签到 4" in roster


async def test_me_counts_check_ins_leaves_and_absences(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    assert "请先登记" in await bot.user(2401, "陌生人").ask_private("/me")
    _, card_a = await create(bot, "学习 2026-12-07 10:15 学习一")
    b, _ = await create(bot, "会议 2026-12-07 11:00 会议二")
    await create(bot, "学习 2026-12-07 12:00 学习三")
    await create(bot, "学习 2026-12-07 13:00 别的单位 unit=康复中心")
    await press(user, card_a, "签到")
    await user.ask_private(f"/leave {b} 出差")
    volunteer_id, volunteer = await create(bot, VOLUNTEER.format(cap=1))
    await press(user, volunteer, "报名")
    clock(bot).set_local("2026-12-07 18:00")
    me = await user.ask_private("/me")
    assert "本季度：签到 1 次（迟到 0）· 请假 1 · 缺席 1 · 出勤率 50%" in me
    assert "本年度：签到 1 次（迟到 0）· 请假 1 · 缺席 1 · 出勤率 50%" in me
    assert f"#{volunteer_id}「学雷锋进社区」" in me and "已确认" in me


async def test_top_without_hours(world: BotHarness) -> None:
    assert "还没有志愿服务时长" in await world.admin.ask_private("/top")


async def test_fifty_concurrent_presses_on_ten_places(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 50, "办公室")
    activity_id, card = await create(bot, VOLUNTEER.format(cap=10))
    callbacks = [u.press(card, "报名") for u in users]
    answers = await asyncio.gather(*(u.toast(c, 30) for u, c in zip(users, callbacks, strict=True)))
    rows = await queue(bot, activity_id)
    assert [s for _, s in rows] == ["confirmed"] * 10 + ["waitlisted"] * 40
    by_user = {u.id: a["text"] for u, a in zip(users, answers, strict=True)}
    # Each toast agrees with the database, and waitlist places follow arrival order.
    for position, (telegram_id, status) in enumerate(rows, 1):
        if status == "confirmed":
            assert "报名成功" in by_user[telegram_id]
        else:
            assert f"候补第 {position - 10} 位" in by_user[telegram_id]
    await wait_card(bot, card, "名额 10/10 · 候补 40")
    assert not bot.tg.errors(429)


async def test_cancellations_racing_sign_ups_never_overfill_or_lose_a_place(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 40, "办公室")
    activity_id, card = await create(bot, VOLUNTEER.format(cap=10))
    for user in users[:15]:
        await press(user, card, "报名")  # 10 confirmed, 5 waitlisted
    leaving = users[:3] + users[12:14]  # 3 confirmed and 2 waitlisted cancel...
    joining = users[15:]  # ...while 25 more sign up, all at once
    actions = [(u, "取消报名") for u in leaving] + [(u, "报名") for u in joining]
    random.Random(7).shuffle(actions)
    callbacks = [(u, u.press(card, label)) for u, label in actions]
    await asyncio.gather(*(u.toast(c, 30) for u, c in callbacks))
    rows = await queue(bot, activity_id)
    statuses = [s for _, s in rows]
    remaining = {u.id for u in users[:15]} - {u.id for u in leaving} | {u.id for u in joining}
    assert {tid for tid, _ in rows} == remaining  # nobody lost, nobody left over
    assert statuses.count("confirmed") == 10  # never over-filled, and no place left empty
    assert statuses == sorted(statuses)  # every confirmed arrived before every waitlisted
    await wait_card(bot, card, f"名额 10/10 · 候补 {len(remaining) - 10}")
