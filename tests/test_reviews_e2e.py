"""End-to-end: 评估问效, the quarterly review of the work plan's tasks. The owners are asked
privately in the quarter's last working days, answer with one tap, add a note, photos and
files; those who have not answered are reminded once; the committee reads the quarter's
review. On SQLite and PostgreSQL (`quarter`)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select, update

from db.models import Member, TaskEvidence, TaskReview
from scheduler.calendar import WorkCalendar
from tests.harness import BotHarness, clock, seed_members
from tests.steps import Quarter, english, ledger_of, rows, summary_of, table_rows
from tests.tgserver.world import TgUser

pytestmark = pytest.mark.clock("2026-10-09 10:00")


async def add_task(bot: BotHarness, text: str) -> int:
    reply = await bot.admin.ask_private(f"/task add {text}")
    match = re.search(r"工作要点：#(\d+)", reply)
    assert match, reply
    return int(match[1])


async def fire(bot: BotHarness, local: str) -> dict[str, str]:
    clock(bot).set_local(local)
    handled = dict(await bot.services.reminders.fire_due())
    await bot.services.outbox.drain(20)
    return handled


def prompts(
    bot: BotHarness, person: TgUser, fragment: str = "工作要点评估"
) -> list[dict[str, Any]]:
    return [
        m
        for m in bot.tg.bot_messages(person.id)
        if fragment in (m.get("text") or "") and m.get("reply_markup")
    ]


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def reviews_kept(bot: BotHarness) -> tuple[int, int]:
    async with bot.services.db.session() as session:
        reviews = await session.scalar(select(func.count()).select_from(TaskReview))
        files = await session.scalar(select(func.count()).select_from(TaskEvidence))
    return int(reviews or 0), int(files or 0)


async def answer(person: TgUser, message: dict[str, Any], label: str) -> str:
    """Press `label` on `message`; the toast. The bot's private reply follows."""
    return str((await person.toast(person.press(message, label)))["text"])


async def test_owners_review_their_tasks_with_one_tap_and_evidence(quarter: Quarter) -> None:
    bot, a, b, c = quarter.bot, quarter.a, quarter.b, quarter.c
    assert "已成为" in await bot.admin.ask_private(f"/lead 办公室 {b.id}")
    ledger = await add_task(bot, "2026 规范理论学习台账 编号=（四） 负责=办公室 周期=每季度")
    spread = await add_task(bot, f"2026 志愿服务宣传 负责={c.id} 周期=每年")
    mechanism = await add_task(bot, "2026 建立评估问效机制 负责=青工委 截止=2026-12-31")
    meetings = await add_task(bot, "2026 每季度召开会议 负责=青工委 周期=每季度 目标=会议≥1")
    finance = await add_task(bot, "2026 财务科青年读书会 负责=财务科")

    # The first of the quarter's last 10 working days (2026-12-18, a Friday), 09:00.
    cal = WorkCalendar()
    assert cal.workdays_before(dt.date(2027, 1, 1), 10) == dt.date(2026, 12, 18)
    assert cal.workdays_before(dt.date(2027, 1, 1), 3) == dt.date(2026, 12, 29)
    handled = await fire(bot, "2026-12-18 09:00")
    assert handled["task_review:2026Q4"] == "sent"
    (to_b,) = prompts(bot, b)
    assert "2026年第4季度即将结束" in to_b["text"]
    assert f"#{ledger} （四）规范理论学习台账" in to_b["text"]
    assert labels(to_b) == [f"已完成 #{ledger}", f"推进中 #{ledger}", f"未开展 #{ledger}"]
    (to_c,) = prompts(bot, c)
    assert f"#{spread} 志愿服务宣传" in to_c["text"] and f"#{ledger}" not in to_c["text"]
    (to_admin,) = prompts(bot, bot.admin)
    for task_id in (mechanism, meetings, finance):  # 财务科 has no lead: the committee
        assert f"#{task_id} " in to_admin["text"]
    assert "据记录：已完成（已开展 1 次，已安排 0 次）（只需补充说明）" in to_admin["text"]
    assert f"补充说明 #{meetings}" in labels(to_admin)
    assert f"已完成 #{meetings}" not in labels(to_admin)
    assert not prompts(bot, a)

    # One tap records it; 补充说明 opens a note, a photo and a file; 完成 closes.
    since = len(bot.tg.bot_messages(b.id))
    assert await answer(b, to_b, f"已完成 #{ledger}") == f"已记录：#{ledger} 已完成"
    recorded = await bot.tg.message_in(b.id, lambda m: "已记录" in m["text"], 10, "it", since)
    assert f"已记录2026年第4季度工作要点 #{ledger}「规范理论学习台账」：已完成" in recorded["text"]
    assert labels(recorded) == [f"补充说明 #{ledger}"]
    # Without 补充说明, what the owner types goes where it always went.
    assert "已保存" not in await b.ask_private("今天下午开会")
    since = len(bot.tg.texts(b.id))
    assert await answer(b, recorded, "补充说明") == f"请发送 #{ledger} 的说明或材料"
    assert "（已完成）的说明文字、照片或文件" in await b.reply_in(b.id, since)
    assert "已保存" in await b.ask_private("本季度台账已归档。\n共 3 次学习。")
    since = len(bot.tg.texts(b.id))
    bot.tg.user_photo(b.id, b.id, None)
    assert "共 1 件" in await b.reply_in(b.id, since)
    since = len(bot.tg.texts(b.id))
    bot.tg.user_document(b.id, b.id, "学习记录.pdf", b"%PDF-1.4 fake", "签到表扫描件")
    assert "共 2 件" in await b.reply_in(b.id, since)
    finish = next(m for m in bot.tg.bot_messages(b.id) if "共 2 件" in (m.get("text") or ""))
    assert await answer(b, finish, "完成") == "评估已提交，谢谢！"
    assert await reviews_kept(bot) == (1, 2)
    # Nothing waits any more: a photo now is not taken, and says why.
    since = len(bot.tg.texts(b.id))
    bot.tg.user_photo(b.id, b.id, None)
    assert "没有对应的事项" in await b.reply_in(b.id, since)
    assert await reviews_kept(bot) == (1, 2)

    # A counted task asks only for a note.
    since = len(bot.tg.texts(bot.admin.id))
    await answer(bot.admin, to_admin, f"补充说明 #{meetings}")
    asked = await bot.admin.reply_in(bot.admin.id, since)
    assert "（已完成（已开展 1 次，已安排 0 次）（据记录））的说明文字" in asked
    assert "已保存" in await bot.admin.ask_private("10 月 15 日召开第四季度会议。")

    # Forged or foreign presses change nothing and say why.
    refusals = {
        f"trv:{ledger}:2026Q4:d": "不由您负责",  # a is not 办公室's lead
        "trv:99999:2026Q4:d": "没有编号为 99999",
        f"trv:{spread}:2026Q4:x": "按钮",
    }
    for data, reason in refusals.items():
        toast = await a.toast(a.press_data(to_b, data))
        assert reason in toast["text"], (data, toast)
    for data, reason in {
        f"trv:{finance}:2026Q4:n": "请先在评估消息中点选",  # a note needs a state first
        f"trv:{mechanism}:2027Q1:d": "属于 2026 年",
        f"trv:{meetings}:2026Q4:d": "按钮",  # a counted task takes no state
    }.items():
        toast = await bot.admin.toast(bot.admin.press_data(to_admin, data))
        assert reason in toast["text"], (data, toast)
    await bot.settled()
    assert await reviews_kept(bot) == (2, 2)

    # Three working days before the end, only those still owing a state hear it once more.
    handled = await fire(bot, "2026-12-29 09:00")
    assert handled["task_review_nudge:2026Q4"] == "sent"
    assert len(prompts(bot, b)) == 1  # answered
    (nudge_c,) = prompts(bot, c, "提醒")
    assert f"#{spread} 志愿服务宣传" in nudge_c["text"]
    (nudge_admin,) = prompts(bot, bot.admin, "提醒")
    assert f"#{mechanism} " in nudge_admin["text"] and f"#{finance} " in nudge_admin["text"]
    assert f"#{meetings} " not in nudge_admin["text"]
    assert await answer(c, nudge_c, f"推进中 #{spread}") == f"已记录：#{spread} 推进中"
    assert "task_review_nudge:2026Q4" not in await fire(bot, "2026-12-29 09:30")  # once
    assert len(prompts(bot, c, "提醒")) == 1

    # The committee's table: each state, who reported it and when, the note and the files.
    table = await bot.admin.ask_private("/tasks review 2026-Q4")
    assert "2026年第4季度工作要点评估：已评估 3/5 项" in table
    assert "已完成 · =1+1" in table and "填报" in table
    assert "说明：本季度台账已归档。\n    共 3 次学习。\n    签到表扫描件" in table
    assert f"佐证材料 2 件（/tasks review 2026-Q4 {ledger} 查看）" in table
    assert "已完成（已开展 1 次，已安排 0 次）（据记录）" in table
    assert "推进中 · 康000" in table
    assert table.count("未评估") == 2
    before = len(bot.tg.bot_messages(bot.admin.id))
    one = await bot.admin.ask_private(f"/tasks review 2026-Q4 {ledger}")
    assert "已评估 1/1 项" in one
    sent = await bot.tg.wait_for(
        lambda: [
            m
            for m in bot.tg.bot_messages(bot.admin.id)[before:]
            if m.get("photo") or m.get("document")
        ][1:],
        10,
        "the evidence sent",
    )
    assert sent
    # /tasks shows an owner's state; the review is the committee's.
    listing = await bot.admin.ask_private("/tasks")
    assert "已完成（负责人评估）" in listing
    assert "仅限青工委" in await a.ask_private("/tasks review")
    for bad, reason in {
        "/tasks review 2026": "用法：/tasks review",
        "/tasks review 2026-Q5": "时期“2026-Q5”无效",
        "/tasks review 2026-Q4 999": "没有编号为 999 的工作要点",
        "/tasks review 2027-Q1 1": "属于 2026 年",
    }.items():
        assert reason in await bot.admin.ask_private(bad)

    # The ledger's 工作要点落实 sheet: a row per task and quarter; a lead's, their unit's.
    book = await ledger_of(bot.admin, bot, "/export 2026-Q4")
    sheet = rows(book, "工作要点落实")
    assert sheet[0] == [
        "编号", "季度", "工作要点", "负责", "落实情况", "依据", "说明", "填报人", "填报时间",
        "佐证材料（件）",
    ]  # fmt: skip
    by_task = {row[0]: row for row in sheet[1:]}
    assert len(sheet) == 6 and set(by_task) == {ledger, spread, mechanism, meetings, finance}
    row = by_task[ledger]
    assert row[1:6] == ["2026-Q4", "（四）规范理论学习台账", "办公室", "已完成", "负责人评估"]
    assert row[6] == "本季度台账已归档。\n共 3 次学习。\n签到表扫描件"
    assert row[7] == "=1+1" and row[8] == dt.datetime(2026, 12, 18, 9, 0) and row[9] == 2
    assert by_task[meetings][4:6] == ["已完成（已开展 1 次，已安排 0 次）", "据记录"]
    assert by_task[finance][3:10] == ["财务科", "未评估", "未评估", None, None, None, 0]
    assert by_task[spread][3:5] == ["康000", "推进中"]
    lead_book = await ledger_of(b, bot, "/export 2026-Q4")
    assert [r[0] for r in rows(lead_book, "工作要点落实")[1:]] == [ledger]

    # The year-end summary draft takes each task as its owner last reviewed it.
    _message, draft = await summary_of(bot.admin, bot)
    tasks_table = table_rows(draft, "工作要点")
    assert [
        "（四）规范理论学习台账",
        "已完成",
        "本季度台账已归档。\n共 3 次学习。\n签到表扫描件",
    ] in (tasks_table)
    assert ["志愿服务宣传", "推进中", ""] in tasks_table
    assert ["建立评估问效机制", "待负责人评估", ""] in tasks_table

    # The reporter finds their review in /mydata; erasing them keeps it, unnamed.
    since = len(bot.tg.bot_messages(c.id))
    c.say("/mydata")
    (document,) = await bot.tg.wait_for(
        lambda: [m for m in bot.tg.bot_messages(c.id)[since:] if m.get("document")], 10, "mydata"
    )
    data = json.loads(bot.tg.sent_file(document))
    assert data["work_plan_reviews"] == [
        {
            "task": "志愿服务宣传",
            "quarter": "2026-Q4",
            "state": "in_progress",
            "note": None,
            "at": "2026-12-29T01:00:00+00:00",
        }
    ]
    assert "工作要点评估 1 条" in await c.ask_private("/forget")

    await bot.admin.ask_private("/lang en")
    typed = (
        "（四）规范理论学习台账",
        "志愿服务宣传",
        "建立评估问效机制",
        "每季度召开会议",
        "财务科青年读书会",
        "本季度台账已归档。",
        "共 3 次学习。",
        "签到表扫描件",
        "10 月 15 日召开第四季度会议。",
        "办公室",
        "财务科",
        "=1+1",
        "康000",
        "管理员",
    )
    english(await bot.admin.ask_private("/tasks review 2026-Q4"), typed)

    # A note waiting for a task that is then removed: said once, and the texts go on as usual.
    since = len(bot.tg.texts(b.id))
    await answer(b, recorded, "补充说明")
    await b.reply_in(b.id, since)
    assert f"#{ledger}" in await bot.admin.ask_private(f"/task del {ledger}")
    gone = await b.ask_private("再补充一句")
    assert f"没有编号为 {ledger} 的工作要点" in gone and "补充说明已结束" in gone
    assert "补充说明已结束" not in await b.ask_private("再补充一句")


async def test_review_presses_in_bursts_keep_one_answer_per_task(quarter: Quarter) -> None:
    """Many owners at once, one owner's taps back to back, and two committee members on the
    same task at the same moment (PostgreSQL runs them in parallel): one review per task,
    the last tap standing."""
    bot = quarter.bot
    owners = await seed_members(bot, 8, "财务科", first_id=700000, name="财")
    assert "青工委" in await bot.admin.ask_private(f"/promote {quarter.a.id}")
    ids = []
    for owner in owners:
        ids.append(await add_task(bot, f"2026 财务任务{owner.id} 负责={owner.id}"))
    shared = await add_task(bot, "2026 委员会任务 负责=青工委")
    assert (await fire(bot, "2026-12-18 09:00"))["task_review:2026Q4"] == "sent"

    presses = []
    for owner, task_id in zip(owners, ids, strict=True):
        (prompt,) = prompts(bot, owner)
        presses.append((owner, owner.press(prompt, f"推进中 #{task_id}")))
    # The first owner changes their mind twice, tap after tap.
    (first_prompt,) = prompts(bot, owners[0])
    presses.append((owners[0], owners[0].press(first_prompt, f"未开展 #{ids[0]}")))
    presses.append((owners[0], owners[0].press(first_prompt, f"已完成 #{ids[0]}")))
    for person in (bot.admin, quarter.a):
        (prompt,) = prompts(bot, person)
        presses.append((person, person.press(prompt, f"已完成 #{shared}")))
    for person, press in presses:
        assert "已记录" in (await person.toast(press))["text"]
    await bot.settled()

    async with bot.services.db.session() as session:
        found = {r.task_id: r.state for r in await session.scalars(select(TaskReview))}
    assert len(found) == 9
    assert found[ids[0]] == "done" and found[shared] == "done"
    assert all(found[i] == "in_progress" for i in ids[1:])


async def test_owners_the_bot_cannot_write_to_are_named_to_the_committee(
    quarter: Quarter,
) -> None:
    bot, c = quarter.bot, quarter.c
    assert "已成为" in await bot.admin.ask_private(f"/lead 康复中心 {c.id}")
    task = await add_task(bot, "2026 康复中心读书会 负责=康复中心")
    async with bot.services.db.session() as session:
        await session.execute(update(Member).where(Member.telegram_id == c.id).values(can_dm=False))
        await session.commit()
    assert (await fire(bot, "2026-12-18 09:00"))["task_review:2026Q4"] == "sent"
    assert not prompts(bot, c)
    (told,) = [m for m in bot.tg.bot_messages(bot.admin.id) if "无法私信" in m["text"]]
    assert "2026年第4季度工作要点评估" in told["text"] and "康000" in told["text"]
    assert f"#{task} 康复中心读书会" in told["text"]
    # The committee answers for the unit in its place, with the message's own buttons.
    assert await answer(bot.admin, told, f"已完成 #{task}") == f"已记录：#{task} 已完成"
