"""Personal information (PIPL): /privacy says what is kept, /mydata gives it back, /forget
erases who someone was while the organisation's counts stay; texts are kept only so long."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from db import retention
from db.models import Approval, Attendance, Member, Need, NeedEvent, OutboxMessage
from handlers import fallbacks
from tests.harness import BotHarness, clock
from tests.steps import SHEETS, Quarter, ledger_of, report_of, rows

# The `quarter` of tests.steps: a quarter (2026 Q4) of study, meetings, volunteering.
pytestmark = pytest.mark.clock("2026-10-09 10:00")


def cells(book: Any) -> list[str]:
    return [str(c) for name in SHEETS for row in rows(book, name) for c in row if c is not None]


async def document_of(bot: BotHarness, user_id: int, since: int) -> dict[str, Any]:
    return await bot.tg.message_in(user_id, lambda m: m.get("document"), 20, "a document", since)


async def test_privacy_says_what_is_kept_why_who_sees_it_and_how_long(quarter: Quarter) -> None:
    bot = quarter.bot
    stranger = bot.stranger(8001, "路人")
    text = await stranger.ask_private("/privacy")
    for fragment in ("保存什么", "为什么", "谁能看到", "保存多久", "730 天", "/mydata", "/forget"):
        assert fragment in text, fragment
    await stranger.ask_private("/lang en")
    english = await stranger.ask_private("/privacy")
    assert "What is kept" in english and "730 days" in english
    assert "/privacy" in await quarter.a.ask_private("/start")


async def test_mydata_is_everything_about_the_asker_and_nothing_else(quarter: Quarter) -> None:
    bot = quarter.bot
    assert "私聊" in await quarter.a.ask_anywhere(bot.group.id, "/mydata")
    since = len(bot.tg.bot_messages(quarter.a.id))
    quarter.a.say("/mydata")
    document = await document_of(bot, quarter.a.id, since)
    assert document["document"]["file_name"].startswith("mydata-2026-12-07")
    data = json.loads(bot.tg.sent_file(document))
    assert data["person"]["telegram_id"] == quarter.a.id
    assert data["person"]["real_name"] == "办000" and data["person"]["unit"] == "办公室"
    statuses = sorted(a["status"] for a in data["attendance"])
    assert statuses == ["present", "present", "present"]
    assert [s["activity"]["title"] for s in data["volunteer_signups"]] == ["助残志愿"]
    assert len(data["notices_acknowledged"]) == 1
    text = json.dumps(data, ensure_ascii=False)
    for other in ("=1+1", "康000", "丁导入", str(quarter.b.id), str(quarter.c.id)):
        assert other not in text, other


async def test_forget_erases_the_person_and_keeps_the_counts(quarter: Quarter) -> None:
    bot = quarter.bot
    before_report, _ = await report_of(bot.admin, bot)
    before = await ledger_of(bot.admin, bot, "/export 2026-Q4")
    assert "办000" in cells(before)
    # A preview first; 取消 erases nothing.
    preview = await quarter.a.ask_private("/forget")
    assert "预览" in preview and "签到记录 3 条" in preview and "通知回执 1 条" in preview
    message = bot.tg.bot_messages(quarter.a.id)[-1]
    cancelled = await quarter.a.toast(quarter.a.press(message, "取消"))
    assert "什么都没有删除" in cancelled["text"]
    assert "办000" in await bot.admin.ask_private("/members")
    # A forged or stale button erases nothing either.
    await quarter.a.ask_private("/forget")
    message = bot.tg.bot_messages(quarter.a.id)[-1]
    forged = await quarter.a.toast(quarter.a.press_data(message, "fg:ok:999999"))
    assert forged["show_alert"]
    erased = await quarter.a.toast(quarter.a.press(message, "确认删除"))
    assert "已删除" in erased["text"]
    await bot.tg.wait_for(
        lambda: (
            "已删除你的个人信息"
            in bot.tg.chats[quarter.a.id].messages[message["message_id"]]["text"]
        ),
        10,
        "the outcome",
    )
    # The name is in no list, roster, report or ledger; the counts are the same.
    members = await bot.admin.ask_private("/members")
    assert "办000" not in members and "已注销成员" not in members
    roster = await bot.admin.ask_private(f"/roster {quarter.study}")
    assert "办000" not in roster and "已注销成员" in roster
    after_report, _ = await report_of(bot.admin, bot)
    assert after_report == before_report
    after = await ledger_of(bot.admin, bot, "/export 2026-Q4")
    assert "办000" not in cells(after) and "已注销成员" in cells(after)
    for sheet in ("签到明细", "志愿服务", "通知回执"):
        assert len(rows(after, sheet)) == len(rows(before, sheet)), sheet
    assert len(rows(after, "成员")) == len(rows(before, "成员")) - 1
    async with bot.services.db.session() as session:
        row = await session.scalar(select(Member).where(Member.erased_at.is_not(None)))
        assert row is not None and row.telegram_id is None and row.real_name is None
        assert row.username is None and row.first_name == ""
        kept = list(await session.scalars(select(Attendance).where(Attendance.member_id == row.id)))
        assert len(kept) == 3 and all(a.reason is None for a in kept)
        to_them = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.chat_id == quarter.a.id)
        )
        assert to_them is None
    # Writing again, they are a stranger with a fresh record.
    assert "请先登记" in await quarter.a.ask_private("/events")


async def test_forget_turns_signed_needs_anonymous_and_certificates_nameless(
    quarter: Quarter,
) -> None:
    bot = quarter.bot
    clock(bot).set_local("2026-12-07 14:00")
    await quarter.a.ask_private("/need 住房 宿舍漏水，请帮忙协调")
    since = len(bot.tg.bot_messages(quarter.a.id))
    quarter.a.say("/certificate 2026")
    certificate = await document_of(bot, quarter.a.id, since)
    code = certificate["document"]["file_name"]
    assert code
    async with bot.services.db.session() as session:
        need = await session.scalar(select(Need))
        assert need is not None and not need.anonymous and need.member_id is not None
    await quarter.a.ask_private("/forget")
    await quarter.a.toast(quarter.a.press(bot.tg.bot_messages(quarter.a.id)[-1], "确认删除"))
    async with bot.services.db.session() as session:
        need = await session.scalar(select(Need))
        assert need is not None and need.anonymous and need.member_id is None
        assert need.relay_chat_id == 0
    listing = await bot.admin.ask_private("/needs all")
    assert "匿名" in listing and "办000" not in listing


async def test_whoever_holds_a_role_cannot_erase_themselves(quarter: Quarter) -> None:
    bot = quarter.bot
    assert "青工委成员或分组组长" in await bot.admin.ask_private("/forget")
    await bot.admin.ask_private(f"/lead 办公室 {quarter.b.id}")
    assert "青工委成员或分组组长" in await quarter.b.ask_private("/forget")


async def test_the_retention_job_erases_old_texts_and_keeps_the_facts(quarter: Quarter) -> None:
    bot = quarter.bot
    await quarter.c.ask_private(f"/leave {quarter.future} 出差")
    async with bot.services.db.session() as session:
        now = bot.services.now()
        young = await retention.prune(session, now, 730)
        await session.commit()
    assert young.reasons == 0 and young.needs == 0
    later = bot.services.now() + dt.timedelta(days=731)
    async with bot.services.db.session() as session:
        pruned = await retention.prune(session, later, 730)
        await session.commit()
        reasons = list(await session.scalars(select(Attendance.reason)))
        statuses = list(await session.scalars(select(Attendance.status)))
        messages = list(await session.scalars(select(OutboxMessage.text)))
        sent = list(await session.scalars(select(OutboxMessage.status)))
        approvals = list(await session.scalars(select(Approval.reason)))
        replies = list(await session.scalars(select(NeedEvent.text)))
    assert pruned.reasons >= 2 and pruned.messages > 0
    assert all(r is None for r in reasons) and "leave" in statuses
    assert all(m == "" for m, s in zip(messages, sent, strict=True) if s == "sent")
    assert all(a == "" for a in approvals) and all(r == "" for r in replies)


async def test_what_people_write_stays_out_of_the_log_even_at_debug(
    quarter: Quarter, caplog: pytest.LogCaptureFixture
) -> None:
    bot = quarter.bot
    clock(bot).set_local("2026-12-07 14:00")
    with caplog.at_level(logging.DEBUG):
        receipt = await quarter.a.ask_private("/need 婚恋 一段不该出现在日志里的私密文字 匿名")
        assert "已收到" in receipt or "#" in receipt
        await bot.services.outbox.drain(20)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sendMessage" in logged  # the Bot API calls are logged, by name
    assert "私密文字" not in logged


def test_an_error_line_names_the_update_the_person_and_the_command_only() -> None:
    update = Update.de_json(
        {
            "update_id": 77,
            "message": {
                "message_id": 5,
                "date": 0,
                "chat": {"id": 42, "type": "private", "first_name": "x"},
                "from": {"id": 42, "is_bot": False, "first_name": "x"},
                "text": "/need 住房 私密的内容",
            },
        },
        None,
    )
    line = fallbacks._describe(update)
    assert line == "#77 user=42 chat=42 command=/need button=None"
