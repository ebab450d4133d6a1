"""Answers go out after the commit: the toast, the replies (privately or in the chat), the
reaction, the decisions everyone who could decide is told of."""

from __future__ import annotations

import logging

from telegram.error import Forbidden, TelegramError

from db import chats as chats_db
from db import members as members_db
from db import outbox as outbox_db
from db.errors import unavailable
from handlers.context import Ctx, private_button, quietly
from render.texts import PerLanguage, t
from scheduler.ratelimit import replying

log = logging.getLogger(__name__)


async def deliver(ctx: Ctx) -> None:
    """Send the queued replies and the callback answer (the change is already committed).

    A Telegram failure here is logged, never shown as an error: what the person did is
    recorded, and the bot's rate limiter has already retried the call.
    """
    for kind, item_id in ctx.cards:
        ctx.services.cards.touch(kind, item_id)
    if ctx.outbox_written:
        ctx.services.outbox.wake()
    with replying():  # in a group, after notices, cards and reminders
        await _send_replies(ctx)
    for action in ctx.later:
        await action()


async def _send_replies(ctx: Ctx) -> None:
    update, bot = ctx.update, ctx.context.bot
    query = update.callback_query
    message = ctx.message
    if ctx.reaction is not None and message is not None:
        reaction = bot.set_message_reaction(message.chat_id, message.message_id, ctx.reaction)
        await quietly(update, "reaction", reaction)
    if query is not None:
        await quietly(
            update,
            "answer",
            query.answer(ctx.toast_text, show_alert=ctx.toast_alert, url=ctx.toast_url),
        )
    user = update.effective_user
    for reply in ctx.replies:
        if reply.private and user is not None:
            try:
                await bot.send_message(user.id, reply.text, reply_markup=reply.markup)
                continue
            except Forbidden:
                await _cannot_dm(ctx, user.id, tell_in_group=not reply.quiet)
                return
            except TelegramError as exc:
                log.warning("update %s: private reply failed: %s", update.update_id, exc)
                return
        if message is not None and query is None:
            await quietly(
                update, "reply", message.reply_text(reply.text, reply_markup=reply.markup)
            )
        elif update.effective_chat is not None:
            await quietly(
                update,
                "reply",
                bot.send_message(update.effective_chat.id, reply.text, reply_markup=reply.markup),
            )


async def replace_everywhere(ctx: Ctx, purpose: str, ref_id: int, text: PerLanguage[str]) -> None:
    """Once this update committed, every sent message of `purpose` about `ref_id` (a request
    to each decider), and the one whose button was pressed, says `text` in its reader's
    language, without buttons: the first decision is told to everyone who could decide."""
    messages = set(await outbox_db.sent_messages(ctx.session, purpose, ref_id))
    query = ctx.update.callback_query
    if query is not None and query.message is not None:
        messages.add((query.message.chat.id, query.message.message_id))
    texts = {
        chat_id: text(await chats_db.language(ctx.session, chat_id)) for chat_id, _ in messages
    }
    bot = ctx.context.bot

    async def edit_messages() -> None:
        for chat_id, message_id in sorted(messages):
            try:
                await bot.edit_message_text(texts[chat_id], chat_id=chat_id, message_id=message_id)
            except TelegramError as exc:  # deleted by its reader, or already says so
                log.info("%s %s: message %s not edited: %s", purpose, ref_id, message_id, exc)

    ctx.after_commit(edit_messages)


async def _cannot_dm(ctx: Ctx, telegram_id: int, *, tell_in_group: bool = True) -> None:
    """The person never started the bot, or blocked it: remember, and say so where they are."""
    try:
        async with ctx.services.db.session() as session:
            await members_db.set_can_dm(session, telegram_id, False)
            await session.commit()
    except Exception as exc:
        if not unavailable(exc):
            raise
        log.warning("could not record that %s cannot be written to: %s", telegram_id, exc)
    if ctx.message is not None and tell_in_group:
        await quietly(
            ctx.update,
            "reply",
            ctx.message.reply_text(t("dm_first"), reply_markup=private_button(ctx)),
        )
