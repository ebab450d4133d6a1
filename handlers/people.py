"""Naming a person in a command: a reply to their message, @username, numeric Telegram id or
the real name they registered with. Two people with one name: the command asks which, with a
button per namesake (name, unit, username), and runs again with the one chosen.

The question is a conversation row (kind `pick`: the command and its words), so the press
may reach any instance; the button carries only the chosen person's row id, which must be one
of those offered.
"""

from __future__ import annotations

import re

from telegram.ext import CallbackQueryHandler

from db import conversations as conversations_db
from db import members as members_db
from db.errors import Refusal
from db.models import Member
from handlers.context import Ctx, Handlers
from handlers.runner import PICK, handler, rerun
from render.texts import namesake, t

BUTTON = re.compile(r"^pick:([0-9]{1,12})$")


async def named(ctx: Ctx, words: list[str]) -> Member:
    """The person `words` name (the one chosen by button if the command runs again)."""
    if ctx.chosen is not None:
        return ctx.chosen
    return await members_db.find_member(ctx.session, " ".join(words))


async def target_member(ctx: Ctx, words: list[str]) -> Member:
    """The person a command is about: the replied-to message's author, or `words`."""
    message = ctx.message
    replied = message.reply_to_message if message else None
    if replied is not None and replied.from_user is not None and not replied.from_user.is_bot:
        user = replied.from_user
        return await members_db.touch_member(
            ctx.session,
            members_db.TelegramUser(user.id, user.first_name, user.last_name, user.username),
        )
    if not words and ctx.chosen is None:
        raise Refusal("target_usage")
    return await named(ctx, words)


@handler()
async def on_pick(ctx: Ctx) -> None:
    """A namesake chosen: the command runs again, meaning that person."""
    member_id = int(ctx.button(BUTTON)[1])
    waiting = await conversations_db.take(ctx.session, ctx.member.id, PICK, ctx.services.now())
    if waiting is None:
        raise Refusal("pick_expired")
    chosen = await members_db.by_id(ctx.session, member_id)
    if chosen is None or member_id not in waiting.state.get("offered", []):
        raise Refusal("button_invalid")
    ctx.settle_pressed(t("member_chosen", name=namesake(chosen)))
    ctx.toast(t("member_chosen", name=namesake(chosen)))
    await rerun(ctx, str(waiting.state["command"]), list(waiting.state["args"]), chosen)


def handlers() -> Handlers:
    return [CallbackQueryHandler(on_pick, pattern=r"^pick:")]
