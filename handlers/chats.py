"""Groups under the bot: /setup, /chats, upgrades to a supergroup, being removed or demoted.

Nothing silently goes nowhere: an upgrade moves the binding and everything stored about the
chat; a removal sends that chat's messages to the main group and tells the committee; a lost
right is reported once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ChatMember, ChatMemberAdministrator, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ChatMemberHandler, CommandHandler, MessageHandler, filters

from db import chats as chats_db
from db import members as members_db
from db.errors import Refusal
from db.models import Chat, Unit
from handlers import onboarding
from handlers.context import Context, Ctx, Handlers
from handlers.runner import handler
from render.formats import local_moment
from render.texts import paginate, speaking, t
from scheduler.fanout import to_each
from scheduler.services import get_services

log = logging.getLogger(__name__)

GONE = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


def rights_of(member: ChatMember) -> chats_db.Rights:
    """The bot's rights in a chat, from its ChatMember."""
    if member.status == ChatMemberStatus.OWNER:
        return chats_db.Rights(is_admin=True, can_pin=True, can_delete=True)
    if isinstance(member, ChatMemberAdministrator):
        return chats_db.Rights(
            is_admin=True,
            can_pin=bool(member.can_pin_messages),
            can_delete=bool(member.can_delete_messages),
        )
    return chats_db.Rights(is_admin=False, can_pin=False, can_delete=False)


def binding(chat: Chat, unit: Unit | None = None) -> str:
    unit = unit or chat.unit
    if chat.purpose == "unit" and unit is not None:
        return t("chats_binding_unit", unit=unit.name)
    return t("chats_binding_main")


def yes_no(value: bool) -> str:
    return t("right_yes") if value else t("right_no")


async def unit_where(session: AsyncSession, unit: Unit) -> str:
    """Where a unit's messages go, in words: its topic of the main group, or its group."""
    if await chats_db.unit_topic(session, unit.id) is not None:
        return t("target_unit_topic", unit=unit.name)
    return t("target_unit", unit=unit.name)


def _topic(message: Message | None) -> tuple[int, str] | None:
    """The forum topic a message was sent in (its thread id and name), None for General."""
    if message is None or not message.is_topic_message or message.message_thread_id is None:
        return None
    created = message.reply_to_message.forum_topic_created if message.reply_to_message else None
    return message.message_thread_id, created.name if created else ""


@handler(admin=True, where="group")
async def setup(ctx: Ctx) -> None:
    """Bind this group (main, or a unit's), or a unit to this topic of the main group (a
    forum), and report the bot's rights here."""
    chat = ctx.update.effective_chat
    assert chat is not None
    unit = await members_db.unit_by_name(ctx.session, " ".join(ctx.args)) if ctx.args else None
    topic = _topic(ctx.message)
    if unit is not None and topic is not None:
        main = await chats_db.main_chat(ctx.session)
        if main is None or main.id != chat.id:
            raise Refusal("setup_topic_needs_main")
        thread_id, name = topic
        changed = await chats_db.bind_topic(ctx.session, chat.id, thread_id, name, unit)
        with speaking(await chats_db.language(ctx.session, chat.id)):  # said to the group
            text = t("setup_topic" if changed else "setup_topic_again", unit=unit.name)
            ctx.reply(text + await onboarding.next_step(ctx), public=True)
        if changed:
            ctx.wake_outbox()
        log.info("unit %s bound to topic %s of chat %s", unit.id, thread_id, chat.id)
        return
    rights = rights_of(await ctx.context.bot.get_chat_member(chat.id, ctx.context.bot.id))
    bound, changed = await chats_db.setup_chat(
        ctx.session,
        chat.id,
        chat.title or "",
        chat.type,
        unit,
        bot_is_admin=rights.is_admin,
        bot_can_pin=rights.can_pin,
        bot_can_delete=rights.can_delete,
    )
    # Said to the group, in its language: what it is bound to, and what the bot may do here.
    with speaking(await chats_db.language(ctx.session, chat.id)):
        if unit is not None:
            lines = [t("setup_unit" if changed else "setup_unit_again", unit=unit.name)]
        else:
            lines = [t("setup_main" if changed else "setup_main_again")]
        pin, delete = yes_no(rights.can_pin), yes_no(rights.can_delete)
        lines.append(t("setup_rights", pin=pin, delete=delete))
        if not rights.is_admin:
            lines.append(t("setup_not_admin"))
        elif not rights.can_pin:
            lines.append(t("setup_cannot_pin"))
        # Admins see every message; others only commands and replies, unless privacy mode is
        # off.
        if not rights.is_admin and not ctx.context.bot.can_read_all_group_messages:
            lines.append(t("setup_cannot_read"))
        ctx.reply("\n".join(lines) + await onboarding.next_step(ctx), public=True)
    if changed:
        ctx.wake_outbox()  # messages held for a removed group can go again
    log.info("chat %s bound as %s", bound.id, bound.purpose)


@handler(admin=True)
async def chats(ctx: Ctx) -> None:
    """/chats: every bound group with its binding, type, state and last successful send."""
    bound = await chats_db.bound(ctx.session)
    if not bound:
        ctx.reply(t("chats_none"))
        return
    zone = ctx.services.settings.timezone
    lines = []
    for index, chat in enumerate(bound, 1):
        if chat.status == "removed":
            state = t("chats_status_removed")
        elif not chat.bot_is_admin:
            state = t("chats_status_no_admin")
        elif not chat.bot_can_pin:
            state = t("chats_status_no_pin")
        else:
            state = t("chats_status_active")
        last = local_moment(chat.last_sent_at, zone) if chat.last_sent_at else t("chats_last_none")
        lines.append(
            t(
                "chats_line",
                index=index,
                title=chat.title or str(chat.id),
                binding=binding(chat),
                kind=t(f"chats_kind_{chat.chat_type}"),
                state=state,
                last=last,
            )
        )
    names = {unit.id: unit.name for unit in await members_db.list_units(ctx.session)}
    for topic in await chats_db.topics(ctx.session):
        lines.append(
            t("chats_topic_line", unit=names.get(topic.unit_id, "?"), topic=topic.title or "-")
        )
    for page in paginate(lambda _p, _n: t("chats_header", count=len(bound)), lines):
        ctx.reply(page)


@handler(system=True)
async def my_membership(ctx: Ctx) -> None:
    """The bot's own membership changed: removed, demoted, promoted, added, blocked."""
    change = ctx.update.my_chat_member
    assert change is not None
    old, new = change.old_chat_member, change.new_chat_member
    if change.chat.type == ChatType.PRIVATE:
        # The person blocked the bot (kicked) or started it again (member).
        await members_db.set_can_dm(ctx.session, change.chat.id, new.status not in GONE)
        return
    if new.status in GONE:
        await _removed(ctx, change.chat.id, change.from_user.full_name if change.from_user else "")
    elif old.status in GONE:
        ctx.reply(t("chat_added"), public=True)  # added to a group: say how to set it up
    else:
        await _rights_changed(ctx, change.chat.id, rights_of(new))


async def _removed(ctx: Ctx, chat_id: int, who: str) -> None:
    result = await chats_db.remove(ctx.session, chat_id)
    if result is None:
        return  # not a bound group (or already known to be removed)
    chat, moved = result
    has_main = chat.purpose != "main" and await chats_db.main_chat(ctx.session) is not None
    unit = chat.unit.name if chat.unit else ""

    def text() -> str:
        by = t("chat_removed_by", name=who) if who else ""
        if chat.purpose == "main":
            said = t("chat_removed_main", title=chat.title, by=by)
        elif has_main:
            said = t("chat_removed_unit", title=chat.title, unit=unit, by=by)
        else:
            said = t("chat_removed_unit_no_main", title=chat.title, unit=unit, by=by)
        if moved.dropped:
            said += t("chat_removed_dropped", count=moved.dropped)
        return said

    await _tell_committee(ctx, f"chat:{chat_id}:removed:{ctx.update.update_id}", text)
    log.warning("removed from chat %s (%s): %s", chat_id, chat.purpose, moved)


async def _rights_changed(ctx: Ctx, chat_id: int, rights: chats_db.Rights) -> None:
    before = await chats_db.set_rights(ctx.session, chat_id, rights)
    found = await chats_db.get(ctx.session, chat_id)
    if before is None or found is None or before.can_pin == rights.can_pin:
        return  # not bound, or nothing a person would notice changed: say nothing
    chat = found
    if rights.can_pin:
        key = "chat_rights_back"
    else:
        key = "chat_rights_no_pin" if rights.is_admin else "chat_rights_no_admin"
    unit = chat.unit  # loaded now: the text is rendered per reader below
    await _tell_committee(
        ctx,
        f"chat:{chat_id}:rights:{ctx.update.update_id}",
        lambda: t(key, title=chat.title, binding=binding(chat, unit)),
    )


async def _tell_committee(ctx: Ctx, key: str, text: Callable[[], str]) -> None:
    """`text` to each committee member privately, in their language, at once (it is news
    about the bot's own groups, not a reminder)."""
    people = await members_db.committee(ctx.session, ctx.services.settings.admin_ids)
    await to_each(ctx.session, people, lambda person: f"{key}:{person.id}", text, quiet=False)
    ctx.wake_outbox()


async def on_migrate(update: Update, context: Context) -> None:
    """The service messages of an upgrade to a supergroup (in the old chat, in the new one)."""
    message = update.message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await get_services(context.bot_data).migrate_chat(old, new)


def handlers() -> Handlers:
    return [
        CommandHandler("setup", setup),
        CommandHandler("chats", chats),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
        ChatMemberHandler(my_membership, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
