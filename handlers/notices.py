"""Notices: /notice (text, photo or document), 收到, /acks, /chase, edit/delete, /outbox."""

from __future__ import annotations

import re

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from db import notices as notices_db
from db import outbox as outbox_db
from db.errors import Refusal
from db.models import Member, Notice
from db.rules import parse_id
from handlers import onboarding
from handlers.chats import unit_where
from handlers.context import Ctx, Handlers, command_body
from handlers.runner import handler
from render.formats import short_moment, unit_of
from render.texts import listing, paginate, person_name, t, unjoined
from scheduler import notices as notices_sched
from scheduler import quiet

BUTTON = re.compile(r"^nt:ack:(\d{1,9})$")


def _media(ctx: Ctx) -> tuple[str | None, str | None]:
    message = ctx.message
    if message is None:
        return None, None
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.document:
        return "document", message.document.file_id
    return None, None


@handler(admin=True)
async def notice(ctx: Ctx) -> None:
    body = command_body(ctx)
    words = body.split(None, 2)
    if len(words) >= 2 and words[0].lower() == "edit":
        await _edit(ctx, parse_id(words[1]), words[2] if len(words) > 2 else "")
        return
    if len(words) == 2 and words[0].lower() == "delete":
        await _delete(ctx, parse_id(words[1]))
        return
    media_kind, media_file_id = _media(ctx)
    request = await notices_db.parse_request(ctx.session, body, media=media_kind is not None)
    now = ctx.services.now()
    created, chats = await notices_db.create(
        ctx.session, ctx.member, request, now, media_kind=media_kind, media_file_id=media_file_id
    )
    await notices_sched.enqueue_posts(ctx.session, created, chats)
    ctx.wake_outbox()
    if created.remind_at is not None:
        ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)
    where = {
        "main": t("notice_chats_main"),
        "unit": await unit_where(ctx.session, request.unit) if request.unit else "",
        "all": t("notice_chats_all", count=len(chats) - 1),
    }[request.target]
    unpinnable = [c.title or str(c.id) for c in chats if not c.bot_can_pin]
    pin = t("notice_pin_missing", where=listing(unpinnable)) if unpinnable else t("notice_pin_yes")
    zone = ctx.services.settings.timezone
    remind = (
        t("notice_remind_at", at=short_moment(created.remind_at, zone))
        if created.remind_at
        else t("notice_remind_off")
    )
    if created.remind_at is not None:
        remind += _quiet_note(ctx, created)
    posted = t("notice_posted", id=created.id, chats=where, pin=pin, remind=remind)
    ctx.reply(posted + await onboarding.next_step(ctx))


def _quiet_note(ctx: Ctx, created: Notice) -> str:
    """Whether the follow-up goes at its time or waits out quiet hours."""
    if created.urgent:
        return t("quiet_notice_urgent")
    settings = ctx.services.settings
    assert created.remind_at is not None
    until = quiet.quiet_until(settings.quiet_hours, created.remind_at, settings.timezone)
    if until is None:
        return ""
    return t(
        "quiet_notice_held",
        window=str(settings.quiet_hours),
        until=short_moment(until, settings.timezone),
    )


async def _edit(ctx: Ctx, notice_id: int, text: str) -> None:
    edited = await notices_db.edit_text(ctx.session, notice_id, text)
    ctx.touch_card(notices_sched.CARD, edited.id)
    ctx.reply(t("notice_edited", id=edited.id))


async def _delete(ctx: Ctx, notice_id: int) -> None:
    deleted, posts = await notices_db.delete(ctx.session, notice_id)
    await outbox_db.cancel_pending(ctx.session, notices_sched.key(deleted.id, ""))
    ctx.after_commit_sync(ctx.services.reminders.rebuild_soon)
    bot = ctx.context.bot

    async def remove_posts() -> None:
        for post in posts:
            if post.message_id is not None:
                await bot.delete_message(post.chat_id, post.message_id)

    ctx.after_commit(remove_posts)
    ctx.reply(t("notice_removed", id=deleted.id))


@handler()
async def on_button(ctx: Ctx) -> None:
    match = ctx.button(BUTTON)
    acked, added = await notices_db.acknowledge(
        ctx.session, int(match[1]), ctx.member, ctx.services.now()
    )
    if added:
        ctx.touch_card(notices_sched.CARD, acked.id)
    ctx.toast(t("notice_acked" if added else "notice_already_acked", id=acked.id))


def _by_unit(people: list[Member]) -> list[str]:
    groups: dict[str, list[Member]] = {}
    for member in people:
        groups.setdefault(unit_of(member), []).append(member)
    return [
        t(
            "acks_unit",
            unit=unit,
            count=len(group),
            names=listing(
                person_name(m) + (unjoined(m) or ("" if m.can_dm else t("acks_no_dm")))
                for m in group
            ),
        )
        for unit, group in groups.items()
    ]


@handler(admin=True)
async def acks(ctx: Ctx) -> None:
    if len(ctx.args) != 1:
        raise Refusal("acks_usage")
    found = await notices_db.get_active(ctx.session, parse_id(ctx.args[0]))
    counts = await notices_db.counts(ctx.session, found)
    people = await notices_db.missing(ctx.session, found)

    def header(page: int, pages: int) -> str:
        return t(
            "acks_header",
            id=found.id,
            page=page,
            pages=pages,
            acknowledged=counts.acknowledged,
            missing=len(people),
        )

    with ctx.privately():
        lines = [t("acks_missing"), *_by_unit(people)] if people else [t("acks_all_done")]
        for page in paginate(header, lines):
            ctx.reply(page, private=True)


@handler(admin=True)
async def chase(ctx: Ctx) -> None:
    if len(ctx.args) != 1:
        raise Refusal("chase_usage")
    followup = await notices_sched.chase(ctx.session, parse_id(ctx.args[0]), ctx.services.now())
    ctx.wake_outbox()
    # The one confirmation of a /chase (its creator report is the automatic follow-up's).
    ctx.reply(chased(followup))


def chased(followup: notices_db.Followup) -> str:
    """What a chase says to whoever asked for it (/chase, the dashboard)."""
    notice_id = followup.notice.id
    if not followup.reachable and not followup.unreachable:
        return t("chase_nobody", id=notice_id)
    unreachable = (
        t(
            "notice_unreachable",
            count=len(followup.unreachable),
            names=listing(person_name(m) for m in followup.unreachable),
        )
        if followup.unreachable
        else ""
    )
    return t("chase_done", id=notice_id, count=len(followup.reachable), unreachable=unreachable)


@handler(admin=True)
async def outbox(ctx: Ctx) -> None:
    holding = ctx.services.outbox.quiet_until() is not None
    stats = await outbox_db.stats(ctx.session, ctx.services.now(), holding=holding)
    oldest = t("outbox_oldest_none")
    if stats.oldest_pending is not None:
        minutes = int((ctx.services.now() - stats.oldest_pending).total_seconds() // 60)
        oldest = t("outbox_oldest_age", minutes=max(minutes, 0))
    counts = {s: stats.by_status.get(s, 0) for s in outbox_db.STATUSES}
    ctx.reply(t("outbox_stats", oldest=oldest, **counts) + await _quiet_line(ctx))


async def _quiet_line(ctx: Ctx) -> str:
    """How many automatic private messages quiet hours hold, and until when."""
    settings = ctx.services.settings
    if settings.quiet_hours is None:
        return t("quiet_outbox_off")
    window = str(settings.quiet_hours)
    until = ctx.services.outbox.quiet_until()
    if until is None:
        return t("quiet_outbox_window", window=window)
    return t(
        "quiet_outbox_held",
        window=window,
        count=await outbox_db.held_count(ctx.session),
        until=short_moment(until, settings.timezone),
    )


def handlers() -> Handlers:
    caption = filters.CaptionRegex(r"^/notice(@\w+)?(\s|$)")
    return [
        CommandHandler("notice", notice),
        MessageHandler((filters.PHOTO | filters.Document.ALL) & caption, notice),
        CallbackQueryHandler(on_button, pattern=r"^nt:"),
        CommandHandler("acks", acks),
        CommandHandler("chase", chase),
        CommandHandler("outbox", outbox),
    ]
