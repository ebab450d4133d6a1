"""End-to-end: leave that needs approval, and 补签 (make-up check-in), decided privately."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from db.models import Approval, Attendance
from tests.harness import BotHarness, clock
from tests.steps import attendance, card_text, create, current, ledger_of, sent_to, told, wait_card

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 14:00")


async def approvals(bot: BotHarness) -> list[Approval]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(Approval).order_by(Approval.id)))


async def test_leave_needing_approval_goes_to_the_unit_lead(world: BotHarness) -> None:
    bot = world
    lead = await bot.registered(3001, "李组长", "办公室", username="lilead")
    await bot.admin.ask_private("/lead 办公室 @lilead")
    member = await bot.registered(3002, "王芳", "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 15:00 审批请假 leave=approve")
    assert "请假需审批" in card_text(bot, card)

    reply = await member.ask_private(f"/leave {activity_id} 家中老人住院")
    assert "待审批" in reply, reply
    await wait_card(bot, card, "待审批 1")
    assert "请假 0" in card_text(bot, card)
    assert await attendance(bot, activity_id) == {}

    request = await sent_to(bot, lead, "请假申请")
    assert "王芳（办公室）" in request["text"] and "家中老人住院" in request["text"]
    # The lead decides; the committee is not asked when the unit has a lead.
    assert not [m for m in bot.tg.bot_messages(bot.admin.id) if "请假申请" in m["text"]]
    toast = await lead.toast(lead.press(request, "批准"))
    assert "已批准" in toast["text"]
    assert "已批准" in await told(bot, member, "请假申请已批准")
    assert await attendance(bot, activity_id) == {member.id: "leave"}
    await wait_card(bot, card, "请假 1")
    assert "待审批" not in card_text(bot, card)
    edited = await bot.tg.wait_for(
        lambda: "已批准（李组长" in current(bot, request)["text"] and current(bot, request),
        what="the request says who decided",
    )
    assert not edited.get("reply_markup", {}).get("inline_keyboard")
    # Asking again changes nothing.
    assert "已获批准" in await member.ask_private(f"/leave {activity_id} 再请一次")
    (row,) = await approvals(bot)
    assert row.status == "approved" and row.decided_at is not None


async def test_two_committee_members_decide_at_once_and_the_first_wins(world: BotHarness) -> None:
    bot = world
    second = bot.user(3010, "赵委员", "zhaowei")
    await second.ask_private("/start")
    await bot.admin.ask_private("/promote @zhaowei")
    member = await bot.registered(3011, "孙明", "康复中心")  # a unit without a lead
    activity_id, card = await create(bot, "会议 2026-12-07 15:00 季度会议 leave=approve")
    assert "待审批" in await member.ask_private(f"/leave {activity_id} 出差")

    first_request = await sent_to(bot, bot.admin, "请假申请")
    second_request = await sent_to(bot, second, "请假申请")
    approve = bot.admin.press(first_request, "批准")
    reject = second.press(second_request, "驳回")
    toasts = [
        t["text"] for t in await asyncio.gather(bot.admin.toast(approve), second.toast(reject))
    ]
    winners = [t for t in toasts if t.startswith("已批准") or t.startswith("已驳回")]
    losers = [t for t in toasts if "已由" in t]
    assert len(winners) == 1 and len(losers) == 1, toasts

    (row,) = await approvals(bot)
    assert row.status in ("approved", "rejected")
    expected = {member.id: "leave"} if row.status == "approved" else {}
    assert await attendance(bot, activity_id) == expected
    word = "已批准" if row.status == "approved" else "已驳回"
    await bot.tg.wait_for(
        lambda: all(
            f"审批结果：{word}" in current(bot, r)["text"] for r in (first_request, second_request)
        ),
        what="both requests say the same decision",
    )
    await told(bot, member, word[1:])
    await wait_card(bot, card, "请假 1" if row.status == "approved" else "请假 0")


async def test_a_rejected_person_can_check_in_or_ask_again(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(3021, "周洁", "办公室")
    activity_id, card = await create(bot, "学习 2026-12-07 15:00 驳回测试 leave=approve")
    # The card's 请假 asks for the reason privately, then it goes for approval too.
    assert "请假原因" in await member.ask_private(f"/start leave_{activity_id}")
    assert "待审批" in await member.ask_private("想休息")
    assert "审批中" in await member.ask_private(f"/leave {activity_id} 还是想休息")
    request = dict(await sent_to(bot, bot.admin, "想休息"))  # as it was, buttons and all
    assert "已驳回" in (await bot.admin.toast(bot.admin.press(request, "驳回")))["text"]
    assert "被驳回" in await told(bot, member, "被驳回")
    assert await attendance(bot, activity_id) == {}

    # Asked again with a new reason: a new round, new buttons; the old ones are stale.
    assert "待审批" in await member.ask_private(f"/leave {activity_id} 孩子发烧")
    await bot.tg.wait_for(
        lambda: len([m for m in bot.tg.bot_messages(bot.admin.id) if "请假申请" in m["text"]]) == 2,
        what="the second request",
    )
    stale = await bot.admin.toast(bot.admin.press_data(request, request_data(request, "ok")))
    assert "失效" in stale["text"]
    (row,) = await approvals(bot)
    assert row.status == "pending" and row.round == 2

    # Pending or rejected, the person may still come: present.
    clock(bot).set_local("2026-12-07 14:55")
    assert "签到成功" in (await member.toast(member.press(card, "签到")))["text"]
    assert await attendance(bot, activity_id) == {member.id: "present"}


def request_data(message: dict[str, Any], action: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for button in row:
            if button["callback_data"].startswith(f"apv:{action}:"):
                return str(button["callback_data"])
    raise AssertionError("no decision button")


async def test_only_approvers_decide_and_forged_buttons_change_nothing(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(3031, "吴昊", "办公室")
    other = await bot.registered(3032, "郑爽", "办公室")
    activity_id, _card = await create(bot, "学习 2026-12-07 15:00 权限测试 leave=approve")
    await member.ask_private(f"/leave {activity_id} 培训")
    request = await sent_to(bot, bot.admin, "培训")
    data = request_data(request, "ok")
    # Someone else pressing the same data (forged into their own chat) is refused.
    mine = other.say("随便说点什么")
    refused = await other.toast(other.press_data(mine, data))
    assert "只有" in refused["text"]
    # The requester cannot approve their own request either.
    assert "只有" in (await member.toast(member.press_data(mine, data)))["text"]
    for forged in ("apv:ok:999999:1", "apv:ok:1", "apv:maybe:1:1", "apv:ok:1:99999"):
        toast = await bot.admin.toast(bot.admin.press_data(request, forged))
        assert "已批准" not in toast["text"], forged
    (row,) = await approvals(bot)
    assert row.status == "pending"
    assert await attendance(bot, activity_id) == {}


async def test_leave_still_pending_at_the_end_reminds_the_approver_once(world: BotHarness) -> None:
    bot = world
    lead = await bot.registered(3041, "钱组长", "康复中心", username="qianlead")
    await bot.admin.ask_private("/lead 康复中心 @qianlead")
    first = await bot.registered(3042, "冯一", "康复中心")
    second = await bot.registered(3043, "陈二", "康复中心")
    activity_id, _ = await create(bot, "学习 2026-12-07 15:00 提醒测试 leave=approve")
    await first.ask_private(f"/leave {activity_id} 病假")
    await second.ask_private(f"/leave {activity_id} 事假")
    await sent_to(bot, lead, "陈二")

    clock(bot).set_local("2026-12-07 17:01")
    await bot.services.reminders.fire_due()
    await bot.services.reminders.fire_due()
    await bot.services.outbox.drain(20)
    reminder = await told(bot, lead, "仍待你审批")
    assert "冯一" in reminder and "陈二" in reminder
    await bot.settled()
    await bot.services.outbox.drain(20)
    assert len([x for x in bot.tg.texts(lead.id) if "仍待你审批" in x]) == 1
    assert not [x for x in bot.tg.texts(bot.admin.id) if "仍待你审批" in x]


async def test_makeup_after_the_end_is_approved_and_marked(world: BotHarness) -> None:
    bot = world
    lead = await bot.registered(3051, "褚组长", "办公室", username="chulead")
    await bot.admin.ask_private("/lead 办公室 @chulead")
    member = await bot.registered(3052, "卫东", "办公室")
    activity_id, _ = await create(bot, "学习 2026-12-07 15:00 补签测试")

    assert "尚未结束" in await member.ask_private(f"/makeup {activity_id} 忘了签到")
    assert "用法" in await member.ask_private(f"/makeup {activity_id}")
    clock(bot).set_local("2026-12-08 09:00")
    assert "待审批" in await member.ask_private(f"/makeup {activity_id} 忘了签到")
    request = await sent_to(bot, lead, "补签申请")
    assert "忘了签到" in request["text"]
    assert "已批准" in (await lead.toast(lead.press(request, "批准")))["text"]
    assert "计为已签到" in await told(bot, member, "补签已批准")
    async with bot.services.db.session() as session:
        row = await session.scalar(select(Attendance).where(Attendance.activity_id == activity_id))
        assert row is not None and row.status == "present" and row.makeup
    roster = await bot.admin.ask_private(f"/roster {activity_id}")
    assert "卫东（办公室）" in roster and "补签，褚组长 批准" in roster
    assert "无需补签" in await member.ask_private(f"/makeup {activity_id} 再来")

    # The evidence: /history, the report and the ledger say 补签 and who approved it.
    history = await bot.admin.ask_private(f"/history {member.id}")
    assert "补签（忘了签到）：已批准，褚组长" in history, history
    report = await ledger_of(bot.admin, bot, "/export 2026-Q4")
    details = [[cell.value for cell in row] for row in report["签到明细"].iter_rows(min_row=2)]
    assert [r[5] for r in details if r[4] == "卫东"] == ["补签"]
    audit = [[cell.value for cell in row] for row in report["审批记录"].iter_rows(min_row=2)]
    assert len(audit) == 1
    assert audit[0][4:8] == ["卫东", "补签", "忘了签到", "已批准"] and audit[0][9] == "褚组长"


async def test_makeup_limits_are_refused_with_reasons(world: BotHarness) -> None:
    bot = world
    member = await bot.registered(3061, "蒋琳", "办公室")
    ids = [(await create(bot, f"学习 2026-12-07 {14 + i}:30 第{i}场"))[0] for i in range(1, 6)]
    on_leave, _ = await create(bot, "学习 2026-12-07 15:00 请过假")
    other_unit, _ = await create(bot, "学习 2026-12-07 15:00 别组 unit=康复中心")
    volunteer, _ = await create(bot, "志愿 2026-12-07 15:00 志愿活动 cap=5")
    assert "已请假" in await member.ask_private(f"/leave {on_leave} 出差")

    clock(bot).set_local("2026-12-08 10:00")
    for activity_id in ids[:3]:
        assert "待审批" in await member.ask_private(f"/makeup {activity_id} 忘了")
    quota = await member.ask_private(f"/makeup {ids[3]} 又忘了")
    assert "最多 3 次" in quota, quota
    assert "不能补签" in await member.ask_private(f"/makeup {on_leave} 想补")
    assert "无需补签" in await member.ask_private(f"/makeup {other_unit} 想补")
    assert "志愿服务" in await member.ask_private(f"/makeup {volunteer} 想补")
    assert "编号" in await member.ask_private("/makeup abc 想补")
    assert "不存在" in await member.ask_private("/makeup 99999 想补")
    clock(bot).set_local("2026-12-11 10:00")  # more than 3 days after the end
    assert "超过 3 天" in await member.ask_private(f"/makeup {ids[4]} 太晚")
    assert len(await approvals(bot)) == 3
    stranger = bot.user(3069, "路人")
    assert "登记" in await stranger.ask_private(f"/makeup {ids[4]} 想补")
