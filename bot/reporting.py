"""Reports and ledgers as the committee receives them: text, a chart, an Excel workbook.

Shared by /report and /export (handlers.reports) and by the quarterly report the scheduler
sends. Database work runs on a read session (it never holds SQLite's writer lock); drawing the
chart and writing the workbook run in a worker thread, so check-ins stay fast meanwhile.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Message

from bot.charts import Panel, render_png
from bot.ledger import Column, Kind, LedgerWriter, Sheet
from bot.settings import Settings
from bot.texts import current_language, named, paginate, person_name, speaking, t
from db import chats as chats_db
from db import exports
from db import needs as needs_db
from db import reports as reports_db
from db import volunteer as volunteer_db
from db.engine import Database
from db.models import OutboxMessage, Unit
from db.reports import Report, Tally
from db.rules import Period

Shape = Callable[[tuple[Any, ...]], list[object]]  # a database row → the sheet's cells
STATUS_KEYS = {"done": "status_done", "scheduled": "status_scheduled", "missing": "status_missing"}
ANSWER_KEYS = {
    "present": "answer_present",
    "late": "answer_late",
    "leave": "answer_leave",
    None: "answer_absent",
    "unregistered": "answer_unregistered",
    "makeup": "answer_makeup",
}


def period_name(period: Period) -> str:
    if period.quarter is None:
        return t("period_year", year=period.year)
    return t("period_quarter", year=period.year, quarter=period.quarter)


def percent(value: float | None) -> str:
    return t("rate_none") if value is None else f"{value * 100:.0f}%"


def hours_text(hours: float) -> str:
    return f"{hours:g}"


def tally_text(tally: Tally) -> str:
    makeup = t("report_tally_makeup", makeup=tally.makeup) if tally.makeup else ""
    return (
        t(
            "report_tally",
            expected=tally.expected,
            present=tally.present,
            late=tally.late,
            leave=tally.leave,
            absent=tally.absent,
            rate=percent(tally.rate),
        )
        + makeup
    )


def _quota(report: Report, status: str, held: int, quarters: set[int]) -> str:
    """A quarter: done / scheduled / missing; a year: how many quarters met the quota."""
    if report.period.quarter is None:
        return t("report_quota_year", held=held, met=len(quarters), due=report.quarters_due)
    return t(STATUS_KEYS[status])


def report_pages(
    report: Report, unit: Unit | None, needs: needs_db.Summary | None = None
) -> list[str]:
    """The report as messages (split when long); `needs`: the committee's copy has them."""
    title = period_name(report.period) + t("report_title_suffix")
    if unit is not None:
        title += t("report_scope_unit", unit=unit.name)
    lines = [t("report_units_header")]
    for line in report.units:
        study = _quota(report, line.study, line.study_held, line.study_quarters)
        lines.append(t("report_unit_line", unit=line.unit.name, study=study))
        lines.append(t("report_unit_attendance", tally=tally_text(line.tally)))
    meetings = _quota(report, report.meetings, report.meetings_held, report.meeting_quarters)
    lines += [
        t("report_committee_header"),
        t("report_meetings", status=meetings),
        t("report_unity", year=report.period.year, status=t(STATUS_KEYS[report.unity])),
        t("report_total", tally=tally_text(report.total)),
        t(
            "report_volunteer",
            people=report.volunteers,
            times=report.volunteer_times,
            hours=hours_text(report.volunteer_hours),
        ),
        t("report_notices", count=report.notices, rate=percent(report.ack_rate)),
        t("report_lacking_header"),
    ]
    lines += [
        t(
            "report_lacking_line",
            id=item.activity.id,
            title=item.activity.title,
            missing=t(
                "lacking_both"
                if item.minutes and item.photos
                else ("lacking_minutes" if item.minutes else "lacking_photos")
            ),
        )
        for item in report.lacking
    ] or [t("report_lacking_none")]
    if needs is not None:
        lines += needs_lines(needs)
    return paginate(lambda p, n: t("report_header", title=title, page=p, pages=n), lines)


def category_name(category: str) -> str:
    """A need's stored category, named in the language being spoken."""
    key = needs_db.CATEGORY_KEYS.get(category)
    return t(key) if key else category


def needs_lines(summary: needs_db.Summary) -> list[str]:
    """我为青年办实事: the period's needs by status and category, and the satisfaction rate."""
    if not summary.total:
        return [t("needs_report_header"), t("needs_report_none")]
    lines = [
        t("needs_report_header"),
        t("needs_report_total", total=summary.total, **summary.statuses()),
    ]
    lines += [
        t(
            "needs_report_category",
            category=category_name(c),
            total=n,
            **summary.statuses(c),
        )
        for c in needs_db.CATEGORIES
        if (n := summary.by_category(c))
    ]
    rate = percent(summary.rate)
    satisfied, rated = summary.satisfied, summary.rated
    return [*lines, t("needs_report_rate", rate=rate, satisfied=satisfied, rated=rated)]


def low_attendance_pages(report: Report, threshold: float) -> list[str]:
    """For the committee only: who came to less than the threshold (by unit, not ranked)."""
    lines = [
        t(
            "report_low_line",
            name=person_name(member),
            unit=member.unit.name if member.unit else t("no_unit"),
            rate=percent(tally.rate),
            expected=tally.expected,
            absent=tally.absent,
        )
        for member, tally in report.low
    ] or [t("report_low_none")]
    header = t("report_low_header", percent=f"{threshold * 100:.0f}")
    return paginate(lambda _p, _n: header, lines)


def chart_panels(report: Report) -> list[Panel]:
    words = {"y_label": t("chart_y_label"), "no_data": t("rate_none")}
    by_unit = [(line.unit.name, _pct(line.tally.rate)) for line in report.units]
    by_quarter = [
        (t("chart_quarter", quarter=q.quarter), _pct(tally.rate)) for q, tally in report.quarters
    ]
    return [
        Panel(t("chart_by_unit", period=period_name(report.period)), by_unit, **words),
        Panel(t("chart_by_quarter", year=report.period.year), by_quarter, **words),
    ]


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100


async def chart(report: Report, unit: Unit | None) -> bytes:
    title = period_name(report.period) + t("report_title_suffix")
    if unit is not None:
        title += t("report_scope_unit", unit=unit.name)
    return await asyncio.to_thread(render_png, t("chart_title", title=title), chart_panels(report))


async def send_report(
    bot: Bot,
    chat_id: int,
    db: Database,
    settings: Settings,
    now: dt.datetime,
    period: Period,
    unit: Unit | None,
) -> Message:
    """The report (the committee's copy lists low attendance) and its chart, to `chat_id`."""
    low = settings.low_attendance_percent / 100 if unit is None else None
    async with db.read_session() as session:
        built = await reports_db.build(
            session, period, settings.timezone, now, unit=unit, low_below=low
        )
        # 我为青年办实事 is the committee's: a unit's lead's copy has no needs.
        bounds = period.bounds(settings.timezone)
        needs = await needs_db.summary(session, *bounds) if unit is None else None
    pages = report_pages(built, unit, needs)
    if low is not None:
        pages += low_attendance_pages(built, low)
    png = await chart(built, unit)
    for page in pages:
        await bot.send_message(chat_id, page)
    return await bot.send_photo(chat_id, png, caption=t("chart_caption"))


async def send_ledger(
    bot: Bot,
    chat_id: int,
    db: Database,
    settings: Settings,
    now: dt.datetime,
    period: Period,
    unit: Unit | None,
) -> Message:
    """The ledger of `period` as an .xlsx document, to `chat_id`."""
    path = await write_ledger_aside(db.url, period, settings.timezone, now, unit)
    caption = t(
        "ledger_caption",
        period=period_name(period),
        scope=unit.name if unit is not None else t("ledger_scope_all"),
    )
    try:
        with path.open("rb") as file:
            return await bot.send_document(chat_id, file, filename=path.name, caption=caption)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


async def send_quarter_report(
    bot: Bot, db: Database, settings: Settings, now: dt.datetime, row: OutboxMessage
) -> Message:
    """The outbox renders a `quarter_report` row when it sends it: the quarter in `ref_id`
    (year × 10 + quarter), the heading in its text, then the report, chart and ledger."""
    assert row.ref_id is not None
    period = Period(row.ref_id // 10, row.ref_id % 10)
    async with db.read_session() as session:
        language = await chats_db.language(session, row.chat_id)
    await bot.send_message(row.chat_id, row.text)
    with speaking(language):  # the reader's: the report is rendered only now
        await send_report(bot, row.chat_id, db, settings, now, period, None)
        return await send_ledger(bot, row.chat_id, db, settings, now, period, None)


# ---------------------------------------------------------------------------- the ledger
async def write_ledger_aside(
    url: str, period: Period, zone: ZoneInfo, now: dt.datetime, unit: Unit | None
) -> Path:
    """write_ledger in a separate process: a year's workbook is seconds of CPU, and in a
    thread it would hold the interpreter lock away from the event loop (check-ins slow down).
    The workbook speaks the language being spoken here."""
    unit_id = unit.id if unit is not None else None
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        job = partial(_ledger_job, url, period, zone.key, now, unit_id, current_language())
        return Path(await loop.run_in_executor(pool, job))


def _ledger_job(
    url: str, period: Period, zone: str, now: dt.datetime, unit_id: int | None, language: str
) -> str:
    """In the child process: its own database connection, the workbook, its path."""
    with speaking(language):
        return str(asyncio.run(_ledger_in_child(url, period, ZoneInfo(zone), now, unit_id)))


async def _ledger_in_child(
    url: str, period: Period, zone: ZoneInfo, now: dt.datetime, unit_id: int | None
) -> Path:
    db = Database(url)
    try:
        unit = None
        if unit_id is not None:
            async with db.read_session() as session:
                unit = await session.get(Unit, unit_id)
        return await write_ledger(db, period, zone, now, unit)
    finally:
        await db.dispose()


def ledger_name(period: Period) -> str:
    return t("ledger_file", period=period.key)


async def write_ledger(
    db: Database,
    period: Period,
    zone: ZoneInfo,
    now: dt.datetime,
    unit: Unit | None,
    folder: Path | None = None,
) -> Path:
    """The ledger of `period` (one unit's, for its lead) as an .xlsx file in a new folder."""
    folder = folder or Path(tempfile.mkdtemp(prefix="ledger-"))
    path = folder / ledger_name(period)
    start, end = period.bounds(zone)
    unit_id = unit.id if unit is not None else None
    writer = await asyncio.to_thread(LedgerWriter, path, zone)
    try:
        async with db.read_session() as session:
            report = await reports_db.build(session, period, zone, now, unit=unit)
            where = exports.ended_in_period(start, end, now, unit_id)
            counts = await reports_db.tallies_by_activity(session, where, unit_id)
            await _activities(session, writer, start, end, unit_id, counts, zone)
            await _attendance(session, writer, start, end, now, unit_id)
            await _approvals(session, writer, start, end, unit_id)
            await _volunteering(session, writer, start, end, now, unit_id)
            await _receipts(session, writer, start, end, unit_id)
            if unit is None:  # the needs are the committee's: not in a unit lead's ledger
                await _needs(session, writer, start, end)
            await _roster(session, writer, start, end, now, unit_id)
        await asyncio.to_thread(_assessment, writer, report)
    finally:
        await asyncio.to_thread(writer.close)
    return path


async def _fill(sheet: Sheet, rows: exports.Rows, shape: Shape) -> None:
    async for chunk in rows:
        await asyncio.to_thread(sheet.extend, [shape(row) for row in chunk])


async def _sheet(writer: LedgerWriter, key: str, columns: list[Column]) -> Sheet:
    return await asyncio.to_thread(writer.sheet, t(key), columns)


def _col(key: str, kind: Kind = "text") -> Column:
    return Column(t(key), kind)


def _person_at_activity() -> list[Column]:
    """The first columns of a sheet with one row per person per activity."""
    return [
        _col("col_id", "int"),
        _col("col_title"),
        _col("col_starts", "datetime"),
        _col("col_unit"),
        _col("col_name"),
    ]


async def _activities(
    session: AsyncSession,
    writer: LedgerWriter,
    start: dt.datetime,
    end: dt.datetime,
    unit_id: int | None,
    counts: dict[int, Tally],
    zone: ZoneInfo,
) -> None:
    columns = [
        _col("col_id", "int"),
        _col("col_kind"),
        _col("col_activity_title"),
        _col("col_target"),
        _col("col_starts", "datetime"),
        _col("col_ends", "datetime"),
        _col("col_place"),
        _col("col_state"),
        _col("col_expected", "int"),
        _col("col_present", "int"),
        _col("col_late", "int"),
        _col("col_leave", "int"),
        _col("col_absent", "int"),
        _col("col_minutes"),
        _col("col_photos", "int"),
    ]
    sheet = await _sheet(writer, "sheet_activities", columns)

    def shape(row: tuple[Any, ...]) -> list[object]:
        activity_id, kind, title, unit_name, starts, ends, place, status, minutes, photos = row
        tally = counts.get(activity_id)
        state = "state_cancelled" if status == "cancelled" else "state_active"
        numbers: list[object] = (
            [tally.expected, tally.present, tally.late, tally.leave, tally.absent]
            if tally is not None
            else [None] * 5  # not held yet, or volunteering
        )
        return [
            activity_id,
            t(f"kind_{kind}"),
            title,
            unit_name or t("target_all"),
            starts,
            ends,
            place,
            t(state),
            *numbers,
            minutes,
            photos,
        ]

    await _fill(sheet, exports.stream(session, exports.activities(start, end, unit_id)), shape)


async def _attendance(
    session: AsyncSession,
    writer: LedgerWriter,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    unit_id: int | None,
) -> None:
    columns = [
        *_person_at_activity(),
        _col("col_answer"),
        _col("col_checked_at", "datetime"),
        _col("col_reason"),
    ]
    sheet = await _sheet(writer, "sheet_attendance", columns)

    def shape(row: tuple[Any, ...]) -> list[object]:
        activity_id, title, starts, unit_name, real, first = row[:6]
        registered, status, at, reason, makeup = row[6:]
        answer = status if status is not None or registered else "unregistered"
        if makeup:
            answer = "makeup"
        return [
            activity_id,
            title,
            starts,
            unit_name or t("no_unit"),
            named(real, first),
            t(ANSWER_KEYS[answer]),
            at if status in ("present", "late") else None,
            reason if status == "leave" or makeup else None,
        ]

    stmt = exports.attendance(start, end, now, unit_id)
    await _fill(sheet, exports.stream(session, stmt), shape)


async def _approvals(
    session: AsyncSession,
    writer: LedgerWriter,
    start: dt.datetime,
    end: dt.datetime,
    unit_id: int | None,
) -> None:
    """审批记录: each leave or 补签 request, who decided and when (the audit trail)."""
    columns = [
        *_person_at_activity(),
        _col("col_request"),
        _col("col_request_reason"),
        _col("col_decision"),
        _col("col_asked_at", "datetime"),
        _col("col_decider"),
        _col("col_decided_at", "datetime"),
    ]
    sheet = await _sheet(writer, "sheet_approvals", columns)

    def shape(row: tuple[Any, ...]) -> list[object]:
        activity_id, title, starts, unit_name, real, first = row[:6]
        kind, reason, status, asked, decider_real, decider_first, decided_at = row[6:]
        decided = decider_real is not None or decider_first is not None
        return [
            activity_id,
            title,
            starts,
            unit_name or t("no_unit"),
            named(real, first),
            t(f"approval_kind_{kind}"),
            reason,
            t(f"approval_status_{status}"),
            asked,
            named(decider_real, decider_first) if decided else None,
            decided_at,
        ]

    await _fill(sheet, exports.stream(session, exports.approvals(start, end, unit_id)), shape)


async def _volunteering(
    session: AsyncSession,
    writer: LedgerWriter,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    unit_id: int | None,
) -> None:
    credited = await volunteer_db.credits(session, now, start, end)
    columns = [
        _col("col_id", "int"),
        _col("col_title"),
        _col("col_starts", "datetime"),
        _col("col_name"),
        _col("col_unit"),
        _col("col_signup"),
        _col("col_checked_in"),
        _col("col_hours", "float"),
    ]
    sheet = await _sheet(writer, "sheet_volunteering", columns)

    def shape(row: tuple[Any, ...]) -> list[object]:
        activity_id, title, starts, member_id, real, first, unit_name, status, checked = row
        return [
            activity_id,
            title,
            starts,
            named(real, first),
            unit_name or t("no_unit"),
            t("me_confirmed" if status == "confirmed" else "signup_waitlisted_word"),
            t("yes" if checked else "no"),
            credited.get((member_id, activity_id), 0.0),
        ]

    await _fill(sheet, exports.stream(session, exports.volunteering(start, end, unit_id)), shape)


async def _receipts(
    session: AsyncSession,
    writer: LedgerWriter,
    start: dt.datetime,
    end: dt.datetime,
    unit_id: int | None,
) -> None:
    columns = [
        _col("col_notice", "int"),
        _col("col_posted", "datetime"),
        _col("col_notice_text"),
        _col("col_unit"),
        _col("col_name"),
        _col("col_receipt"),
        _col("col_received_at", "datetime"),
    ]
    sheet = await _sheet(writer, "sheet_receipts", columns)

    def shape(row: tuple[Any, ...]) -> list[object]:
        notice_id, posted, text, unit_name, real, first, registered, acked_at = row
        if acked_at is not None:
            receipt = "receipt_yes"
        else:
            receipt = "receipt_no" if registered else "answer_unregistered"
        return [
            notice_id,
            posted,
            exports.first_line(text),
            unit_name or t("no_unit"),
            named(real, first),
            t(receipt),
            acked_at,
        ]

    await _fill(sheet, exports.stream(session, exports.receipts(start, end, unit_id)), shape)


async def _needs(
    session: AsyncSession, writer: LedgerWriter, start: dt.datetime, end: dt.datetime
) -> None:
    """诉求: each need of the period; the sender's name and unit only when signed (匿名 else)."""
    columns = [
        _col("needs_col_id", "int"),
        _col("needs_col_date", "datetime"),
        _col("needs_col_category"),
        _col("needs_col_status"),
        _col("needs_col_text"),
        _col("needs_col_sender"),
        _col("needs_col_unit"),
        _col("needs_col_replies", "int"),
        _col("needs_col_rating"),
    ]
    sheet = await _sheet(writer, "needs_sheet", columns)

    def shape(row: tuple[Any, ...]) -> list[object]:
        need_id, created, category, status, text, anonymous, real, first, unit_name = row[:9]
        replies, satisfied = row[9:]
        if anonymous:
            sender, unit = t("need_sender_anonymous"), None
        else:
            sender, unit = named(real, first), unit_name or t("no_unit")
        return [
            need_id,
            created,
            category_name(category),
            t(f"need_status_{status}"),
            text,
            sender,
            unit,
            replies,
            t(f"need_rating_{satisfied}") if satisfied else None,
        ]

    await _fill(sheet, exports.stream(session, needs_db.ledger(start, end)), shape)


async def _roster(
    session: AsyncSession,
    writer: LedgerWriter,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    unit_id: int | None,
) -> None:
    """成员: the import columns first (姓名, 单位, 职务, 用户名), so the sheet imports back."""
    tallies = await reports_db.tallies_by_member(session, start, end, now, unit_id=unit_id)
    hours: dict[int, float] = {}
    for (member_id, _), credited in (await volunteer_db.credits(session, now, start, end)).items():
        hours[member_id] = hours.get(member_id, 0.0) + credited
    columns = [
        _col("col_name"),
        _col("col_unit"),
        _col("col_title_job"),
        _col("col_username"),
        _col("col_registered"),
        _col("col_registered_at", "datetime"),
        _col("col_rate", "percent"),
        _col("col_hours", "float"),
    ]
    sheet = await _sheet(writer, "sheet_roster", columns)

    def shape(row: tuple[Any, ...]) -> list[object]:
        member_id, real, first, unit_name, title, username, registered_at, _imported = row
        tally = tallies.get(member_id)
        return [
            named(real, first),
            unit_name or t("no_unit"),
            title,
            username,
            t("registered_yes" if registered_at else "answer_unregistered"),
            registered_at,
            tally.rate if tally else None,
            hours.get(member_id, 0.0),
        ]

    await _fill(sheet, exports.stream(session, exports.roster(unit_id)), shape)


def _assessment(writer: LedgerWriter, report: Report) -> None:
    """考核: each unit's duties and attendance, then the committee's duties."""
    columns = [
        _col("col_item"),
        _col("col_quota"),
        _col("col_done"),
        _col("col_expected", "int"),
        _col("col_present", "int"),
        _col("col_late", "int"),
        _col("col_leave", "int"),
        _col("col_absent", "int"),
        _col("col_rate", "percent"),
    ]
    sheet = writer.sheet(t("sheet_assessment"), columns)
    for line in report.units:
        study = _quota(report, line.study, line.study_held, line.study_quarters)
        tally = line.tally
        sheet.append(
            [
                t("assess_unit", unit=line.unit.name),
                t("assess_study_quota"),
                study,
                tally.expected,
                tally.present,
                tally.late,
                tally.leave,
                tally.absent,
                tally.rate,
            ]
        )
    meetings = _quota(report, report.meetings, report.meetings_held, report.meeting_quarters)
    blank: list[object] = [None] * (len(columns) - 3)  # the committee's rows have no tallies
    sheet.append([t("assess_meetings"), t("assess_meetings_quota"), meetings, *blank])
    unity = t(STATUS_KEYS[report.unity])
    sheet.append([t("assess_unity"), t("assess_unity_quota"), unity, *blank])
    volunteering = t(
        "assess_volunteer_done",
        people=report.volunteers,
        times=report.volunteer_times,
        hours=hours_text(report.volunteer_hours),
    )
    sheet.append([t("assess_volunteer"), None, volunteering, *blank])
    notices = t("assess_notices_done", count=report.notices, rate=percent(report.ack_rate))
    sheet.append([t("assess_notices"), None, notices, *blank])
