"""The outbox: durable, idempotent messages to send (the dispatcher lives in scheduler/)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OUTBOX_STATUSES, OutboxMessage, utcnow
from db.sql import insert_ignore

Buttons = list[list[dict[str, str]]]
NOTICE_POST = "notice_post"  # the purpose of a notice's card in a chat
REMINDER = "reminder"  # the purpose of reminder messages (those into one group are merged)
MAX_ATTEMPTS = 8
STATUSES = OUTBOX_STATUSES


async def enqueue(
    session: AsyncSession,
    key: str,
    chat_id: int,
    text: str,
    *,
    buttons: Buttons | None = None,
    media_kind: str | None = None,
    media_file_id: str | None = None,
    pin: bool = False,
    purpose: str | None = None,
    ref_id: int | None = None,
    member_id: int | None = None,
    not_before: dt.datetime | None = None,
    quiet: bool = False,
    thread_id: int | None = None,
    wait: dt.timedelta | None = None,
) -> bool:
    """Add a message unless one with `key` exists; True if added. Commit with the change.

    `quiet`: an automatic private message, held during QUIET_HOURS. `thread_id`: the forum
    topic of `chat_id` it goes to (a unit bound to a topic). `not_before`: a time of the bot's
    clock before which it is not sent. `wait`: real time before the first attempt (a group
    reminder waits a moment for the others written with it, to go as one message).
    """
    return await insert_ignore(
        session,
        OutboxMessage,
        key=key,
        chat_id=chat_id,
        thread_id=thread_id,
        text=text,
        buttons=buttons,
        media_kind=media_kind,
        media_file_id=media_file_id,
        pin=pin,
        purpose=purpose,
        ref_id=ref_id,
        member_id=member_id,
        quiet=quiet,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow() + wait if wait else utcnow(),
        not_before=not_before,
        created_at=utcnow(),
    )


async def has_pending(session: AsyncSession, purpose: str, ref_id: int, chat_id: int) -> bool:
    """Whether a message for `ref_id` of this purpose still waits to go into `chat_id`."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.purpose == purpose,
            OutboxMessage.ref_id == ref_id,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == "pending",
        )
        .limit(1)
    )
    return found is not None


async def ref_of_message(
    session: AsyncSession, chat_id: int, message_id: int, purposes: tuple[str, ...]
) -> int | None:
    """What a message the outbox sent is about (e.g. the notice of a follow-up)."""
    return await session.scalar(
        select(OutboxMessage.ref_id).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.message_id == message_id,
            OutboxMessage.purpose.in_(purposes),
        )
    )


def _held() -> ColumnElement[bool]:
    """Rows quiet hours hold back: automatic messages to a private chat."""
    return and_(OutboxMessage.quiet.is_(True), OutboxMessage.chat_id > 0)


def _due(now: dt.datetime, transport_now: dt.datetime) -> ColumnElement[bool]:
    """Pending, its planned time (`now`, the bot's clock) and its next attempt come."""
    return and_(
        OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= transport_now,
        or_(OutboxMessage.not_before.is_(None), OutboxMessage.not_before <= now),
    )


async def due(
    session: AsyncSession,
    now: dt.datetime,
    limit: int,
    skip_chats: set[int],
    *,
    hold_quiet: bool = False,
    transport_now: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """Pending messages whose time has come, oldest first, not for the chats in `skip_chats`.

    `now` is the bot's clock (what `not_before` is planned in); `transport_now` the real one
    that retries wait on (default: the real time). `hold_quiet`: quiet hours are on; leave the
    automatic private messages where they are.
    """
    stmt = (
        select(OutboxMessage)
        .where(_due(now, transport_now or utcnow()))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if skip_chats:
        stmt = stmt.where(OutboxMessage.chat_id.not_in(skip_chats))
    if hold_quiet:
        stmt = stmt.where(~_held())
    return list(await session.scalars(stmt))


async def merge_candidates(
    session: AsyncSession,
    row: OutboxMessage,
    now: dt.datetime,
    transport_now: dt.datetime,
    skip: set[int],
) -> list[OutboxMessage]:
    """Other pending reminders into `row`'s chat and topic whose time has come (or comes by
    `transport_now`), oldest first: what may go with it as one message."""
    thread = (
        OutboxMessage.thread_id.is_(None)
        if row.thread_id is None
        else OutboxMessage.thread_id == row.thread_id
    )
    stmt = (
        select(OutboxMessage)
        .where(
            _due(now, transport_now),
            OutboxMessage.id != row.id,
            OutboxMessage.chat_id == row.chat_id,
            thread,
            OutboxMessage.purpose == REMINDER,
            OutboxMessage.media_kind.is_(None),
            OutboxMessage.pin.is_(False),
        )
        .order_by(OutboxMessage.id)
        .limit(50)
    )
    if skip:
        stmt = stmt.where(OutboxMessage.id.not_in(skip))
    return list(await session.scalars(stmt))


async def held_count(session: AsyncSession) -> int:
    """Pending automatic private messages: what quiet hours hold while they are on."""
    found = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == "pending", _held())
    )
    return int(found or 0)


async def mark_sent(
    session: AsyncSession, row_id: int, message_id: int | None, now: dt.datetime
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status="sent", message_id=message_id, sent_at=now, error=None)
    )


async def mark_retry(
    session: AsyncSession, row: OutboxMessage, error: str, at: dt.datetime
) -> bool:
    """Schedule another attempt at `at`; after MAX_ATTEMPTS the row fails. True if retried."""
    attempts = row.attempts + 1
    failed = attempts >= MAX_ATTEMPTS
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(
            attempts=attempts,
            next_attempt_at=at,
            error=error[:300],
            status="failed" if failed else "pending",
        )
    )
    return not failed


async def mark_final(session: AsyncSession, row_id: int, status: str, error: str) -> None:
    """`failed` or `undeliverable`: no further attempts."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=status, error=error[:300])
    )


async def cancel_pending(session: AsyncSession, key_prefix: str) -> int:
    """Cancel every pending message whose key starts with `key_prefix`."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.key.startswith(key_prefix))
        .values(status="cancelled")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class OutboxStats:
    by_status: dict[str, int]
    oldest_pending: dt.datetime | None


async def stats(session: AsyncSession, now: dt.datetime, *, holding: bool = False) -> OutboxStats:
    """Counts by status, and since when the longest-waiting due message waits: rows planned
    for later (a series' cards) are not late, nor, while `holding` (quiet hours are on), the
    night's held reminders, so neither looks like a stuck queue."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    waiting = select(
        func.min(func.coalesce(OutboxMessage.not_before, OutboxMessage.next_attempt_at))
    ).where(_due(now, utcnow()))
    if holding:
        waiting = waiting.where(~_held())
    oldest = await session.scalar(waiting)
    return OutboxStats({status: int(n) for status, n in rows.all()}, oldest)


async def sent_messages(session: AsyncSession, purpose: str, ref_id: int) -> list[tuple[int, int]]:
    """(chat, message) of every message of `purpose` about `ref_id` that was sent (e.g. a
    request to each approver, to be edited once someone decided)."""
    rows = await session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.message_id).where(
            OutboxMessage.purpose == purpose,
            OutboxMessage.ref_id == ref_id,
            OutboxMessage.status == "sent",
            OutboxMessage.message_id.is_not(None),
        )
    )
    return [(int(chat), int(message)) for chat, message in rows.all() if message is not None]


def button(text: str, data: str) -> dict[str, Any]:
    return {"text": text, "data": data}
