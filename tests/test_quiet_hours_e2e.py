"""End-to-end: quiet hours (非工作时间不打扰) hold automatic private messages until morning."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import select

from bot.app import build_application
from db import notices as notices_db
from db.models import OutboxMessage
from scheduler import quiet
from scheduler.quiet import QuietHours
from tests.harness import BotHarness, clock, make_settings, seed_members
from tests.steps import create
from tests.tgserver import FakeTelegram

Start = Callable[[QuietHours | None], Awaitable[BotHarness]]


@pytest.fixture
async def start(tg: FakeTelegram, database_url: str) -> AsyncIterator[Start]:
    """Start the bot with the given QUIET_HOURS, on a Monday evening (2026-12-07 20:00)."""
    started: list[BotHarness] = []

    async def run(window: QuietHours | None) -> BotHarness:
        settings = make_settings(tg, database_url, quiet_hours=window)
        bot = BotHarness(tg, build_application(settings), at="2026-12-07 20:00")
        await bot.start()
        started.append(bot)
        await bot.add_units("办公室", "康复中心")
        await bot.setup_main_group()
        return bot

    yield run
    for bot in started:
        await bot.stop()


@pytest.fixture
async def night(start: Start) -> BotHarness:
    """Quiet hours 21:00-08:00, the default."""
    return await start(quiet.DEFAULT)


async def at(bot: BotHarness, local: str) -> None:
    """Move the clock, run what the reminder engine finds due, let the outbox send."""
    clock(bot).set_local(local)
    await bot.services.reminders.fire_due()
    bot.services.outbox.wake()
    await bot.services.outbox.drain(20)


async def notice(bot: BotHarness, body: str) -> tuple[int, str]:
    reply = await bot.admin.ask_private(f"/notice {body}")
    match = re.search(r"已发布通知 #(\d+)", reply)
    assert match, reply
    await bot.services.outbox.drain(20)
    return int(match[1]), reply


def followups(bot: BotHarness, user_id: int) -> list[str]:
    return [t for t in bot.tg.texts(user_id) if "还没有回复“收到”" in t]


async def held(bot: BotHarness) -> list[OutboxMessage]:
    async with bot.services.db.session() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.quiet.is_(True))
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def test_a_followup_due_at_night_waits_until_eight_and_several_keep_their_order(
    night: BotHarness,
) -> None:
    bot = night
    (user,) = await seed_members(bot, 1, "办公室")
    first, reply = await notice(bot, "remind=2 第一条：周五前交心得")
    assert "12-07 22:00 将私信提醒" in reply and "将于 12-08 08:00 发出" in reply
    second, _ = await notice(bot, "remind=3 第二条：周六大扫除")
    await at(bot, "2026-12-07 22:00")
    await at(bot, "2026-12-07 23:00")
    assert followups(bot, user.id) == []
    # The creator's reports of the automatic follow-ups wait too.
    assert not [t for t in bot.tg.texts(bot.admin.id) if "已私信提醒" in t]
    rows = await held(bot)
    assert len(rows) == 4 and all(r.attempts == 0 for r in rows)  # never tried at night
    stats = await bot.admin.ask_private("/outbox")
    assert "4 条自动私信暂缓，将于 12-08 08:00 发出" in stats, stats
    await at(bot, "2026-12-08 07:59")
    assert followups(bot, user.id) == []

    await at(bot, "2026-12-08 08:00")
    got = followups(bot, user.id)
    assert len(got) == 2, got
    assert f"通知 #{first}" in got[0] and "第一条" in got[0]
    assert f"通知 #{second}" in got[1] and "第二条" in got[1]
    assert len([t for t in bot.tg.texts(bot.admin.id) if "已私信提醒 1 位" in t]) == 2
    assert await held(bot) == []
    assert "免打扰时段 21:00-08:00：期间的自动私信暂缓" in await bot.admin.ask_private("/outbox")


async def test_chase_at_night_is_sent_at_once(night: BotHarness) -> None:
    bot = night
    users = await seed_members(bot, 2, "办公室")
    notice_id, _ = await notice(bot, "remind=off 明早八点集合")
    clock(bot).set_local("2026-12-07 22:00")
    assert "私信 2 人" in await bot.admin.ask_private(f"/chase {notice_id}")
    await bot.services.outbox.drain(20)
    assert all(len(followups(bot, u.id)) == 1 for u in users)
    assert await held(bot) == []


async def test_an_urgent_notice_is_followed_up_at_night(night: BotHarness) -> None:
    bot = night
    users = await seed_members(bot, 2, "办公室")
    clock(bot).set_local("2026-12-07 21:00")
    urgent, reply = await notice(bot, "urgent remind=2 今晚停电，明早改线上办公")
    assert "12-07 23:00 将私信提醒" in reply and "紧急通知：提醒不受免打扰时段限制" in reply
    group_card = next(t for t in bot.tg.texts(bot.group.id) if f"通知 #{urgent}\n" in t)
    assert "【紧急】今晚停电" in group_card
    # 紧急 works too, among the other leading options in any order.
    chinese, _ = await notice(bot, "remind=2 紧急 all 明早全员测温")
    await at(bot, "2026-12-07 22:59")
    assert all(followups(bot, u.id) == [] for u in users)
    await at(bot, "2026-12-07 23:00")
    for user in users:
        got = followups(bot, user.id)
        assert len(got) == 2 and "【紧急】今晚停电" in got[0] and "明早全员测温" in got[1]
    assert await held(bot) == []
    async with bot.services.db.session() as session:
        assert (await notices_db.get_active(session, chinese)).urgent


async def test_group_reminders_at_night_are_posted_at_once(night: BotHarness) -> None:
    bot = night
    added = await bot.admin.ask_private("/remind add 2026-12-07 22:30 今晚十点半检查门窗")
    assert "2026-12-07 22:30" in added, added
    await at(bot, "2026-12-07 22:30")
    assert any("今晚十点半检查门窗" in t for t in bot.tg.texts(bot.group.id))


async def test_with_quiet_hours_off_nothing_is_held(start: Start) -> None:
    bot = await start(quiet.parse("off"))
    (user,) = await seed_members(bot, 1, "办公室")
    _, reply = await notice(bot, "remind=3 深夜也照常提醒")
    assert "发出" not in reply
    await at(bot, "2026-12-07 23:00")
    assert len(followups(bot, user.id)) == 1
    assert "免打扰时段：关闭" in await bot.admin.ask_private("/outbox")


async def test_checkin_nudge_volunteer_reminder_and_promotion_wait_for_morning(
    night: BotHarness,
) -> None:
    bot = night
    users = await seed_members(bot, 3, "办公室")
    study_id, _ = await create(bot, "学习 2026-12-07 21:00 夜校学习")
    volunteer_id, card = await create(bot, "志愿 2026-12-08 22:00 夜间巡访 cap=1")
    for user in users[:2]:
        await user.toast(user.press(card, "报名"))
    await at(bot, "2026-12-07 21:10")  # ten minutes after the start: the nudge
    assert not [t for t in bot.tg.texts(users[2].id) if "还没有签到或请假" in t]
    await at(bot, "2026-12-07 22:00")  # 24 h before: the volunteer reminder
    assert not [t for t in bot.tg.texts(users[0].id) if "你报名的志愿活动" in t]
    # The group hears of the sign-up deadline at once.
    assert any("报名" in t and "截止" in t for t in bot.tg.texts(bot.group.id))
    # Withdrawing answers at once; the promoted volunteer hears of it in the morning.
    clock(bot).set_local("2026-12-07 23:30")
    assert "已取消报名" in await users[0].ask_private(f"/withdraw {volunteer_id}")
    await bot.services.outbox.drain(20)
    assert not [t for t in bot.tg.texts(users[1].id) if "递补为正式报名" in t]
    stats = await bot.admin.ask_private("/outbox")
    assert "条自动私信暂缓" in stats and "12-08 08:00" in stats

    await at(bot, "2026-12-08 08:00")
    assert [t for t in bot.tg.texts(users[2].id) if f"#{study_id}" in t and "还没有签到" in t]
    assert [t for t in bot.tg.texts(users[0].id) if "你报名的志愿活动" in t]
    assert [t for t in bot.tg.texts(users[1].id) if "递补为正式报名" in t]
    assert await held(bot) == []


@pytest.mark.parametrize(
    ("body", "urgent", "target", "text"),
    [
        ("urgent 内容", True, "main", "内容"),
        ("紧急 @办公室 remind=off 内容", True, "unit", "内容"),
        ("all remind=2 URGENT 内容", True, "all", "内容"),
        ("remind=2 内容 urgent", False, "main", "内容 urgent"),
        ("urgent urgent 内容", True, "main", "urgent 内容"),  # each option once
        ("紧急通知 明天停电", False, "main", "紧急通知 明天停电"),
    ],
)
def test_urgent_is_one_of_the_leading_options(
    body: str, urgent: bool, target: str, text: str
) -> None:
    request = notices_db.parse_words(body, media=False)
    assert (request.urgent, request.target, request.text) == (urgent, target, text)


async def test_a_review_prompt_due_at_night_waits_for_morning(night: BotHarness) -> None:
    bot = night
    (lead,) = await seed_members(bot, 1, "办公室")
    assert "组长" in await bot.admin.ask_private(f"/lead 办公室 {lead.id}")
    assert "已加入" in await bot.admin.ask_private("/task add 2026 青年读书会 负责=办公室")
    assert "22:00" in await bot.admin.ask_private("/remind time task_review 22:00")
    await at(bot, "2026-12-18 22:00")  # the quarter's review, retimed into the night
    assert not [t for t in bot.tg.texts(lead.id) if "工作要点评估" in t]
    assert len(await held(bot)) == 1
    await at(bot, "2026-12-19 08:00")
    (prompt,) = [m for m in bot.tg.bot_messages(lead.id) if "工作要点评估" in m["text"]]
    assert "#1 青年读书会" in prompt["text"] and await held(bot) == []
