"""Who belongs follows the organisation's groups: Telegram says who is in them.

`in_bound_group` asks Telegram (getChatMember) whether a person is in the main group or a
unit's group at this moment; the answer is kept a few seconds only. When someone leaves or is
removed from a bound group (a `chat_member` update, or the `left_chat_member` service message)
and is in no other, they become 已离开: out of every future audience, their past kept. Coming
back into a bound group restores them (unless the committee took them off by hand).
"""

from __future__ import annotations

import logging
import time

from telegram import Bot, ChatMember, User
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden
from telegram.ext import ChatMemberHandler, MessageHandler, filters

from db import chats as chats_db
from db import members as members_db
from db.models import Member
from handlers.context import Ctx, Handlers
from handlers.runner import handler

log = logging.getLogger(__name__)

IN = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
CACHE_SECONDS = 30.0  # Telegram's answer is reused this long, never longer
_answers: dict[tuple[int, int], tuple[float, bool]] = {}


def is_in(member: ChatMember) -> bool:
    """In the chat: a member, an administrator, the owner, or restricted but still in it."""
    if member.status in IN:
        return True
    return member.status == ChatMemberStatus.RESTRICTED and bool(
        getattr(member, "is_member", False)
    )


async def _in_chat(bot: Bot, chat_id: int, user_id: int) -> bool:
    key, now = (chat_id, user_id), time.monotonic()
    cached = _answers.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    try:
        found = is_in(await bot.get_chat_member(chat_id, user_id))
    except (BadRequest, Forbidden) as exc:  # never in it, or the bot is no longer there
        log.info("membership of %s in %s unknown: %s", user_id, chat_id, exc.message)
        found = False
    if len(_answers) > 10_000:
        for stale in [k for k, (until, _) in _answers.items() if until <= now]:
            del _answers[stale]
    _answers[key] = (now + CACHE_SECONDS, found)
    return found


def forget_answer(chat_id: int, user_id: int) -> None:
    """Telegram told us the person's membership changed: ask again next time."""
    _answers.pop((chat_id, user_id), None)


async def in_bound_group(ctx: Ctx, user_id: int, *, besides: int | None = None) -> bool:
    """Whether `user_id` is in the main group or a unit's group now (`besides`: not counting
    that chat)."""
    for chat in await chats_db.bound(ctx.session):
        if chat.status != "active" or chat.id == besides:
            continue
        if await _in_chat(ctx.context.bot, chat.id, user_id):
            return True
    return False


async def _subject(ctx: Ctx, user: User) -> Member | None:
    """The person a membership change is about, if the bot knows them."""
    if user.is_bot:
        return None
    return await members_db.by_telegram_id(ctx.session, user.id)


async def _left(ctx: Ctx, chat_id: int, user: User) -> None:
    forget_answer(chat_id, user.id)
    if await chats_db.get(ctx.session, chat_id) is None:
        return  # not one of the organisation's groups
    person = await _subject(ctx, user)
    if person is None or not person.on_roster:
        return
    if await in_bound_group(ctx, user.id, besides=chat_id):
        return
    if members_db.mark_left(person, ctx.services.now(), "left"):
        log.info("member %s left every bound group", person.id)


async def _joined(ctx: Ctx, chat_id: int, user: User) -> None:
    forget_answer(chat_id, user.id)
    if await chats_db.get(ctx.session, chat_id) is None:
        return
    person = await _subject(ctx, user)
    if person is not None and person.left_reason == "left" and members_db.restore(person):
        log.info("member %s is back in a bound group", person.id)


@handler(system=True)
async def member_changed(ctx: Ctx) -> None:
    """A `chat_member` update: someone joined, left or was removed (the bot must be an
    administrator to be told)."""
    change = ctx.update.chat_member
    assert change is not None
    user = change.new_chat_member.user
    if is_in(change.new_chat_member) and not is_in(change.old_chat_member):
        await _joined(ctx, change.chat.id, user)
    elif is_in(change.old_chat_member) and not is_in(change.new_chat_member):
        await _left(ctx, change.chat.id, user)


@handler(system=True)
async def service_message(ctx: Ctx) -> None:
    """The group's own "… left the group" / "… joined the group" messages (also seen when the
    bot is not an administrator)."""
    message = ctx.message
    assert message is not None
    if message.left_chat_member is not None:
        await _left(ctx, message.chat_id, message.left_chat_member)
    for user in message.new_chat_members or ():
        await _joined(ctx, message.chat_id, user)


def handlers() -> Handlers:
    membership = filters.StatusUpdate.LEFT_CHAT_MEMBER | filters.StatusUpdate.NEW_CHAT_MEMBERS
    return [
        ChatMemberHandler(member_changed, ChatMemberHandler.CHAT_MEMBER),
        MessageHandler(filters.ChatType.GROUPS & membership, service_message),
    ]
