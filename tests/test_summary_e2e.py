"""End-to-end: /summary, the year-end summary draft (年度工作总结初稿) as a Word document.

The Quarter world (2026 Q4: a study session for everyone and one to come for 康复中心, a
meeting, a volunteer activity, a notice) plus a need handled and rated and a rapid call, read
back from the .docx the committee receives.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_COLOR_INDEX
from sqlalchemy import func, select

from db.models import Muster, Need
from db.summary import WorkTask
from render.summary import add_tasks_review
from tests.harness import BotHarness, clock
from tests.steps import CHINESE, Quarter, create, english, sent_to, summary_of, table_rows

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-10-09 10:00")

OUTLINE = ["一、基本情况", "二、主要工作和成效", "三、存在的不足", "四、下一步打算"]


def text_of(document: DocxDocument) -> str:
    """Every paragraph and table cell, a line each."""
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines += [" | ".join(cell.text for cell in row.cells) for row in table.rows]
    return "\n".join(lines)


def headings(document: DocxDocument, level: int) -> list[str]:
    name = f"Heading {level}"
    return [p.text for p in document.paragraphs if p.style is not None and p.style.name == name]


def highlighted(document: DocxDocument) -> list[str]:
    return [
        run.text
        for p in document.paragraphs
        for run in p.runs
        if run.font.highlight_color == WD_COLOR_INDEX.YELLOW
    ]


async def rows(bot: BotHarness, model: type[Any]) -> int:
    async with bot.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def handled_need_and_a_call(quarter: Quarter) -> None:
    """A need sent, handled (办结) and rated 满意, one left open; a call for 2, one 我能去."""
    bot, a = quarter.bot, quarter.a
    receipt = await a.ask_private("/need 住房 宿舍漏水，希望尽快维修")
    need_id = int(re.findall(r"#(\d+)", receipt)[0])
    assert "已收到" in await quarter.c.ask_private("/need 就业 希望组织职业发展分享会 匿名")
    await bot.services.outbox.drain(20)
    await bot.admin.ask_private(f"/needs status {need_id} 办结")
    done = await sent_to(bot, a, "已办结。请评价")
    assert "满意" in (await a.toast(a.press(done, "满意")))["text"]
    reply = await bot.admin.ask_private("/muster need=2 within=60 搬运捐赠物资")
    muster_id = int(re.findall(r"#(\d+)", reply)[0])
    await bot.services.outbox.drain(30)
    card = await bot.tg.message_in(
        bot.group.id, lambda m: f"紧急集结】#{muster_id}\n" in m["text"], what="the card"
    )
    assert "已确认" in (await quarter.b.toast(quarter.b.press(card, "我能去"), 30))["text"]


async def test_the_committee_gets_the_years_draft_with_the_records_figures(
    quarter: Quarter,
) -> None:
    bot = quarter.bot
    await handled_need_and_a_call(quarter)
    message, draft = await summary_of(bot.admin, bot)
    assert message["document"]["file_name"] == "青工委2026年度工作总结（初稿）.docx"
    assert "2026年度工作总结初稿" in message["caption"] and "2026年12月7日" in message["caption"]
    text = text_of(draft)
    assert draft.paragraphs[0].text == "青工委2026年度工作总结（初稿）"
    assert headings(draft, 1) == OUTLINE
    assert "（八）工作要点落实情况" in headings(draft, 2)
    # 基本情况: 3 units; A, B, C and the imported D (the committee's own admin has no unit).
    assert "青工委下设3个单位（分组），在册青年4人，其中3人已在青工委助手登记" in text
    # Held by 12-07: the study session, the meeting, the volunteering (12-20's is to come).
    assert "全年共组织开展各类活动3次，其中理论学习1次、青工委会议1次、民族团结教育0次" in text
    # As /report 2026 counts them: the study session (4 expected) and the meeting (4).
    assert "应到8人次，实到3人次（其中迟到1人次），请假1人次，缺席4人次，出勤率43%" in text
    assert table_rows(draft, "单位") == [
        ["单位", "理论学习（次）", "开展季度", "计划", "已落实", "已安排", "未落实", "出勤率"],
        ["办公室", "1", "1/4", "0", "0", "0", "0", "75%"],
        ["康复中心", "1", "1/4", "0", "0", "0", "0", "0%"],
        ["财务科", "1", "1/4", "0", "0", "0", "0", "无数据"],
    ]
    assert "全年召开青工委会议1次，1/4个季度达到每季度至少1次的要求" in text
    assert "本年度尚未开展民族团结教育活动（每年至少1次）" in text
    assert "全年组织志愿服务活动1次，1人参加，共1人次，累计服务2小时" in text  # /report's
    assert "全年发布通知1条，应收到4人次，已回复“收到”1人次，收到率25%" in text  # /report's
    assert "全年收到青年诉求2件，已办结1件，办结率50%；办结后评价1件，其中满意1件" in text
    assert table_rows(draft, "类别")[1:] == [
        ["就业", "1", "1", "0", "0", "0"],
        ["住房", "1", "0", "0", "0", "1"],
    ]
    assert "全年发起紧急集结1次，共需2人，确认响应1人次（1人）" in text
    # 存在的不足: what the records show was not done.
    assert "有3个季度未开展理论学习" not in text  # (the wording names the units instead)
    assert "办公室、康复中心、财务科有季度未开展理论学习" in text
    assert "有3个季度未召开青工委会议" in text and "1件青年诉求尚未办结" in text
    assert "2项已结束的活动缺少纪要或照片" in text  # the meeting and the volunteering
    # What only people can write is highlighted, the work plan's tasks among it.
    marks = highlighted(draft)
    assert "【请填写：年度工作要点逐项落实情况】" in marks
    assert "【请填写：本年度工作总体情况和主要体会】" in marks
    assert "【请填写：存在的不足及原因分析】" in marks
    assert "【请填写：下一年度工作思路和具体措施】" in marks
    assert all(mark.startswith("【请填写：") for mark in marks)
    assert draft.paragraphs[-2].text == "内蒙古自治区残疾人联合会机关青年工作委员会"
    assert draft.core_properties.title == "青工委2026年度工作总结（初稿）"
    assert draft.core_properties.author == "内蒙古自治区残疾人联合会机关青年工作委员会"


async def test_without_a_year_this_years_and_in_a_group_privately(quarter: Quarter) -> None:
    bot = quarter.bot
    since = len(bot.tg.bot_messages(bot.group.id))
    message, draft = await summary_of(bot.admin, bot, "/summary", chat=bot.group.id)
    assert message["chat"]["id"] == bot.admin.id
    assert message["document"]["file_name"] == "青工委2026年度工作总结（初稿）.docx"
    assert headings(draft, 1) == OUTLINE
    assert "本年度未收到青年诉求" in text_of(draft) and "本年度未发起紧急集结" in text_of(draft)
    # The group sees no draft and no figures.
    assert not [m for m in bot.tg.bot_messages(bot.group.id)[since:] if m.get("document")]
    assert all("2026" not in text for text in bot.tg.texts(bot.group.id)[since:])


async def test_in_english_the_draft_and_its_name_are_english(quarter: Quarter) -> None:
    bot = quarter.bot
    english(await bot.admin.ask_private("/lang en"))
    message, draft = await summary_of(bot.admin, bot)
    assert (
        message["document"]["file_name"] == "Youth Committee 2026 Annual Work Summary (Draft).docx"
    )
    english(message["caption"])
    assert headings(draft, 1) == [
        "I. Overview",
        "II. Main work and results",
        "III. Shortcomings",
        "IV. Plans for next year",
    ]
    units = ("办公室", "康复中心", "财务科")  # the names people gave them
    for paragraph in draft.paragraphs:
        bare = paragraph.text
        for name in units:
            bare = bare.replace(name, "")
        assert not CHINESE.search(bare), paragraph.text
    assert draft.paragraphs[-1].text == "2026-12-07"
    text = text_of(draft)
    assert "Volunteer activities held: 1; volunteers 1; person-times 1; service hours 2." in text
    assert "acknowledgement rate 25%" in text
    assert "[Please fill in: how each task of the year's work plan was carried out]" in (
        highlighted(draft)
    )


async def test_refusals_send_nothing_and_change_nothing(quarter: Quarter) -> None:
    bot = quarter.bot
    before = (await rows(bot, Need), await rows(bot, Muster))
    for command, expected in (
        ("/summary 2099", "2000 至 2026"),
        ("/summary abc", "年份“abc”无效"),
        ("/summary 2026-Q1", "年份“2026-Q1”无效"),
        ("/summary 2026 2025", "用法：/summary"),
    ):
        answer = await bot.admin.ask_private(command)
        assert expected in answer and "出错" not in answer, answer
    answer = await quarter.a.ask_private("/summary 2026")
    assert "仅限青工委成员" in answer and "出错" not in answer
    english(await bot.admin.ask_private("/lang en"))
    answer = english(await bot.admin.ask_private("/summary 1999"), ("1999",))
    assert "2000 to 2026" in answer
    for user in (bot.admin, quarter.a):
        assert not [m for m in bot.tg.bot_messages(user.id) if m.get("document")]
    assert (await rows(bot, Need), await rows(bot, Muster)) == before


def test_the_work_plans_tasks_fill_their_section_once_there_are_some() -> None:
    """The seam for 工作要点落实情况: a table of the tasks; none (today): the placeholder."""
    empty = Document()
    add_tasks_review(empty, [])
    assert highlighted(empty) == ["【请填写：年度工作要点逐项落实情况】"] and not empty.tables
    filled = Document()
    add_tasks_review(
        filled, [WorkTask("推进青年理论学习", "done", "全年 12 次"), WorkTask("x", "open")]
    )
    assert not highlighted(filled)
    assert table_rows(filled, "工作要点") == [
        ["工作要点", "落实情况", "说明"],
        ["推进青年理论学习", "已完成", "全年 12 次"],
        ["x", "未开展", ""],
    ]


@pytest.mark.clock("2026-02-02 10:00")
async def test_a_quarter_still_running_is_not_a_shortcoming(bot: BotHarness) -> None:
    """In April, Q1's study session and meeting held: nothing is missing yet, though Q2 has
    neither so far."""
    await bot.add_units("办公室")
    await bot.setup_main_group()
    await create(bot, "学习 2026-02-10 09:00 一季度学习")
    await create(bot, "会议 2026-02-11 09:00 一季度会议")
    clock(bot).set_local("2026-04-20 10:00")
    _message, draft = await summary_of(bot.admin, bot)
    text = text_of(draft)
    assert "有季度未开展理论学习" not in text and "未召开青工委会议" not in text
    clock(bot).set_local("2026-07-02 10:00")  # Q2 is over, and had neither
    _message, draft = await summary_of(bot.admin, bot)
    text = text_of(draft)
    assert "办公室有季度未开展理论学习" in text and "有1个季度未召开青工委会议" in text
