"""Check-in (签到), leave (请假) and rosters: buttons, commands and private follow-ups."""

from __future__ import annotations

import re

from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from db import activities as activities_db
from db import attendance as attendance_db
from db import conversations as conversations_db
from db import members as members_db
from db import volunteer as volunteer_db
from db.attendance import CheckinResult, Outcome
from db.conversations import Waiting
from db.errors import Refusal
from db.models import Attendance, Signup
from db.rules import parse_id
from handlers import approvals
from handlers.context import Ctx, Handlers
from handlers.qr import code_check_in
from handlers.runner import handler
from render import activities as activity_text
from render.formats import kind_name, local_time, unit_of, when
from render.texts import listing, paginate, person_name, t, unjoined
from scheduler.activity_cards import CARD

BUTTON = re.compile(r"^act:(ci|lv):(\d{1,9})$")
# The cards' 请假 and code-check-in buttons open the private chat with `/start leave_12`.
DEEP_LINK = re.compile(r"^/start(?:@\w+)?\s+(leave|checkin)_([0-9]{1,9})\s*$")
# The conversations of a card's 请假 and code check-in buttons: the next private text is the
# reason, or the code.
LEAVE, CODE = "leave", "code"


def checkin_text(ctx: Ctx, result: CheckinResult) -> str:
    return activity_text.checkin_text(result, ctx.services.settings.timezone, ctx.services.policy)


def deep_link(ctx: Ctx, payload: str) -> str:
    return f"https://t.me/{ctx.context.bot.username}?start={payload}"


async def _check_in(ctx: Ctx, activity_id: int, code: str | None, via_button: bool) -> str:
    result = await attendance_db.check_in(
        ctx.session,
        activity_id,
        ctx.member,
        ctx.services.now(),
        ctx.services.policy,
        code=code,
        via_button=via_button,
    )
    if result.changed:
        ctx.touch_card(CARD, activity_id)
    return checkin_text(ctx, result)


@handler()
async def on_button(ctx: Ctx) -> None:
    """签到 / 请假 on a card. Forged or stale data is refused without changing anything."""
    match = ctx.button(BUTTON)
    action, activity_id = match[1], int(match[2])
    if action == "ci":
        result = await attendance_db.check_in(
            ctx.session,
            activity_id,
            ctx.member,
            ctx.services.now(),
            ctx.services.policy,
            via_button=True,
        )
        if result.changed:
            ctx.touch_card(CARD, activity_id)
        url = (
            deep_link(ctx, f"checkin_{activity_id}")
            if result.outcome is Outcome.NEED_CODE
            else None
        )
        alert = result.outcome in (Outcome.NEED_CODE, Outcome.NEED_QR)
        ctx.toast(checkin_text(ctx, result), alert=alert, url=url)
        return
    # 请假: the reason is asked for privately, never in the group.
    activity = await activities_db.get_active(ctx.session, activity_id)
    if activity.kind == "volunteer":
        raise Refusal("button_wrong_kind")  # volunteers cancel their sign-up instead
    if ctx.member.registered_at is None:
        raise Refusal("register_first")
    ctx.toast(t("leave_button"), url=deep_link(ctx, f"leave_{activity.id}"))


@handler()
async def checkin(ctx: Ctx) -> None:
    if len(ctx.args) > 2:
        raise Refusal("id_invalid")
    if ctx.args:
        activity_id = parse_id(ctx.args[0])
        code = ctx.args[1] if len(ctx.args) == 2 else None
        if code is not None and not ctx.in_private:
            # Never record a code typed where everyone can read it.
            raise Refusal("checkin_code_in_group", id=activity_id)
        if code is not None:
            answer = await code_check_in(ctx, activity_id, code)  # qr=on: the rotating code
            if answer is not None:
                ctx.reply(answer)
                return
        ctx.reply(await _check_in(ctx, activity_id, code, via_button=False))
        return
    await check_in_the_open_one(ctx)


async def check_in_the_open_one(ctx: Ctx) -> None:
    """/checkin without a number (or 签到 typed privately): the only open one, or a list."""
    now = ctx.services.now()
    policy = ctx.services.policy
    candidates, done = await attendance_db.open_for(ctx.session, ctx.member, now, policy)
    if not candidates and done:  # 签到 again: say it is done, not that nothing is open
        titles = listing(t("checkin_done_item", id=a.id, title=a.title) for a in done)
        ctx.reply(t("checkin_done_already", activities=titles))
    elif not candidates:
        ctx.reply(t("checkin_none_open"))
    elif len(candidates) == 1:
        ctx.reply(await _check_in(ctx, candidates[0].id, None, via_button=False))
    else:
        zone = ctx.services.settings.timezone
        lines = "\n".join(
            t(
                "checkin_choose_line",
                id=a.id,
                kind=kind_name(a.kind),
                title=a.title,
                when=when(a, zone),
            )
            for a in candidates
        )
        ctx.reply(t("checkin_choose", lines=lines))


async def _leave(ctx: Ctx, activity_id: int, reason: str) -> None:
    activity = await activities_db.get_active(ctx.session, activity_id)
    if activity.leave_mode == "approve":
        await approvals.ask_leave(ctx, activity, reason)
        return
    activity, updated = await attendance_db.request_leave(
        ctx.session, activity_id, ctx.member, reason, ctx.services.now()
    )
    ctx.touch_card(CARD, activity.id)
    key = "leave_updated" if updated else "leave_ok"
    ctx.reply(t(key, id=activity.id, title=activity.title, reason=" ".join(reason.split())))


@handler()
async def leave(ctx: Ctx) -> None:
    if len(ctx.args) < 2:
        raise Refusal("leave_usage")
    await _leave(ctx, parse_id(ctx.args[0]), " ".join(ctx.args[1:]))


@handler(where="private")
async def start_deep_link(ctx: Ctx) -> None:
    """/start leave_12 or /start checkin_12 from a card's button: ask for the reason or code."""
    await members_db.set_can_dm(ctx.session, ctx.member.chat_id, True)
    match = DEEP_LINK.match(ctx.message.text or "") if ctx.message else None
    if match is None:  # the handler's filter lets only deep links through
        raise Refusal("button_invalid")
    kind, activity_id = match[1], int(match[2])
    activity = await activities_db.get_active(ctx.session, activity_id)
    if ctx.member.registered_at is None:
        raise Refusal("register_first")
    conversation = LEAVE if kind == "leave" else CODE
    await conversations_db.begin(
        ctx.session, ctx.member.id, conversation, ctx.services.now(), {"activity_id": activity.id}
    )
    key = "leave_prompt" if kind == "leave" else "checkin_code_prompt"
    ctx.reply(t(key, id=activity.id, title=activity.title))


async def on_reason(ctx: Ctx, waiting: Waiting, text: str) -> None:
    """The reason typed after pressing 请假."""
    await conversations_db.end(ctx.session, ctx.member.id, LEAVE)
    await _leave(ctx, int(waiting.state["activity_id"]), text)


async def on_code(ctx: Ctx, waiting: Waiting, text: str) -> None:
    """The code typed after pressing 签到 on a card that asks for one."""
    await conversations_db.end(ctx.session, ctx.member.id, CODE)
    ctx.reply(await _check_in(ctx, int(waiting.state["activity_id"]), text.strip(), False))


STEPS = {LEAVE: on_reason, CODE: on_code}


def _mark(answer: Attendance, roster: attendance_db.Roster) -> str:
    """迟到, or 补签 with who approved it."""
    if answer.makeup:
        approval = roster.makeups.get(answer.member_id)
        decider = person_name(approval.decider) if approval and approval.decider else ""
        return t("roster_makeup_mark", decider=decider)
    return t("roster_late_mark") if answer.status == "late" else ""


async def _volunteer_roster(ctx: Ctx, result: attendance_db.Roster) -> None:
    """已报名 n/cap · 候补 k · 已签到 m, then the names in arrival order."""
    activity, zone = result.activity, ctx.services.settings.timezone
    signups = await volunteer_db.queue(ctx.session, activity.id)
    checked = {a.member_id for a in result.present}

    def line(index: int, signup: Signup) -> str:
        member = signup.member
        return t(
            "roster_signup_line",
            index=index,
            name=person_name(member),
            unit=unit_of(member),
            checked=t("roster_checked_mark") if member.id in checked else "",
            dm="" if member.can_dm else t("acks_no_dm"),
        )

    lines = [t("roster_confirmed")]
    lines += [line(i, s) for i, s in enumerate(signups.confirmed, 1)] or [t("roster_none")]
    lines.append(t("roster_waitlisted"))
    lines += [line(i, s) for i, s in enumerate(signups.waitlisted, 1)] or [t("roster_none")]

    def header(page: int, pages: int) -> str:
        return t(
            "roster_volunteer_header",
            id=activity.id,
            title=activity.title,
            when=when(activity, zone),
            page=page,
            pages=pages,
            confirmed=len(signups.confirmed),
            cap=activity.capacity if activity.capacity is not None else t("cap_unlimited"),
            waitlisted=len(signups.waitlisted),
            checked_in=len(checked),
        )

    for page in paginate(header, lines):
        ctx.reply(page, private=True)


@handler()
async def roster(ctx: Ctx) -> None:
    """Sent privately: in the person's language, also when asked in a group."""
    with ctx.privately():
        await _roster(ctx)


async def _roster(ctx: Ctx) -> None:
    if len(ctx.args) != 1:
        raise Refusal("roster_usage")
    result = await attendance_db.roster(
        ctx.session, parse_id(ctx.args[0]), ctx.member, ctx.is_admin
    )
    activity, zone = result.activity, ctx.services.settings.timezone
    if activity.kind == "volunteer":
        await _volunteer_roster(ctx, result)
        return
    lines = [t("roster_present")]
    lines += [
        t(
            "roster_present_line",
            index=i,
            name=person_name(a.member),
            unit=unit_of(a.member),
            time=local_time(a.at, zone),
            late=_mark(a, result),
        )
        for i, a in enumerate(result.present, 1)
    ] or [t("roster_none")]
    if result.pending:
        lines.append(t("roster_pending"))
        lines += [
            t(
                "roster_pending_line",
                index=i,
                name=person_name(r.member),
                unit=unit_of(r.member),
                what=t(f"approval_kind_{r.kind}"),
                reason=r.reason,
            )
            for i, r in enumerate(result.pending, 1)
        ]
    lines.append(t("roster_leave"))
    lines += [
        t(
            "roster_leave_line",
            index=i,
            name=person_name(a.member),
            unit=unit_of(a.member),
            reason=a.reason or "",
        )
        for i, a in enumerate(result.leave, 1)
    ] or [t("roster_none")]
    lines.append(t("roster_absent"))
    lines += [
        t("roster_absent_line", index=i, name=person_name(m) + unjoined(m), unit=unit_of(m))
        for i, m in enumerate(result.absent, 1)
    ] or [t("roster_none")]
    if activity.wrong_codes:
        lines.append(t("roster_wrong_codes", count=activity.wrong_codes))

    def header(page: int, pages: int) -> str:
        return t(
            "roster_header",
            id=activity.id,
            title=activity.title,
            when=when(activity, zone),
            page=page,
            pages=pages,
            present=len(result.present),
            late=result.late,
            leave=len(result.leave),
            absent=len(result.absent),
        ) + (t("card_pending", pending=len(result.pending)) if result.pending else "")

    for page in paginate(header, lines):
        ctx.reply(page, private=True)


def handlers() -> Handlers:
    return [
        CallbackQueryHandler(on_button, pattern=r"^act:(ci|lv):"),
        # Before the plain /start: deep links from the cards' buttons.
        CommandHandler("start", start_deep_link, filters.Regex(DEEP_LINK)),
        CommandHandler("checkin", checkin),
        CommandHandler("leave", leave),
        CommandHandler("roster", roster),
    ]
