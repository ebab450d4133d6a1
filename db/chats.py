"""The groups the bot is bound to, and what happens to them under it.

A basic group upgraded to a supergroup changes its id: the binding and every stored reference
(cards, notice posts, messages not yet sent) move to the new id in one transaction, and cards
are posted afresh there on their next change (the old messages cannot be edited). A group the
bot was removed from is kept as `removed`: its unit's messages go to the main group until
/setup binds another one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db import rules
from db.models import Activity, Chat, Member, NoticePost, OutboxMessage, Unit, UnitTopic, utcnow
from db.outbox import NOTICE_POST
from db.rules import DEFAULT_LANGUAGE
from db.sql import rowcount, upsert


async def setup_chat(
    session: AsyncSession,
    chat_id: int,
    title: str,
    chat_type: str,
    unit: Unit | None,
    *,
    bot_is_admin: bool,
    bot_can_pin: bool,
    bot_can_delete: bool,
) -> tuple[Chat, bool]:
    """Make `chat_id` the main group (unit None) or `unit`'s group, replacing the previous one.

    Returns the chat and whether this binding is new (False: it was already so).
    """
    purpose = "unit" if unit else "main"
    before = await get(session, chat_id)
    unchanged = (
        before is not None
        and before.status == "active"
        and (before.purpose, before.unit_id) == (purpose, unit.id if unit else None)
    )
    # Free the slot first so the unique indexes hold at every step.
    taken = Chat.unit_id == unit.id if unit else Chat.purpose == "main"
    await session.execute(delete(Chat).where(taken, Chat.id != chat_id))
    # Topics live in the main group only; a unit's own group replaces its topic.
    stale = (
        or_(UnitTopic.unit_id == unit.id, UnitTopic.chat_id == chat_id)
        if unit
        else UnitTopic.chat_id != chat_id
    )
    await session.execute(delete(UnitTopic).where(stale))
    await upsert(
        session,
        Chat,
        ("id",),
        id=chat_id,
        title=rules.make_storable(title)[:256],
        chat_type=chat_type if chat_type in ("group", "supergroup") else "supergroup",
        purpose=purpose,
        unit_id=unit.id if unit else None,
        status="active",
        bot_is_admin=bot_is_admin,
        bot_can_pin=bot_can_pin,
        bot_can_delete=bot_can_delete,
        updated_at=utcnow(),
    )
    chat = await session.get(Chat, chat_id, populate_existing=True)
    assert chat is not None
    return chat, not unchanged


async def get(session: AsyncSession, chat_id: int) -> Chat | None:
    return await session.get(Chat, chat_id)


async def main_chat(session: AsyncSession) -> Chat | None:
    """The main group, unless the bot was removed from it."""
    return await session.scalar(select(Chat).where(Chat.purpose == "main", Chat.status == "active"))


async def unit_chat(session: AsyncSession, unit_id: int) -> Chat | None:
    """The unit's own group, unless the bot was removed from it."""
    return await session.scalar(
        select(Chat).where(Chat.unit_id == unit_id, Chat.status == "active")
    )


async def unit_destination(session: AsyncSession, unit_id: int) -> Chat | None:
    """Where the unit's messages go: its group, or the main group when the unit has a topic
    there (`unit_thread` says which); the main group while the bot is out of its group; None
    if it never had either (the caller asks for one, or uses the main group)."""
    chat = await session.scalar(select(Chat).where(Chat.unit_id == unit_id))
    if chat is None:
        if await session.get(UnitTopic, unit_id) is None:
            return None
        return await main_chat(session)
    return chat if chat.status == "active" else await main_chat(session)


async def unit_thread(session: AsyncSession, unit_id: int | None, chat_id: int) -> int | None:
    """The forum topic of `unit_id` in `chat_id` (its message_thread_id), if it is bound to one
    there; None: the chat itself (its General topic in a forum)."""
    if unit_id is None:
        return None
    return await session.scalar(
        select(UnitTopic.thread_id).where(
            UnitTopic.unit_id == unit_id, UnitTopic.chat_id == chat_id
        )
    )


async def bind_topic(
    session: AsyncSession, chat_id: int, thread_id: int, title: str, unit: Unit
) -> bool:
    """Bind `unit` to topic `thread_id` of the main group `chat_id` (the caller checked it is
    the main group); the topic replaces the unit's own group and any unit the topic had.
    Whether the binding is new (False: it was already so).

    Bindings in one chat take its row lock in turn (PostgreSQL): two units bound to one topic
    at once would otherwise both insert, and the second break the one-unit-a-topic index.
    """
    await session.execute(select(Chat.id).where(Chat.id == chat_id).with_for_update())
    before = await session.get(UnitTopic, unit.id)
    unchanged = before is not None and (before.chat_id, before.thread_id) == (chat_id, thread_id)
    same_topic = and_(UnitTopic.chat_id == chat_id, UnitTopic.thread_id == thread_id)
    await session.execute(delete(UnitTopic).where(or_(same_topic, UnitTopic.unit_id == unit.id)))
    await session.execute(delete(Chat).where(Chat.unit_id == unit.id))
    await upsert(
        session,
        UnitTopic,
        ("unit_id",),
        unit_id=unit.id,
        chat_id=chat_id,
        thread_id=thread_id,
        title=rules.make_storable(title)[:256],
        created_at=utcnow(),
    )
    return not unchanged


async def unit_topic(session: AsyncSession, unit_id: int) -> UnitTopic | None:
    return await session.get(UnitTopic, unit_id)


async def topics(session: AsyncSession) -> list[UnitTopic]:
    """Every unit bound to a topic, by unit."""
    return list(await session.scalars(select(UnitTopic).order_by(UnitTopic.unit_id)))


async def unit_chats(session: AsyncSession) -> list[Chat]:
    return list(
        await session.scalars(
            select(Chat).where(Chat.unit_id.is_not(None), Chat.status == "active")
        )
    )


async def bound(session: AsyncSession) -> list[Chat]:
    """Every bound chat, removed ones included: the main group first, then units by id."""
    return list(
        await session.scalars(
            select(Chat).order_by((Chat.purpose == "main").desc(), Chat.unit_id, Chat.id)
        )
    )


async def record_sent(session: AsyncSession, chat_id: int, at: dt.datetime) -> None:
    await session.execute(update(Chat).where(Chat.id == chat_id).values(last_sent_at=at))


@dataclass
class Moved:
    posts: int = 0  # notice cards to post afresh in the new chat
    cards: int = 0  # activity cards to post afresh
    messages: int = 0  # messages not yet sent, now going to the new chat
    dropped: int = 0  # not yet sent and not to be: the new chat has them already, or none


async def move_references(session: AsyncSession, old: int, new: int | None) -> Moved:
    """Everything stored about chat `old` now concerns `new` (None: nowhere to go).

    Posted cards cannot be edited in another chat: their message ids are forgotten, so each
    is posted afresh on its next change. A notice already posted in `new` keeps that post.
    """
    moved = Moved()
    already = (
        set(await session.scalars(select(NoticePost.notice_id).where(NoticePost.chat_id == new)))
        if new is not None
        else set()
    )
    pending = (OutboxMessage.chat_id == old, OutboxMessage.status == "pending")
    duplicate = (OutboxMessage.purpose == NOTICE_POST, OutboxMessage.ref_id.in_(already))
    if new is None:
        result = await session.execute(
            update(OutboxMessage).where(*pending).values(status="cancelled")
        )
        moved.dropped = rowcount(result)
        await session.execute(delete(NoticePost).where(NoticePost.chat_id == old))
    else:
        result = await session.execute(
            update(OutboxMessage).where(*pending, *duplicate).values(status="cancelled")
        )
        moved.dropped = rowcount(result)
        result = await session.execute(update(OutboxMessage).where(*pending).values(chat_id=new))
        moved.messages = rowcount(result)
        await session.execute(
            delete(NoticePost).where(NoticePost.chat_id == old, NoticePost.notice_id.in_(already))
        )
        result = await session.execute(
            update(NoticePost).where(NoticePost.chat_id == old).values(chat_id=new, message_id=None)
        )
        moved.posts = rowcount(result)
    result = await session.execute(
        update(Activity).where(Activity.chat_id == old).values(chat_id=new, message_id=None)
    )
    moved.cards = rowcount(result)
    return moved


async def migrate(session: AsyncSession, old: int, new: int) -> Moved | None:
    """A group became a supergroup with id `new`; None if `old` was not bound (nothing to do)."""
    chat = await get(session, old)
    if chat is None:
        return None
    if await get(session, new) is None:
        await session.execute(
            update(Chat).where(Chat.id == old).values(id=new, chat_type="supergroup")
        )
    else:  # the new supergroup was bound already (/setup there): the old binding goes
        await session.execute(delete(Chat).where(Chat.id == old))
    session.expire_all()
    return await move_references(session, old, new)


async def remove(session: AsyncSession, chat_id: int) -> tuple[Chat, Moved] | None:
    """The bot was removed from `chat_id`: mark it, send its messages to the main group."""
    chat = await get(session, chat_id)
    if chat is None or chat.status == "removed":
        return None
    chat.status = "removed"
    chat.bot_is_admin = chat.bot_can_pin = chat.bot_can_delete = False
    main = await main_chat(session)
    target = main.id if main is not None and main.id != chat_id else None
    return chat, await move_references(session, chat_id, target)


@dataclass(frozen=True)
class Rights:
    is_admin: bool
    can_pin: bool
    can_delete: bool


async def set_rights(session: AsyncSession, chat_id: int, rights: Rights) -> Rights | None:
    """Record the bot's rights in a bound chat; the rights it had before (None: not bound)."""
    chat = await get(session, chat_id)
    if chat is None or chat.status == "removed":
        return None
    before = Rights(chat.bot_is_admin, chat.bot_can_pin, chat.bot_can_delete)
    chat.bot_is_admin, chat.bot_can_pin = rights.is_admin, rights.can_pin
    chat.bot_can_delete = rights.can_delete
    return before


async def language(session: AsyncSession, chat_id: int) -> str:
    """The language to write to `chat_id` in: a private chat's (a person's Telegram id) is the
    person's, a group's is the one set with /lang there; "zh" when none was chosen."""
    if chat_id > 0:
        lang = await session.scalar(select(Member.lang).where(Member.telegram_id == chat_id))
    else:
        lang = await session.scalar(select(Chat.lang).where(Chat.id == chat_id))
    return lang or DEFAULT_LANGUAGE


async def set_language(session: AsyncSession, chat_id: int, lang: str) -> bool:
    """Set a bound group's language; False if the group is not bound (no row)."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return False
    chat.lang = lang
    return True
