"""What no feature handles: odd updates dropped first, unknown commands and buttons answered
last, and our own bugs logged and apologised for."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import NetworkError
from telegram.ext import ApplicationHandlerStop

from db.errors import Refusal, unavailable
from handlers.context import Context, Ctx, guess_language, quietly
from handlers.runner import count_outcome, handler
from render.texts import t, t_in

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Our bugs: logged with the traceback, the person told politely, without internals.

    Telegram or the database being unreachable is not a bug: one WARNING line, no traceback.
    """
    error = context.error
    if isinstance(error, NetworkError) or (error is not None and unavailable(error)):
        log.warning("update %s: %s: %s", _describe(update), type(error).__name__, error)
        return
    log.error("error while handling update %s", _describe(update), exc_info=error)
    if not isinstance(update, Update):
        return
    count_outcome(update, "error")
    sorry = t_in(guess_language(update), "error_internal")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(sorry, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(sorry)
    except Exception:  # the user may be gone, or it was already answered
        log.debug("could not report the error to the user", exc_info=True)


def _describe(update: object) -> str:
    """The update's id, who and where, and which command or button: never what was typed
    (it may be a need about housing or a leave reason)."""
    if not isinstance(update, Update):
        return type(update).__name__
    user = update.effective_user
    chat = update.effective_chat
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    command = text.split(maxsplit=1)[0][:40] if text.startswith("/") else None
    data = update.callback_query.data if update.callback_query else None
    button = data.split(":", 2)[:2] if data else None
    return (
        f"#{update.update_id} user={user.id if user else None} chat={chat.id if chat else None} "
        f"command={command} button={':'.join(button) if button else None}"
    )


def _is_command(message: Message) -> bool:
    text = message.text or message.caption or ""
    return text.startswith("/")


async def gatekeeper(update: Update, context: Context) -> None:
    """Before every feature: drop what no feature should see, quietly.

    Edited messages and channel posts are not commands (an edited /notice must not post a
    second notice). A command sent as a group or channel (an anonymous admin) has no person
    behind it to check: it gets one reply saying how to send it instead.
    """
    if (
        update.message is None
        and update.callback_query is None
        and update.my_chat_member is None
        and update.chat_member is None
    ):
        raise ApplicationHandlerStop
    message = update.message
    if message is not None and (message.migrate_to_chat_id or message.migrate_from_chat_id):
        return  # an upgrade to a supergroup: handled whoever is named as its sender
    if message is not None and message.sender_chat is not None:
        if _is_command(message):
            await quietly(update, "reply", message.reply_text(t("anonymous_sender")))
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is not None and user.is_bot:
        raise ApplicationHandlerStop


@handler(anyone=True)
async def unknown_command(ctx: Ctx) -> None:
    if ctx.in_private:
        ctx.reply(t("unknown_command"))


@handler()
async def unknown_button(ctx: Ctx) -> None:
    """Callback data no feature recognises (forged, or from an old version): refuse."""
    raise Refusal("button_invalid")
