"""/report, /export, /history and /record: the committee's proof, privately.

The committee sees every unit; a unit's lead sees their own unit only. Reports and ledgers are
built after the update's commit, on a read session, and sent privately; a long export does not
hold anything up (see scheduler.reports).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, InputMediaPhoto, Message
from telegram.error import Forbidden, TelegramError
from telegram.ext import CommandHandler, MessageHandler, filters

from db import activities as activities_db
from db import approvals as approvals_db
from db import records as records_db
from db import reports as reports_db
from db import rules
from db.database import Database
from db.errors import Refusal, unavailable
from db.models import Member, Unit
from db.rules import Period
from handlers.context import Ctx, Handlers, private_button
from handlers.people import target_member
from handlers.runner import handler
from render.formats import month_day, period_name, short_moment, unit_of
from render.report import tally_text
from render.texts import paginate, person_name, t, t_in
from scheduler import reports as reports_sched
from scheduler.settings import Settings

log = logging.getLogger(__name__)

PHOTOS_PER_ALBUM = 10  # Telegram's media group limit
Sender = Callable[
    [Bot, int, Database, Settings, dt.datetime, Period, Unit | None], Awaitable[Message]
]


def scope(ctx: Ctx) -> Unit | None:
    """Whose data: every unit (None) for the committee, their own unit for a unit's lead."""
    if ctx.is_admin:
        return None
    if ctx.member.lead_unit is not None:
        return ctx.member.lead_unit
    raise Refusal("not_admin_or_lead")


def _period(ctx: Ctx, usage: str) -> Period:
    if len(ctx.args) > 1:
        raise Refusal(usage)
    today = rules.local_today(ctx.services.now(), ctx.services.settings.timezone)
    return rules.parse_period(ctx.args[0] if ctx.args else None, today)


async def _privately(ctx: Ctx, send: Callable[[int], Awaitable[object]]) -> None:
    """Send to the person's private chat; if the bot may not, say how to allow it."""
    user = ctx.update.effective_user
    assert user is not None
    try:
        await send(user.id)
    except Forbidden:
        if ctx.message is not None:
            await ctx.message.reply_text(t("dm_first"), reply_markup=private_button(ctx))


async def _or_busy(ctx: Ctx, work: Callable[[], Awaitable[None]]) -> None:
    """Run after-commit work; a database or Telegram outage meanwhile is told, not raised."""
    try:
        await work()
    except TelegramError as exc:
        log.warning("could not send %s: %s", ctx.update.update_id, exc)
    except Exception as exc:
        if not unavailable(exc):
            raise
        log.warning("report for update %s: database unavailable", ctx.update.update_id)
        busy = t_in(ctx.person_language, "busy")
        await _privately(ctx, lambda chat: ctx.context.bot.send_message(chat, busy))


def _build(ctx: Ctx, what: Sender, usage: str) -> None:
    build_aside(ctx, what, _period(ctx, usage), scope(ctx))


def build_aside(ctx: Ctx, what: Sender, period: Period, unit: Unit | None) -> None:
    """`what` made aside once the update committed and sent privately: one at a time per
    person (see scheduler.builds)."""
    builds = ctx.services.builds
    if builds.busy(ctx.member.id):
        raise Refusal("build_running")
    member_id = ctx.member.id

    def start() -> None:
        builds.start(member_id, lambda: _send(ctx, what, period, unit))

    ctx.after_commit_sync(start)


@handler()
async def report(ctx: Ctx) -> None:
    _build(ctx, reports_sched.send_report, "report_usage")
    if not ctx.in_private:
        ctx.reply(t("ledger_preparing"))


@handler()
async def export(ctx: Ctx) -> None:
    _build(ctx, reports_sched.send_ledger, "export_usage")
    ctx.reply(t("ledger_preparing"))


async def _send(ctx: Ctx, what: Sender, period: Period, unit: Unit | None) -> None:
    """Make and send it privately after the commit; an outage meanwhile is told, not raised."""
    services, now = ctx.services, ctx.services.now()

    async def send(chat: int) -> None:
        with ctx.privately():  # in the person's language, also when asked in a group
            await what(ctx.context.bot, chat, services.db, services.settings, now, period, unit)

    await _or_busy(ctx, lambda: _privately(ctx, send))


@handler()
async def history(ctx: Ctx) -> None:
    """One person's record by quarter of this year (the committee; a lead for their unit)."""
    if not ctx.args and ctx.chosen is None:
        raise Refusal("history_usage")
    person = await target_member(ctx, ctx.args)
    unit = scope(ctx)
    if unit is not None and person.unit_id != unit.id:
        raise Refusal("not_admin_or_lead")
    with ctx.privately():  # sent privately: in the person's language
        await _history(ctx, person)


async def _history(ctx: Ctx, person: Member) -> None:
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    year = rules.local_today(now, zone).year
    lines = []
    for quarter in Period(year).quarters():
        start, end = quarter.bounds(zone)
        if start > now:
            break
        found = await reports_db.tallies_by_member(
            ctx.session, start, end, now, member_id=person.id
        )
        tally = found.get(person.id, reports_db.Tally())
        lines.append(
            t(
                "history_line",
                period=period_name(quarter),
                tally=tally_text(tally),
            )
        )
    year_start, year_end = Period(year).bounds(zone)
    requests = await approvals_db.of_member(ctx.session, person.id, year_start, year_end)
    if requests:
        lines.append(t("history_requests"))
    for approval, activity in requests:
        decided = ""
        if approval.decider is not None and approval.decided_at is not None:
            decided = t(
                "history_decided",
                decider=person_name(approval.decider),
                at=short_moment(approval.decided_at, zone),
            )
        lines.append(
            t(
                "history_request_line",
                date=month_day(activity.starts_at, zone),
                id=activity.id,
                title=activity.title,
                what=t(f"approval_kind_{approval.kind}"),
                reason=approval.reason,
                status=t(f"approval_status_{approval.status}"),
                decided=decided,
            )
        )
    header = t(
        "history_header",
        name=person_name(person),
        unit=unit_of(person),
        state=t("registered_yes") if person.registered_at else t("answer_unregistered"),
    )
    for page in paginate(lambda _p, _n: header, lines):
        ctx.reply(page, private=True)


@handler()
async def record(ctx: Ctx) -> None:
    """/record 编号 纪要… stores the minutes; a photo with the caption /record 编号 is kept;
    /record 编号 alone shows them."""
    message = ctx.message
    words = records_db.split_command((message.text or message.caption or "") if message else "")
    if words is None:
        raise Refusal("record_usage")
    activity_id, minutes = words
    activity = await activities_db.get(ctx.session, activity_id)
    if not activities_db.may_manage(ctx.member, ctx.is_admin, activity.unit_id):
        raise Refusal("not_admin_or_lead")
    photo = message.photo[-1] if message is not None and message.photo else None
    if photo is not None:
        if not ctx.in_private:
            raise Refusal("record_photo_private")
        count = await records_db.add_photo(
            ctx.session, activity, photo.file_id, photo.file_unique_id, ctx.member
        )
        ctx.reply(t("record_photo_added", id=activity.id, count=count))
    if minutes:
        records_db.set_minutes(activity, minutes)
        ctx.reply(t("record_minutes_saved", id=activity.id, title=activity.title))
    if photo is None and not minutes:
        with ctx.privately():  # sent privately: in the person's language
            await _show(ctx, activity.id)


async def _show(ctx: Ctx, activity_id: int) -> None:
    activity, photos = await records_db.show(ctx.session, activity_id)
    text = t(
        "record_show",
        id=activity.id,
        title=activity.title,
        minutes=activity.minutes or t("record_no_minutes"),
        count=len(photos),
    )
    ctx.reply(text, private=True)  # rendered privately by the caller (see `record`)
    send_files(ctx, photos)


def send_files(ctx: Ctx, photos: list[str], documents: Sequence[str] = ()) -> None:
    """Once the update committed, privately: the photos in albums, then each file (Telegram
    file ids)."""
    if not photos and not documents:
        return
    bot = ctx.context.bot

    async def send(chat: int) -> None:
        for i in range(0, len(photos), PHOTOS_PER_ALBUM):
            chunk = photos[i : i + PHOTOS_PER_ALBUM]
            if len(chunk) == 1:  # an album needs two or more
                await bot.send_photo(chat, chunk[0])
            else:
                await bot.send_media_group(chat, [InputMediaPhoto(p) for p in chunk])
        for document in documents:
            await bot.send_document(chat, document)

    ctx.after_commit(lambda: _or_busy(ctx, lambda: _privately(ctx, send)))


def handlers() -> Handlers:
    return [
        CommandHandler("report", report),
        CommandHandler("export", export),
        CommandHandler("history", history),
        CommandHandler("record", record),
        MessageHandler(filters.PHOTO & filters.CaptionRegex(r"^/record(@\w+)?(\s|$)"), record),
    ]
