"""End-to-end: the year's study plan (/plan), activities carrying its items (plan=), where
each unit stands, and the report's plan line. On SQLite and PostgreSQL (`quarter`)."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from db.models import Activity, PlanItem, PlanItemUnit
from tests.harness import BotHarness
from tests.steps import (
    Quarter,
    activities_count,
    english,
    ledger_of,
    report_of,
    rows,
    workbook,
)

pytestmark = pytest.mark.clock("2026-10-09 10:00")


async def plan_rows(bot: BotHarness) -> tuple[int, int]:
    """How many plan items and unit listings are stored."""
    async with bot.services.db.session() as session:
        items = await session.scalar(select(func.count()).select_from(PlanItem))
        units = await session.scalar(select(func.count()).select_from(PlanItemUnit))
        return int(items or 0), int(units or 0)


async def carried(bot: BotHarness, activity_id: int) -> int | None:
    async with bot.services.db.session() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        return activity.plan_item_id


async def add_item(bot: BotHarness, text: str) -> int:
    reply = await bot.admin.ask_private(f"/plan add {text}")
    match = re.search(r"已加入学习计划：#(\d+)", reply)
    assert match, reply
    return int(match[1])


async def test_a_plan_by_quarter_with_each_units_state(quarter: Quarter) -> None:
    bot = quarter.bot
    everyone = await add_item(
        bot,
        "2026-Q4 学习贯彻党的二十大精神 形式=集中学习\n"
        "《党的二十大报告》第一部分\nhttps://example.org/report",
    )
    two = await add_item(bot, "2026-Q4 残疾人事业发展规划 form=seminar units=康复中心、财务科")
    third = await add_item(bot, "2026-Q4 民族团结进步 形式=实践")
    assert await plan_rows(bot) == (3, 2)

    # The held study session (for everyone) carries the first item; the coming one of
    # 康复中心 the second; a new one of 财务科 is created carrying it.
    edited = await bot.admin.ask_private(f"/event edit {quarter.study} plan={everyone}")
    assert f"计入学习计划：#{everyone} 学习贯彻党的二十大精神" in edited
    await bot.admin.ask_private(f"/event edit {quarter.future} 计划={two}")
    created = await bot.admin.ask_private(
        f"/newevent 学习 2026-12-22 09:00 财务科研讨 unit=财务科 plan={two}"
    )
    assert f"计入学习计划：#{two} 残疾人事业发展规划" in created
    finance = int(re.search(r"已创建活动 #(\d+)", created)[1])  # type: ignore[index]
    assert await carried(bot, finance) == two

    shown = await bot.admin.ask_private("/plan 2026")
    assert "2026 年学习计划" in shown and "【2026年第4季度】" in shown
    assert f"#{everyone} 学习贯彻党的二十大精神（集中学习 · 全体单位）" in shown
    assert "材料：《党的二十大报告》第一部分\nhttps://example.org/report" in shown
    s = quarter.study
    assert f"已落实：办公室（#{s}）、康复中心（#{s}）、财务科（#{s}）" in shown
    assert f"#{two} 残疾人事业发展规划（专题研讨 · 康复中心、财务科）" in shown
    assert f"已安排：康复中心（#{quarter.future}）、财务科（#{finance}）" in shown
    assert f"#{third} 民族团结进步（实践活动 · 全体单位）\n  未落实：办公室、康复中心、财务科" in (
        shown
    )

    # A member sees the plan and their own unit's state only.
    mine = await quarter.a.ask_private("/plan")
    assert f"办公室：已落实（#{s}）" in mine and "康复中心" not in mine.split(f"#{two}")[0]
    assert "已安排" not in mine and "办公室：未落实" in mine
    theirs = await quarter.c.ask_private("/plan")
    assert f"康复中心：已安排（#{quarter.future}）" in theirs

    # The report: each unit's plan in the quarter.
    text, _chart = await report_of(bot.admin, bot)
    assert "学习计划：计划 2 · 已落实 1 · 未落实 1" in text  # 办公室
    assert "学习计划：计划 3 · 已落实 1 · 已安排 1 · 未落实 1" in text  # 康复中心, 财务科

    # In English, the same.
    await bot.admin.ask_private("/lang en")
    english_plan = await bot.admin.ask_private("/plan 2026")
    typed = (
        "学习贯彻党的二十大精神",
        "残疾人事业发展规划",
        "民族团结进步",
        "《党的二十大报告》第一部分",
    )
    english(english_plan, (*typed, "办公室", "康复中心", "财务科"))
    assert (
        "scheduled: 康复中心 (#" in english_plan and "(seminar · 康复中心, 财务科)" in english_plan
    )


async def test_edits_deletions_and_merges_keep_the_plan_true(quarter: Quarter) -> None:
    bot = quarter.bot
    item = await add_item(bot, "2026-Q4 青年理论学习 units=办公室 康复中心")
    await bot.admin.ask_private(f"/event edit {quarter.future} plan={item}")

    # 康复中心's activity carries it: 康复中心 cannot be left out.
    refused = await bot.admin.ask_private(f"/plan edit {item} units=办公室")
    assert f"已由活动 #{quarter.future} 为其他单位落实" in refused
    changed = await bot.admin.ask_private(
        f"/plan edit {item} 主题=青年理论学习（二） 形式=线上 材料=https://example.org/x"
    )
    assert "青年理论学习（二）（线上学习 · 办公室、康复中心）" in changed
    assert "材料：https://example.org/x" in changed

    # Merging 办公室 into 康复中心: the item lists 康复中心 once.
    await bot.admin.ask_private("/unit merge 办公室 康复中心")
    assert await plan_rows(bot) == (1, 1)

    # The item moves to next year's plan only while nothing carries it.
    refused = await bot.admin.ask_private(f"/plan edit {item} 季度=2027-Q1")
    assert "只能改到 2026 年的其他季度" in refused
    deleted = await bot.admin.ask_private(f"/plan del {item}")
    assert f"已删除学习计划条目 #{item}" in deleted and "原关联的 1 个活动保留" in deleted
    assert await carried(bot, quarter.future) is None
    assert await plan_rows(bot) == (0, 0)
    assert "2026 年还没有学习计划" in await bot.admin.ask_private("/plan")


async def test_bad_plans_and_links_are_refused_and_change_nothing(quarter: Quarter) -> None:
    bot = quarter.bot
    item = await add_item(bot, "2026-Q4 面向康复中心 单位=康复中心")
    next_year = await add_item(bot, "2027-Q1 明年的学习")
    before, activities = await plan_rows(bot), await activities_count(bot)
    refusals = {
        "/plan add 2026-Q5 主题": "不是季度",
        "/plan add 2026 主题": "不是季度",
        "/plan add 2026-Q4": "用法",
        "/plan add 2026-Q4 主题 形式=唱歌": "不是学习形式",
        "/plan add 2026-Q4 主题 单位=不存在的科": "没有名为“不存在的科”的单位",
        "/plan add 2026-Q4 主题 颜色=红": "颜色",
        "/plan add 2099-Q1 主题": "2099",
        f"/plan add 2026-Q4 {'长' * 200}": "128",
        "/plan edit 999 主题=新": "没有编号为 999",
        f"/plan edit {item}": "用法",
        f"/plan edit {item} 季度=明年": "不是季度",
        "/plan del 999": "没有编号为 999",
        "/plan 明年": "明年",
        f"/event edit {quarter.study} plan={next_year}": "是 2027 年的，活动在 2026 年",
        f"/event edit {quarter.study} plan=999": "没有编号为 999",
        f"/newevent 学习 2026-12-21 09:00 办公室学习 unit=办公室 plan={item}": "不面向 办公室",
        f"/newevent 学习 2026-12-21 09:00 学习 plan={next_year}": "是 2027 年的",
    }
    for command, reason in refusals.items():
        reply = await bot.admin.ask_private(command)
        assert reason in reply, (command, reply)
        assert "出错" not in reply, (command, reply)
    assert "仅限青工委" in await quarter.a.ask_private("/plan add 2026-Q4 我来加")
    assert "仅限青工委" in await quarter.a.ask_private(f"/plan del {item}")
    assert await plan_rows(bot) == before
    assert await activities_count(bot) == activities
    assert await carried(bot, quarter.study) is None
    # An activity moved into another year than its item's is refused too.
    await bot.admin.ask_private(f"/event edit {quarter.future} plan={item}")
    moved = await bot.admin.ask_private(f"/event edit {quarter.future} date=2027-01-05")
    assert "是 2026 年的，活动在 2027 年" in moved
    assert "/plan add" in await bot.admin.ask_private("/plan help")


async def test_the_guided_dialogue_offers_the_quarters_open_items(quarter: Quarter) -> None:
    bot, tg, admin = quarter.bot, quarter.bot.tg, quarter.bot.admin
    done = await add_item(bot, "2026-Q4 理论学习甲")
    open_item = await add_item(bot, "2026-Q4 理论学习乙 单位=康复中心")
    await add_item(bot, "2027-Q1 明年的学习")
    await admin.ask_private(f"/event edit {quarter.study} plan={done}")

    await admin.ask_private("/newevent")
    since = len(tg.texts(admin.id))
    await admin.toast(admin.press(tg.bot_messages(admin.id)[-1], "理论学习"))
    await admin.reply_in(admin.id, since)
    assert "学习计划的哪一项" in await admin.ask_private("2026-12-09 10:00")
    offer = tg.bot_messages(admin.id)[-1]
    labels = [b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [f"#{open_item} 理论学习乙", "不关联学习计划"]  # done and next year's not
    since = len(tg.texts(admin.id))
    toast = await admin.toast(admin.press(offer, f"#{open_item} 理论学习乙"))
    assert f"#{open_item}" in toast["text"]
    assert "标题" in await admin.reply_in(admin.id, since)
    title_prompt = tg.bot_messages(admin.id)[-1]
    since = len(tg.texts(admin.id))
    await admin.toast(admin.press(title_prompt, "标题用：理论学习乙"))
    assert "地点" in await admin.reply_in(admin.id, since)
    since = len(tg.texts(admin.id))
    await admin.toast(admin.press(tg.bot_messages(admin.id)[-1], "跳过"))
    await admin.reply_in(admin.id, since)
    since = len(tg.texts(admin.id))
    await admin.toast(admin.press(tg.bot_messages(admin.id)[-1], "下一步"))
    summary = await admin.reply_in(admin.id, since)
    assert f"计入学习计划：#{open_item} 理论学习乙" in summary and "理论学习乙" in summary
    since = len(tg.texts(admin.id))
    await admin.toast(admin.press(tg.bot_messages(admin.id)[-1], "确认创建"))
    created = await admin.reply_in(admin.id, since)
    made = int(re.search(r"已创建活动 #(\d+)", created)[1])  # type: ignore[index]
    assert await carried(bot, made) == open_item

    # Nothing open in the quarter: the dialogue asks the title at once, as before.
    await admin.ask_private("/newevent")
    since = len(tg.texts(admin.id))
    await admin.toast(admin.press(tg.bot_messages(admin.id)[-1], "理论学习"))
    await admin.reply_in(admin.id, since)
    assert "请发送活动标题" in await admin.ask_private("2026-12-10 10:00")


async def preview_of(bot: BotHarness, name: str, content: bytes) -> dict[str, Any]:
    """Send a plan file with the caption /plan import; the bot's answer."""
    since = len(bot.tg.bot_messages(bot.admin.id))
    bot.tg.user_document(bot.admin.id, bot.admin.id, name, content, "/plan import")
    return await bot.tg.message_in(bot.admin.id, lambda m: "text" in m, 20, "the answer", since)


async def test_a_plan_imported_from_a_file_and_its_ledger_sheet_brought_back(
    quarter: Quarter,
) -> None:
    bot, admin = quarter.bot, quarter.bot.admin
    since = len(bot.tg.bot_messages(admin.id))
    admin.say("/plan import template")
    template = await bot.tg.message_in(
        admin.id, lambda m: m.get("document"), 20, "the template", since
    )
    assert template["document"]["file_name"] == "学习计划模板.xlsx"
    header = rows(openpyxl.load_workbook(io.BytesIO(bot.tg.sent_file(template))), "学习计划")
    assert header == [["季度", "主题", "形式", "单位", "材料"]]

    content = workbook(
        [
            ["2026年学习计划"],  # a title above the header
            ["季度", "主题", "形式", "单位", "材料"],
            [
                "2026-Q4",
                "学习贯彻二十大精神",
                "集中学习",
                "全部",
                "《报告》\nhttps://example.org/a",
            ],
            ["2026-Q4", "康复理论", "研讨", "康复中心", ""],
            ["2026-Q4", "学习贯彻二十大精神", "", "", ""],  # the same again
            ["2026-Q5", "错的季度", "", "", ""],
            ["2026-Q4", "错的单位", "", "不存在的科", ""],
            ["2026-Q4", "错的形式", "唱歌", "", ""],
            ["2027-Q1", "明年的学习", "线上学习", "办公室、财务科", ""],
        ]
    )
    preview = await preview_of(bot, "学习计划.xlsx", content)
    text = preview["text"]
    assert "新增 3 项，修改 0 项，不变 0 项，有问题 4 行" in text, text
    assert "第 5 行：与第 3 行是同一季度的同一主题" in text
    assert "第 6 行：“2026-Q5”不是季度" in text
    assert "第 7 行：没有名为“不存在的科”的单位" in text
    assert "第 8 行：“唱歌”不是学习形式" in text
    assert await plan_rows(bot) == (0, 0)  # nothing written yet
    answer = await admin.toast(admin.press(preview, "确认导入"))
    assert answer["text"] == "已导入"
    done = await bot.tg.message_in(
        admin.id, lambda m: "已导入学习计划" in m.get("text", ""), 20, "the result"
    )
    assert "新增 3 项" in done["text"] and "跳过有问题的 4 行" in done["text"]
    assert await plan_rows(bot) == (3, 3)
    stale = await admin.toast(admin.press(preview, "确认导入"))
    assert "已处理过" in stale["text"] and await plan_rows(bot) == (3, 3)

    shown = await admin.ask_private("/plan 2026")
    first = int(re.search(r"#(\d+) 学习贯彻二十大精神", shown)[1])  # type: ignore[index]
    await admin.ask_private(f"/event edit {quarter.study} plan={first}")

    # The ledger's 学习计划 sheet: the quarter's items, each unit's state, the activities.
    book = await ledger_of(admin, bot, "/export 2026-Q4")
    sheet = rows(book, "学习计划")
    assert sheet[0] == ["编号", "季度", "主题", "形式", "单位", "材料", "落实情况", "关联活动"]
    assert len(sheet) == 3  # the two items of Q4, not next year's
    s = quarter.study
    assert sheet[1][:6] == [
        first,
        "2026-Q4",
        "学习贯彻二十大精神",
        "集中学习",
        "全体单位",
        "《报告》\nhttps://example.org/a",
    ]
    assert (
        sheet[1][6] == f"办公室：已落实（#{s}）\n康复中心：已落实（#{s}）\n财务科：已落实（#{s}）"
    )
    assert sheet[1][7] == f"#{s}"
    assert (
        sheet[2][2:5] == ["康复理论", "专题研讨", "康复中心"] and sheet[2][6] == "康复中心：未落实"
    )

    # Brought back unchanged, the ledger changes nothing.
    out = io.BytesIO()
    book.save(out)
    again = await preview_of(bot, "青工委台账_2026-Q4.xlsx", out.getvalue())
    assert "新增 0 项，修改 0 项，不变 2 项，有问题 0 行" in again["text"], again["text"]
    await admin.toast(admin.press(again, "取消"))
    await bot.tg.wait_for(
        lambda: any("已取消导入" in x for x in bot.tg.texts(admin.id)), 20, "cancelled"
    )
    assert await plan_rows(bot) == (3, 3)

    # Edited in the ledger: a topic changed by its 编号, an unknown 编号 refused.
    book["学习计划"].cell(row=3, column=3, value="康复理论（修订）")
    book["学习计划"].cell(row=2, column=1, value=99999)
    out = io.BytesIO()
    book.save(out)
    edited = await preview_of(bot, "台账.xlsx", out.getvalue())
    assert "新增 0 项，修改 1 项，不变 0 项，有问题 1 行" in edited["text"], edited["text"]
    assert "第 2 行：没有编号为 99999 的条目" in edited["text"]
    await admin.toast(admin.press(edited, "确认导入"))
    await bot.tg.wait_for(
        lambda: any("已导入学习计划：新增 0 项，修改 1 项" in x for x in bot.tg.texts(admin.id)),
        20,
        "imported",
    )
    assert "康复理论（修订）" in await admin.ask_private("/plan 2026")


async def test_plan_files_that_cannot_be_read_are_refused(quarter: Quarter) -> None:
    bot, admin = quarter.bot, quarter.bot.admin
    refusals = {
        ("计划.txt", b"hello"): "只能导入",
        ("计划.xlsx", b"not a zip"): "无法读取",
        ("计划.xlsx", workbook([["姓名", "单位"], ["张三", "办公室"]])): "缺少",
        ("计划.csv", "季度,主题\n".encode()): "没有",
    }
    for (name, content), reason in refusals.items():
        answer = await preview_of(bot, name, content)
        assert reason in answer["text"], (name, answer["text"])
        assert "出错" not in answer["text"]
    assert "私聊" in await admin.ask_anywhere(bot.group.id, "/plan import")
    member = await quarter.a.ask_private("/plan import")
    assert "仅限青工委" in member
    assert await plan_rows(bot) == (0, 0)
