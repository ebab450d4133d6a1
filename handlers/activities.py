"""Activities: the announcement card, /newevent (and its duplicate warning), /events,
/event cancel|edit."""

from __future__ import annotations

import datetime as dt
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler

from db import activities as activities_db
from db import chats as chats_db
from db import plans as plans_db
from db import rules
from db import series as series_db
from db import volunteer as volunteer_db
from db.errors import Refusal
from db.models import Activity
from db.rules import parse_id
from handlers import onboarding
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render.activities import render_card
from render.formats import kind_name, when
from render.texts import paginate, speaking, t
from scheduler import activity_cards, promotions
from scheduler.activity_cards import CARD, card_counts

log = logging.getLogger(__name__)


async def queue_card(ctx: Ctx, activity: Activity, not_before: dt.datetime | None = None) -> None:
    """Queue a new activity's card (the outbox posts it, not before `not_before`)."""
    chat_id, thread = await activities_db.card_place(ctx.session, activity)
    assert chat_id is not None  # creation refuses an activity with nowhere to go
    counts = await activity_cards.card_counts(ctx.session, activity)
    # The group's card: in the group's language, wherever it was asked for.
    with speaking(await chats_db.language(ctx.session, chat_id)):
        text, buttons = render_card(
            activity, counts, ctx.services.settings.timezone, ctx.services.now()
        )
    await activity_cards.enqueue(
        ctx.session, activity, chat_id, text, buttons, not_before=not_before, thread_id=thread
    )
    ctx.wake_outbox()
    ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)


async def announce(ctx: Ctx, activity: Activity) -> str:
    """After creating `activity`: queue its card (the outbox posts it); what tells the creator."""
    await queue_card(ctx, activity)
    # The card as the group will see it: a misread date, time or option shows at once.
    text = await card_preview(ctx, activity)
    return t("activity_created", id=activity.id, title=activity.title, card=text)


async def card_preview(ctx: Ctx, activity: Activity) -> str:
    counts = await card_counts(ctx.session, activity)
    text, _buttons = render_card(
        activity, counts, ctx.services.settings.timezone, ctx.services.now()
    )
    return text


async def announce_series(ctx: Ctx, series: series_db.Series) -> str:
    """The first card at once, each later one `activity_cards.LEAD` before its start; what
    tells the creator."""
    now, zone = ctx.services.now(), ctx.services.settings.timezone
    for i, activity in enumerate(series.activities):
        later = activity_cards.posting_time(activity.starts_at, now) if i else None
        await queue_card(ctx, activity, later)
    first = series.activities[0]
    weekdays = t("series_weekdays").split()
    lines = []
    for activity in series.activities:
        start = activity.starts_at.astimezone(zone)
        lines.append(
            t(
                "series_line",
                id=activity.id,
                date=start.strftime("%Y-%m-%d"),
                weekday=weekdays[start.weekday()],
                start=start.strftime("%H:%M"),
            )
        )
    moved = ""
    if series.moved:
        ids = [f"#{a.id} {o.day.isoformat()}" for a, o in series.moved]
        moved = t(
            "series_moved",
            day=first.starts_at.astimezone(zone).day,
            ids=t("series_id_sep").join(ids),
        )
    return t(
        "series_created",
        title=first.title,
        repeat=t(f"series_repeat_{series.repeat}"),
        count=len(series.activities),
        lines="\n".join(lines),
        moved=moved,
    )


def newevent_usage_hint() -> str:
    return t("ne_group_hint", usage=t("newevent_usage"))


@handler()
async def newevent(ctx: Ctx) -> None:
    """/newevent 类型 日期 时间 标题 [key=value …] (alone: handlers.newevent_dialog)."""
    if not ctx.args:
        raise Refusal("newevent_usage")
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    spec = await activities_db.parse_spec(ctx.session, ctx.args, zone, rules.local_today(now, zone))
    await create_from(ctx, spec)


async def create_from(ctx: Ctx, spec: activities_db.ActivitySpec) -> None:
    """Create what `spec` describes, one activity or a series, and announce it; if an
    activity with its title, start and target exists, hold it and ask first."""
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    existing = await series_db.duplicate_of(ctx.session, ctx.member, ctx.is_admin, spec, zone, now)
    if existing is None:
        ctx.reply(await create(ctx, spec))
        return
    token = await activities_db.hold(ctx.session, ctx.member.id, spec, existing, now)
    buttons = [
        InlineKeyboardButton(t("dup_button_create"), callback_data=f"{DUP}:ok:{token}"),
        InlineKeyboardButton(t("dup_button_cancel"), callback_data=f"{DUP}:no:{token}"),
    ]
    ctx.reply(
        t(
            "dup_warning",
            id=existing.id,
            title=existing.title,
            when=when(existing, zone),
            target=spec.unit.name if spec.unit else t("target_all"),
        ),
        markup=InlineKeyboardMarkup([buttons]),
    )


async def create(ctx: Ctx, spec: activities_db.ActivitySpec) -> str:
    """Create what `spec` describes, one activity or a series; what tells the creator."""
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    if spec.repeat is not None:
        series = await series_db.create_series(
            ctx.session, ctx.member, ctx.is_admin, spec, zone, now
        )
        return (
            await announce_series(ctx, series)
            + await plan_note(ctx, series.activities[0])
            + await onboarding.next_step(ctx)
        )
    activity = await activities_db.create(ctx.session, ctx.member, ctx.is_admin, spec, now)
    return (
        await announce(ctx, activity)
        + await plan_note(ctx, activity)
        + await onboarding.next_step(ctx)
    )


async def plan_note(ctx: Ctx, activity: Activity) -> str:
    """`计入学习计划：#3 主题` on its own line when the activity carries a plan item."""
    if activity.plan_item_id is None:
        return ""
    item = await plans_db.get(ctx.session, activity.plan_item_id)
    return "\n" + t("activity_plan_linked", id=item.id, topic=item.topic)


DUP = "dup"  # the duplicate warning's buttons: dup:ok:<token> (仍然创建), dup:no:<token> (取消)
DUP_BUTTON = re.compile(r"^dup:(ok|no):([A-Za-z0-9_-]{1,16})$")


@handler()
async def on_duplicate_button(ctx: Ctx) -> None:
    """仍然创建 creates the held activity as asked, 取消 drops it; either once, by its asker."""
    match = ctx.button(DUP_BUTTON)
    held = await activities_db.take_held(ctx.session, ctx.member.id, match[2], ctx.services.now())
    if held is None:
        raise Refusal("dup_stale")
    if match[1] == "ok":
        text = await create(ctx, await activities_db.spec_from_state(ctx.session, held.spec))
    else:
        text = t("dup_cancelled", title=held.spec["title"], id=held.existing)
    ctx.toast(t("dup_toast_created" if match[1] == "ok" else "dup_toast_cancelled"))
    ctx.settle_pressed(text)  # the buttons go; the warning says what was done


@handler()
async def events(ctx: Ctx) -> None:
    now = ctx.services.now()
    upcoming = await activities_db.upcoming(ctx.session, now)
    if not upcoming:
        ctx.reply(t("events_none"))
        return
    zone, policy = ctx.services.settings.timezone, ctx.services.policy
    places = await series_db.positions(ctx.session, upcoming)
    lines = []
    for a in upcoming:
        is_open = policy.window(now, a.starts_at, a.ends_at).value in ("present", "late")
        state = (t("events_target", unit=a.unit.name) if a.unit else "") + (
            t("events_open") if is_open else ""
        )
        if a.id in places:
            k, n = places[a.id]
            state += t("series_position", k=k, n=n)
        lines.append(
            t(
                "events_line",
                id=a.id,
                kind=kind_name(a.kind),
                title=a.title,
                when=when(a, zone),
                place=a.place or t("place_none"),
                state=state,
            )
        )
    for page in paginate(lambda p, n: t("events_header", page=p, pages=n), lines):
        ctx.reply(page)


@handler(admin=True)
async def event(ctx: Ctx) -> None:
    match ctx.args:
        case ["cancel", raw_id]:
            activity = await activities_db.cancel(ctx.session, parse_id(raw_id))
            await activity_cards.cancel_unposted(ctx.session, activity.id)
            ctx.reply(t("event_cancelled", id=activity.id, title=activity.title))
        case ["cancel", raw_id, word] if word.lower() in ALL_WORDS:
            await cancel_series(ctx, parse_id(raw_id))
            return
        case ["clone", raw_id, raw_date, *rest] if len(rest) <= 1:
            await clone(ctx, parse_id(raw_id), raw_date, rest[0] if rest else None)
            return
        case ["clone", *_]:
            raise Refusal("series_clone_usage")
        case ["edit", raw_id, *changes]:
            zone = ctx.services.settings.timezone
            activity, promoted = await volunteer_db.edit_activity(
                ctx.session, parse_id(raw_id), changes, zone, ctx.services.now()
            )
            if await promotions.notify(ctx.session, activity, promoted, zone):
                ctx.wake_outbox()
            card = await card_preview(ctx, activity)
            ctx.reply(t("event_edited", id=activity.id, card=card) + await plan_note(ctx, activity))
        case _:
            raise Refusal("event_usage")
    ctx.touch_card(CARD, activity.id)
    ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)  # its reminders move with it


ALL_WORDS = ("all", "全部")


async def cancel_series(ctx: Ctx, activity_id: int) -> None:
    """/event cancel 编号 all: this one and the rest of its series still to come."""
    cancelled = await series_db.cancel_rest(ctx.session, activity_id, ctx.services.now())
    for activity in cancelled:
        await activity_cards.cancel_unposted(ctx.session, activity.id)
        ctx.touch_card(CARD, activity.id)  # a posted card says so and loses its buttons
    ids = t("series_id_sep").join(f"#{a.id}" for a in cancelled)
    ctx.reply(t("series_cancelled", title=cancelled[0].title, count=len(cancelled), ids=ids))
    ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)


async def clone(ctx: Ctx, source_id: int, raw_date: str, raw_time: str | None) -> None:
    """/event clone 编号 YYYY-MM-DD [HH:MM]: the same activity on another date, a new card."""
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    day = rules.parse_date(raw_date, rules.local_today(now, zone))
    at = rules.parse_time(raw_time) if raw_time is not None else None
    source, activity = await series_db.clone(
        ctx.session, ctx.member, ctx.is_admin, source_id, day, at, zone, now
    )
    await queue_card(ctx, activity)
    ctx.reply(
        t(
            "series_cloned",
            source=source.id,
            id=activity.id,
            title=activity.title,
            when=when(activity, zone),
        )
    )


def handlers() -> Handlers:
    return [
        CommandHandler("newevent", newevent),
        CallbackQueryHandler(on_duplicate_button, pattern=rf"^{DUP}:"),
        CommandHandler("events", events),
        CommandHandler("event", event),
    ]
