"""/tasks and /task: the work plan's tasks (工作要点) of a year, each with its owner, cadence,
target and state. The committee adds, edits and removes them; everyone on the roster sees
the list. A countable target's state comes from the records (db.tasks.measure)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from telegram.ext import CommandHandler

from db import members as members_db
from db import rules
from db import tasks as tasks_db
from db.errors import Refusal
from db.models import Member
from db.rules import Period
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render.formats import period_name
from render.tasks import measured_text, task_line
from render.texts import paginate, t


@handler(admin=True)
async def task(ctx: Ctx) -> None:
    now, zone = ctx.services.now(), ctx.services.settings.timezone
    today = rules.local_today(now, zone)
    match ctx.args:
        case ["add", *words]:
            made = await tasks_db.add(ctx.session, words, ctx.member, today, now, ctx.chosen)
            ctx.reply(t("task_added", id=made.id, year=made.year, title=made.title))
        case ["edit", raw_id, *words]:
            changed = await tasks_db.edit(
                ctx.session, rules.parse_id(raw_id), words, today, ctx.chosen
            )
            ctx.reply(t("task_edited", id=changed.id, title=changed.title))
        case ["del" | "delete" | "remove", raw_id]:
            gone = await tasks_db.delete_task(ctx.session, rules.parse_id(raw_id))
            ctx.reply(t("task_deleted", id=gone.id, title=gone.title))
        case _:
            raise Refusal("task_usage")


@handler()
async def tasks(ctx: Ctx) -> None:
    """/tasks [YYYY]: the year's tasks, each counted in the current quarter (a past year: its
    last quarter)."""
    if len(ctx.args) > 1:
        raise Refusal("task_usage")
    now, zone = ctx.services.now(), ctx.services.settings.timezone
    today = rules.local_today(now, zone)
    year = rules.parse_period(ctx.args[0], today).year if ctx.args else today.year
    listed = await tasks_db.tasks(ctx.session, year)
    if not listed:
        how = t("task_none_admin", year=year) if ctx.is_admin else ""
        ctx.reply(t("task_none", year=year) + how)
        return
    quarter = _quarter_shown(year, today)
    units = {u.id: u for u in await members_db.list_units(ctx.session)}
    owners = {x.owner_member_id for x in listed if x.owner_member_id is not None}
    people = {
        m.id: m for m in await ctx.session.scalars(select(Member).where(Member.id.in_(owners)))
    }
    calendar = ctx.services.reminders.calendar
    lines = []
    for item in listed:
        period = tasks_db.period_of(item, quarter)
        measured = await tasks_db.measure(
            ctx.session, item, period, zone, now, calendar.add_workdays
        )
        state = measured_text(item, measured) if measured else t("task_state_unmeasured")
        lines.append(task_line(item, units, people, state))
    header = t("tasks_header", year=year, quarter=period_name(quarter))
    for page in paginate(lambda p, n: header + t("page_mark", page=p, pages=n), lines):
        ctx.reply(page)


def _quarter_shown(year: int, today: dt.date) -> Period:
    if year == today.year:
        return rules.quarter_of(today)
    return Period(year, 4 if year < today.year else 1)


def handlers() -> Handlers:
    return [CommandHandler("task", task), CommandHandler("tasks", tasks)]
