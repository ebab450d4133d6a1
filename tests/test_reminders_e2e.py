"""End-to-end: the reminder engine's rules, /remind, and restarts around occurrences."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from db.models import Member
from scheduler.calendar import WorkCalendar
from tests.harness import BotHarness, clock, seed_members
from tests.steps import create, wait_card

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-11-30 10:00")

UNIT_GROUP = -100800


@pytest.fixture
async def world(bot: BotHarness) -> BotHarness:
    """Main group, two units (康复中心 has its own group), the clock at Mon 2026-11-30 10:00."""
    await bot.add_units("办公室", "康复中心")
    await bot.setup_main_group()
    bot.tg.add_group(UNIT_GROUP, "康复中心群")
    await bot.admin.ask(UNIT_GROUP, "/setup 康复中心")
    return bot


def at(bot: BotHarness, local: str) -> None:
    clock(bot).set_local(local)


async def fire(bot: BotHarness) -> dict[str, str]:
    """Run the engine now; {key: outcome} of what it handled; then let the outbox send."""
    handled = dict(await bot.services.reminders.fire_due())
    await bot.services.outbox.drain(20)
    return handled


def texts_with(bot: BotHarness, chat_id: int, fragment: str) -> list[str]:
    return [t for t in bot.tg.texts(chat_id) if fragment in t]


async def test_remind_on_a_fresh_install_lists_the_rules_on_working_days(
    world: BotHarness,
) -> None:
    bot = world
    plain = (await seed_members(bot, 1, "办公室"))[0]
    assert "仅限青工委" in await plain.ask_private("/remind")
    listing = await bot.admin.ask_private("/remind")
    lines = [
        line for line in listing.splitlines() if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d · ", line)
    ]
    assert len(lines) == 20, listing
    cal = WorkCalendar()
    stamps = [dt.datetime.strptime(line[:16], "%Y-%m-%d %H:%M") for line in lines]
    assert stamps == sorted(stamps)
    assert all(cal.is_workday(s.date()) and s.time() == dt.time(9, 0) for s in stamps)
    assert lines[0].startswith("2026-12-01 09:00")
    for name in (
        "季度开始",
        "理论学习季度任务",
        "青工委会议季度任务",
        "民族团结教育年度任务",
        "学雷锋纪念日",
    ):
        assert name in listing
    job_ids = bot.services.reminders.job_ids()
    assert "reminder:quarter_kickoff:2027Q1" in job_ids and "reminders:sweep" in job_ids
    assert "maintenance:forget-updates" in job_ids


async def test_quota_rules_fire_only_where_the_duty_is_not_met(world: BotHarness) -> None:
    bot = world
    await create(bot, "学习 2026-12-10 15:00 办公室学习 unit=办公室")
    await create(bot, "会议 2026-12-15 15:00 第四季度青工委会议")
    at(bot, "2026-12-01 09:00")
    handled = await fire(bot)
    assert handled["study_quota:2026Q4:d30"] == "sent"
    assert handled["meeting_quota:2026Q4:d30"] == "skipped"  # a meeting is scheduled
    assert handled["unity:2026:12"] == "sent"  # no ethnic-unity activity this year
    # The unit without a study session hears it in its own group; the committee privately.
    assert texts_with(bot, UNIT_GROUP, "康复中心 本季度还没有安排青年理论学习")
    assert not texts_with(bot, bot.group.id, "本季度还没有安排青年理论学习")
    summary = texts_with(bot, bot.admin.id, "尚未安排青年理论学习")
    assert len(summary) == 1 and "康复中心" in summary[0] and "办公室" not in summary[0]
    assert texts_with(bot, bot.group.id, "铸牢中华民族共同体意识")
    # A study session for everyone covers every unit: the 10-day reminder is skipped.
    await create(bot, "学习 2026-12-18 15:00 全体学习")
    await create(bot, "民族团结 2026-12-19 09:00 民族团结进步教育")
    at(bot, "2026-12-21 09:00")
    handled = await fire(bot)
    assert handled["study_quota:2026Q4:d10"] == "skipped"
    assert handled["meeting_quota:2026Q4:d10"] == "skipped"
    assert len(texts_with(bot, UNIT_GROUP, "本季度还没有安排青年理论学习")) == 1


async def test_quarter_kick_off_lists_what_is_scheduled(world: BotHarness) -> None:
    bot = world
    at(bot, "2026-09-29 10:00")
    await create(bot, "学习 2026-10-15 15:00 学习二十大报告")
    at(bot, "2026-10-08 09:00")  # National Day week off: the first working day of Q4
    handled = await fire(bot)
    assert handled["quarter_kickoff:2026Q4"] == "sent"
    (kickoff,) = texts_with(bot, bot.group.id, "第 4 季度开始了")
    assert "学习二十大报告" in kickoff and "2026-10-15 15:00" in kickoff
    # What was due while nobody was looking (e.g. the Q3 quota days) is recorded as missed.
    assert handled.get("study_quota:2026Q3:d10") == "missed"


async def test_lei_feng_day_invites_to_open_volunteer_activities(world: BotHarness) -> None:
    bot = world
    at(bot, "2026-03-01 10:00")
    activity_id, _ = await create(bot, "志愿 2026-03-07 09:00 学雷锋进社区 cap=20")
    at(bot, "2026-03-04 09:00")
    assert (await fire(bot))["leifeng:2026"] == "sent"
    (invitation,) = texts_with(bot, bot.group.id, "学雷锋纪念日")
    assert f"/signup {activity_id}" in invitation


async def test_activity_reminders_follow_edits_and_cancellations(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 3, "办公室")
    activity_id, card = await create(bot, "学习 2026-12-02 15:00 会被改时间的学习")
    dropped_id, _ = await create(bot, "学习 2026-12-02 15:00 会被取消的学习")
    await bot.admin.ask_private(f"/event cancel {dropped_id}")
    at(bot, "2026-12-01 15:00")
    handled = await fire(bot)
    assert handled[f"activity:{activity_id}:activity_24h"] == "sent"
    assert not any(k.startswith(f"activity:{dropped_id}:") for k in handled)
    assert texts_with(bot, bot.group.id, "将于 2026-12-02 15:00 开始")
    await bot.admin.ask_private(f"/event edit {activity_id} time=16:00")
    scheduler = bot.app.job_queue.scheduler  # type: ignore[union-attr]
    job_id = f"reminder:activity:{activity_id}:activity_1h"
    # Jobs are placed relative to the engine's clock (Tue 12-01 15:00): 15:00 tomorrow is 24 h on.
    await bot.tg.wait_for(
        lambda: (
            (job := scheduler.get_job(job_id))
            and abs(job.next_run_time - dt.datetime.now(dt.UTC) - dt.timedelta(hours=24))
            < dt.timedelta(seconds=5)
        ),
        what="the 1 h job moved to 15:00",
    )
    assert not [
        j for j in scheduler.get_jobs() if j.id.startswith(f"reminder:activity:{dropped_id}:")
    ]
    at(bot, "2026-12-02 14:00")
    assert f"activity:{activity_id}:activity_1h" not in await fire(bot)
    at(bot, "2026-12-02 15:00")
    assert (await fire(bot))[f"activity:{activity_id}:activity_1h"] == "sent"
    assert texts_with(bot, bot.group.id, "将于 2026-12-02 16:00 开始")
    # Ten minutes after the start: a nudge to who neither checked in nor asked for leave.
    at(bot, "2026-12-02 15:50")
    await users[0].toast(users[0].press(card, "签到"))
    await users[1].ask_private(f"/leave {activity_id} 出差")
    at(bot, "2026-12-02 16:10")
    assert (await fire(bot))[f"activity:{activity_id}:checkin_nudge"] == "sent"
    assert texts_with(bot, users[2].id, "还没有签到或请假")
    assert not texts_with(bot, users[0].id, "还没有签到") and not texts_with(
        bot, users[1].id, "还没有签到"
    )


async def test_volunteer_reminders(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 3, "办公室")
    activity_id, card = await create(
        bot, "志愿 2026-12-05 09:00 助残阳光行动 cap=3 deadline=2026-12-04T18:00"
    )
    for user in users[:2]:
        await user.toast(user.press(card, "报名"))
    at(bot, "2026-12-03 18:00")
    assert (await fire(bot))[f"activity:{activity_id}:signup_closing"] == "sent"
    assert texts_with(bot, bot.group.id, "报名将于 12-04 18:00 截止")
    at(bot, "2026-12-04 09:00")
    handled = await fire(bot)
    assert handled[f"activity:{activity_id}:volunteer_24h"] == "sent"
    assert all(texts_with(bot, u.id, "你报名的志愿活动") for u in users[:2])
    assert not texts_with(bot, users[2].id, "你报名的志愿活动")


async def test_signup_closing_is_skipped_when_full(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    activity_id, card = await create(
        bot, "志愿 2026-12-05 09:00 满员活动 cap=1 deadline=2026-12-04T18:00"
    )
    await user.toast(user.press(card, "报名"))
    at(bot, "2026-12-03 18:00")
    assert (await fire(bot))[f"activity:{activity_id}:signup_closing"] == "skipped"


async def test_a_full_activity_closing_at_its_start_says_nothing_of_sign_up(
    world: BotHarness,
) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    activity_id, card = await create(bot, "志愿 2026-12-05 09:00 满员活动 cap=1")
    await user.toast(user.press(card, "报名"))
    at(bot, "2026-12-04 09:00")
    handled = await fire(bot)
    # The deadline is the start: no separate 报名即将截止; the 24-hour reminder would say it.
    assert f"activity:{activity_id}:signup_closing" not in handled
    assert handled[f"activity:{activity_id}:activity_24h"] == "sent"
    (reminder,) = texts_with(bot, bot.group.id, "将于 2026-12-05 09:00 开始")
    assert "报名将于" not in reminder


async def test_one_off_reminders_and_rule_switches(world: BotHarness) -> None:
    bot = world
    assert "用法" in await bot.admin.ask_private("/remind add 2026-12-01")
    assert "已经过去" in await bot.admin.ask_private("/remind add 2026-11-01 09:00 过去")
    assert "还没有分组群" in await bot.admin.ask_private("/remind add 2026-12-01 09:00 @办公室 x")
    added = await bot.admin.ask_private("/remind add 2026-12-01 10:30 @康复中心 请提交\n康复周报")
    assert "2026-12-01 10:30 发到康复中心 分组群" in added
    one_off = int(re.search(r"#(\d+)", added)[1])  # type: ignore[index]
    other = await bot.admin.ask_private("/remind add 2026-12-01 11:00 会被删除的提醒")
    other_id = int(re.search(r"#(\d+)", other)[1])  # type: ignore[index]
    listing = await bot.admin.ask_private("/remind")
    assert f"2026-12-01 10:30 · 单次提醒 · 康复中心 分组群 · 编号 {one_off}" in listing
    assert "已删除" in await bot.admin.ask_private(f"/remind del {other_id}")
    assert "不存在" in await bot.admin.ask_private(f"/remind del {other_id}")
    assert "没有“bogus”这条规则" in await bot.admin.ask_private("/remind off bogus")
    assert "已关闭" in await bot.admin.ask_private("/remind off unity")
    assert "不能改时刻" in await bot.admin.ask_private("/remind time activity_1h 10:00")
    assert "08:30" in await bot.admin.ask_private("/remind time study_quota 08:30")
    listing = await bot.admin.ask_private("/remind")
    assert "民族团结教育年度任务" not in listing
    assert "2026-12-01 08:30 · 理论学习季度任务" in listing
    at(bot, "2026-12-01 11:00")
    handled = await fire(bot)
    assert handled[f"one_off:{one_off}"] == "sent" and f"one_off:{other_id}" not in handled
    assert "unity:2026:12" not in handled
    assert texts_with(bot, UNIT_GROUP, "请提交\n康复周报")
    assert "已开启" in await bot.admin.ask_private("/remind on unity")


async def test_restarts_before_during_and_after_an_occurrence(world: BotHarness) -> None:
    bot = world
    for time_, text in (("10:30", "准时的提醒"), ("11:00", "错过太久"), ("12:00", "宽限内补发")):
        await bot.admin.ask_private(f"/remind add 2026-12-01 {time_} {text}")
    # Before: a restart schedules it again, sends nothing early.
    await bot.restart()
    assert "reminder:one_off:1" in bot.services.reminders.job_ids()
    assert not texts_with(bot, bot.group.id, "准时的提醒")
    at(bot, "2026-12-01 10:30")
    await fire(bot)
    # During and after: restarting again does not repeat it.
    await bot.restart()
    await bot.services.outbox.drain(20)
    assert len(texts_with(bot, bot.group.id, "准时的提醒")) == 1
    # Down from 10:30 to 17:30: 11:00 is 6.5 h late (missed), 12:00 is 5.5 h late (sent once).
    at(bot, "2026-12-01 17:30")
    await bot.restart()
    await bot.services.outbox.drain(20)
    assert not texts_with(bot, bot.group.id, "错过太久")
    assert len(texts_with(bot, bot.group.id, "宽限内补发")) == 1
    await bot.restart()
    await bot.services.outbox.drain(20)
    assert len(texts_with(bot, bot.group.id, "宽限内补发")) == 1


async def test_the_card_says_the_activity_ended_when_it_ends(world: BotHarness) -> None:
    bot = world
    activity_id, card = await create(bot, "学习 2026-11-30 14:00 到点结束 end=15:00")
    at(bot, "2026-11-30 15:01")
    assert (await fire(bot))[f"activity:{activity_id}:activity_ended"] == "skipped"
    text = await wait_card(bot, card, "活动已结束")
    assert "签到" not in str(
        bot.tg.chats[bot.group.id].messages[card["message_id"]].get("reply_markup", "")
    )
    assert "到点结束" in text
    # Not a reminder anyone sees in /remind, and never a message.
    assert "结束" not in await bot.admin.ask_private("/remind")


async def test_the_card_says_ended_even_when_the_bot_was_down_at_the_end(
    world: BotHarness,
) -> None:
    bot = world
    activity_id, card = await create(bot, "学习 2026-11-30 14:00 停机中结束 end=15:00")
    await bot.restart()
    at(bot, "2026-12-01 09:00")  # 18 hours after the end: long past the 6-hour grace
    assert (await fire(bot))[f"activity:{activity_id}:activity_ended"] == "skipped"
    await wait_card(bot, card, "活动已结束")


async def test_private_reminders_report_whom_they_could_not_reach(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 4, "办公室")
    async with bot.services.db.session() as session:
        silent = await session.scalar(select(Member).where(Member.telegram_id == users[0].id))
        assert silent is not None
        silent.can_dm = False  # never started the bot
        await session.commit()
    bot.tg.blocked.add(users[1].id)  # started it once, blocked it since
    activity_id, _card = await create(bot, "学习 2026-11-30 14:00 提醒不到的人")
    at(bot, "2026-11-30 14:11")
    assert (await fire(bot))[f"activity:{activity_id}:checkin_nudge"] == "sent"
    await bot.services.outbox.drain(20)
    assert texts_with(bot, users[2].id, "你还没有签到或请假")
    reports = texts_with(bot, bot.admin.id, f"#{activity_id}「提醒不到的人」的私信提醒")
    assert any("以下 1 人无法私信" in r and "成员000" in r for r in reports), reports
    assert any("成员001 无法接收私信" in r for r in reports), reports


async def test_the_study_plan_is_named_at_kick_off_and_what_is_open_before_the_end(
    world: BotHarness,
) -> None:
    bot = world
    at(bot, "2026-09-29 10:00")
    added = await bot.admin.ask_private(
        "/plan add 2026-Q4 学习贯彻二十大精神\n材料：https://example.org/a"
    )
    everyone = int(re.search(r"#(\d+)", added)[1])  # type: ignore[index]
    added = await bot.admin.ask_private("/plan add 2026-Q4 康复理论 单位=康复中心 形式=研讨")
    rehab = int(re.search(r"#(\d+)", added)[1])  # type: ignore[index]
    await create(bot, f"学习 2026-10-15 15:00 学习二十大报告 plan={everyone}")
    at(bot, "2026-10-08 09:00")
    assert (await fire(bot))["quarter_kickoff:2026Q4"] == "sent"
    (kickoff,) = texts_with(bot, bot.group.id, "第 4 季度开始了")
    assert "本季度学习计划：" in kickoff
    assert f"#{everyone} 学习贯彻二十大精神（集中学习 · 全体单位）" in kickoff
    assert "材料：https://example.org/a" in kickoff and "材料：材料" not in kickoff
    assert f"#{rehab} 康复理论（专题研讨 · 康复中心）" in kickoff

    # Every unit held a study session, but 康复中心's planned topic is still open.
    at(bot, "2026-12-01 09:00")
    assert (await fire(bot))["study_quota:2026Q4:d30"] == "sent"
    (unit_text,) = texts_with(bot, UNIT_GROUP, "学习计划还有未落实的")
    assert f"康复中心 本季度学习计划还有未落实的：#{rehab} 康复理论" in unit_text
    assert "还没有安排青年理论学习" not in unit_text
    assert not texts_with(bot, bot.group.id, "未落实")  # 办公室 has done its part
    (summary,) = texts_with(bot, bot.admin.id, "学习计划未落实的")
    assert f"· 康复中心：#{rehab} 康复理论" in summary and "办公室" not in summary

    # Scheduled: the last reminder has nothing to say.
    await create(bot, f"学习 2026-12-10 15:00 康复理论研讨 unit=康复中心 plan={rehab}")
    at(bot, "2026-12-21 09:00")
    assert (await fire(bot))["study_quota:2026Q4:d10"] == "skipped"
