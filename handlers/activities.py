"""Activities: the announcement card, /newevent, /events, /event cancel|edit."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import CommandHandler

from bot.cards import CardView
from bot.services import Services
from bot.texts import paginate, t
from db import activities as activities_db
from db import outbox as outbox_db
from db import rules
from db import volunteer as volunteer_db
from db.errors import Refusal
from db.models import Activity
from db.outbox import Buttons
from db.rules import parse_id
from handlers.common import Ctx, Handlers, handler
from scheduler import activity_cards, promotions
from scheduler.outbox import markup as outbox_markup

log = logging.getLogger(__name__)

CARD = "activity"


def local_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def when(activity: Activity, zone: ZoneInfo) -> str:
    start, end = activity.starts_at.astimezone(zone), activity.ends_at.astimezone(zone)
    end_text = end.strftime("%H:%M") if end.date() == start.date() else end.strftime("%m-%d %H:%M")
    return t("when", date=start.strftime("%Y-%m-%d"), start=start.strftime("%H:%M"), end=end_text)


def kind_name(kind: str) -> str:
    return t(f"kind_{kind}")


def target_name(activity: Activity) -> str:
    return activity.unit.name if activity.unit else t("target_all")


def card_buttons(activity: Activity) -> Buttons:
    """The card's buttons, as outbox data: 签到/请假, or 报名/取消报名/签到 for volunteering."""
    checkin = outbox_db.button(t("button_checkin"), f"act:ci:{activity.id}")
    if activity.kind == "volunteer":
        return [
            [
                outbox_db.button(t("button_signup"), f"act:su:{activity.id}"),
                outbox_db.button(t("button_withdraw"), f"act:wd:{activity.id}"),
            ],
            [checkin],
        ]
    return [[checkin, outbox_db.button(t("button_leave"), f"act:lv:{activity.id}")]]


def service_hours(activity: Activity) -> float:
    """The hours a volunteer activity credits (stated, or its length)."""
    if activity.hours is not None:
        return activity.hours
    return rules.default_hours(activity.starts_at, activity.ends_at)


def counts_line(
    activity: Activity,
    counts: activities_db.Counts,
    volunteers: volunteer_db.VolunteerCounts | None,
    zone: ZoneInfo,
) -> str:
    if volunteers is None:
        return t(
            "card_counts",
            present=counts.present,
            late=counts.late,
            leave=counts.leave,
            expected=counts.expected,
        )
    return t(
        "card_volunteer",
        confirmed=volunteers.confirmed,
        cap=activity.capacity if activity.capacity is not None else t("cap_unlimited"),
        waitlisted=volunteers.waitlisted,
        checked_in=volunteers.checked_in,
        deadline=volunteer_db.deadline(activity).astimezone(zone).strftime("%m-%d %H:%M"),
        hours=f"{service_hours(activity):g}",
    )


async def card_counts(
    session: AsyncSession, activity: Activity
) -> tuple[activities_db.Counts, volunteer_db.VolunteerCounts | None]:
    counts = await activities_db.counts(session, activity)
    if activity.kind != "volunteer":
        return counts, None
    return counts, await volunteer_db.counts(session, activity)


def render_card(
    activity: Activity,
    counts: tuple[activities_db.Counts, volunteer_db.VolunteerCounts | None],
    zone: ZoneInfo,
    now: dt.datetime,
) -> tuple[str, Buttons | None]:
    """The group card: what, when, where, for whom, live counts, and its buttons."""
    status = ""
    buttons: Buttons | None = card_buttons(activity)
    if activity.status == "cancelled":
        status, buttons = t("card_cancelled"), None
    elif now > activity.ends_at:
        status, buttons = t("card_ended"), None
    elif activity.code:
        status = t("card_code_hint", id=activity.id)
    text = t(
        "card",
        kind=kind_name(activity.kind),
        id=activity.id,
        title=activity.title,
        when=when(activity, zone),
        place=activity.place or t("place_none"),
        target=target_name(activity),
        counts=counts_line(activity, counts[0], counts[1], zone),
        status=status,
    )
    return text, buttons


async def card_views(services: Services, activity_id: int) -> list[CardView]:
    """The card of `activity_id` as it should look now (none if it is not posted yet).

    A card whose chat changed (upgraded, or the bot was removed) is posted afresh in its new
    chat instead, while the activity is still open.
    """
    async with services.db.session() as session:
        activity = await session.get(Activity, activity_id)
        if activity is None or activity.chat_id is None:
            return []
        counts = await card_counts(session, activity)
        text, buttons = render_card(activity, counts, services.settings.timezone, services.now())
        if activity.message_id is not None:
            return [CardView(activity.chat_id, activity.message_id, text, outbox_markup(buttons))]
        if buttons is not None and not await outbox_db.has_pending(
            session, activity_cards.POST, activity.id, activity.chat_id
        ):
            await activity_cards.enqueue(session, activity, activity.chat_id, text, buttons)
            await session.commit()
            services.outbox.wake()
    return []


async def announce(ctx: Ctx, activity: Activity) -> None:
    """After creating `activity`: queue its card (the outbox posts it), tell the creator."""
    chat_id = await activities_db.target_chat_id(ctx.session, activity.unit_id)
    assert chat_id is not None  # creation refuses an activity with nowhere to go
    counts = await card_counts(ctx.session, activity)
    text, buttons = render_card(
        activity, counts, ctx.services.settings.timezone, ctx.services.now()
    )
    await activity_cards.enqueue(ctx.session, activity, chat_id, text, buttons)
    ctx.wake_outbox()
    ctx.reply(t("activity_created", id=activity.id, title=activity.title))
    ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)


def newevent_usage_hint() -> str:
    return t("ne_group_hint", usage=t("newevent_usage"))


@handler()
async def newevent(ctx: Ctx) -> None:
    if not ctx.args:
        from handlers.newevent_dialog import begin  # the guided dialogue

        await begin(ctx)
        return
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    spec = await activities_db.parse_spec(ctx.session, ctx.args, zone, rules.local_today(now, zone))
    activity = await activities_db.create(ctx.session, ctx.member, ctx.is_admin, spec, now)
    await announce(ctx, activity)


@handler()
async def events(ctx: Ctx) -> None:
    now = ctx.services.now()
    upcoming = await activities_db.upcoming(ctx.session, now)
    if not upcoming:
        ctx.reply(t("events_none"))
        return
    zone, policy = ctx.services.settings.timezone, ctx.services.policy
    lines = []
    for a in upcoming:
        is_open = policy.window(now, a.starts_at, a.ends_at).value in ("present", "late")
        state = (t("events_target", unit=a.unit.name) if a.unit else "") + (
            t("events_open") if is_open else ""
        )
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
            ctx.reply(t("event_cancelled", id=activity.id, title=activity.title))
        case ["edit", raw_id, *changes]:
            zone = ctx.services.settings.timezone
            activity, promoted = await volunteer_db.edit_activity(
                ctx.session, parse_id(raw_id), changes, zone, ctx.services.now()
            )
            if await promotions.notify(ctx.session, activity, promoted, zone):
                ctx.wake_outbox()
            counts = await card_counts(ctx.session, activity)
            text, _buttons = render_card(
                activity, counts, ctx.services.settings.timezone, ctx.services.now()
            )
            ctx.reply(t("event_edited", id=activity.id, card=text))
        case _:
            raise Refusal("event_usage")
    ctx.touch_card(CARD, activity.id)
    ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)  # its reminders move with it


def handlers() -> Handlers:
    return [
        CommandHandler("newevent", newevent),
        CommandHandler("events", events),
        CommandHandler("event", event),
    ]
