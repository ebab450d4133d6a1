"""End-to-end: the work plan's tasks (/task, /tasks), their owners and cadences, and the
state of countable targets read from the records. On SQLite and PostgreSQL (`quarter`)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from db.models import WorkTask
from tests.harness import BotHarness, clock
from tests.steps import Quarter, create, english, summary_of, table_rows

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
