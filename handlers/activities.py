"""Activities: the announcement card, /newevent, /events, /event cancel|edit."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import CommandHandler

from bot.cards import CardView
from bot.services import Services
from bot.texts import PerLanguage, paginate, speaking, t
from db import activities as activities_db
from db import chats as chats_db
from db import outbox as outbox_db
from db import rules
from db import series as series_db
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
        attend = [checkin]
        if activity.checkout:  # 签退: the real hours are credited
            attend.append(outbox_db.button(t("button_checkout"), f"act:co:{activity.id}"))
        return [
            [
                outbox_db.button(t("button_signup"), f"act:su:{activity.id}"),
                outbox_db.button(t("button_withdraw"), f"act:wd:{activity.id}"),
            ],
            attend,
        ]
    return [[checkin, outbox_db.button(t("button_leave"), f"act:lv:{activity.id}")]]


def service_hours(activity: Activity) -> float:
    """The hours a volunteer activity credits (stated, or its length)."""
    return volunteer_db.planned_hours(activity)


def counts_line(
    activity: Activity,
    counts: activities_db.Counts,
    volunteers: volunteer_db.VolunteerCounts | None,
    zone: ZoneInfo,
) -> str:
    if volunteers is None:
        pending = t("card_pending", pending=counts.pending) if counts.pending else ""
        return (
            t(
                "card_counts",
                present=counts.present,
                late=counts.late,
                leave=counts.leave,
                expected=counts.expected,
            )
            + pending
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


def _option_hints(activity: Activity) -> list[str]:
    """What a member must know before pressing: how to check in, leave needs approval…"""
    hints = []
    if activity.qr:
        hints.append(t("card_qr_hint", id=activity.id))
    elif activity.code:
        hints.append(t("card_code_hint", id=activity.id))
    if activity.leave_mode == "approve":
        hints.append(t("card_leave_approve_hint"))
    if activity.checkout:
        hints.append(t("card_checkout_hint"))
    return hints


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
    else:
        status = "".join(_option_hints(activity))
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
    """The card of `activity_id` as it should look now (none if it is not posted yet), in
    its group's language (whoever pressed).

    A card whose chat changed (upgraded, or the bot was removed) is posted afresh in its new
    chat instead, while the activity is still open.
    """
    async with services.db.session() as session:
        found = await session.get(Activity, activity_id)
        if found is None:
            return []
        activity = found
        counts = await card_counts(session, activity)
        zone, now = services.settings.timezone, services.now()
        render = PerLanguage(lambda: render_card(activity, counts, zone, now))
        if activity.chat_id is None:  # not posted yet (a series' later card waits its turn)
            await activity_cards.refresh_pending(session, activity, render, now)
            await session.commit()
            services.outbox.wake()
            return []
        text, buttons = render(await chats_db.language(session, activity.chat_id))
        if activity.message_id is not None:
            return [CardView(activity.chat_id, activity.message_id, text, outbox_markup(buttons))]
        if buttons is not None and not await outbox_db.has_pending(
            session, activity_cards.POST, activity.id, activity.chat_id
        ):
            await activity_cards.enqueue(
                session, activity, activity.chat_id, text, buttons, thread_id=activity.thread_id
            )
            await session.commit()
            services.outbox.wake()
    return []


async def queue_card(ctx: Ctx, activity: Activity, not_before: dt.datetime | None = None) -> None:
    """Queue a new activity's card (the outbox posts it, not before `not_before`)."""
    chat_id, thread = await activities_db.card_place(ctx.session, activity)
    assert chat_id is not None  # creation refuses an activity with nowhere to go
    counts = await card_counts(ctx.session, activity)
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


async def announce(ctx: Ctx, activity: Activity) -> None:
    """After creating `activity`: queue its card (the outbox posts it), tell the creator."""
    await queue_card(ctx, activity)
    ctx.reply(t("activity_created", id=activity.id, title=activity.title))


async def announce_series(ctx: Ctx, series: series_db.Series) -> None:
    """The first card at once, each later one `activity_cards.LEAD` before its start."""
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
    ctx.reply(
        t(
            "series_created",
            title=first.title,
            repeat=t(f"series_repeat_{series.repeat}"),
            count=len(series.activities),
            lines="\n".join(lines),
            moved=moved,
        )
    )


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
    if spec.repeat is not None:
        series = await series_db.create_series(
            ctx.session, ctx.member, ctx.is_admin, spec, zone, now
        )
        await announce_series(ctx, series)
        return
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
            counts = await card_counts(ctx.session, activity)
            text, _buttons = render_card(
                activity, counts, ctx.services.settings.timezone, ctx.services.now()
            )
            ctx.reply(t("event_edited", id=activity.id, card=text))
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
        CommandHandler("events", events),
        CommandHandler("event", event),
    ]
