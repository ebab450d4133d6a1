"""/summary [YYYY]: the year-end summary draft (年度工作总结初稿) as a Word document, privately.

The committee's. Like /report: the year's facts are read once the update committed, on a read
session, one build at a time per person (scheduler.builds), and the document goes to the
person's private chat, in their language; asked in a group, the group sees only a reaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Bot, Message
from telegram.ext import CommandHandler

from db import rules
from db import summary as summary_db
from db.database import Database
from db.errors import Refusal
from db.models import Unit
from db.rules import Period
from handlers.context import Ctx, Handlers
from handlers.reports import build_aside
from handlers.runner import handler
from render.texts import t
from scheduler.calendar import WorkCalendar
from scheduler.settings import Settings


@handler(admin=True)
async def summary(ctx: Ctx) -> None:
    if len(ctx.args) > 1:
        raise Refusal("summary_usage")
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    year = summary_db.parse_year(ctx.args[0] if ctx.args else None, rules.local_today(now, zone))
    build_aside(ctx, send_summary, Period(year), None)
    if not ctx.in_private:
        ctx.reply(t("ledger_preparing"))


async def send_summary(
    bot: Bot,
    chat_id: int,
    db: Database,
    settings: Settings,
    now: dt.datetime,
    period: Period,
    unit: Unit | None,
) -> Message:
    """The draft of `period`'s year as a .docx document, to `chat_id` (the committee's: every
    unit, so `unit` is None)."""
    # python-docx is loaded with the first draft: the bot starts without it.
    from render.summary import date_text, file_name, summary_docx

    del unit
    zone = settings.timezone
    async with db.read_session() as session:
        facts = await summary_db.gather(
            session, period.year, zone, now, WorkCalendar().add_workdays
        )
    data = await asyncio.to_thread(summary_docx, facts, zone)
    caption = t("summary_caption", year=period.year, date=date_text(facts, zone))
    return await bot.send_document(chat_id, data, filename=file_name(period.year), caption=caption)


def handlers() -> Handlers:
    return [CommandHandler("summary", summary)]
