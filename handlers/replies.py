"""Answers typed in chat, as people do in work groups: 收到 to a notice, 到 / 签到 to a roll call.

In a group, a text that is one of the answer words (db.rules.classify_reply) counts like the
button: as a reply to a notice's or an activity's card, or bare for the newest notice not yet
acknowledged (last 7 days) / the one activity open for check-in there. Success is a reaction
on the message, never a group message; a refusal goes privately, or at most once a day as a
short group reply. Anything else typed in a group is ordinary chat and never reaches the bot's
handlers (the filter below). In a private chat, 收到 answers a follow-up (or the only notice
waiting), and 签到 is /checkin.
"""

from __future__ import annotations

from telegram import Message
from telegram.ext import MessageHandler, filters

from db import activities as activities_db
from db import attendance as attendance_db
from db import notices as notices_db
from db import outbox as outbox_db
from db import rules
from db.errors import Refusal
from handlers.checkin import check_in_the_open_one
from handlers.context import Ctx, Handlers
from handlers.runner import handler
from render.activities import refusal_for
from render.texts import REPLY_WORDS, t
from scheduler import activity_cards
from scheduler import notices as notices_sched
from scheduler.notices import FOLLOWUP


def answer_kind(message: Message | None) -> str | None:
    """`ack`, `roll` or None for a message's text."""
    text = message.text if message is not None else None
    return rules.classify_reply(text, REPLY_WORDS) if text else None


class TypedAnswer(filters.MessageFilter):
    """Only messages that are an answer word reach the handler: ordinary chat costs nothing."""

    def filter(self, message: Message) -> bool:
        return answer_kind(message) is not None


def _replied_to_bot(ctx: Ctx) -> Message | None:
    """The bot's message this one replies to, if it replies to one."""
    message = ctx.message
    replied = message.reply_to_message if message is not None else None
    if replied is None or replied.from_user is None or replied.from_user.id != ctx.context.bot.id:
        return None
    return replied


async def _acknowledge(ctx: Ctx, notice_id: int) -> int:
    """Record 收到 like the button does; refuses when it was already recorded."""
    notice, added = await notices_db.acknowledge(
        ctx.session, notice_id, ctx.member, ctx.services.now()
    )
    if not added:
        raise Refusal("notice_already_acked", id=notice.id)
    ctx.touch_card(notices_sched.CARD, notice.id)
    return notice.id


@handler(idempotent=True, quiet=True)
async def typed_in_group(ctx: Ctx) -> None:
    message = ctx.message
    assert message is not None
    card = _replied_to_bot(ctx)
    session, now = ctx.session, ctx.services.now()
    if answer_kind(message) == "ack":
        if card is not None:
            notice = await notices_db.by_post(session, message.chat_id, card.message_id)
        else:
            notice = await notices_db.latest_unacknowledged_in(
                session, message.chat_id, ctx.member, now
            )
        if notice is None:
            return  # a reply to something else, or nothing waiting: ordinary chat
        await _acknowledge(ctx, notice.id)
        ctx.react(t("reaction_ack"))
        return
    policy = ctx.services.policy
    if card is not None:
        activity = await activities_db.by_card(session, message.chat_id, card.message_id)
    else:
        open_now = await attendance_db.open_in_chat(session, message.chat_id, now, policy)
        activity = open_now[0] if len(open_now) == 1 else None
    if activity is None:
        return
    if activity.code:  # a code typed in the group is a code everyone has
        raise Refusal("checkin_need_code", id=activity.id)
    result = await attendance_db.check_in(
        session, activity.id, ctx.member, now, policy, via_button=True
    )
    if not result.changed:
        raise refusal_for(result, ctx.services.settings.timezone, policy)
    ctx.touch_card(activity_cards.CARD, activity.id)
    ctx.react(t("reaction_checkin"))


async def typed_in_private(ctx: Ctx) -> None:
    """收到 or 签到 typed to the bot privately (called for private text nothing else wanted)."""
    kind = answer_kind(ctx.message)
    if kind == "roll":
        await check_in_the_open_one(ctx)
        return
    if ctx.message is None:
        return
    if kind != "ack":  # words the bot has no use for: say what it understands
        ctx.reply(t("private_text_hint"))
        return
    followup = _replied_to_bot(ctx)
    notice_id = None
    if followup is not None:
        notice_id = await outbox_db.ref_of_message(
            ctx.session, ctx.message.chat_id, followup.message_id, (FOLLOWUP,)
        )
    if notice_id is None:
        waiting = await notices_db.awaiting(ctx.session, ctx.member, ctx.services.now())
        if not waiting:
            ctx.reply(t("reply_ack_none"))
            return
        if len(waiting) > 1:
            lines = [t("reply_ack_line", id=n.id, text=n.text.split("\n")[0][:40]) for n in waiting]
            ctx.reply(t("reply_ack_choose", count=len(waiting), lines="\n".join(lines)))
            return
        notice_id = waiting[0].id
    ctx.reply(t("notice_acked", id=await _acknowledge(ctx, notice_id)))


def handlers() -> Handlers:
    typed = filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & TypedAnswer()
    return [MessageHandler(typed, typed_in_group)]
