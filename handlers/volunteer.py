"""Volunteering: 报名 / 取消报名 (buttons and /signup, /withdraw), /hours, /me, /top."""

from __future__ import annotations

import datetime as dt
import re

from telegram.ext import CallbackQueryHandler, CommandHandler

from db import attendance as attendance_db
from db import rules
from db import volunteer as volunteer_db
from db.errors import Refusal
from db.models import Activity
from db.rules import parse_id
from handlers.context import Ctx, Handlers
from handlers.people import named
from handlers.runner import handler
from render.formats import hours_text, local_time, percent, short_moment, unit_of, unit_text, when
from render.texts import paginate, person_name, t
from scheduler import promotions
from scheduler.activity_cards import CARD

BUTTON = re.compile(r"^act:(su|wd|co):(\d{1,9})$")


async def _sign_up(ctx: Ctx, activity_id: int) -> str:
    result = await volunteer_db.sign_up(ctx.session, activity_id, ctx.member, ctx.services.now())
    activity = result.activity
    if result.already:
        if result.status == "confirmed":
            return t("signup_already_confirmed", id=activity.id)
        return t("signup_already_waitlisted", id=activity.id, position=result.position)
    ctx.touch_card(CARD, activity.id)
    if result.status == "confirmed":
        return t("signup_confirmed", id=activity.id, title=activity.title)
    return t("signup_waitlisted", id=activity.id, title=activity.title, position=result.position)


async def _withdraw(ctx: Ctx, activity_id: int) -> str:
    result = await volunteer_db.withdraw(ctx.session, activity_id, ctx.member, ctx.services.now())
    activity = result.activity
    if await promotions.notify(
        ctx.session, activity, result.promoted, ctx.services.settings.timezone
    ):
        ctx.wake_outbox()
    ctx.touch_card(CARD, activity.id)
    if result.was == "waitlisted":
        return t("withdrawn_waitlist", id=activity.id)
    return t("withdrawn", id=activity.id, title=activity.title)


@handler()
async def on_button(ctx: Ctx) -> None:
    match = ctx.button(BUTTON)
    action, activity_id = match[1], int(match[2])
    actions = {"su": _sign_up, "wd": _withdraw, "co": _check_out}
    ctx.toast(await actions[action](ctx, activity_id))


async def _check_out(ctx: Ctx, activity_id: int) -> str:
    result = await volunteer_db.check_out(ctx.session, activity_id, ctx.member, ctx.services.now())
    zone = ctx.services.settings.timezone
    key = "checkout_already" if result.already else "checkout_done"
    return t(
        key,
        id=result.activity.id,
        time=local_time(result.at, zone),
        hours=hours_text(result.hours),
    )


@handler()
async def checkout(ctx: Ctx) -> None:
    """/checkout 编号: 签退, as the card's button."""
    if len(ctx.args) != 1:
        raise Refusal("checkout_usage")
    ctx.reply(await _check_out(ctx, parse_id(ctx.args[0])))


@handler()
async def signup(ctx: Ctx) -> None:
    if len(ctx.args) != 1:
        raise Refusal("signup_usage")
    ctx.reply(await _sign_up(ctx, parse_id(ctx.args[0])))


@handler()
async def withdraw(ctx: Ctx) -> None:
    if len(ctx.args) != 1:
        raise Refusal("withdraw_usage")
    ctx.reply(await _withdraw(ctx, parse_id(ctx.args[0])))


@handler(admin=True)
async def hours(ctx: Ctx) -> None:
    if len(ctx.args) < 3:
        raise Refusal("hours_usage")
    activity_id = parse_id(ctx.args[0])
    value = rules.parse_hours(ctx.args[-1], allow_zero=True)
    member = await named(ctx, ctx.args[1:-1])
    activity = await volunteer_db.set_hours(ctx.session, activity_id, member, value, ctx.member)
    ctx.reply(
        t(
            "hours_set",
            name=person_name(member),
            id=activity.id,
            title=activity.title,
            hours=hours_text(value),
        )
    )


def _period_starts(now: dt.datetime, ctx: Ctx) -> tuple[dt.datetime, dt.datetime]:
    zone = ctx.services.settings.timezone
    today = now.astimezone(zone).date()
    quarter_start, _ = rules.quarter_bounds(today)
    return (
        rules.local_day_start(quarter_start, zone),
        rules.local_day_start(dt.date(today.year, 1, 1), zone),
    )


@handler()
async def me(ctx: Ctx) -> None:
    """Sent privately: in the person's language, also when asked in a group."""
    with ctx.privately():
        await _me(ctx)


async def _me(ctx: Ctx) -> None:
    if ctx.member.registered_at is None:
        raise Refusal("register_first")
    now, zone, member = ctx.services.now(), ctx.services.settings.timezone, ctx.member
    quarter, year = _period_starts(now, ctx)
    lines = [t("me_header", name=person_name(member), unit=member.unit.name if member.unit else "")]
    lines += await _current_lines(ctx, now)
    for label, since in ((t("me_quarter"), quarter), (t("me_year"), year)):
        record = await attendance_db.record(ctx.session, member, since, now)
        lines.append(
            t(
                "me_period",
                label=label,
                present=record.attended,
                late=record.late,
                leave=record.leave,
                absent=record.absent,
                rate=percent(record.rate),
            )
        )
    lines.append(t("rate_formula"))
    signups = await volunteer_db.my_signups(ctx.session, member, now)
    if signups:
        lines.append(t("me_signups"))
        for activity, status, position in signups:
            state = (
                t("me_confirmed")
                if status == "confirmed"
                else t("me_waitlisted", position=position)
            )
            lines.append(
                t(
                    "me_signup_line",
                    id=activity.id,
                    title=activity.title,
                    when=when(activity, zone),
                    status=state,
                )
            )
    else:
        lines.append(t("me_no_signups"))
    year_hours = (await volunteer_db.hours_by_member(ctx.session, now, year)).get(member.id, 0.0)
    total = (await volunteer_db.hours_by_member(ctx.session, now)).get(member.id, 0.0)
    lines.append(t("me_hours", year=hours_text(year_hours), total=hours_text(total)))
    for page in paginate(lambda _p, _n: lines[0], lines[1:]):
        ctx.reply(page, private=True)


async def _current_lines(ctx: Ctx, now: dt.datetime) -> list[str]:
    """/me's first part: today's and ongoing activities with where the person stands, then
    later leave and the requests still waiting for a decision."""
    zone = ctx.services.settings.timezone
    today = rules.local_today(now, zone)
    day = (
        rules.local_day_start(today, zone),
        rules.local_day_start(today + dt.timedelta(days=1), zone),
    )
    current = await attendance_db.current(ctx.session, ctx.member, now, day)

    def line(activity: Activity, state: str) -> str:
        return t(
            "me_activity_line",
            id=activity.id,
            title=activity.title,
            when=when(activity, zone),
            state=state,
        )

    lines = [t("me_today") if current.today else t("me_today_none")]
    lines += [line(item.activity, _me_state(ctx, item, now)) for item in current.today]
    later = [(a, t("me_state_leave")) for a in current.leaves]
    later += [(a, t(f"me_state_{request.kind}_pending")) for request, a in current.requests]
    later.sort(key=lambda pair: (pair[0].starts_at, pair[0].id))
    waiting = [line(activity, state) for activity, state in later]
    waiting += [
        t(f"me_join_{r.kind}", name=r.real_name or "", unit=unit_text(r.unit))
        for r in current.joins
    ]
    if waiting:
        lines += [t("me_requests"), *waiting]
    return lines


def _me_state(ctx: Ctx, item: attendance_db.Standing, now: dt.datetime) -> str:
    """已签到 09:05, 已请假, 请假待审批, or not checked in and how to."""
    zone, request = ctx.services.settings.timezone, item.request
    if item.makeup:
        return t("me_state_makeup")
    if item.status in ("present", "late"):
        return t(f"me_state_{item.status}", time=local_time(item.at, zone) if item.at else "")
    if item.status == "leave":
        return t("me_state_leave")
    if request is not None and request.status == "pending":
        return t(f"me_state_{request.kind}_pending")
    state = _not_checked_in(ctx, item.activity, now)
    if request is not None and request.status == "rejected":
        return t("me_state_rejected", what=t(f"approval_kind_{request.kind}"), state=state)
    return state


def _not_checked_in(ctx: Ctx, activity: Activity, now: dt.datetime) -> str:
    """When check-in opens, the way to check in now, or 缺席 (with 补签 while it may be asked)."""
    zone, policy = ctx.services.settings.timezone, ctx.services.policy
    window = policy.window(now, activity.starts_at, activity.ends_at)
    if window is rules.Window.NOT_OPEN:
        return t("me_state_not_open", time=local_time(policy.opens_at(activity.starts_at), zone))
    if window is rules.Window.CLOSED:
        deadline = activity.ends_at + dt.timedelta(days=ctx.services.makeup.days)
        if now > deadline:
            return t("me_state_absent")
        return t("me_state_missed", id=activity.id, deadline=short_moment(deadline, zone))
    if activity.qr:
        return t("me_state_open_qr")
    if activity.code is not None:
        return t("me_state_open_code", id=activity.id)
    return t("me_state_open", id=activity.id)


@handler()
async def top(ctx: Ctx) -> None:
    now = ctx.services.now()
    _, year_start = _period_starts(now, ctx)
    year = now.astimezone(ctx.services.settings.timezone).year
    ranked = await volunteer_db.leaderboard(ctx.session, now, year_start)
    if not ranked:
        ctx.reply(t("top_none", year=year))
        return
    lines = [t("top_header", year=year, count=len(ranked))]
    lines += [
        t(
            "top_line",
            rank=rank,
            name=person_name(member),
            unit=unit_of(member),
            hours=hours_text(value),
        )
        for rank, (member, value) in enumerate(ranked, 1)
    ]
    ctx.reply("\n".join(lines))


def handlers() -> Handlers:
    return [
        CallbackQueryHandler(on_button, pattern=r"^act:(su|wd|co):"),
        CommandHandler("checkout", checkout),
        CommandHandler("signup", signup),
        CommandHandler("withdraw", withdraw),
        CommandHandler("hours", hours),
        CommandHandler("me", me),
        CommandHandler("top", top),
    ]
