"""End-to-end: notices, 收到, /acks, follow-ups, /chase, edit/delete and the outbox."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from sqlalchemy import func, select

from db.models import Notice, OutboxMessage
from scheduler.ratelimit import TelegramRateLimiter, _Windows
from tests.harness import BotHarness, clock, seed_members
from tests.steps import acks, card, find_card, post, wait_text
from tests.tgserver import ApiError, TgUser

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-12-07 10:00")


async def fire(bot: BotHarness) -> list[str]:
    """Run the reminder engine now; the keys it sent."""
    return [key for key, outcome in await bot.services.reminders.fire_due() if outcome == "sent"]


async def test_notice_to_main_group_is_pinned_and_counts_acknowledgements(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 3, "办公室")
    notice_id, reply = await post(bot, "请各位于周五前提交\n季度学习心得。\n  谢谢！")
    assert "会置顶" in reply and "12-08 10:00 将私信提醒" in reply
    message = card(bot, notice_id, bot.group.id)
    assert "请各位于周五前提交\n季度学习心得。\n  谢谢！" in message["text"]
    assert "已收到 0 / 3" in message["text"] and message.get("pinned")
    answer = await users[0].toast(users[0].press(message, "收到"))
    assert f"已收到 ✅ 通知 #{notice_id}" in answer["text"]
    again = await users[0].toast(users[0].press(message, "收到"))
    assert "已回复过" in again["text"]
    await users[1].toast(users[1].press(message, "收到"))
    await wait_text(bot, message, "已收到 2 / 3")
    assert await acks(bot, notice_id) == 2
    stranger = bot.user(2301, "路人")
    assert "请先登记" in (await stranger.toast(stranger.press(message, "收到")))["text"]


async def test_notice_to_a_unit_and_to_all(world: BotHarness) -> None:
    bot = world
    await seed_members(bot, 2, "办公室")
    await seed_members(bot, 4, "康复中心", first_id=600000)
    refused = await bot.admin.ask_private("/notice @康复中心 没有群的单位")
    assert "还没有分组群" in refused
    assert "没有名为“火星”" in await bot.admin.ask_private("/notice @火星 内容")
    rehab = bot.tg.add_group(-100700, "康复中心群", can_pin=False)
    await bot.admin.ask(rehab.id, "/setup 康复中心")
    unit_id, reply = await post(bot, "@康复中心 remind=off 明天康复中心大扫除")
    assert "康复中心 分组群" in reply and "没有置顶权限" in reply and "不会自动提醒" in reply
    unit_card = card(bot, unit_id, rehab.id)
    assert "已收到 0 / 4" in unit_card["text"] and not unit_card.get("pinned")
    assert not any(f"通知 #{unit_id}\n" in t for t in bot.tg.texts(bot.group.id))
    all_id, reply = await post(bot, "all 全体注意：下周一升旗仪式")
    assert "主群和 1 个分组群" in reply
    for chat in (bot.group.id, rehab.id):
        assert "已收到 0 / 6" in card(bot, all_id, chat)["text"]


@pytest.mark.parametrize(
    ("body_", "expected"),
    [
        ("", "用法"),
        ("remind=abc 内容", "remind="),
        ("remind=0 内容", "remind="),
        ("@办公室", "用法"),
        ("all", "用法"),
        ("x" * 3001, "内容太长"),
        ("edit 99 新内容", "不存在"),
        ("delete 99", "不存在"),
    ],
)
async def test_bad_notice_input_is_refused(world: BotHarness, body_: str, expected: str) -> None:
    reply = await world.admin.ask_private(f"/notice {body_}".strip())
    assert expected in reply, reply
    async with world.services.db.session() as session:
        assert not await session.scalar(select(func.count()).select_from(Notice))


async def test_only_the_committee_posts_notices(world: BotHarness) -> None:
    member = (await seed_members(world, 1, "办公室"))[0]
    assert "仅限青工委" in await member.ask_anywhere(world.group.id, "/notice 我也想发通知")
    assert "仅限青工委" in await member.ask_private("/acks 1")
    assert "仅限青工委" in await member.ask_private("/chase 1")
    assert "仅限青工委" in await member.ask_private("/outbox")


async def test_photo_notice_keeps_its_caption_and_counts(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    since = len(bot.tg.texts(bot.admin.id))
    bot.tg.user_photo(bot.admin.id, bot.admin.id, "/notice remind=off 请看附件中的值班表")
    reply = await bot.admin.reply_in(bot.admin.id, since)
    notice_id = int(re.search(r"#(\d+)", reply)[1])  # type: ignore[index]
    await bot.services.outbox.drain(20)
    message = card(bot, notice_id, bot.group.id)
    assert "photo" in message and "请看附件中的值班表" in message["caption"]
    await user.toast(user.press(message, "收到"))
    await wait_text(bot, message, "已收到 1 / 1")


async def test_acks_lists_who_has_not_acknowledged_by_unit(world: BotHarness) -> None:
    bot = world
    office = await seed_members(bot, 3, "办公室", name="办")
    await seed_members(bot, 2, "康复中心", first_id=600000, name="康")
    bot.tg.started.discard(office[2].id)
    async with bot.services.db.session() as session:
        from db.members import set_can_dm

        await set_can_dm(session, office[2].id, False)
        await session.commit()
    notice_id, _ = await post(bot, "请回复收到")
    await office[0].toast(office[0].press(card(bot, notice_id, bot.group.id), "收到"))
    since = len(bot.tg.texts(bot.admin.id))
    asked = bot.admin.send(bot.group.id, f"/acks {notice_id}")
    report = await bot.admin.reply_in(bot.admin.id, since)
    await bot.tg.wait_for(lambda: bot.tg.reactions(asked) == ["👌"], 10, "a 👌 on the command")
    assert "已收到 1 · 未收到 4" in report
    assert "办公室（2）：办001、办002（无法私信）" in report
    assert "康复中心（2）：康000、康001" in report
    assert "用法" in await bot.admin.ask_private("/acks")
    assert "不存在" in await bot.admin.ask_private("/acks 42")


async def test_followup_at_its_time_reminds_privately_and_reports_the_unreachable(
    world: BotHarness,
) -> None:
    bot = world
    users = await seed_members(bot, 4, "办公室", name="员")
    # One never started the bot; one blocked it after starting.
    never, blocked = users[2], users[3]
    bot.tg.started.discard(never.id)
    async with bot.services.db.session() as session:
        from db.members import set_can_dm

        await set_can_dm(session, never.id, False)
        await session.commit()
    bot.tg.blocked.add(blocked.id)
    notice_id, _ = await post(bot, "remind=2 下午三点开会，请回复收到")
    scheduler = bot.app.job_queue.scheduler  # type: ignore[union-attr]
    job = await bot.tg.wait_for(
        lambda: scheduler.get_job(f"reminder:notice_followup:{notice_id}"), what="the job"
    )
    # Due two hours from the (test's) now.
    due_in = job.next_run_time - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=1, minutes=59) < due_in <= dt.timedelta(hours=2)
    await users[0].toast(users[0].press(card(bot, notice_id, bot.group.id), "收到"))

    clock(bot).set_local("2026-12-07 11:59")
    assert await fire(bot) == []
    clock(bot).set_local("2026-12-07 12:00")
    assert await fire(bot) == [f"notice_followup:{notice_id}"]
    await bot.services.outbox.drain(20)
    reminder = bot.tg.bot_messages(users[1].id)[-1]
    assert "还没有回复“收到”" in reminder["text"] and "下午三点开会" in reminder["text"]
    assert not bot.tg.bot_messages(users[0].id)  # acknowledged: not reminded
    report = "\n".join(bot.tg.texts(bot.admin.id))
    assert "已私信提醒 2 位" in report and "员002" in report  # never started: listed
    assert "员003 无法接收私信提醒" in report  # blocked: 403, listed
    # The private button counts like the group's.
    await users[1].toast(users[1].press(reminder, "收到"))
    await wait_text(bot, card(bot, notice_id, bot.group.id), "已收到 2 / 4")
    # Firing again (a second timer, a restart) sends nothing more.
    assert await fire(bot) == []
    await bot.services.outbox.drain(20)
    assert len(bot.tg.bot_messages(users[1].id)) == 1


async def test_chase_now_and_again(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 2, "办公室")
    notice_id, _ = await post(bot, "remind=off 无自动提醒的通知")
    assert "私信 2 人" in await bot.admin.ask_private(f"/chase {notice_id}")
    await bot.services.outbox.drain(20)
    await users[0].toast(users[0].press(bot.tg.bot_messages(users[0].id)[-1], "收到"))
    assert "私信 1 人" in await bot.admin.ask_private(f"/chase #{notice_id}")
    await bot.services.outbox.drain(20)
    assert len(bot.tg.bot_messages(users[1].id)) == 2
    assert len(bot.tg.bot_messages(users[0].id)) == 1
    assert "用法" in await bot.admin.ask_private("/chase")


async def test_edit_keeps_counts_and_delete_removes_everything(world: BotHarness) -> None:
    bot = world
    (user, other) = await seed_members(bot, 2, "办公室")
    notice_id, _ = await post(bot, "原来的内容")
    message = card(bot, notice_id, bot.group.id)
    await user.toast(user.press(message, "收到"))
    assert "已更新" in await bot.admin.ask_private(f"/notice edit {notice_id} 更正后的内容\n第二行")
    await wait_text(bot, message, "更正后的内容\n第二行")
    assert "已收到 1 / 2" in message["text"]
    assert "用法" in await bot.admin.ask_private(f"/notice edit {notice_id}")
    assert "已删除" in await bot.admin.ask_private(f"/notice delete {notice_id}")
    await bot.tg.wait_for(lambda: message.get("deleted"), what="card deleted")
    scheduler = bot.app.job_queue.scheduler  # type: ignore[union-attr]
    await bot.tg.wait_for(
        lambda: scheduler.get_job(f"reminder:notice_followup:{notice_id}") is None,
        what="the follow-up job removed",
    )
    assert "已删除" in (await other.toast(other.press_data(message, f"nt:ack:{notice_id}")))["text"]
    assert "已删除" in await bot.admin.ask_private(f"/chase {notice_id}")
    clock(bot).set_local("2026-12-08 10:00")
    assert await fire(bot) == []


async def test_forged_acknowledgement_data(world: BotHarness) -> None:
    bot = world
    (user,) = await seed_members(bot, 1, "办公室")
    notice_id, _ = await post(bot, "测试")
    message = card(bot, notice_id, bot.group.id)
    for data in ("nt:ack:999", "nt:ack:", "nt:del:1", f"nt:ack:{notice_id}x"):
        answer = await user.toast(user.press_data(message, data))
        assert "无效" in answer["text"] or "不存在" in answer["text"], (data, answer)
    assert await acks(bot, notice_id) == 0


async def outbox_rows(bot: BotHarness) -> dict[str, OutboxMessage]:
    async with bot.services.db.session() as session:
        return {r.key: r for r in await session.scalars(select(OutboxMessage))}


async def test_outbox_retries_429_and_5xx_and_gives_up_on_403(world: BotHarness) -> None:
    bot = world
    users = await seed_members(bot, 3, "办公室")
    bot.tg.fail_for(
        "sendMessage",
        bot.group.id,
        ApiError(429, "Too Many Requests: retry after 1", retry_after=1),
        ApiError(502, "Bad Gateway"),
    )
    notice_id, _ = await post(bot, "remind=off 重试测试")
    await bot.tg.wait_for(lambda: find_card(bot, notice_id, bot.group.id), 20, "card after retries")
    bot.tg.blocked.add(users[2].id)
    await bot.admin.ask_private(f"/chase {notice_id}")
    await bot.services.outbox.drain(20)
    rows = await outbox_rows(bot)
    post_row = rows[f"notice:{notice_id}:chat:{bot.group.id}:post"]
    assert post_row.status == "sent" and post_row.message_id
    assert sum(1 for t in bot.tg.texts(bot.group.id) if "重试测试" in t) == 1  # sent once
    limiter = bot.app.bot.rate_limiter
    assert isinstance(limiter, TelegramRateLimiter)
    assert limiter.retries_after_429 >= 1 and limiter.retries_after_faults >= 1
    statuses = [r.status for r in rows.values() if r.purpose == "notice_followup"]
    assert sorted(statuses) == ["sent", "sent", "undeliverable"]
    # The creator was told who could not be reached.
    await bot.tg.wait_for(
        lambda: any("无法接收私信提醒" in t for t in bot.tg.texts(bot.admin.id)), 10, "the report"
    )
    stats = await bot.admin.ask_private("/outbox")
    assert "无法送达 1" in stats and "待发送 0" in stats


async def test_outbox_respects_the_group_budget_shared_with_cards(world: BotHarness) -> None:
    bot = world
    await seed_members(bot, 1, "办公室")
    bot.tg.group_per_minute = 6
    limiter = bot.app.bot.rate_limiter
    assert isinstance(limiter, TelegramRateLimiter)
    limiter._groups = _Windows(6, 61.0, time.monotonic)
    for i in range(5):
        await bot.admin.ask_private(f"/notice remind=off 第{i}条")
    await bot.services.outbox.drain(20)
    # 1 (/setup reply) + 5 posts = 6 in the minute: the limit, not over.
    assert not bot.tg.errors(429)
    assert sum(1 for t in bot.tg.texts(bot.group.id) if "📢" in t) == 5


async def test_a_redelivered_update_takes_effect_once(world: BotHarness) -> None:
    bot = world
    await bot.admin.ask_private("/notice remind=off 只应发布一次")
    update = next(
        u for u in bot.tg.delivered if "只应发布一次" in u.get("message", {}).get("text", "")
    )
    await bot.restart()
    bot.tg.redeliver(update)
    await bot.admin.ask_private("/outbox")  # a later update, so the redelivered one was handled
    await bot.services.outbox.drain(20)
    async with bot.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Notice)) == 1
    assert sum(1 for t in bot.tg.texts(bot.group.id) if "只应发布一次" in t) == 1


async def test_followups_missed_while_down_are_sent_once_within_grace(world: BotHarness) -> None:
    bot = world
    users: list[TgUser] = await seed_members(bot, 1, "办公室")
    first, _ = await post(bot, "remind=1 第一条")
    await post(bot, "remind=2 第二条")
    # Down from 10:00 until 17:30: the first (due 11:00) is 6.5 h late, beyond the 6 h grace;
    # the second (due 12:00) is 5.5 h late, within it.
    clock(bot).set_local("2026-12-07 17:30")
    await bot.restart()
    await bot.services.outbox.drain(20)
    texts = bot.tg.texts(users[0].id)
    assert any("第二条" in t for t in texts) and not any("第一条" in t for t in texts)
    report = "\n".join(bot.tg.texts(bot.admin.id))
    assert f"通知 #{first} 的定时提醒因机器人停机而错过" in report
    await bot.restart()
    await bot.services.outbox.drain(20)
    assert sum("第二条" in t for t in bot.tg.texts(users[0].id)) == 1
