"""What a reminder rule's writer is given, and how it sends.

The engine (scheduler.engine) claims an occurrence, then calls its rule's writer with a
`Firing`: the session, the occurrence, the moment, the main group and the committee, and a
`Sender` whose every message is keyed by the occurrence (a retry can never send twice). A
writer writes the messages, or returns why none were needed ("skipped"). Each feature keeps its
writers beside its other messages and names them in a `WRITERS` table. A group's reminders
due together go as one message: the outbox merges them (scheduler.outbox).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from db import chats as chats_db
from db import outbox as outbox_db
from db import rules as db_rules
from db.models import Chat, Member
from db.outbox import Buttons
from render.texts import clip, speaking
from scheduler.fanout import to_each
from scheduler.outbox import GATHER
from scheduler.reminder_rules import Occurrence

REMINDER = outbox_db.REMINDER  # the outbox purpose of reminder messages
# A text to render in its reader's language (it calls `t`): a group's, or each person's.
Text = Callable[[], str]
# Buttons rendered the same way (each may carry a longer "merged" label, shown when the
# message goes out merged with others and the button must say what it is for).
Keyboard = Callable[[], Buttons]


class Sender:
    """Outbox rows for one occurrence, keyed by it (so a retry can never send twice)."""

    def __init__(self, session: AsyncSession, key: str) -> None:
        self._session, self._key = session, key
        self.count = 0

    async def chat(
        self,
        chat_id: int,
        text: Text,
        part: str = "chat",
        thread_id: int | None = None,
        buttons: Keyboard | None = None,
    ) -> None:
        """`text` in the chat's language (a group's, or a person's), in its topic if any. Into
        a group it waits a moment (GATHER) for the group's other reminders due with it."""
        with speaking(await chats_db.language(self._session, chat_id)):
            rendered = clip(text())
            keyboard = buttons() if buttons is not None else None
        added = await outbox_db.enqueue(
            self._session,
            f"reminder:{self._key}:{part}:{chat_id}",
            chat_id,
            rendered,
            purpose=REMINDER,
            quiet=chat_id > 0,  # a group is never held; a person is, during quiet hours
            thread_id=thread_id,
            buttons=keyboard,
            wait=GATHER if chat_id < 0 else None,
        )
        self.count += int(added)

    async def group_or_committee(
        self,
        chat: Chat | None,
        committee: list[Member],
        text: Text,
        thread_id: int | None = None,
        buttons: Keyboard | None = None,
    ) -> None:
        """To the group; privately to the committee while there is no group to send to."""
        if chat is not None:
            await self.chat(chat.id, text, thread_id=thread_id, buttons=buttons)
        else:
            await self.members(committee, text, buttons=buttons)

    async def members(
        self,
        people: list[Member],
        text: Text,
        ref: int | None = None,
        part: str = "member",
        purpose: str = REMINDER,
        buttons: Keyboard | None = None,
    ) -> list[Member]:
        """Private messages (each in its reader's language) to those the bot may write to;
        returns the others."""
        reached, unreachable = await to_each(
            self._session,
            people,
            lambda member: f"reminder:{self._key}:{part}:{member.id}",
            text,
            buttons=buttons,
            purpose=purpose,
            ref_id=ref,
        )
        self.count += reached
        return unreachable


@dataclass
class Firing:
    """One occurrence being fired: everything its writer needs."""

    session: AsyncSession
    occurrence: Occurrence
    now: dt.datetime
    zone: ZoneInfo
    admin_ids: frozenset[int]
    send: Sender
    main: Chat | None
    committee: list[Member]
    # Tell the card refresher a card changed (an activity ended, a call closed).
    on_activity_ended: Callable[[int], None] = field(default=lambda _id: None)
    on_muster_closed: Callable[[int], None] = field(default=lambda _id: None)

    @property
    def local_day(self) -> dt.date:
        return self.occurrence.at.astimezone(self.zone).date()

    @property
    def quarter(self) -> tuple[dt.date, dt.date]:
        """The first day of the occurrence's quarter, and of the next."""
        return db_rules.quarter_bounds(self.local_day)

    def day_start(self, day: dt.date) -> dt.datetime:
        return db_rules.local_day_start(day, self.zone)


# A rule's writer: the messages of one occurrence, or why none were needed.
Writer = Callable[[Firing], Awaitable[str | None]]
