"""End-to-end: reports, charts, the Excel ledger, roster import, activity records.

A small known world in 2026's fourth quarter, checked line by line and cell by cell.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from db.models import Member
from tests.harness import BotHarness, clock
from tests.steps import SHEETS, Quarter, import_preview, ledger_of, report_of, rows, workbook

# The bot's clock from before it starts (see tests.harness.BotHarness).
pytestmark = pytest.mark.clock("2026-10-09 10:00")

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def local(text: str) -> dt.datetime:
    """A naive Shanghai time, as the ledger stores dates."""
    return dt.datetime.fromisoformat(text)


async def test_the_quarterly_report_says_what_each_unit_did(quarter: Quarter) -> None:
    bot = quarter.bot
    text, photo = await report_of(bot.admin, bot)
    assert "2026年第4季度青年工作报告" in text
    assert "办公室：理论学习 已完成 ✓" in text
    assert "应到 4 · 已签到 3 · 迟到 1 · 请假 0 · 缺席 1 · 出勤率 75%" in text
    assert "康复中心：理论学习 已完成 ✓" in text  # the study session for everyone counts
    assert "应到 4 · 已签到 0 · 迟到 0 · 请假 1 · 缺席 3 · 出勤率 0%" in text
    assert "财务科：理论学习 已完成 ✓" in text and "出勤率 无数据" in text
    assert "青工委会议（每季度 1 次）：已完成 ✓" in text
    assert "民族团结教育（2026年至少 1 次）：未开展 ✗" in text
    assert "志愿服务：1 人 · 1 人次 · 2 小时" in text
    assert "通知：1 条 · 收到率 25%" in text
    assert f"#{quarter.meeting}「四季度会议」缺纪要和照片" in text
    assert f"#{quarter.volunteer}「助残志愿」缺纪要和照片" in text
    assert f"#{quarter.study}「四季度学习」" not in text  # it has both
    # Only the committee sees who came to less than 60 %; nobody is ranked.
    assert "出勤率低于 60% 的人" in text
    low = text.split("出勤率低于 60% 的人")[1]
    assert "=1+1（办公室）出勤率 50%" in low and "康000（康复中心）出勤率 0%" in low
    assert "丁导入（康复中心）出勤率 0%" in low and "办000" not in low
    assert bot.tg.sent_file(photo).startswith(b"\x89PNG")
    assert photo.get("caption", "").startswith("出勤率图表")


async def test_a_year_report_counts_the_quarters_that_met_the_quota(quarter: Quarter) -> None:
    bot = quarter.bot
    text, _ = await report_of(bot.admin, bot, "/report 2026")
    assert "2026年度青年工作报告" in text
    assert "办公室：理论学习 1 次，1/4 个季度达标" in text
    assert "青工委会议（每季度 1 次）：1 次，1/4 个季度达标" in text


async def test_a_leads_report_and_ledger_are_their_units_only(quarter: Quarter) -> None:
    bot = quarter.bot
    await bot.admin.ask_private(f"/lead 康复中心 {quarter.c.id}")
    text, _ = await report_of(quarter.c, bot)
    assert "（康复中心）" in text and "办公室：" not in text
    assert "出勤率低于" not in text  # the committee's copy only
    book = await ledger_of(quarter.c, bot, "/export")
    assert book.sheetnames == [name for name in SHEETS if name != "诉求"]
    sent = [m for m in bot.tg.bot_messages(quarter.c.id) if m.get("document")]
    assert "诉求" not in sent[-1]["caption"] and "考核" in sent[-1]["caption"]
    names = {row[4] for row in rows(book, "签到明细")[1:]}
    assert names == {"康000", "丁导入"}
    assert "仅限青工委成员或该分组组长" in await quarter.a.ask_private("/report")
    assert "仅限青工委成员或该分组组长" in await quarter.a.ask_private("/export")


async def test_the_ledger_has_every_sheet_cell_by_cell(quarter: Quarter) -> None:
    bot = quarter.bot
    book = await ledger_of(bot.admin, bot, "/export 2026-Q4")
    assert book.sheetnames == SHEETS
    # The caption names the sheets the workbook has, in its order.
    sent = [m for m in bot.tg.bot_messages(bot.admin.id) if m.get("document")]
    assert sent[-1]["caption"].endswith("：" + "、".join(SHEETS) + "。"), sent[-1]["caption"]
    for name in SHEETS:
        sheet = book[name]
        assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    activities = rows(book, "活动")
    assert activities[0][:8] == ["活动编号", "类型", "标题", "对象", "开始", "结束", "地点", "状态"]
    by_id = {row[0]: row for row in activities[1:]}
    study = by_id[quarter.study]
    assert study[1:8] == [
        "理论学习",
        "四季度学习",
        "全体成员",
        local("2026-10-10 09:00"),
        local("2026-10-10 11:00"),
        None,
        "正常",
    ]
    assert study[8:15] == [4, 2, 1, 1, 1, "学习了二十大报告。\n讨论热烈。", 1]
    assert by_id[quarter.future][8] is None  # not held yet: no counts
    attendance = rows(book, "签到明细")
    assert attendance[0] == [
        "活动编号",
        "活动",
        "开始",
        "单位",
        "姓名",
        "签到状态",
        "签到时间",
        "请假原因",
    ]
    study_rows = [r for r in attendance[1:] if r[0] == quarter.study]
    assert [(r[3], r[4], r[5], r[6], r[7]) for r in study_rows] == [
        ("办公室", "=1+1", "迟到", local("2026-10-10 09:20"), None),
        ("办公室", "办000", "已签到", local("2026-10-10 09:05"), None),
        ("康复中心", "丁导入", "未登记", None, None),
        ("康复中心", "康000", "请假", None, "出差"),
    ]
    assert book["签到明细"]["E2"].data_type == "s"  # "=1+1" is text, never a formula
    volunteering = rows(book, "志愿服务")[1:]
    assert [(r[4], r[5], r[6], r[7]) for r in volunteering] == [
        ("办000", "已确认", "是", 2.0),
        ("=1+1", "已确认", "否", 0.0),
    ]
    receipts = rows(book, "通知回执")[1:]
    assert [(r[4], r[5]) for r in receipts] == [
        ("=1+1", "未收到"),
        ("办000", "已收到"),
        ("丁导入", "未登记"),
        ("康000", "未收到"),
    ]
    roster = rows(book, "成员")
    assert roster[0][:5] == ["姓名", "单位", "职务", "用户名", "登记状态"]
    assert [(r[0], r[1], r[4]) for r in roster[1:]] == [
        ("=1+1", "办公室", "已登记"),
        ("办000", "办公室", "已登记"),
        ("丁导入", "康复中心", "未登记"),
        ("康000", "康复中心", "已登记"),
    ]
    assessment = rows(book, "考核")
    assert assessment[1][:3] == ["办公室", "理论学习：每季度至少 1 次", "已完成 ✓"]
    assert assessment[1][3:9] == [4, 3, 1, 0, 1, 0.75]
    assert assessment[4][:3] == ["青工委会议", "每季度 1 次", "已完成 ✓"]
    assert assessment[5][:3] == ["民族团结教育", "每年至少 1 次", "未开展 ✗"]


async def test_bad_periods_are_refused(quarter: Quarter) -> None:
    bot = quarter.bot
    assert "时期“2026-Q5”无效" in await bot.admin.ask_private("/report 2026-Q5")
    assert "超出范围" in await bot.admin.ask_private("/export 9999")
    assert "用法" in await bot.admin.ask_private("/report 2026 2027")


async def test_history_and_me_show_the_rate(quarter: Quarter) -> None:
    bot = quarter.bot
    history = await bot.admin.ask_private(f"/history {quarter.b.id}")
    assert "=1+1（办公室，已登记）" in history
    assert "2026年第4季度：应到 2 · 已签到 1 · 迟到 1 · 请假 0 · 缺席 1 · 出勤率 50%" in history
    assert "出勤率 50%" in await quarter.b.ask_private("/me")


async def test_records_keep_minutes_and_photos(quarter: Quarter) -> None:
    bot = quarter.bot
    shown = await bot.admin.ask_private(f"/record {quarter.study}")
    assert "学习了二十大报告。\n讨论热烈。" in shown and "照片：1 张" in shown
    await bot.tg.wait_for(
        lambda: sum(1 for m in bot.tg.bot_messages(bot.admin.id) if m.get("photo")) >= 1
    )
    assert "仅限青工委成员或该分组组长" in await quarter.a.ask_private(
        f"/record {quarter.study} 乱写"
    )
    assert "用法" in await bot.admin.ask_private("/record")


async def members(bot: BotHarness) -> int:
    async with bot.services.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Member)) or 0)


async def test_import_previews_then_writes_and_links_by_username_or_confirmation(
    quarter: Quarter,
) -> None:
    bot = quarter.bot
    content = workbook(
        [
            ["姓名", "单位", "职务", "用户名"],
            ["新同事", "办公室", "干事", ""],
            ["另一位", "新成立科", "", "another_one"],
            ["", "办公室", "", ""],
            ["康000", "康复中心", "组长", ""],
        ]
    )
    before = await members(bot)
    preview = await import_preview(bot, "名单.xlsx", content)
    assert "新增 2 · 更新 1 · 未变 0 · 错误 1" in preview["text"]
    assert "将新建单位：新成立科" in preview["text"] and "第 4 行：缺少姓名" in preview["text"]
    assert await members(bot) == before  # nothing written yet
    confirm = next(
        b["callback_data"]
        for row in preview["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "确认导入"
    )
    answer = await bot.admin.toast(bot.admin.press(preview, "确认导入"))
    assert answer["text"] == "已导入"
    assert await members(bot) == before + 2
    # The preview lost its buttons; a press on the old button changes nothing.
    await bot.tg.wait_for(lambda: "reply_markup" not in preview, what="the buttons gone")
    again = await bot.admin.toast(bot.admin.press_data(preview, confirm))
    assert "这次导入已处理过" in again["text"]
    texts = bot.tg.texts(bot.admin.id)
    assert any("请点这个链接" in x and "?start=register" in x for x in texts), texts[-3:]
    listing = await bot.admin.ask_private("/members")
    assert "新同事 · 未登记" in listing
    # The imported person registers: a record of their own until the committee confirms
    # that they are the imported one; then one record, no duplicate.
    newcomer = bot.user(777001, "小新")
    registered = await newcomer.ask_private("/register 新同事 办公室")
    assert "登记成功" in registered and "请青工委确认" in registered
    assert await members(bot) == before + 3
    await bot.services.outbox.drain(20)
    request = next(m for m in bot.tg.bot_messages(bot.admin.id) if "认领导入名单" in m["text"])
    assert "确认后生效" not in request["text"]  # no role was held for them
    await bot.admin.toast(bot.admin.press(request, "确认"))
    assert await members(bot) == before + 2  # the Telegram account took over the record
    async with bot.services.db.session() as session:
        merged = await session.scalar(select(Member).where(Member.telegram_id == 777001))
        assert merged is not None and merged.title == "干事" and merged.imported_at is not None
    # ... or by username, the first time they write.
    another = bot.user(777002, "另", username="another_one")
    await another.ask_private("/start")
    assert await members(bot) == before + 2


async def test_import_export_import_changes_nothing(quarter: Quarter) -> None:
    bot = quarter.bot
    book = await ledger_of(bot.admin, bot, "/export")
    exported = io.BytesIO()
    book.save(exported)
    preview = await import_preview(bot, "台账.xlsx", exported.getvalue())
    assert "新增 0 · 更新 0 · 未变 4 · 错误 0" in preview["text"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("名单.pdf", b"%PDF", "只能导入 .xlsx 或 .csv"),
        ("名单.xlsx", b"not a zip", "无法读取"),
        ("名单.csv", "姓名,部门\n".encode(), "文件里没有数据"),
        ("名单.csv", "名字,电话\n王,1\n".encode(), "缺少必需的列：单位"),
    ],
)
async def test_bad_import_files_get_a_reason(
    quarter: Quarter, name: str, content: bytes, expected: str
) -> None:
    bot = quarter.bot
    before = await members(bot)
    since = len(bot.tg.bot_messages(bot.admin.id))
    bot.tg.user_document(bot.admin.id, bot.admin.id, name, content, "/import")
    reply = await bot.admin.reply_in(bot.admin.id, since)
    assert expected in reply
    assert await members(bot) == before


async def test_import_template_and_who_may_import(quarter: Quarter) -> None:
    bot = quarter.bot
    since = len(bot.tg.bot_messages(bot.admin.id))
    bot.admin.say("/import template")
    template = await bot.tg.message_in(
        bot.admin.id, lambda m: m.get("document"), 20, "the template", since
    )
    sheet = openpyxl.load_workbook(io.BytesIO(bot.tg.sent_file(template))).active
    assert sheet is not None and [c.value for c in sheet[1]] == ["姓名", "单位", "职务", "用户名"]
    assert "仅限青工委" in await quarter.a.ask_private("/import template")
    assert "私聊" in await bot.admin.ask_anywhere(bot.group.id, "/import template")


async def test_the_quarter_report_rule_sends_the_report_and_ledger(quarter: Quarter) -> None:
    bot = quarter.bot
    clock(bot).set_local("2027-01-04 09:00")  # Q1 2027's first working day (1 Jan is a holiday)
    handled = dict(await bot.services.reminders.fire_due())
    assert handled["quarter_report:2026Q4"] == "sent"
    await bot.services.outbox.drain(60)
    sent = bot.tg.bot_messages(bot.admin.id)
    assert any("2026年第4季度已结束" in (m.get("text") or "") for m in sent)
    assert any("2026年第4季度青年工作报告" in (m.get("text") or "") for m in sent)
    document = next(m for m in sent if m.get("document"))
    assert document["document"]["file_name"] == "青工委台账_2026-Q4.xlsx"
