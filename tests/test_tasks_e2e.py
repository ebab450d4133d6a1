"""End-to-end: the work plan's tasks (/task, /tasks), their owners and cadences, and the
state of countable targets read from the records. On SQLite and PostgreSQL (`quarter`)."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from db.models import WorkTask
from tests.harness import BotHarness, clock
from tests.steps import (
    Quarter,
    create,
    english,
    import_preview,
    rows,
    summary_of,
    table_rows,
    workbook,
)

pytestmark = pytest.mark.clock("2026-10-09 10:00")


async def task_count(bot: BotHarness) -> int:
    async with bot.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(WorkTask)) or 0)


async def add_task(bot: BotHarness, text: str) -> int:
    reply = await bot.admin.ask_private(f"/task add {text}")
    match = re.search(r"工作要点：#(\d+)", reply)
    assert match, reply
    return int(match[1])


def line_of(listing: str, task_id: int) -> str:
    """The lines of task `task_id` in /tasks."""
    found = re.search(rf"(?ms)^#{task_id} .*?(?=^#\d+ |\Z)", listing)
    assert found, listing
    return found[0]


async def test_tasks_with_owners_cadences_and_targets_read_from_the_records(
    quarter: Quarter,
) -> None:
    bot = quarter.bot
    volunteering = await add_task(
        bot, "2026 深入开展青年志愿服务活动 编号=（七） 负责=青工委 周期=每年 目标=志愿≥4"
    )
    unity = await add_task(bot, "2026 铸牢中华民族共同体意识教育 负责=青工委 目标=民族团结≥1")
    meeting = await add_task(bot, "2026 每季度召开青工委会议 负责=青工委 周期=每季度 目标=会议≥1")
    study = await add_task(bot, "2026 青年理论学习 负责=办公室 周期=季度 目标=学习≥1")
    needs = await add_task(bot, f"2026 我为青年办实事 负责={quarter.a.id} 目标=诉求≤15")
    once = await add_task(bot, "2026 规范推优入党机制 负责=康复中心 截止=2026-12-31")
    assert await task_count(bot) == 6

    listing = await bot.admin.ask_private("/tasks")
    assert "2026 年工作要点（按2026年第4季度统计）" in listing
    assert f"#{volunteering} （七）深入开展青年志愿服务活动" in listing
    line = line_of(listing, volunteering)
    assert "负责：青工委 · 每年 · 目标：志愿服务活动 ≥ 4 次" in line
    assert "未开展（已开展 1 次，已安排 0 次）" in line
    assert "未开展（已开展 0 次，已安排 0 次）" in line_of(listing, unity)
    assert "已完成（已开展 1 次，已安排 0 次）" in line_of(listing, meeting)
    assert "负责：办公室 · 每季度" in line_of(listing, study)
    assert "已完成（已开展 1 次" in line_of(listing, study)  # the session for every unit
    assert "负责：办000" in line_of(listing, needs)
    assert "已完成（超期 0 件，待答复 0 件）" in line_of(listing, needs)
    once_line = line_of(listing, once)
    assert "负责：康复中心 · 一次（截止 2026-12-31）" in once_line
    assert "待负责人季度评估" in once_line

    # Scheduled counts as in progress; a target met is done.
    await create(bot, "民族团结 2026-12-15 09:00 民族团结进步教育")
    changed = await bot.admin.ask_private(f"/task edit {volunteering} 目标=志愿≥1")
    assert f"工作要点已修改：#{volunteering}" in changed
    listing = await bot.admin.ask_private("/tasks 2026")
    assert "推进中（已开展 0 次，已安排 1 次）" in line_of(listing, unity)
    assert "已完成（已开展 1 次，已安排 0 次）" in line_of(listing, volunteering)

    # A need waits: in progress; unanswered past 15 working days: late.
    await quarter.c.ask_private("/need 就业 希望组织一次职业发展分享会")
    await bot.tg.wait_for(
        lambda: any("新诉求" in x for x in bot.tg.texts(bot.admin.id)), 20, "the need told"
    )
    assert "推进中（超期 0 件，待答复 1 件）" in line_of(
        await bot.admin.ask_private("/tasks"), needs
    )
    clock(bot).set_local("2026-12-30 10:00")
    assert "未开展（超期 1 件，待答复 0 件）" in line_of(
        await bot.admin.ask_private("/tasks"), needs
    )

    # The year-end summary draft reviews each task with the records' figure.
    _message, draft = await summary_of(bot.admin, bot)
    assert table_rows(draft, "工作要点") == [
        ["工作要点", "落实情况", "说明"],
        ["（七）深入开展青年志愿服务活动", "已完成", "已开展 1 次，已安排 0 次"],
        ["铸牢中华民族共同体意识教育", "已完成", "已开展 1 次，已安排 0 次"],  # held 12-15
        ["每季度召开青工委会议", "已完成", "已开展 1 次，已安排 0 次"],
        ["青年理论学习", "已完成", "已开展 1 次，已安排 0 次"],
        ["我为青年办实事", "未开展", "超期 1 件，待答复 0 件"],
        ["规范推优入党机制", "待负责人评估", ""],
    ]

    # Everyone on the roster sees the list; in English too.
    assert "深入开展青年志愿服务活动" in await quarter.a.ask_private("/tasks")
    await bot.admin.ask_private("/lang en")
    english_list = await bot.admin.ask_private("/tasks")
    typed = (
        "（七）深入开展青年志愿服务活动",
        "铸牢中华民族共同体意识教育",
        "每季度召开青工委会议",
        "青年理论学习",
        "我为青年办实事",
        "规范推优入党机制",
        "办公室",
        "康复中心",
        "办000",
    )
    english(english_list, typed)
    assert "Owner: the committee · each year · target: volunteer activities >= 1" in (english_list)

    removed = await bot.admin.ask_private(f"/task del {once}")
    assert f"#{once}" in removed and await task_count(bot) == 5


async def test_bad_tasks_are_refused_and_change_nothing(quarter: Quarter) -> None:
    bot = quarter.bot
    existing = await add_task(bot, "2026 已有的任务 负责=青工委")
    refusals = {
        "/task add 2026 没有负责方": "请写负责方",
        "/task add 2026-Q4 标题 负责=青工委": "不是年份",
        "/task add 2099 标题 负责=青工委": "2099",
        "/task add 2026 标题 负责=不存在的人": "不存在的人",
        "/task add 2026 标题 负责=青工委 周期=偶尔": "不是周期",
        "/task add 2026 标题 负责=青工委 目标=唱歌≥1": "不是可统计的目标",
        "/task add 2026 标题 负责=青工委 目标=志愿≥0": "不是可统计的目标",
        "/task add 2026 标题 负责=青工委 目标=诉求≤100": "不是可统计的目标",
        "/task add 2026 标题 负责=青工委 周期=一次": "截止日期",
        "/task add 2026 标题 负责=青工委 截止=2027-01-05": "2026 年内",
        "/task add 2026 标题 负责=青工委 颜色=红": "颜色",
        f"/task add 2026 {'长' * 300} 负责=青工委": "256",
        "/task add": "用法",
        "/task edit 999 标题=新": "没有编号为 999",
        f"/task edit {existing}": "用法",
        "/task del 999": "没有编号为 999",
        "/tasks 明年": "明年",
    }
    for command, reason in refusals.items():
        reply = await bot.admin.ask_private(command)
        assert reason in reply, (command, reply)
        assert "出错" not in reply, (command, reply)
    assert "仅限青工委" in await quarter.a.ask_private("/task add 2026 我来 负责=青工委")
    assert "仅限青工委" in await quarter.a.ask_private(f"/task del {existing}")
    assert await task_count(bot) == 1
    assert "2027 年还没有工作要点" in await bot.admin.ask_private("/tasks 2027")


async def task_preview(bot: BotHarness, name: str, content: bytes) -> dict[str, Any]:
    """Send a task list with the caption /task import; the bot's answer."""
    since = len(bot.tg.bot_messages(bot.admin.id))
    bot.tg.user_document(bot.admin.id, bot.admin.id, name, content, "/task import")
    return await bot.tg.message_in(bot.admin.id, lambda m: "text" in m, 20, "the answer", since)


HEADER = ["年份", "序号", "工作要点", "负责", "周期", "截止", "目标"]


async def test_tasks_imported_from_a_file_with_a_preview(quarter: Quarter) -> None:
    bot, admin = quarter.bot, quarter.bot.admin
    since = len(bot.tg.bot_messages(admin.id))
    admin.say("/task import template")
    template = await bot.tg.message_in(
        admin.id, lambda m: m.get("document"), 20, "the template", since
    )
    assert template["document"]["file_name"] == "工作要点模板.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(bot.tg.sent_file(template)))
    assert rows(book, "工作要点") == [HEADER]

    content = workbook(
        [
            HEADER,
            ["2026", "（七）", "深入开展青年志愿服务活动", "青工委", "每年", "", "志愿≥4"],
            ["2026", "", "规范推优入党", "康复中心", "", "2026-12-31", ""],
            ["2026", "", "个人负责的宣传", "办000", "每季度", "", ""],
            ["2026", "", "深入开展青年志愿服务活动", "青工委", "", "", ""],
            ["", "", "没有年份", "青工委", "", "", ""],
            ["2026", "", "没有负责", "", "", "", ""],
            ["2026", "", "错的周期", "青工委", "每天", "", ""],
            ["2026", "", "错的目标", "青工委", "", "", "跑步≥3"],
            ["2026", "", "不存在的人", "无名氏", "", "", ""],
        ],
        sheet="工作要点",
    )
    preview = await task_preview(bot, "工作要点.xlsx", content)
    text = preview["text"]
    assert "新增 3 项，修改 0 项，不变 0 项，有问题 6 行" in text, text
    assert "第 5 行：与第 2 行是同一年的同一工作要点" in text
    assert "第 6 行：“”不是年份" in text
    assert "第 7 行：请写负责方" in text
    assert "第 8 行：“每天”不是周期" in text
    assert "第 9 行：“跑步≥3”不是可统计的目标" in text
    assert "第 10 行：“无名氏”既不是单位，也不是登记的人" in text
    assert await task_count(bot) == 0  # nothing written before 确认导入
    # Pressed twice at once: written once.
    first, second = admin.press(preview, "确认导入"), admin.press(preview, "确认导入")
    answers = sorted([(await admin.toast(first))["text"], (await admin.toast(second))["text"]])
    assert answers[0] == "已导入" and "已处理过" in answers[1], answers
    assert await task_count(bot) == 3
    await bot.tg.message_in(admin.id, lambda m: "已导入工作要点" in m.get("text", ""), 20, "done")
    listing = await admin.ask_private("/tasks")
    assert "（七）深入开展青年志愿服务活动" in listing
    assert "负责：康复中心 · 一次（截止 2026-12-31）" in listing
    assert "负责：办000 · 每季度" in listing
    volunteering = int(re.search(r"#(\d+) （七）", listing)[1])  # type: ignore[index]

    # Brought back with an edit by 编号, and one unknown 编号: one changed, the rest the same.
    again = workbook(
        [
            ["编号", *HEADER],
            [str(volunteering), "2026", "（七）", "深入开展青年志愿服务活动", "青工委", "每年", "",
             "志愿≥2"],
            ["", "2026", "", "规范推优入党", "康复中心", "", "2026-12-31", ""],
            ["", "2026", "", "个人负责的宣传", "办000", "每季度", "", ""],
            ["99999", "2026", "", "编号不对", "青工委", "", "", ""],
            [str(volunteering), "2027", "", "改年份", "青工委", "", "", ""],
        ]
    )  # fmt: skip
    preview = await task_preview(bot, "工作要点.csv.xlsx", again)
    assert "新增 0 项，修改 1 项，不变 2 项，有问题 2 行" in preview["text"], preview["text"]
    assert "第 5 行：没有编号为 99999 的工作要点" in preview["text"]
    assert f"第 6 行：工作要点 #{volunteering} 属于 2026 年" in preview["text"]
    since = len(bot.tg.bot_messages(admin.id))
    assert (await admin.toast(admin.press(preview, "确认导入")))["text"] == "已导入"
    await bot.tg.message_in(
        admin.id, lambda m: "已导入工作要点" in m.get("text", ""), 20, "done", since
    )
    assert "目标：志愿服务活动 ≥ 2 次" in await admin.ask_private("/tasks")
    assert await task_count(bot) == 3

    # A roster preview's number on a task button is refused; so is a stranger to the file.
    roster = await import_preview(
        bot, "名单.xlsx", workbook([["姓名", "单位"], ["新人", "办公室"]])
    )
    roster_id = re.search(r"imp:ok:(\d+)", str(roster["reply_markup"]))[1]  # type: ignore[index]
    forged = await admin.toast(admin.press_data(roster, f"timp:ok:{roster_id}"))
    assert "已处理过" in forged["text"] and await task_count(bot) == 3
    refused = await quarter.a.ask_private("/task import template")
    assert "仅限青工委" in refused
    grouped = await admin.ask_anywhere(bot.group.id, "/task import")
    assert "私聊" in grouped
