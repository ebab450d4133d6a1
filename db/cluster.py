"""What several instances share in webhook mode, kept in the database they share.

- Updates are stored before Telegram is answered, processed by the instance that stored
  them, and taken over by the leader when that instance is gone.
- Instances are alive while they hold their presence lock (a PostgreSQL session advisory
  lock): a process killed with -9 loses its connection, and with it the lock, at once.
- One Telegram budget: every message or edit into a chat takes a slot in a window shared by
  all instances; a 429 pauses all of them; card edits are requested here and made by the
  leader alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CardRequest, ChatSend, ClusterState, WebhookUpdate
from db.sql import insert_ignore, upsert

KEEP_UPDATES = dt.timedelta(days=2)  # Telegram never redelivers older updates
PRESENCE_CLASS = 0x7167  # advisory lock class ids ("qg"): instances, senders, group windows
SENDER_CLASS = 0x7168
CHAT_CLASS = 0x7169
PAUSE_KEY = "telegram_paused_until"
WEBHOOK_KEY = "webhook_config"


def lock_id(value: int) -> int:
    """A 32-bit advisory lock id for any 64-bit id (collisions only serialise two keys)."""
    folded = (value ^ (value >> 32)) & 0xFFFFFFFF
    return folded - (1 << 32) if folded >= 1 << 31 else folded


# ---------------------------------------------------------------------- stored updates
async def store_update(
    session: AsyncSession, update_id: int, payload: str, owner: int, now: dt.datetime
) -> bool:
    """Record a received update; False if it was received before (by any instance)."""
    return await insert_ignore(
        session,
        WebhookUpdate,
        update_id=update_id,
        payload=payload,
        owner=owner,
        received_at=now,
    )


async def mark_done(session: AsyncSession, update_ids: Iterable[int], now: dt.datetime) -> None:
    await session.execute(
        update(WebhookUpdate)
        .where(WebhookUpdate.update_id.in_(list(update_ids)), WebhookUpdate.done_at.is_(None))
        .values(done_at=now)
    )


async def adopt_orphans(
    session: AsyncSession, me: int, live: list[int] | None = None, limit: int = 200
) -> list[tuple[int, str]]:
    """Take over updates not done whose owner is gone (not among `live`, by default the
    instances holding their presence lock at this moment); oldest first."""
    if live is None:
        live = await live_instances(session) if session.get_bind().dialect.name != "sqlite" else []
        live.append(me)
    orphaned = (
        select(WebhookUpdate.update_id)
        .where(WebhookUpdate.done_at.is_(None), WebhookUpdate.owner.not_in(live))
        .order_by(WebhookUpdate.update_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        update(WebhookUpdate)
        .where(WebhookUpdate.update_id.in_(orphaned.scalar_subquery()))
        .values(owner=me)
        .returning(WebhookUpdate.update_id, WebhookUpdate.payload)
    )
    return sorted((row.update_id, row.payload) for row in result)


async def pending_updates(session: AsyncSession) -> tuple[int, dt.datetime | None]:
    """How many stored updates are not done yet, and when the oldest arrived."""
    row = (
        await session.execute(
            select(func.count(), func.min(WebhookUpdate.received_at)).where(
                WebhookUpdate.done_at.is_(None)
            )
        )
    ).one()
    return int(row[0]), row[1]


async def prune(session: AsyncSession, now: dt.datetime) -> int:
    """Forget done updates Telegram would never redeliver, and sends long past."""
    result = await session.execute(
        delete(WebhookUpdate).where(
            WebhookUpdate.done_at.is_not(None), WebhookUpdate.received_at < now - KEEP_UPDATES
        )
    )
    await session.execute(delete(ChatSend).where(ChatSend.at < now - dt.timedelta(minutes=5)))
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- presence and order
async def live_instances(session: AsyncSession) -> list[int]:
    """The numbers of the instances alive now (holding their presence lock)."""
    rows = await session.execute(
        text(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = :c AND objsubid = 2"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"c": PRESENCE_CLASS},
    )
    # objid is unsigned; the lock was taken with a signed int4
    return [n - (1 << 32) if n >= 1 << 31 else n for (n,) in rows]


async def wait_turn(session: AsyncSession, sender: int) -> None:
    """Wait until no other instance handles this sender; held until the transaction ends."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": SENDER_CLASS, "k": lock_id(sender)}
    )


# ---------------------------------------------------------------------- the shared budget
async def take_slot(
    session: AsyncSession, chat_id: int, limit: int, period: dt.timedelta, now: dt.datetime
) -> int | float:
    """A slot in the chat's window: the slot's id, or how many seconds until one frees.

    Serialised per chat by a transaction lock, so two instances never both take the last.
    """
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": CHAT_CLASS, "k": lock_id(chat_id)}
    )
    recent = (
        select(ChatSend.at)
        .where(ChatSend.chat_id == chat_id, ChatSend.at > now - period)
        .order_by(ChatSend.at)
    )
    times = list((await session.scalars(recent)).all())
    if len(times) >= limit:
        return max((times[len(times) - limit] + period - now).total_seconds(), 0.05)
    send = ChatSend(chat_id=chat_id, at=now)
    session.add(send)
    await session.flush()
    return send.id


async def slot_answered(session: AsyncSession, slot: int, now: dt.datetime) -> None:
    """The send of `slot` was answered: its place counts from now (as the local windows do)."""
    await session.execute(update(ChatSend).where(ChatSend.id == slot).values(at=now))


async def pause_all(session: AsyncSession, until: dt.datetime) -> None:
    """Telegram said 429: every instance holds its sends until `until` (the later wins)."""
    current = await paused_until(session)
    if current is None or until > current:
        await upsert(session, ClusterState, ["key"], key=PAUSE_KEY, value=until.isoformat())


async def paused_until(session: AsyncSession) -> dt.datetime | None:
    value = await session.scalar(select(ClusterState.value).where(ClusterState.key == PAUSE_KEY))
    return dt.datetime.fromisoformat(value) if value else None


async def state(session: AsyncSession, key: str) -> str | None:
    return await session.scalar(select(ClusterState.value).where(ClusterState.key == key))


async def set_state(session: AsyncSession, key: str, value: str) -> None:
    await upsert(session, ClusterState, ["key"], key=key, value=value)


# ---------------------------------------------------------------------- cards
async def request_cards(
    session: AsyncSession, keys: Iterable[tuple[str, int]], now: dt.datetime
) -> None:
    for kind, item_id in sorted(set(keys)):  # one order: two instances never deadlock
        await upsert(session, CardRequest, ["kind", "item_id"], kind=kind, item_id=item_id, at=now)


async def take_card_requests(session: AsyncSession) -> list[tuple[str, int]]:
    result = await session.execute(
        delete(CardRequest).returning(CardRequest.kind, CardRequest.item_id)
    )
    return [(row.kind, row.item_id) for row in result]
