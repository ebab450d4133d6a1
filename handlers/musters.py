"""Rapid calls (青年突击队): /muster, its 我能去 / 去不了 buttons, and /squad."""

from __future__ import annotations

import re

from telegram.ext import CallbackQueryHandler, CommandHandler

from db import musters as musters_db
from db.errors import Refusal
from db.rules import parse_id
from handlers.context import Ctx, Handlers, command_body, private_button
from handlers.runner import handler
from render.formats import local_time
from render.texts import paginate, t
from scheduler import musters as musters_sched

BUTTON = re.compile(r"^ms:(go|no):(\d{1,9})$")
JOIN_WORDS = ("join", "加入")
LEAVE_WORDS = ("leave", "退出")


@handler(admin=True)
async def muster(ctx: Ctx) -> None:
    body = command_body(ctx)
    words = body.split()
    if not words:
        await _list(ctx)
    elif len(words) == 1 and musters_db.is_call_number(words[0]):
        await _roster(ctx, parse_id(words[0]))
    else:
        await _create(ctx, body)


async def _create(ctx: Ctx, body: str) -> None:
    request = await musters_db.parse_request(ctx.session, body)
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    created = await musters_db.create(ctx.session, ctx.member, request, now)
    await musters_sched.announce(ctx.session, created, zone, now)
    ctx.wake_outbox()
    ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)  # its half-way and close
    called = created.muster
    where = t("muster_where_main")
    if request.unit is not None:
        key = "muster_where_unit" if created.in_unit_chat else "muster_where_unit_main"
        where = t(key, unit=request.unit.name)
    unreachable = ""
    if created.unreachable:
        unreachable = t("muster_created_unreachable", count=len(created.unreachable))
    half = musters_sched.times(called).half_way
    ctx.reply(
        t(
            "muster_created",
            id=called.id,
            need=called.need,
            closes=musters_sched.closes(called, zone),
            within=request.within,
            where=where,
            called=len(created.reachable),
            unreachable=unreachable,
            half=local_time(half, zone),
        )
    )


async def _roster(ctx: Ctx, muster_id: int) -> None:
    """/muster 编号: everyone's answer, by unit, privately."""
    found = await musters_db.get(ctx.session, muster_id)
    roster = await musters_db.roster(ctx.session, found)
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    with ctx.privately():
        for page in musters_sched.roster_pages(roster, zone, now):
            ctx.reply(page, private=True)


async def _list(ctx: Ctx) -> None:
    """/muster: the calls still open."""
    zone, now = ctx.services.settings.timezone, ctx.services.now()
    calls = await musters_db.open_calls(ctx.session, now)
    if not calls:
        ctx.reply(t("muster_list_none"))
        return
    lines = []
    for call in calls:
        counts = await musters_db.counts(ctx.session, call.id)
        lines.append(
            t(
                "muster_list_line",
                id=call.id,
                title=musters_sched.title(call),
                confirmed=counts.confirmed,
                need=call.need,
                waitlisted=counts.waitlisted,
                closes=musters_sched.closes(call, zone),
            )
        )
    for page in paginate(lambda p, n: t("muster_list_header", page=p, pages=n), lines):
        ctx.reply(page)


def _answer_text(result: musters_db.Answered, ctx: Ctx) -> str:
    called = result.muster
    closes = musters_sched.closes(called, ctx.services.settings.timezone)
    task = called.text.replace("\n", " ")
    if not result.changed:
        return {
            "confirmed": t("muster_already_confirmed", id=called.id, closes=closes, task=task),
            "waitlisted": t("muster_already_waitlisted", id=called.id, position=result.position),
            "declined": t("muster_already_declined"),
        }[result.status]
    if result.status == "confirmed":
        return t("muster_confirmed", id=called.id, closes=closes, task=task)
    if result.status == "waitlisted":
        return t("muster_waitlisted", need=called.need, position=result.position)
    if result.was == "confirmed":
        return t("muster_declined_freed", id=called.id)
    if result.was == "waitlisted":
        return t("muster_declined_waitlist", id=called.id)
    return t("muster_declined", id=called.id, closes=closes)


@handler()
async def on_button(ctx: Ctx) -> None:
    """我能去 / 去不了, on the group card or the private call: the same, once per person."""
    match = ctx.button(BUTTON)
    going, muster_id = match[1] == "go", int(match[2])
    services = ctx.services
    result = await musters_db.answer(ctx.session, muster_id, ctx.member, going, services.now())
    if result.changed:
        ctx.touch_card(musters_sched.CARD, muster_id)
    if result.promoted:
        settings = services.settings
        await musters_sched.tell_promoted(
            ctx.session, result.muster, result.promoted, settings.timezone, settings.admin_ids
        )
        ctx.wake_outbox()
    ctx.toast(_answer_text(result, ctx))


@handler()
async def squad(ctx: Ctx) -> None:
    """/squad join · /squad leave (anyone registered); /squad (the committee): the pool."""
    match [word.lower() for word in ctx.args]:
        case [word] if word in JOIN_WORDS:
            if await musters_db.join_squad(ctx.session, ctx.member, ctx.services.now()):
                if musters_db.reachable(ctx.member):
                    ctx.reply(t("squad_joined"))
                else:  # the call comes privately: the button that allows it
                    ctx.reply(
                        t("squad_joined") + t("squad_joined_no_dm"), markup=private_button(ctx)
                    )
            else:
                ctx.reply(t("squad_already"))
        case [word] if word in LEAVE_WORDS:
            left = await musters_db.leave_squad(ctx.session, ctx.member)
            ctx.reply(t("squad_left" if left else "squad_not_member"))
        case [] if ctx.is_admin:
            await _list_squad(ctx)
        case _:
            raise Refusal("squad_usage")


async def _list_squad(ctx: Ctx) -> None:
    """The pool by unit, privately; who cannot be called privately is marked."""
    people = await musters_db.squad(ctx.session)
    if not people:
        ctx.reply(t("squad_none"))
        return

    def header(page: int, pages: int) -> str:
        return t("squad_header", page=page, pages=pages, count=len(people))

    with ctx.privately():
        lines = musters_sched.by_unit(people, musters_sched.name_and_reach)
        for page in paginate(header, lines):
            ctx.reply(page, private=True)


def handlers() -> Handlers:
    return [
        CommandHandler("muster", muster),
        CallbackQueryHandler(on_button, pattern=r"^ms:"),
        CommandHandler("squad", squad),
    ]
