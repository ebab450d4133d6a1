"""Conversations that take several messages (see models.Conversation).

A conversation has a kind (`need`, `newevent`, `leave`, `code`) and a state: plain JSON that
the feature owning the kind reads and writes. A person may have one of each kind waiting; their
next private message answers the newest, and when it ends the one before it is answered again
(a leave reason asked while a need is being written does not lose the need). One left for
`TTL` is forgotten, and with it what was typed into it. Read and written inside the person's
transaction, which takes one person's updates in order on every instance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Conversation
from db.sql import rowcount, upsert

TTL = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Waiting:
    """A conversation waiting for the person: its kind, its state and when it last moved."""

    kind: str
    state: dict[str, Any]
    updated_at: dt.datetime


async def waiting(
    session: AsyncSession,
    member_id: int,
    now: dt.datetime,
    kind: str | None = None,
    *,
    kinds: Collection[str] | None = None,
) -> Waiting | None:
    """The person's newest conversation (or the one of `kind`, or the newest of `kinds`);
    stale ones are forgotten."""
    await session.execute(
        delete(Conversation).where(
            Conversation.member_id == member_id, Conversation.updated_at < now - TTL
        )
    )
    stmt = (
        select(Conversation)
        .where(Conversation.member_id == member_id)
        .order_by(Conversation.turn.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if kind is not None:
        stmt = stmt.where(Conversation.kind == kind)
    if kinds is not None:
        stmt = stmt.where(Conversation.kind.in_(list(kinds)))
    row = await session.scalar(stmt)
    return None if row is None else Waiting(row.kind, dict(row.state), row.updated_at)


async def begin(
    session: AsyncSession,
    member_id: int,
    kind: str,
    now: dt.datetime,
    state: Mapping[str, Any] | None = None,
    *,
    alone: bool = False,
) -> None:
    """Start (or move on) the conversation of `kind` with `state`; `alone`: the person's
    other conversations end (the next text goes here, and nothing older resumes after it).
    Stale conversations of anyone are forgotten on the way: nothing typed lingers."""
    await session.execute(delete(Conversation).where(Conversation.updated_at < now - TTL))
    if alone:
        await session.execute(
            delete(Conversation).where(
                Conversation.member_id == member_id, Conversation.kind != kind
            )
        )
    turn = await session.scalar(
        select(func.coalesce(func.max(Conversation.turn), 0)).where(
            Conversation.member_id == member_id
        )
    )
    await upsert(
        session,
        Conversation,
        ["member_id", "kind"],
        member_id=member_id,
        kind=kind,
        state=dict(state or {}),
        updated_at=now,
        turn=int(turn or 0) + 1,
    )


async def end(session: AsyncSession, member_id: int, kind: str | None = None) -> bool:
    """Forget the person's conversation of `kind` (all of them without); True if any."""
    stmt = delete(Conversation).where(Conversation.member_id == member_id)
    if kind is not None:
        stmt = stmt.where(Conversation.kind == kind)
    return rowcount(await session.execute(stmt)) > 0


async def take(
    session: AsyncSession, member_id: int, kind: str, now: dt.datetime
) -> Waiting | None:
    """The conversation of `kind`, ended in this transaction: a second press of its last
    button finds nothing (and so does nothing)."""
    found = await waiting(session, member_id, now, kind)
    if found is None:
        return None
    taken = await session.execute(
        delete(Conversation).where(
            Conversation.member_id == member_id,
            Conversation.kind == kind,
            Conversation.updated_at == found.updated_at,
        )
    )
    return found if rowcount(taken) == 1 else None
