"""/plan: the year's study plan (年度学习计划) by quarter, and where each unit stands with each
item. Everyone sees the plan; the committee sees every unit's state, anyone else their own
unit's. The committee adds, edits and removes items, or brings a whole plan in from a file
(/plan import: the template, or the ledger's 学习计划 sheet), previewed before 确认导入."""

from __future__ import annotations

import re

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from db import members as members_db
from db import plans as plans_db
from db import rules
from db.errors import Refusal
from db.models import Unit
from db.plans import PlanRow
from db.rules import Period
from handlers.context import Ctx, Handlers, command_body
from handlers.imports import Items, confirm_items, preview_items, send_template
from handlers.runner import handler
from render import plan_file
from render.formats import period_name
from render.plans import item_line, standing_text, standings_text
from render.texts import paginate, t


def _lines(ctx: Ctx) -> tuple[list[str], str | None]:
    """The command's first line as words, and the lines after it (materials), if any."""
    first, _, more = command_body(ctx).partition("\n")
    return first.split(), more.strip() or None


def _refuse_unless_admin(ctx: Ctx) -> None:
    if not ctx.is_admin:
        raise Refusal("not_admin")


@handler()
async def plan(ctx: Ctx) -> None:
    words, more = _lines(ctx)
    now, zone = ctx.services.now(), ctx.services.settings.timezone
    today = rules.local_today(now, zone)
    match words:
        case ["add", *rest]:
            _refuse_unless_admin(ctx)
            item = await plans_db.add(ctx.session, rest, more, ctx.member, today, now)
            quarter = period_name(Period(item.year, item.quarter))
            ctx.reply(t("plan_added", id=item.id, quarter=quarter, topic=item.topic))
        case ["edit", raw_id, *rest]:
            _refuse_unless_admin(ctx)
            item = await plans_db.edit(ctx.session, rules.parse_id(raw_id), rest, more, today)
            units = {u.id: u for u in await members_db.list_units(ctx.session)}
            ctx.reply(t("plan_edited") + "\n" + item_line(item, units))
        case ["del" | "delete" | "remove", raw_id]:
            _refuse_unless_admin(ctx)
            item, unlinked = await plans_db.delete_item(ctx.session, rules.parse_id(raw_id))
            ctx.reply(t("plan_deleted", id=item.id, topic=item.topic, count=len(unlinked)))
        case ["help"]:
            ctx.reply(t("plan_usage"))
        case ["import", "template"]:
            _refuse_unless_admin(ctx)
            caption = t("plan_template_caption")
            send_template(ctx, plan_file.template(), t("plan_template_file"), caption)
        case ["import"]:
            _refuse_unless_admin(ctx)
            await preview_items(ctx, PLAN, today, now)
        case [] | [_]:
            year = rules.parse_period(words[0], today).year if words else today.year
            await _show(ctx, year)
        case _:
            raise Refusal("plan_usage")


async def _show(ctx: Ctx, year: int) -> None:
    plan = await plans_db.items(ctx.session, year)
    if not plan:
        ctx.reply(
            t("plan_none", year=year) + (t("plan_none_admin", year=year) if ctx.is_admin else "")
        )
        return
    units = await members_db.list_units(ctx.session)
    named = {u.id: u for u in units}
    mine: Unit | None = None
    if not ctx.is_admin:  # a lead sees the unit they lead; anyone else their own
        mine = ctx.member.lead_unit or ctx.member.unit
    shown = units if ctx.is_admin else [mine] if mine is not None else []
    standings = await plans_db.standings(ctx.session, plan, shown, ctx.services.now())
    lines: list[str] = []
    quarter = 0
    for item in plan:
        if item.quarter != quarter:
            quarter = item.quarter
            lines.append(t("plan_quarter_header", quarter=period_name(Period(year, quarter))))
        line = item_line(item, named)
        per_unit = standings.get(item.id, {})
        if ctx.is_admin:
            line += "\n" + standings_text(per_unit, named)
        elif mine is not None and mine.id in per_unit:
            line += "\n" + t("plan_mine", unit=mine.name, state=standing_text(per_unit[mine.id]))
        lines.append(line)
    for page in paginate(lambda p, n: t("plan_header", year=year, page=p, pages=n), lines):
        ctx.reply(page)


IMPORT_BUTTON = re.compile(r"^pimp:(ok|no):([0-9]{1,9})$")


def _parse(file_name: str, content: bytes) -> list[PlanRow]:
    # A ledger brought back: its 学习计划 sheet is the plan.
    return plan_file.parse_plan(file_name, content, sheet=t("sheet_plan"))


PLAN = Items("plan", "pimp", "plan_import", _parse, plans_db.import_plan)


@handler(admin=True, where="private")
async def on_import_button(ctx: Ctx) -> None:
    await confirm_items(ctx, PLAN, IMPORT_BUTTON)


def handlers() -> Handlers:
    caption = filters.Document.ALL & filters.CaptionRegex(r"^/plan(@\w+)?\s+import(\s|$)")
    return [
        CommandHandler("plan", plan),
        MessageHandler(caption, plan),
        CallbackQueryHandler(on_import_button, pattern=r"^pimp:"),
    ]
