"""End-to-end: /me is current (today's check-ins, leave, requests), and one attendance rate —
approved leave excused — in /me, /history, /report and the ledger."""

from __future__ import annotations

import pytest

from tests.harness import BotHarness, clock
from tests.steps import create, english, ledger_of, report_of, rows, sent_to, told

# The bot's clock from before it starts (see tests.harness.BotHarness): a Monday afternoon.
pytestmark = pytest.mark.clock("2026-12-07 14:00")

FORMULA = "出勤率 = 签到（含迟到、补签）÷（应到 − 已批准的请假）"


async def test_me_right_after_a_check_in_shows_it_and_counts_it(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(4001, "王芳", "办公室")
    study, card = await create(bot, "学习 2026-12-07 14:30 当天学习")
    evening, _ = await create(bot, "会议 2026-12-07 19:00 晚间会议 unit=办公室")
    coded, _ = await create(bot, "学习 2026-12-07 14:40 凭码学习 code=4711")
    other, _ = await create(bot, "学习 2026-12-07 14:30 别组学习 unit=康复中心")
    monday, _ = await create(bot, "学习 2026-12-14 09:00 下周一学习")
    assert f"已请假 #{monday}「下周一学习」" in await member.ask_private(f"/leave {monday} 出差")
    clock(bot).set_local("2026-12-07 14:35")
    toast = await member.toast(member.press(card, "签到"))
    assert "签到成功" in toast["text"], toast

    me = await member.ask_private("/me")
    assert "今天和进行中的活动：" in me
    assert f"#{study}「当天学习」2026-12-07 14:30–16:30 · 已签到 14:35" in me
    assert (
        f"#{coded}「凭码学习」2026-12-07 14:40–16:40 · 未签到 · 私聊我发送 /checkin {coded} 签到码"
        in me
    )
    assert f"#{evening}「晚间会议」2026-12-07 19:00–21:00 · 未签到 · 18:30 起可签到" in me
    assert f"#{other}" not in me  # another unit's
    # Leave for next Monday is shown, and counts for nothing yet.
    assert "请假和待审批的申请：" in me
    assert f"#{monday}「下周一学习」2026-12-14 09:00–11:00 · 已请假（不计缺席）" in me
    # The check-in counts at once; nothing ongoing is absent yet.
    assert "本季度：签到 1 次（迟到 0）· 请假 0 · 缺席 0 · 出勤率 100%" in me
    assert "本年度：签到 1 次（迟到 0）· 请假 0 · 缺席 0 · 出勤率 100%" in me
    assert FORMULA in me

    # Once the coded study has ended without a check-in it is an absence, with the way to 补签.
    clock(bot).set_local("2026-12-07 17:00")
    me = await member.ask_private("/me")
    assert f"#{coded}「凭码学习」2026-12-07 14:40–16:40 · 缺席 · 12-10 16:40 前可发送 /makeup" in me
    assert "本季度：签到 1 次（迟到 0）· 请假 0 · 缺席 1 · 出勤率 50%" in me


async def test_pending_leave_is_pending_and_approved_leave_is_excused(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(4011, "孙明", "康复中心")  # a unit without a lead
    study, card = await create(bot, "学习 2026-12-07 14:30 签到的学习")
    meeting, _ = await create(bot, "会议 2026-12-07 17:00 审批的会议 leave=approve")
    later, _ = await create(bot, "会议 2026-12-14 09:00 下周的会议 leave=approve")
    clock(bot).set_local("2026-12-07 14:35")
    await member.toast(member.press(card, "签到"))
    assert "待审批" in await member.ask_private(f"/leave {meeting} 出差")
    assert "待审批" in await member.ask_private(f"/leave {later} 培训")

    me = await member.ask_private("/me")
    assert f"#{study}「签到的学习」2026-12-07 14:30–16:30 · 已签到 14:35" in me
    assert f"#{meeting}「审批的会议」2026-12-07 17:00–19:00 · 请假待审批" in me
    assert f"#{later}「下周的会议」2026-12-14 09:00–11:00 · 请假待审批" in me

    # The meeting ends with the leave still pending: pending leave excuses nothing.
    clock(bot).set_local("2026-12-07 19:30")
    me = await member.ask_private("/me")
    assert "本季度：签到 1 次（迟到 0）· 请假 0 · 缺席 1 · 出勤率 50%" in me
    request = await sent_to(bot, bot.admin, f"活动：#{meeting}「")
    assert "已批准" in (await bot.admin.toast(bot.admin.press(request, "批准")))["text"]
    await told(bot, member, "请假申请已批准")

    # Approved: 1 present + 1 approved leave = 100 %, not 50 %.
    me = await member.ask_private("/me")
    assert f"#{meeting}「审批的会议」2026-12-07 17:00–19:00 · 已请假（不计缺席）" in me
    assert "本季度：签到 1 次（迟到 0）· 请假 1 · 缺席 0 · 出勤率 100%" in me
    assert f"#{later}「下周的会议」2026-12-14 09:00–11:00 · 请假待审批" in me
    history = await bot.admin.ask_private(f"/history {member.id}")
    tally = "应到 2 · 已签到 1 · 迟到 0 · 请假 1 · 缺席 0 · 出勤率 100%"
    assert f"2026年第4季度：{tally}" in history

    # The same rate in the report …
    text, _ = await report_of(bot.admin, bot)
    assert f"康复中心：理论学习 已完成 ✓\n　出勤：{tally}" in text
    assert f"全体出勤：{tally}" in text
    assert "出勤率低于" in text and "孙明" not in text.split("出勤率低于")[1]
    # … and in the ledger, which says how it is computed.
    book = await ledger_of(bot.admin, bot, "/export")
    roster = {r[0]: r for r in rows(book, "成员")[1:]}
    assert roster["孙明"][6] == 1.0
    assessment = rows(book, "考核")
    by_item = {r[0]: r for r in assessment[1:]}
    assert by_item["康复中心"][3:9] == [2, 1, 0, 1, 0, 1.0]
    assert assessment[-1][0] == "出勤率" and FORMULA in assessment[-1][2]


async def test_refused_leave_excuses_nothing_and_an_approved_makeup_counts(
    world: BotHarness,
) -> None:
    bot = world
    member = await bot.registered(4021, "卫东", "康复中心")
    meeting, _ = await create(bot, "会议 2026-12-07 15:00 驳回的会议 leave=approve")
    assert "待审批" in await member.ask_private(f"/leave {meeting} 想休息")
    request = await sent_to(bot, bot.admin, f"活动：#{meeting}「")
    assert "已驳回" in (await bot.admin.toast(bot.admin.press(request, "驳回")))["text"]
    await told(bot, member, "请假申请被驳回")
    clock(bot).set_local("2026-12-07 17:30")
    me = await member.ask_private("/me")
    assert f"#{meeting}「驳回的会议」2026-12-07 15:00–17:00 · 请假已驳回 · 缺席" in me
    assert "本季度：签到 0 次（迟到 0）· 请假 0 · 缺席 1 · 出勤率 0%" in me

    assert "待审批" in await member.ask_private(f"/makeup {meeting} 其实到场了")
    assert "补签待审批" in await member.ask_private("/me")
    request = await sent_to(bot, bot.admin, "补签申请")
    assert "已批准" in (await bot.admin.toast(bot.admin.press(request, "批准")))["text"]
    await told(bot, member, "补签已批准")
    me = await member.ask_private("/me")
    assert f"#{meeting}「驳回的会议」2026-12-07 15:00–17:00 · 已补签" in me
    assert "本季度：签到 1 次（迟到 0）· 请假 0 · 缺席 0 · 出勤率 100%" in me


async def test_me_in_english(world: BotHarness) -> None:
    bot = world
    alice = bot.user(4031, "Alice", "alice", language_code="en-US")
    english(await alice.ask_private("/register Alice 办公室"), ("办公室",))
    study, card = await create(bot, "学习 2026-12-07 14:30 Theory study")
    meeting, _ = await create(bot, "会议 2026-12-07 15:00 Committee meeting")
    await alice.ask_private(f"/leave {meeting} family matters")
    clock(bot).set_local("2026-12-07 14:35")
    await alice.toast(alice.press(card, "签到"))
    clock(bot).set_local("2026-12-07 18:00")
    me = english(await alice.ask_private("/me"), ("办公室",))
    assert f'#{study} "Theory study" 2026-12-07 14:30–16:30 · checked in at 14:35' in me
    assert f'#{meeting} "Committee meeting" 2026-12-07 15:00–17:00 · on leave (excused)' in me
    assert "checked in: 1 (late: 0) · leave: 1 · absent: 0 · attendance rate: 100%" in me
    assert "Attendance rate = checked in (late and make-up included)" in me
