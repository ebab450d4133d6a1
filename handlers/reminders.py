"""/remind: the next reminders; one-off reminders; switching and retiming the default rules."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from telegram.ext import CommandHandler

from db import members as members_db
from db import reminders as reminders_db
from db import rules as db_rules
from db.errors import Refusal
from db.rules import parse_id
from handlers.chats import unit_where
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render.formats import local_moment
from render.texts import listing, paginate, t
from scheduler import reminder_rules
from scheduler.reminder_rules import Occurrence

ADD_TEXT = re.compile(r"^/remind(?:@\w+)?\s+add\s+\S+\s+\S+\s+(?:@\S+\s+)?(.*)$", re.DOTALL)
TARGETS = {
    reminder_rules.QUARTER_KICKOFF: "target_main",
    reminder_rules.STUDY_QUOTA: "target_units",
    reminder_rules.MEETING_QUOTA: "target_committee",
    reminder_rules.UNITY: "target_main_committee",
    reminder_rules.LEIFENG: "target_main",
    reminder_rules.QUARTER_REPORT: "target_committee",
    reminder_rules.TASK_REVIEW: "target_task_owners",
    reminder_rules.TASK_REVIEW_NUDGE: "target_task_owners",
    reminder_rules.BEFORE_24H: "target_activity",
    reminder_rules.BEFORE_1H: "target_activity",
    reminder_rules.SIGNUP_CLOSING: "target_activity",
    reminder_rules.VOLUNTEER_24H: "target_volunteers",
    reminder_rules.CHECKIN_NUDGE: "target_unanswered",
    reminder_rules.NOTICE_FOLLOWUP: "target_notice",
}


def rule_name(rule: str) -> str:
    return t(f"rule_{rule}")


SWITCHES = (*reminder_rules.SWITCHABLE, *reminder_rules.SETTINGS)


def _rules_list() -> str:
    items = [t("remind_rule_item", rule=r, name=rule_name(r)) for r in SWITCHES]
    return t("remind_rules", rules=listing(items))


def _rule(word: str) -> str:
    if word not in SWITCHES:
        raise Refusal("remind_rule_unknown", rule=word[:32], rules=_rules_list())
    return word


async def _target(ctx: Ctx, occurrence: Occurrence) -> str:
    if occurrence.rule == reminder_rules.ONE_OFF:
        reminder = await reminders_db.get_one_off(ctx.session, occurrence.ref)
        where = (
            await unit_where(ctx.session, reminder.unit)
            if reminder is not None and reminder.unit is not None
            else t("target_main")
        )
        return where + t("remind_list_id", id=occurrence.ref)
    return t(TARGETS[occurrence.rule], id=occurrence.ref)


def _moved(occurrence: Occurrence, zone: ZoneInfo) -> str:
    """Where a group reminder moved from, when a day off moved it to another day."""
    moved_from = occurrence.moved_from
    if (
        moved_from is None
        or moved_from.astimezone(zone).date() == occurrence.at.astimezone(zone).date()
    ):
        return ""
    return t("remind_list_moved", at=local_moment(moved_from, zone))


async def _list(ctx: Ctx) -> None:
    upcoming = await ctx.services.reminders.upcoming(ctx.session, 20, listed=True)
    if not upcoming:
        ctx.reply(t("remind_list_none"))
        return
    zone = ctx.services.settings.timezone
    lines = [
        t(
            "remind_list_line",
            at=local_moment(o.at, zone),
            rule=rule_name(o.rule),
            target=await _target(ctx, o),
            state=_moved(o, zone),
        )
        for o in upcoming
    ]
    for page in paginate(lambda _p, _n: t("remind_list_header", count=len(upcoming)), lines):
        ctx.reply(page)


@handler(admin=True)
async def remind(ctx: Ctx) -> None:
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    message = ctx.message
    match ctx.args:
        case []:
            await _list(ctx)
            return
        case ["add", day, at, *rest] if rest:
            today = db_rules.local_today(now, zone)
            when = db_rules.local_to_utc(
                db_rules.parse_date(day, today), db_rules.parse_time(at), zone
            )
            unit = None
            if rest[0].startswith("@"):
                unit = await members_db.unit_by_name(ctx.session, rest[0][1:])
                rest = rest[1:]
            # The text keeps its own line breaks: take it from the message after the options.
            found = ADD_TEXT.match(message.text or "") if message else None
            text = found[1] if found else " ".join(rest)
            reminder = await reminders_db.add_one_off(
                ctx.session, when, text, unit, ctx.member, now
            )
            target = await unit_where(ctx.session, unit) if unit else t("target_main")
            ctx.reply(
                t(
                    "remind_added",
                    id=reminder.id,
                    at=local_moment(when, zone),
                    target=target,
                )
            )
        case ["del", raw_id]:
            reminder = await reminders_db.delete_one_off(ctx.session, parse_id(raw_id))
            ctx.reply(t("remind_deleted", id=reminder.id))
        case ["on" | "off" as switch, word]:
            rule = _rule(word)
            await reminders_db.set_enabled(ctx.session, rule, switch == "on")
            ctx.reply(t(f"remind_rule_{switch}", rule=rule, name=rule_name(rule)))
        case ["time", word, at]:
            rule = _rule(word)
            if rule not in reminder_rules.TIMED:
                raise Refusal("remind_rule_not_timed", rule=rule)
            parsed = db_rules.parse_time(at)
            await reminders_db.set_time(ctx.session, rule, parsed)
            ctx.reply(
                t(
                    "remind_rule_time",
                    rule=rule,
                    name=rule_name(rule),
                    time=parsed.strftime("%H:%M"),
                )
            )
        case _:
            raise Refusal("remind_usage")
    ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)


def handlers() -> Handlers:
    return [CommandHandler("remind", remind)]
