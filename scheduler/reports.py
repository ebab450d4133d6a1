"""Reports and ledgers as the committee receives them: the text and chart of /report, the
workbook of /export, and the quarterly report the engine sends through the outbox.

Database work runs on a read session (it never holds SQLite's writer lock); drawing the chart
runs in a worker thread and writing the workbook in a child process, so check-ins stay fast
meanwhile. The chart and workbook machinery (matplotlib, xlsxwriter) is loaded on first use:
the bot starts without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Bot, Message

from db import chats as chats_db
from db import needs as needs_db
from db import reports as reports_db
from db.database import Database
from db.models import OutboxMessage, Unit
from db.reports import Report
from db.rules import Period
from render.charts import render_png
from render.formats import period_name
from render.report import (
    chart_panels,
    ledger_sheets,
    low_attendance_pages,
    report_pages,
    report_title,
)
from render.texts import current_language, listing, speaking, t
from scheduler.calendar import WorkCalendar
from scheduler.settings import Settings


async def chart(report: Report, unit: Unit | None) -> bytes:
    title = t("chart_title", title=report_title(report, unit))
    return await asyncio.to_thread(render_png, title, chart_panels(report))


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
        sheets=listing(t(key) for key in ledger_sheets(unit)),
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
        return str(asyncio.run(ledger_in_child(url, period, ZoneInfo(zone), now, unit_id)))


async def ledger_in_child(
    url: str, period: Period, zone: ZoneInfo, now: dt.datetime, unit_id: int | None
) -> Path:
    from render.ledger import write_ledger  # xlsxwriter: only in the child that writes it

    db = Database(url)
    try:
        unit = None
        if unit_id is not None:
            async with db.read_session() as session:
                unit = await session.get(Unit, unit_id)
        return await write_ledger(db, period, zone, now, unit, WorkCalendar().add_workdays)
    finally:
        await db.dispose()
